"""`tsload model`: summary, CSV, one-line errors."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
    assert lines[:10] == summary_lines(100, 60000, True)
    assert lines[4] == "avg row size: 508.99 Bytes"
    assert lines[7].startswith("WriteRecords requests per second: 3,667 ")
    assert any(line.startswith("Estimated write units per second") for line in lines)


def test_defaults_are_scale_100_interval_5000() -> None:
    r = runner.invoke(app, ["model"])
    assert r.exit_code == 0
    assert r.output.splitlines()[:10] == summary_lines(100, 5000, False)


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


def test_cost_block_names_its_price_file(tmp_path: Path) -> None:
    r = runner.invoke(app, ["model", "--host-scale", "100", "--interval-millis", "60000"])
    assert r.exit_code == 0
    block = r.output.splitlines()[10:]
    assert block[0].startswith("Cost estimate (an estimate from list prices, not a bill): ")
    assert "prices/us-east-1.json" in block[0]
    # 3,667 write units/s at $0.50 per million → $6.60 per hour
    assert "3,667 write units/s x $0.5000 per million = $6.60/hour" in block[1]

    custom = tmp_path / "p.json"
    custom.write_text(
        json.dumps(
            {
                "region": "xx-test-1",
                "taken": "2026-01-01",
                "write_per_million_1kib": 1.0,
                "memory_store_gb_hour": 0.0,
                "magnetic_store_gb_month": 0.0,
                "query_tcu_hour": 0.5,
                "verified": True,
            }
        )
    )
    r = runner.invoke(
        app, ["model", "--host-scale", "100", "--interval-millis", "60000", "--prices", str(custom)]
    )
    assert r.exit_code == 0
    lines = r.output.splitlines()
    assert str(custom) in lines[10] and "must be checked" not in lines[10]
    assert "= $13.20/hour" in lines[11]


def test_bad_price_file_is_a_config_error(tmp_path: Path) -> None:
    from tsload._errors import ConfigError
    from tsload.model.cost import load_prices

    bad = tmp_path / "bad.json"
    bad.write_text('{"write_per_million_1kib": "cheap"}')
    with pytest.raises(ConfigError, match=r"bad.json: 'write_per_million_1kib' must be"):
        load_prices(str(bad))
    with pytest.raises(ConfigError, match=r"^prices_file: a readable price file"):
        load_prices(str(tmp_path / "missing.json"))


@pytest.mark.parametrize(
    ("args", "field", "flag"),
    [
        (["--influx-instance", "db.nope"], "influx_instance", "--influx-instance"),
        (["--influx-instance", "db.influx.large", "--retention-days", "0"],
         "retention_days", "--retention-days"),
        (["--prices", "/nonexistent/prices.json"], "prices_file", "--prices"),
    ],
)
def test_influx_cost_errors_name_fields_in_the_library_and_flags_in_the_cli(
    args: list[str], field: str, flag: str
) -> None:
    from tsload._errors import ConfigError
    from tsload.model.influx_cost import influx_cost_lines, load_influx_prices

    opts = dict(zip(args[::2], args[1::2], strict=True))
    with pytest.raises(ConfigError) as err:
        prices = load_influx_prices(opts.get("--prices"))
        influx_cost_lines(
            1,
            60_000,
            opts.get("--influx-instance", "db.influx.large"),
            prices,
            retention_days=int(opts.get("--retention-days", "30")),
        )
    assert err.value.subject == field
    r = subprocess.run(
        [sys.executable, "-m", "tsload", "model", "--target", "influxdb", *args],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2 and r.stdout == ""
    assert r.stderr.startswith(f"tsload: error: {flag}: ") and r.stderr.count("\n") == 1
    assert field not in r.stderr
