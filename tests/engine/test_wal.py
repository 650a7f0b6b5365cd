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
