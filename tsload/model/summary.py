"""The model summary (`tsload model`, `tsload ingest --print-model-summary`).

The first seven lines reproduce the sample's printout character for character (spec §3), using
the sample's own arithmetic (including its evaluation order and Python's round-half-even), except
that the interval is real-valued seconds (interval_millis / 1000): for multiples of 1,000 ms this
equals the sample's integer seconds, and below 1,000 ms it avoids the sample's division by zero.
Then tsload adds what sizing a Timestream run needs: WriteRecords requests per second and
estimated 1 KiB write units per second (formula in `write_units_per_second`).
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass

from tsload._errors import ConfigError
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import (
    DIMENSION_NAMES,
    EVENT_NAMES,
    EVENT_TYPES,
    METRIC_NAMES,
    MICROSERVICES,
    REGIONS,
    REQUEST_ID_NAME,
    TASK_END_STATE_PROBABILITIES,
    TASK_END_STATES,
)

KIB = 1024
UUID_CHARS = 36


def _check_int(field: str, value: object, minimum: int = 1) -> int:
    try:
        number = operator.index(value)  # type: ignore[arg-type]
    except TypeError:
        number = minimum - 1
    if isinstance(value, bool) or number < minimum:
        allowed = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise ConfigError(field, allowed, got=value)
    return number


@dataclass(frozen=True)
class ModelFigures:
    """The sample's summary figures, as numbers."""

    hosts: int
    event_sets: int
    metrics_dimension_bytes: int
    events_dimension_bytes: int
    metric_name_bytes: int
    event_name_bytes: int
    timeseries: int
    data_points_per_second: int
    measures_per_second: int
    data_points_per_hour: int
    ingestion_mb_per_s: float
    gb_per_hour: float
    gb_per_day: float
    tb_per_year: float
    avg_row_bytes: float


def model_figures(
    host_scale: int, interval_millis: int, multi: bool, instance_name_seed: int = 12345
) -> ModelFigures:
    _check_int("host_scale", host_scale)
    _check_int("interval_millis", interval_millis)
    fleet = Fleet(FleetConfig(host_scale=host_scale, instance_name_seed=instance_name_seed))
    h, e = fleet.n_hosts, fleet.n_event_sets
    t = interval_millis / 1000.0
    mdb = sum(len(v) * 2 for _, v in fleet.metric_dimensions(0))
    edb = sum(len(v) * 2 for _, v in fleet.event_dimensions(0))
    m_names = sum(len(n) for n in METRIC_NAMES)
    e_names = sum(len(n) for n in EVENT_NAMES)
    nm, ne = len(METRIC_NAMES), len(EVENT_NAMES)
    if multi:
        series = h + e
        dps = round((1 / t) * h + (1 / t) * e)
        mps = round((1 / t) * h * nm + (1 / t) * e * ne)
        metrics_ps = round((1 / t) * h)
        events_ps = round((1 / t) * e)
        m_row = mdb + 7 + 8 + nm * 8 + m_names
        e_row = edb + 6 + 8 + e_names
        exact = (h / t) * m_row + (e / t) * e_row
        volume = round((metrics_ps * m_row + events_ps * e_row) / (1024.0 * 1024.0), 2)
    else:
        series = h * nm + e * ne
        dps = round((1 / t) * h * nm + (1 / t) * e * ne)
        mps = dps
        metrics_ps = round((1 / t) * h * nm)
        events_ps = round((1 / t) * e * ne)
        m_avg, e_avg = m_names / nm, e_names / ne
        exact = (h * nm / t) * (mdb + m_avg + 16) + (e * ne / t) * (edb + e_avg + 16)
        volume = round(
            (metrics_ps * (mdb + m_avg + 16) + events_ps * (edb + e_avg + 16)) / (1024.0 * 1024.0), 2
        )
    gbh = round(volume * 3600 / 1024.0, 2)
    gbd = round(gbh * 24, 2)
    tby = round(gbd * 365 / 1024.0, 2)
    if dps:
        avg_row = round(volume * 1024 * 1024 / dps, 2)
    else:  # fewer than 0.5 points/s: the sample would divide by zero; use the unrounded rates
        points = (h + e) / t if multi else (h * nm + e * ne) / t
        avg_row = round(exact / points, 2)
    return ModelFigures(
        h, e, mdb, edb, m_names, e_names, series, dps, mps, 3600 * dps, volume, gbh, gbd, tby, avg_row
    )


# --- write sizing ------------------------------------------------------------------------------
def _mean_dimension_bytes(kind: str) -> float:
    """Mean over the fleet of sum(len(name) + len(value)) of a dimension set (independent of S and seed)."""
    names = DIMENSION_NAMES[kind]
    total = weight = 0.0
    for region, cells, silos in REGIONS:
        for c in range(1, cells + 1):
            for m in range(1, silos + 1):
                cell = f"{region}-cell-{c}"
                silo = f"{cell}-silo-{m}"
                for ms, count, itype, osv, procs, jdk in MICROSERVICES:
                    inst_len = len(f"i-XXXXXXXX-{ms}-{silo}-00000000.amazonaws.com")
                    base = {
                        "region": len(region),
                        "cell": len(cell),
                        "silo": len(silo),
                        "availability_zone": len(region) + 2,
                        "microservice_name": len(ms),
                        "instance_type": len(itype),
                        "os_version": len(osv),
                        "instance_name": inst_len,
                        "jdk_version": len(jdk),
                    }
                    for proc in procs if kind == "events" else ("",):
                        vals = dict(base, process_name=len(proc))
                        size = sum(len(n) + vals[n] for n in names)
                        total += size * count
                        weight += count
    return total / weight


