"""The CLI with --target influxdb: `tsload run` end to end against a real influxd, and flags that
belong to one target refused on the other."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.influxdb.server import InfluxServer


def _tsload(*args: str, cwd: Path, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INFLUX_")}
    return subprocess.run(
        [sys.executable, "-m", "tsload", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
    )


def test_run_creates_the_database_and_runs_the_whole_experiment(
    influxd: InfluxServer, tmp_path: Path
) -> None:
    res = _tsload(
        "run",
        "--target",
        "influxdb",
        "-e",
        influxd.url,
        "-d",
        "runcli",
        "--backfill",
        "5m",
        "--duration",
        "4s",
        "--query-sessions",
        "2",
        "--think-time-milliseconds",
        "200",
        "--out",
        str(tmp_path / "run"),
        cwd=tmp_path,
    )
    assert res.returncode == 0, res.stderr[-3000:]
    assert "database runcli created" in res.stderr
    assert "tsload model --target influxdb" in res.stdout  # the cost pointer, not Timestream's estimate
    run_json = (tmp_path / "run" / "run.json").read_text()
    assert '"target": "influxdb"' in run_json and '"influx_api": "v1"' in run_json
    report = json.loads((tmp_path / "run" / "report.json").read_text())
    assert sum(q["successful"] for q in report["queries"]) > 0
    assert all(q["failed"] == 0 for q in report["queries"])
    backfill = json.loads(next((tmp_path / "run" / "backfill").rglob("ingest-summary.json")).read_text())
    assert backfill["ingested"] == backfill["generated"] == 5 * 2200
    stored = influxd.query("SELECT count(cpu_user) FROM metrics", "runcli")["results"][0]["series"][0]
    assert stored["values"][0][1] >= 5 * 1000


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["ingest", "--target", "influxdb"], "-e/--endpoint: an InfluxDB URL with --target influxdb"),
        (["ingest", "--influx-api", "v2", "--duration", "1"], "--influx-api: only with --target influxdb"),
        (["query", "--gzip"], "--gzip: an option of tsload query"),
        (["cleanup", "--target", "influxdb", "-e", "http://127.0.0.1:9", "-r", "us-east-1"], "-r/--region"),
        (["ingest", "--target", "influxdb", "-e", "http://127.0.0.1:9", "--multi"], "--multi"),
        (
            ["ingest", "--target", "influxdb", "-e", "http://127.0.0.1:9", "--batch-size", "20000"],
            "--batch-size",
        ),
        (["ingest", "--target", "mongo"], "--target"),
        (["query", "--target", "influxdb", "-e", "http://127.0.0.1:9", "--influx-api", "v2"], "--influx-org"),
    ],
)
def test_flags_of_the_other_target_are_refused(tmp_path: Path, argv: list[str], message: str) -> None:
    res = _tsload(*argv, cwd=tmp_path, timeout=60)
    assert res.returncode == 2, (res.returncode, res.stderr[-2000:])
    assert message in res.stderr
    assert "Traceback" not in res.stderr
