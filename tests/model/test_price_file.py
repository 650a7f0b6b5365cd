"""Price files: both estimates read and check them the same way (model/price_file.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tsload._errors import ConfigError
from tsload.model.cost import load_prices
from tsload.model.influx_cost import load_influx_prices
from tsload.model.price_file import money


def _copy_with(tmp_path: Path, built_in: str, changes: dict[str, object]) -> str:
    data = json.loads((Path(__file__).resolve().parents[2] / "tsload/model/prices" / built_in).read_text())
    data.update(changes)
    path = tmp_path / "prices"
    path.write_text(json.dumps(data))
    return str(path)


def test_a_bad_price_names_the_file_and_the_key(tmp_path: Path) -> None:
    bad = _copy_with(tmp_path, "us-east-1.json", {"memory_store_gb_hour": -1})
    with pytest.raises(ConfigError, match=r"prices: 'memory_store_gb_hour' must be a non-negative") as e:
        load_prices(bad)
    assert e.value.got == -1 and not e.value.is_field
    bad = _copy_with(tmp_path, "influxdb-us-east-1.json", {"storage_gb_month": True})
    with pytest.raises(ConfigError, match=r"prices: 'storage_gb_month' must be a non-negative number"):
        load_influx_prices(bad)


def test_optional_prices_may_be_left_out(tmp_path: Path) -> None:
    path = _copy_with(tmp_path, "us-east-1.json", {"query_tcu_hour": None, "query_scan_per_gb": None})
    prices = load_prices(path)
    assert prices.query_tcu_hour is None and prices.query_scan_per_gb is None
    assert prices.memory_store_gb_hour == json.loads(Path(path).read_text())["memory_store_gb_hour"]


def test_money() -> None:
    assert money(1234.5678, "USD") == "$1,234.57"
    assert money(0.01234, "USD") == "$0.0123"
    assert money(2, "EUR") == "EUR 2.00"
