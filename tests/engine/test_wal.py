"""The write-ahead log file mechanics (the end-to-end SIGKILL test is in test_process.py)."""

from __future__ import annotations

import time
from pathlib import Path

import orjson
import pytest

from tsload.engine import wal as wal_mod
from tsload.engine.wal import WriteAheadLog


def test_append_read_rotate_discard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = WriteAheadLog(tmp_path)
    log.open(committed_file=0)
    first = log.file_no
    log.append(orjson.dumps(["a", 1]) + b"\n")
    pos = log.position()
    log.append(orjson.dumps(["b", 2]) + b"\n")
    assert log.read_after(*pos) == [["b", 2]]
    assert log.read_after(first, 0) == [["a", 1], ["b", 2]]
    monkeypatch.setattr(wal_mod, "ROTATE_BYTES", 1)  # force a rotation
    log.rotate_if_large()
    assert log.file_no == first + 1 and log.position() == (first + 1, 0)
    log.append(b'["c", 3]\n["torn"')  # a kill in the middle of a write
    assert log.read_after(first, 0) == [["a", 1], ["b", 2], ["c", 3]]
    log.discard_before(first + 1)
    assert log.files() == [first + 1]
    log.close()
    again = WriteAheadLog(tmp_path)
    again.open(committed_file=7)  # never reuses a number at or below the committed file
    assert again.file_no == 8
    again.close()


@pytest.mark.parametrize("with_sizes", [False, True])
def test_segment_entries_replay_with_or_without_record_sizes(tmp_path: Path, with_sizes: bool) -> None:
    """A segment logged as columns replays; sizes are recomputed as the parser gives them (an
    entry from before they were left out, with its 10th column, replays too)."""
    from tests.engine.conftest import engine_in_thread, make_config
    from tsload.engine.records import parse_write_request
    from tsload.engine.wal import single_record_bytes

    cfg = make_config(tmp_path)
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="wdb")
        w.create_table(DatabaseName="wdb", TableName="replayed")
    t = int(time.time() * 1000) - 60_000
    dims = [["host", "h-é1"], ["az", "z"]]
    names, kind, values = ["cpu", "memory_used"], "VARCHAR", ["x", "yz"]
    times = [t * 1_000_000, (t + 1) * 1_000_000]
    ref = parse_write_request(
        {
            "DatabaseName": "wdb",
            "TableName": "replayed",
            "CommonAttributes": {"Dimensions": [{"Name": n, "Value": v} for n, v in dims]},
            "Records": [
                {"MeasureName": m, "MeasureValue": v, "MeasureValueType": kind, "Time": str(t + i)}
                for i, (m, v) in enumerate(zip(names, values, strict=True))
            ],
        },
        fast=False,
    )
    sizes = [r[7] for r in ref.rows]
    assert single_record_bytes(tuple((n, v) for n, v in dims), names, kind, values) == sizes
    entry = ["wdb", "replayed", time.time_ns(), dims, names, times, kind, values, [1, 1]]
    if with_sizes:
        entry.append(sizes)
    (cfg.data_dir / "wal-99999999.log").write_bytes(orjson.dumps(entry) + b"\n")
    with engine_in_thread(cfg) as eng:
        assert eng.stats()["replayed_rows"] == 2
        q = eng.client("timestream-query")
        sql = 'SELECT measure_name, "measure_value::varchar" FROM wdb.replayed ORDER BY 1'
        got = [[c["ScalarValue"] for c in r["Data"]] for r in q.query(QueryString=sql)["Rows"]]
        assert got == [["cpu", "x"], ["memory_used", "yz"]]


def test_a_request_accepted_whole_is_logged_as_received_and_replays(tmp_path: Path) -> None:
    """WriteRecords that became one segment is logged as its own bytes (no encoding), and a
    replay parses them to the records the engine had accepted. A body that cannot sit on one log
    line (pretty-printed: newlines) is logged as columns, and replays as well."""
    import http.client
    from urllib.parse import urlsplit

    from tests.engine.conftest import engine_in_thread, make_config
    from tsload.engine.wal import request_entry

    t = int(time.time() * 1000) - 60_000

    def body(first: int) -> dict[str, object]:
        return {
            "DatabaseName": "wdb",
            "TableName": "raw",
            "CommonAttributes": {
                "Dimensions": [{"Name": "host", "Value": "h-é1"}],
                "MeasureValueType": "DOUBLE",
            },
            "Records": [
                {"MeasureName": f"m{i % 3}", "MeasureValue": f"{i}.25", "Time": str(t + i)}
                for i in range(first, first + 7)
            ],
        }

    pretty = orjson.dumps(body(14), option=orjson.OPT_INDENT_2)
    assert request_entry("wdb", "raw", 1, pretty) is None
    assert request_entry("wdb", "raw", 1, b" " + orjson.dumps(body(14))) is None

    def create(cfg_dir: Path) -> None:
        with engine_in_thread(make_config(cfg_dir)) as eng:
            w = eng.client("timestream-write")
            w.create_database(DatabaseName="wdb")
            w.create_table(DatabaseName="wdb", TableName="raw")

    first = tmp_path / "first"
    create(first)
    with engine_in_thread(make_config(first, flush_interval=3600.0, flush_idle=3600.0)) as eng:
        w = eng.client("timestream-write")
        w.write_records(**body(0))  # the first one adds the table's columns: logged as rows
        w.write_records(**body(7))  # compact, as botocore sends it
        conn = http.client.HTTPConnection(urlsplit(eng.url).netloc, timeout=30)
        conn.request(
            "POST",
            "/",
            pretty,
            {
                "X-Amz-Target": "Timestream_20181101.WriteRecords",
                "Content-Type": "application/x-amz-json-1.0",
                "X-Amz-Date": "20260101T000000Z",
                "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/timestream/"
                "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
            },
        )
        assert conn.getresponse().status == 200
        conn.close()
        logged = b"".join(p.read_bytes() for p in sorted((first / "data").glob("wal-*.log")))
    lines = [line for line in logged.split(b"\n") if line.startswith(b'["wdb","raw",')]
    entries = [orjson.loads(line) for line in lines]
    # rows; the body as received; the pretty-printed one as columns
    assert [len(e) for e in entries] == [5, 4, 9]
    assert entries[1][3] == body(7)
    # Both lines, as an engine killed before its flush leaves them, replay on the next start.
    again = tmp_path / "again"
    create(again)
    (again / "data" / "wal-99999999.log").write_bytes(b"\n".join(lines) + b"\n")
    with engine_in_thread(make_config(again)) as eng:
        assert eng.stats()["replayed_rows"] == 21
        q = eng.client("timestream-query")
        sql = 'SELECT host, measure_name, "measure_value::double", to_milliseconds(time) FROM wdb.raw'
        sql += " ORDER BY 4"
        got = [[c["ScalarValue"] for c in r["Data"]] for r in q.query(QueryString=sql)["Rows"]]
        assert got == [["h-é1", f"m{i % 3}", f"{i}.25", str(t + i)] for i in range(21)]
