"""A cost estimate for the workload on Amazon Timestream for InfluxDB (`tsload model --target
influxdb --influx-instance CLASS`): instance-hours of one DB instance class plus its storage.

Timestream for InfluxDB bills DB instance-hours (per class, Single-AZ or Multi-AZ) and allocated
storage per GB-month; nothing per write or per query. The price file
(`tsload/model/prices/influxdb-us-east-1.json` by default) says which figures are unverified;
the output repeats it. Storage: the model's field values per day x the file's compressed bytes
per field value x the retention, at least the file's minimum allocation.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tsload._errors import ConfigError
from tsload.model.price_file import money, price, read_price_json
from tsload.model.schema import EVENT_NAMES, METRIC_NAMES

DEFAULT_FILE = "influxdb-us-east-1.json"
DEFAULT_RETENTION_DAYS = 30


@dataclass(frozen=True)
class InstanceClass:
    name: str
    vcpus: int
    memory_gib: int
    hour: float
    verified: bool


@dataclass(frozen=True)
class InfluxPrices:
    source_file: str
    region: str
    taken: str
    currency: str
    classes: dict[str, InstanceClass]
    multi_az_factor: float
    storage_gb_month: float
    min_storage_gb: float
    bytes_per_field_value: float
    verified: bool


def load_influx_prices(path: str | None = None) -> InfluxPrices:
    data, where = read_price_json(path, DEFAULT_FILE, "prices_file")
    raw = data.get("instance_classes") if isinstance(data, dict) else None
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(Path(where), "an InfluxDB price file (with instance_classes)")
    classes = {}
    for name, c in raw.items():
        if not isinstance(c, dict):
            raise ConfigError(Path(where), f"instance class {name!r}: a JSON object")
        classes[name] = InstanceClass(
            name,
            int(price(c, "vcpus", where)),
            int(price(c, "memory_gib", where)),
            price(c, "hour", where),
            bool(c.get("verified", False)),
        )
    return InfluxPrices(
        source_file=where,
        region=str(data.get("region", "?")),
        taken=str(data.get("taken", "?")),
        currency=str(data.get("currency", "USD")),
        classes=classes,
        multi_az_factor=price(data, "multi_az_factor", where),
        storage_gb_month=price(data, "storage_gb_month", where),
        min_storage_gb=price(data, "min_storage_gb", where),
        bytes_per_field_value=price(data, "bytes_per_field_value", where),
        verified=bool(data.get("verified", False)),
    )


def field_values_per_second(host_scale: int, interval_millis: int) -> float:
    """20 fields per host and 5 per event set, once per interval."""
    interval_s = interval_millis / 1000
    return (1000 * host_scale * len(METRIC_NAMES) + 1200 * host_scale * len(EVENT_NAMES)) / interval_s


def influx_cost_lines(
    host_scale: int,
    interval_millis: int,
    instance: str,
    prices: InfluxPrices,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    multi_az: bool = False,
) -> list[str]:
    c = prices.classes.get(instance)
    if c is None:
        allowed = ", ".join(prices.classes)
        raise ConfigError("influx_instance", f"one of {allowed}", got=instance)
    if retention_days < 1:
        raise ConfigError("retention_days", "a positive integer", got=retention_days)
    cur = prices.currency
    points_s = 1000 * host_scale / (interval_millis / 1000) + 1200 * host_scale / (interval_millis / 1000)
    fv_s = field_values_per_second(host_scale, interval_millis)
    gb_day = fv_s * 86400 * prices.bytes_per_field_value / 1e9
    stored_gb = gb_day * retention_days
    allocated = max(stored_gb, prices.min_storage_gb)
    hour = c.hour * (prices.multi_az_factor if multi_az else 1.0)
    storage_month = allocated * prices.storage_gb_month
    check = "" if prices.verified and c.verified else "; UNVERIFIED prices: check them before relying on this"
    az = "Multi-AZ" if multi_az else "Single-AZ"
    return [
        f"Cost estimate, Timestream for InfluxDB (an estimate from list prices, not a bill): "
        f"{prices.source_file}, {prices.region}, prices taken {prices.taken}{check}",
        f"  load: {points_s:,.0f} points/s, {fv_s:,.0f} field values/s; whether one {instance} "
        f"({c.vcpus} vCPU, {c.memory_gib} GiB) sustains it is what `tsload run --target influxdb` measures",
        f"  instance: {instance} {az} x {money(hour, cur)}/hour = {money(hour * 24, cur)}/day, "
        f"{money(hour * 24 * 30, cur)}/30 days (730 h/month: {money(hour * 730, cur)})",
        f"  storage: {gb_day:,.2f} GB/day at {prices.bytes_per_field_value:g} bytes per field value "
        f"(an assumption in the price file), {retention_days} days held = {stored_gb:,.2f} GB; allocated "
        f"{allocated:,.0f} GB (minimum {prices.min_storage_gb:g}) x {money(prices.storage_gb_month, cur)} "
        f"per GB-month = {money(storage_month, cur)}/month",
        f"  total: {money(hour * 730 + storage_month, cur)}/month (instance + storage; writes and queries "
        "are not billed separately)",
    ]
