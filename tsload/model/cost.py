"""A cost estimate for a model configuration from a price file (`tsload model --prices FILE`).

List prices only, from a JSON file (`tsload/model/prices/us-east-1.json` by default); the output
always says it is an estimate and which file it used. Storage sizes are the sample's own data-size
figures (spec §3); retention follows the sample's table defaults (memory 2 h, magnetic 365 days).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from tsload._errors import ConfigError
from tsload.model.summary import model_figures, write_sizing

DEFAULT_PRICE_FILE = "us-east-1.json"
MEMORY_RETENTION_HOURS = 2
MAGNETIC_RETENTION_DAYS = 365


@dataclass(frozen=True)
class PriceList:
    source_file: str
    region: str
    taken: str
    currency: str
    write_per_million_1kib: float
    memory_store_gb_hour: float
    magnetic_store_gb_month: float
    query_tcu_hour: float | None
    verified: bool


def _number(data: dict[str, Any], key: str, where: str, optional: bool = False) -> float | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"--prices: {where}: {key!r} must be a non-negative number, got {value!r}")
    return float(value)


def load_prices(path: str | None = None) -> PriceList:
    if path is None:
        ref = resources.files("tsload.model").joinpath("prices", DEFAULT_PRICE_FILE)
        text, where = ref.read_text(encoding="utf-8"), f"tsload/model/prices/{DEFAULT_PRICE_FILE} (built in)"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), path
        except OSError as exc:
            raise ConfigError(f"--prices: cannot read {path}: {exc.strerror}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"--prices: {where} is not JSON: {exc.msg} at line {exc.lineno}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"--prices: {where} must hold a JSON object")
    write = _number(data, "write_per_million_1kib", where)
    memory = _number(data, "memory_store_gb_hour", where)
    magnetic = _number(data, "magnetic_store_gb_month", where)
    assert write is not None and memory is not None and magnetic is not None
    return PriceList(
        source_file=where,
        region=str(data.get("region", "?")),
        taken=str(data.get("taken", "?")),
        currency=str(data.get("currency", "USD")),
        write_per_million_1kib=write,
        memory_store_gb_hour=memory,
        magnetic_store_gb_month=magnetic,
        query_tcu_hour=_number(data, "query_tcu_hour", where, optional=True),
        verified=bool(data.get("verified", False)),
    )


def _money(x: float, currency: str) -> str:
    sign = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{x:,.2f}" if x >= 1 else f"{sign}{x:,.4f}"


def cost_lines(
    host_scale: int,
    interval_millis: int,
    multi: bool,
    prices: PriceList,
    *,
    batch_size: int = 100,
    batch_writes: bool = False,
) -> list[str]:
    f = model_figures(host_scale, interval_millis, multi)
    w = write_sizing(host_scale, interval_millis, multi, batch_size=batch_size, batch_writes=batch_writes)
    c = prices.currency
    write_hour = w.write_units_per_second * 3600 / 1e6 * prices.write_per_million_1kib
    memory_gb = f.gb_per_hour * MEMORY_RETENTION_HOURS
    memory_hour = memory_gb * prices.memory_store_gb_hour
    month_gb = f.gb_per_day * 30
    magnetic_month_each = month_gb * prices.magnetic_store_gb_month
    magnetic_steady = f.gb_per_day * MAGNETIC_RETENTION_DAYS * prices.magnetic_store_gb_month
    check = "" if prices.verified else "; the price file says its figures must be checked"
    lines = [
        f"Cost estimate (an estimate from list prices, not a bill): {prices.source_file}, {prices.region}, "
        f"prices taken {prices.taken}{check}",
        f"  writes: {w.write_units_per_second:,.0f} write units/s x "
        f"{_money(prices.write_per_million_1kib, c)} per million = {_money(write_hour, c)}/hour, "
        f"{_money(write_hour * 24, c)}/day, "
        f"{_money(write_hour * 24 * 30, c)}/30 days",
        f"  memory store: {memory_gb:,.2f} GB held ({MEMORY_RETENTION_HOURS} h retention) x "
        f"{_money(prices.memory_store_gb_hour, c)} per GB-hour = {_money(memory_hour, c)}/hour, "
        f"{_money(memory_hour * 24 * 30, c)}/30 days",
        f"  magnetic store: {month_gb:,.2f} GB per 30 days of data x "
        f"{_money(prices.magnetic_store_gb_month, c)} per GB-month = "
        f"{_money(magnetic_month_each, c)}/month more for every month kept; "
        f"{_money(magnetic_steady, c)}/month once {MAGNETIC_RETENTION_DAYS} days are held",
    ]
    if prices.query_tcu_hour is None:
        lines.append(
            "  queries: billed per TCU-hour; no TCU price in the price file, and usage depends on the "
            "query workload: not estimated"
        )
    else:
        lines.append(
            f"  queries: billed per TCU-hour ({_money(prices.query_tcu_hour, c)}); usage depends on the "
            "query workload: not estimated"
        )
    return lines
