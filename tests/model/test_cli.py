"""`tsload model`: summary, CSV, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from typer.testing import CliRunner

from tsload.cli import app
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.summary import summary_lines

runner = CliRunner()


def test_summary_matches_library_and_adds_sizing() -> None:
    r = runner.invoke(app, ["model", "--host-scale", "100", "--interval-millis", "60000", "--multi"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines == summary_lines(100, 60000, True)
    assert lines[4] == "avg row size: 508.99 Bytes"
    assert lines[7].startswith("WriteRecords requests per second: 3,667 ")
    assert any(line.startswith("Estimated write units per second") for line in lines)


def test_defaults_are_scale_100_interval_5000() -> None:
    r = runner.invoke(app, ["model"])
    assert r.exit_code == 0
    assert r.output.splitlines() == summary_lines(100, 5000, False)


def test_batch_writes_sizing() -> None:
    r = runner.invoke(app, ["model", "--batch-writes", "--batch-size", "50", "--interval-millis", "60000"])
    assert r.exit_code == 0
    assert "(--batch-writes, 50 records per request)" in r.output
    assert "WriteRecords requests per second: 867 " in r.output  # 43,333 records/s / 50


@pytest.mark.parametrize("kind", ["metrics", "events"])
def test_hosts_csv(kind: str) -> None:
    r = runner.invoke(app, ["model", "--host-scale", "2", "--instance-name-seed", "56789", "--hosts", kind])
    assert r.exit_code == 0
    rows = r.output.splitlines()
    fleet = Fleet(FleetConfig(host_scale=2, instance_name_seed=56789))
    n = fleet.n_hosts if kind == "metrics" else fleet.n_event_sets
    assert len(rows) == n + 1
    dims = fleet.metric_dimensions if kind == "metrics" else fleet.event_dimensions
    assert rows[0] == ",".join(name for name, _ in dims(0))
    for i in (0, 1, n // 3, n - 1):
        assert rows[i + 1] == ",".join(v for _, v in dims(i))


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        (["--host-scale", "0"], "--host-scale"),
        (["--interval-millis", "-5"], "--interval-millis"),
        (["--hosts", "vms"], "--hosts"),
        (["--batch-size", "101"], "--batch-size"),
        (["--host-scale", "1.5"], "--host-scale"),
    ],
)
def test_bad_input_is_one_line_exit_2(args: list[str], flag: str) -> None:
    r = subprocess.run(
        [sys.executable, "-m", "tsload", "model", *args], capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert flag in r.stderr
