"""`tsload model --target influxdb`: instance-hours and storage from the price file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tsload._errors import ConfigError
from tsload.cli import app
from tsload.model.influx_cost import field_values_per_second, influx_cost_lines, load_influx_prices


def test_model_prints_instance_hours_and_storage() -> None:
    res = CliRunner().invoke(
        app,
        [
            "model",
            "--target",
            "influxdb",
            "--host-scale",
            "100",
            "--interval-millis",
            "60000",
            "--influx-instance",
            "db.influx.xlarge",
            "--retention-days",
            "30",
        ],
    )
    assert res.exit_code == 0, res.output
    out = res.output
    assert "UNVERIFIED" in out and "43,333 field values/s" in out and "3,667 points/s" in out
    # 43,333.3 values/s x 86,400 s x 3 bytes = 11.23 GB/day; 30 days = 336.96 GB
    assert "11.23 GB/day" in out and "336.96 GB" in out
    assert "db.influx.xlarge Single-AZ x $0.5000/hour" in out


def test_cost_arithmetic_and_multi_az(tmp_path: Path) -> None:
    prices = {
        "region": "test",
        "currency": "USD",
        "verified": True,
        "multi_az_factor": 2,
        "storage_gb_month": 0.1,
        "min_storage_gb": 100,
        "bytes_per_field_value": 2,
        "instance_classes": {
            "db.influx.large": {"vcpus": 2, "memory_gib": 16, "hour": 1.0, "verified": True}
        },
    }
    f = tmp_path / "p.json"
    f.write_text(json.dumps(prices))
    p = load_influx_prices(str(f))
    lines = influx_cost_lines(1, 60_000, "db.influx.large", p, retention_days=1, multi_az=True)
    assert field_values_per_second(1, 60_000) == pytest.approx((20_000 + 6_000) / 60)
    assert "UNVERIFIED" not in lines[0]
    assert "Multi-AZ x $2.00/hour" in lines[2] and "$1,460.00" in lines[2]
    # 433.3 values/s x 86,400 x 2 bytes = 0.07 GB/day: below the 100 GB minimum allocation
    assert "allocated 100 GB" in lines[3] and "$10.00/month" in lines[3]
    assert "total: $1,470.00/month" in lines[4]


def test_bad_class_and_a_timestream_price_file_are_refused() -> None:
    res = CliRunner().invoke(app, ["model", "--target", "influxdb", "--influx-instance", "db.x"])
    assert isinstance(res.exception, ConfigError)
    # the library names the field; the CLI's error handler shows it as --influx-instance
    assert "influx_instance: one of db.influx.medium" in str(res.exception)
    res = CliRunner().invoke(
        app,
        [
            "model",
            "--target",
            "influxdb",
            "--prices",
            str(Path(__file__).parents[2] / "tsload/model/prices/us-east-1.json"),
        ],
    )
    assert isinstance(res.exception, ConfigError)
    assert "an InfluxDB price file (with instance_classes)" in str(res.exception)
