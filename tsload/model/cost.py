"""A cost estimate for a model configuration from a price file (`tsload model --prices FILE`).

List prices only, from a JSON file (`tsload/model/prices/us-east-1.json` by default); the output
always says it is an estimate and which file it used. Storage sizes are the sample's own data-size
figures (spec §3); retention follows the sample's table defaults (memory 2 h, magnetic 365 days).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tsload._errors import ConfigError
from tsload.model.price_file import money, optional_price, price, read_price_json
from tsload.model.summary import model_figures, write_sizing

DEFAULT_PRICE_FILE = "us-east-1.json"
MEMORY_RETENTION_HOURS = 2
MAGNETIC_RETENTION_DAYS = 365


@dataclass(frozen=True)
class QueryUsage:
    """What a run measured of its queries: how many, how long they took, over how much wall time."""

    count: int
    total_latency_s: float
    wall_s: float


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
    query_scan_per_gb: float | None = None
    query_scan_min_mb: float = 10.0


def load_prices(path: str | None = None) -> PriceList:
    data, where = read_price_json(path, DEFAULT_PRICE_FILE, "prices_file")
    if not isinstance(data, dict):
        raise ConfigError(Path(where), "a JSON object")
    return PriceList(
        source_file=where,
        region=str(data.get("region", "?")),
        taken=str(data.get("taken", "?")),
        currency=str(data.get("currency", "USD")),
        write_per_million_1kib=price(data, "write_per_million_1kib", where),
        memory_store_gb_hour=price(data, "memory_store_gb_hour", where),
        magnetic_store_gb_month=price(data, "magnetic_store_gb_month", where),
        query_tcu_hour=optional_price(data, "query_tcu_hour", where),
        query_scan_per_gb=optional_price(data, "query_scan_per_gb", where),
        query_scan_min_mb=optional_price(data, "query_scan_min_mb_per_query", where) or 10.0,
        verified=bool(data.get("verified", False)),
    )


def cost_lines(
    host_scale: int,
    interval_millis: int,
    multi: bool,
    prices: PriceList,
    *,
    batch_size: int = 100,
    batch_writes: bool = False,
    memory_retention_hours: int = MEMORY_RETENTION_HOURS,
    magnetic_retention_days: int = MAGNETIC_RETENTION_DAYS,
    queries: QueryUsage | None = None,
) -> list[str]:
    f = model_figures(host_scale, interval_millis, multi)
    w = write_sizing(host_scale, interval_millis, multi, batch_size=batch_size, batch_writes=batch_writes)
    c = prices.currency
    write_hour = w.write_units_per_second * 3600 / 1e6 * prices.write_per_million_1kib
    memory_gb = f.gb_per_hour * memory_retention_hours
    memory_hour = memory_gb * prices.memory_store_gb_hour
    month_gb = f.gb_per_day * 30
    magnetic_month_each = month_gb * prices.magnetic_store_gb_month
    magnetic_steady = f.gb_per_day * magnetic_retention_days * prices.magnetic_store_gb_month
    check = "" if prices.verified else "; the price file says its figures must be checked"
    lines = [
        f"Cost estimate (an estimate from list prices, not a bill): {prices.source_file}, {prices.region}, "
        f"prices taken {prices.taken}{check}",
        f"  writes: {w.write_units_per_second:,.0f} write units/s x "
        f"{money(prices.write_per_million_1kib, c)} per million = {money(write_hour, c)}/hour, "
        f"{money(write_hour * 24, c)}/day, "
        f"{money(write_hour * 24 * 30, c)}/30 days",
        f"  memory store: {memory_gb:,.2f} GB held ({memory_retention_hours} h retention) x "
        f"{money(prices.memory_store_gb_hour, c)} per GB-hour = {money(memory_hour, c)}/hour, "
        f"{money(memory_hour * 24 * 30, c)}/30 days",
        f"  magnetic store: {month_gb:,.2f} GB per 30 days of data x "
        f"{money(prices.magnetic_store_gb_month, c)} per GB-month = "
        f"{money(magnetic_month_each, c)}/month more for every month kept; "
        f"{money(magnetic_steady, c)}/month once {magnetic_retention_days} days are held",
    ]
    if queries is not None:
        lines += query_cost_lines(queries, prices)
    elif prices.query_tcu_hour is None:
        lines.append(
            "  queries: billed per TCU-hour; no TCU price in the price file, and usage depends on the "
            "query workload: not estimated"
        )
    else:
        lines.append(
            f"  queries: billed per TCU-hour ({money(prices.query_tcu_hour, c)}); usage depends on the "
            "query workload: not estimated"
        )
    return lines


def backfill_cost_line(
    host_scale: int,
    interval_millis: int,
    multi: bool,
    prices: PriceList,
    backfill_s: float,
    *,
    batch_size: int = 100,
    batch_writes: bool = False,
) -> str:
    """The one-off write cost of writing `backfill_s` of history (same write units as live)."""
    w = write_sizing(host_scale, interval_millis, multi, batch_size=batch_size, batch_writes=batch_writes)
    units = w.write_units_per_second * backfill_s
    cost = units / 1e6 * prices.write_per_million_1kib
    return (
        f"  backfill: {backfill_s / 3600:,.2f} h of history = {units:,.0f} write units = "
        f"{money(cost, prices.currency)} of writes, once"
    )


# TCU billing (docs.aws.amazon.com/timestream/latest/developerguide/tcu.html): at least 4 TCUs
# are allocated while queries run, billed per second with a 30 s minimum.
MIN_TCUS = 4
TCU_MIN_BILLED_S = 30.0


def query_cost_lines(usage: QueryUsage, prices: PriceList) -> list[str]:
    """Queries per hour at the measured rate, priced as TCU-hours and as bytes scanned.

    TCU-hours: the busy time of one hour (queries x max(latency, 30 s minimum), capped at the
    hour) x the 4-TCU minimum: a lower bound, heavy queries get more TCUs. Bytes scanned (the
    older pricing): every query is billed at least the minimum scan: a lower bound too.
    """
    c = prices.currency
    if usage.count <= 0 or usage.wall_s <= 0:
        return ["  queries: none measured: not estimated"]
    per_hour = usage.count * 3600 / usage.wall_s
    mean_s = usage.total_latency_s / usage.count
    # queries closer together than the billing minimum keep the TCUs allocated continuously
    busy_s = min(3600.0, per_hour * max(mean_s, TCU_MIN_BILLED_S))
    tcu_hours = MIN_TCUS * busy_s / 3600
    tcu_price = (
        f" x {money(prices.query_tcu_hour, c)} = {money(tcu_hours * prices.query_tcu_hour, c)}/hour, "
        f"{money(tcu_hours * prices.query_tcu_hour * 24 * 30, c)}/30 days"
        if prices.query_tcu_hour is not None
        else " (no TCU-hour price in the price file: fill in query_tcu_hour)"
    )
    lines = [
        f"  queries: {per_hour:,.0f}/hour at the measured rate, mean {mean_s * 1000:,.1f} ms each;"
        f" TCU pricing: at least {tcu_hours:,.2f} TCU-hours per hour ({MIN_TCUS} TCUs minimum, per second,"
        f" {TCU_MIN_BILLED_S:g} s minimum){tcu_price}",
    ]
    gb_hour = per_hour * prices.query_scan_min_mb / 1024
    scan = (
        f" x {money(prices.query_scan_per_gb, c)} per GB = at least "
        f"{money(gb_hour * prices.query_scan_per_gb, c)}/hour"
        if prices.query_scan_per_gb is not None
        else " (no per-GB price in the price file)"
    )
    lines.append(
        f"  queries, bytes-scanned pricing (accounts from before TCU pricing): at least "
        f"{prices.query_scan_min_mb:g} MB per query = {gb_hour:,.2f} GB/hour{scan}"
    )
    return lines
