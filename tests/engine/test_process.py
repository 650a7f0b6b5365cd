"""`python -m tsload serve` as a process: the ready line, SIGTERM, restart persistence, --discard,
permissions and one-line configuration errors."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest

from tests.engine.conftest import CREDS, NO_RETRY
from tsload._errors import ConfigError
from tsload.engine import EngineConfig

READY = re.compile(r"^tsload engine listening on (http://127\.0\.0\.1:(\d+))\n$")


@contextmanager
def serve(data: Path, *extra: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "serve", "--data", str(data), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        m = READY.match(line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None and proc.stderr else "")
        yield m.group(1)
    finally:
        proc.send_signal(stop)
        try:
            code = proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
        err = proc.stderr.read() if proc.stderr else ""
        assert code == 0, err
        assert "Traceback" not in err, err


def clients(url: str) -> tuple[Any, Any]:
    return (
        boto3.client("timestream-write", endpoint_url=url, config=NO_RETRY, **CREDS),
        boto3.client("timestream-query", endpoint_url=url, config=NO_RETRY, **CREDS),
    )


def rows_in(data: Path, sql: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(data / "tsload.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def test_restart_keeps_data_and_duplicate_state(tmp_path: Path) -> None:
    data = tmp_path / "data"
    t = int(time.time() * 1000)
    recs = [{"MeasureName": f"m{i}", "MeasureValue": str(i), "Time": str(t)} for i in range(50)]
    common = {"Dimensions": [{"Name": "host", "Value": "h1"}], "MeasureValueType": "BIGINT"}
    with serve(data) as url:
        w, _ = clients(url)
        w.create_database(DatabaseName="pdb")
        w.create_table(
            DatabaseName="pdb",
            TableName="ptab",
            RetentionProperties={
                "MemoryStoreRetentionPeriodInHours": 3,
                "MagneticStoreRetentionPeriodInDays": 9,
            },
        )
        assert (
            w.write_records(DatabaseName="pdb", TableName="ptab", CommonAttributes=common, Records=recs)[
                "RecordsIngested"
            ]["Total"]
            == 50
        )
    assert oct(data.stat().st_mode & 0o777) == "0o700"
    assert oct((data / "tsload.duckdb").stat().st_mode & 0o777) == "0o600"
    assert rows_in(data, 'SELECT count(*), sum("measure_value::bigint") FROM pdb.ptab') == [
        (50, sum(range(50)))
    ]
    with serve(data) as url:
        w, _ = clients(url)
        table = w.describe_table(DatabaseName="pdb", TableName="ptab")["Table"]
        assert table["RetentionProperties"]["MagneticStoreRetentionPeriodInDays"] == 9
        # The duplicate index is rebuilt from DuckDB by window: same value idempotent, other value rejected.
        changed = [dict(r) for r in recs[:3]]
        changed[1]["MeasureValue"] = "999"
        with pytest.raises(w.exceptions.RejectedRecordsException) as err:
            w.write_records(DatabaseName="pdb", TableName="ptab", CommonAttributes=common, Records=changed)
        assert [(r["RecordIndex"], r["ExistingVersion"]) for r in err.value.response["RejectedRecords"]] == [
            (1, 1)
        ]
        upsert = [dict(changed[1], Version=2)]
        w.write_records(DatabaseName="pdb", TableName="ptab", CommonAttributes=common, Records=upsert)
        with urllib.request.urlopen(url + "/tsload/stats") as r:
            st = json.load(r)
        # one scan rebuilt the window the first request needed; the second found it in memory
        assert (st["dedupe_index_loads"], st["dedupe_db_lookups"]) == (1, 0)
        # later times of a stored series cannot be duplicates: no DuckDB lookup for them
        w.write_records(
            DatabaseName="pdb",
            TableName="ptab",
            CommonAttributes=common,
            Records=[{"MeasureName": "new", "MeasureValue": "7", "Time": str(t + 1)}],
        )
        with urllib.request.urlopen(url + "/tsload/stats") as r:
            st = json.load(r)
        assert (st["dedupe_index_loads"], st["dedupe_db_lookups"]) == (1, 0)
    assert rows_in(data, 'SELECT count(*), sum("measure_value::bigint") FROM pdb.ptab') == [
        (51, sum(range(50)) - 1 + 999 + 7)
    ]
    assert rows_in(data, "SELECT _version FROM pdb.ptab WHERE measure_name = 'm1'") == [(2,)]


def test_discard_validates_but_stores_nothing(tmp_path: Path) -> None:
    data = tmp_path / "data"
    t = int(time.time() * 1000)
    with serve(data, "--discard", stop=signal.SIGINT) as url:
        w, _ = clients(url)
        w.create_database(DatabaseName="ddb")
        w.create_table(DatabaseName="ddb", TableName="dtab")
        recs = [{"MeasureName": "m", "MeasureValue": "1", "Time": str(t)}] * 2
        assert (
            w.write_records(DatabaseName="ddb", TableName="dtab", Records=recs)["RecordsIngested"]["Total"]
            == 2
        )
        with pytest.raises(w.exceptions.ValidationException):
            w.write_records(
                DatabaseName="ddb",
                TableName="dtab",
                Records=[{"MeasureName": "m", "MeasureValue": "x", "Time": str(t)}],
            )
        with pytest.raises(w.exceptions.RejectedRecordsException):
            w.write_records(
                DatabaseName="ddb",
                TableName="dtab",
                Records=[{"MeasureName": "m", "MeasureValue": "1", "Time": str(t + 3600_000)}],
            )
    assert rows_in(data, "SELECT count(*) FROM ddb.dtab") == [(0,)]


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tsload", "serve", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def test_configuration_errors_are_one_line(tmp_path: Path) -> None:
    afile = tmp_path / "file"
    afile.write_text("x")
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = [
            (["--data", str(afile)], "--data"),
            (["--data", str(tmp_path / "d"), "--throttle-rate", "1.5"], "--throttle-rate"),
            (["--data", str(tmp_path / "d"), "--latency-ms", "9:1"], "--latency-ms"),
            (["--data", str(tmp_path / "d"), "--host", "0.0.0.0"], "--allow-remote"),
            (["--data", str(tmp_path / "busy"), "--port", str(port)], "--port"),
        ]
        for args, needle in cases:
            res = cli(*args)
            assert res.returncode == 2, (args, res.stderr)
            lines = res.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("tsload: error: ") and needle in lines[0], (
                res.stderr
            )
            assert res.stdout == ""
        assert not (tmp_path / "busy").exists()  # a busy port fails before anything is created


def test_non_loopback_needs_allow_remote(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^host: a loopback address \(or allow_remote\)"):
        EngineConfig(data_dir=tmp_path, host="192.0.2.1")
    assert EngineConfig(data_dir=tmp_path, host="192.0.2.1", allow_remote=True).allow_remote
    assert EngineConfig(data_dir=tmp_path, host="::1").host == "::1"


def test_help_mentions_the_command() -> None:
    res = cli("--help")
    assert res.returncode == 0 and "tsload serve" in res.stdout and "--throttle-rate" in res.stdout


def test_sigkill_loses_no_acknowledged_write(tmp_path: Path) -> None:
    data = tmp_path / "data"
    t = int(time.time() * 1000)
    # A flush interval of an hour keeps every acknowledged row in memory until the kill.
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tsload",
            "serve",
            "--data",
            str(data),
            "--port",
            "0",
            "--flush-interval",
            "3600",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        m = READY.match(proc.stdout.readline())
        assert m
        w, _ = clients(m.group(1))
        w.create_database(DatabaseName="kdb")
        w.create_table(DatabaseName="kdb", TableName="ktab")
        for k in range(20):
            recs = [{"MeasureName": f"m{i}", "MeasureValue": str(i), "Time": str(t + k)} for i in range(50)]
            w.write_records(DatabaseName="kdb", TableName="ktab", Records=recs)
        # an upsert and a MULTI record, to be replayed as such
        w.write_records(
            DatabaseName="kdb",
            TableName="ktab",
            Records=[
                {"MeasureName": "m1", "MeasureValue": "100", "Time": str(t), "Version": 2},
                {
                    "MeasureName": "mm",
                    "MeasureValueType": "MULTI",
                    "Time": str(t),
                    "MeasureValues": [
                        {"Name": "x", "Value": "1.5", "Type": "DOUBLE"},
                        {"Name": "y", "Value": "true", "Type": "BOOLEAN"},
                    ],
                },
            ],
        )
        w.write_records(  # per-record dimensions
            DatabaseName="kdb",
            TableName="ktab",
            Records=[
                {
                    "Dimensions": [{"Name": "host", "Value": h}],
                    "MeasureName": "d",
                    "MeasureValue": v,
                    "Time": str(t),
                }
                for h, v in (("a", "1"), ("b", "2"))
            ],
        )
        w.write_records(  # one series in CommonAttributes: a segment, logged as the request body
            DatabaseName="kdb",
            TableName="ktab",
            CommonAttributes={"Dimensions": [{"Name": "host", "Value": "c"}], "MeasureValueType": "BIGINT"},
            Records=[{"MeasureName": "s", "MeasureValue": str(v), "Time": str(t + v)} for v in range(5)],
        )
    finally:
        proc.kill()
        proc.wait(30)
    assert rows_in(data, "SELECT count(*) FROM kdb.ktab") == [(0,)]  # nothing had been flushed
    port = m.group(2)  # the killed engine's port is taken again at once (its connections are in TIME_WAIT)
    with serve(data, "--port", port) as url, urllib.request.urlopen(url + "/tsload/stats") as r:
        assert url.endswith(f":{port}")
        assert json.load(r)["replayed_rows"] == 1009
    assert rows_in(data, 'SELECT count(*), sum("measure_value::double") FROM kdb.ktab') == [
        (1008, 20 * sum(range(50)) - 1 + 100 + 3)
    ]
    assert rows_in(
        data, 'SELECT host, "measure_value::double" FROM kdb.ktab WHERE host IS NOT NULL ORDER BY 1'
    ) == [
        ("a", 1.0),
        ("b", 2.0),
        ("c", None),
        ("c", None),
        ("c", None),
        ("c", None),
        ("c", None),
    ]
    assert rows_in(
        data, 'SELECT epoch_ns(time), "measure_value::bigint" FROM kdb.ktab WHERE host = \'c\' ORDER BY 1'
    ) == [((t + v) * 1_000_000, v) for v in range(5)]
    assert rows_in(data, "SELECT x, y FROM kdb.ktab WHERE measure_name = 'mm'") == [(1.5, True)]
    assert rows_in(
        data,
        "SELECT _version FROM kdb.ktab WHERE measure_name = 'm1' AND time = make_timestamp_ns(?)".replace(
            "?", str(t * 1_000_000)
        ),
    ) == [(2,)]
    assert len(list(data.glob("wal-*.log"))) == 1  # replayed files are removed once committed