def _value_bytes(vtype: str, name: str) -> float:
    if name == "task_end_state":
        return sum(p * len(s) for p, s in zip(TASK_END_STATE_PROBABILITIES, TASK_END_STATES, strict=True))
    return 8.0


@dataclass(frozen=True)
class WriteSizing:
    requests_per_second: float
    records_per_second: float
    write_units_per_second: float
    metrics_request_bytes: float
    events_request_bytes: float
    mode: str


def write_sizing(
    host_scale: int,
    interval_millis: int,
    multi: bool,
    *,
    batch_size: int = 100,
    batch_writes: bool = False,
    add_req_id: bool = False,
    req_id_dim: bool = False,
) -> WriteSizing:
    """Requests/s and estimated write units/s.

    Timestream meters writes in 1 KiB units per WriteRecords request: the request's write size is the
    sum over its records of 8 bytes of time + dimension names and values + measure names + measure
    values (8 bytes per DOUBLE/BIGINT, the UTF-8 length of a VARCHAR); dimensions sent once in
    CommonAttributes are counted once per request. units(request) = ceil(size / 1024).
    """
    _check_int("host_scale", host_scale)
    _check_int("interval_millis", interval_millis)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or not 1 <= batch_size <= 100:
        raise ConfigError("batch_size", "1..100", got=batch_size)
    t = interval_millis / 1000.0
    req = add_req_id or req_id_dim
    per_s = {"metrics": 1000 * host_scale / t, "events": 1200 * host_scale / t}
    measures = {
        "metrics": [(n, "DOUBLE") for n in METRIC_NAMES],
        "events": list(zip(EVENT_NAMES, EVENT_TYPES, strict=True)),
    }
    req_measure = req and not req_id_dim
    req_dim_bytes = (len(REQUEST_ID_NAME) + UUID_CHARS) if req_id_dim else 0
    requests = records = units = 0.0
    req_bytes: dict[str, float] = {}
    for kind in ("metrics", "events"):
        dims = _mean_dimension_bytes(kind) + req_dim_bytes
        ms = measures[kind] + ([(REQUEST_ID_NAME, "VARCHAR")] if req_measure else [])
        if multi:
            rec_sizes = [
                8
                + len(kind)
                + sum(len(n) + (UUID_CHARS if n == REQUEST_ID_NAME else _value_bytes(v, n)) for n, v in ms)
            ]
        else:
            rec_sizes = [
                8 + len(n) + (UUID_CHARS if n == REQUEST_ID_NAME else _value_bytes(v, n)) for n, v in ms
            ]
        rpe = len(rec_sizes)
        emission = sum(rec_sizes)
        if batch_writes:
            # records of many hosts per request, dimensions in every record
            rec_mean = (emission + rpe * dims) / rpe
            size = batch_size * rec_mean
            rate = per_s[kind] * rpe / batch_size
            units += rate * math.ceil(size / KIB)
        else:
            size = emission + dims
            rate = per_s[kind]
            units += rate * math.ceil(size / KIB)
        req_bytes[kind] = size
        requests += rate
        records += per_s[kind] * rpe
    mode = (
        f"--batch-writes, {batch_size} records per request"
        if batch_writes
        else "one request per host emission, dimensions and time in CommonAttributes"
    )
    return WriteSizing(requests, records, units, req_bytes["metrics"], req_bytes["events"], mode)


def _num(x: float) -> str:
    if x >= 100:
        return f"{round(x):,}"
    return f"{round(x, 2):,}" if x >= 1 else f"{x:.3g}"


def summary_lines(
    host_scale: int,
    interval_millis: int,
    multi: bool,
    instance_name_seed: int = 12345,
    batch_size: int = 100,
    batch_writes: bool = False,
) -> list[str]:
    f = model_figures(host_scale, interval_millis, multi, instance_name_seed)
    lines = [
        f"Dimensions for metrics: {f.hosts:,}",
        f"Dimensions for events: {f.event_sets:,}",
        f"Dimension bytes: Events: {f.events_dimension_bytes}, Metrics: {f.metrics_dimension_bytes}",
        f"Bytes for names: Metrics: {f.metric_name_bytes}, Events: {f.event_name_bytes}",
        f"avg row size: {f.avg_row_bytes} Bytes",
        f"Number of timeseries: {f.timeseries:,}. Avg. data points per second: {f.data_points_per_second:,}. "
        f"Avg. no. of metrics per second: {f.measures_per_second:,} "
        f"Avg. data points per hour: {f.data_points_per_hour:,}",
        f"Avg. Ingestion volume: {f.ingestion_mb_per_s:,} MB/s. Data size per hour: {f.gb_per_hour:,} GB. "
        f"Data size per day: {f.gb_per_day:,} GB. Data size per year: {f.tb_per_year:,} TB",
    ]
    w = write_sizing(host_scale, interval_millis, multi, batch_size=batch_size, batch_writes=batch_writes)
    lines += [
        f"WriteRecords requests per second: {_num(w.requests_per_second)} ({w.mode}); "
        f"records per second: {_num(w.records_per_second)}",
        f"Estimated write units per second (1 KiB each): {_num(w.write_units_per_second)} "
        f"(about {round(w.metrics_request_bytes):,} B per metrics request, "
        f"{round(w.events_request_bytes):,} B per events request)",
        "Write units: per request ceil(write size / 1 KiB); write size = per record 8 B time + measure "
        "names + 8 B per DOUBLE/BIGINT value or the VARCHAR length, plus dimension names and values "
        "(once per request when in CommonAttributes)",
    ]
    return lines
