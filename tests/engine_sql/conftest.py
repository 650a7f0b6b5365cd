"""A seeded DevOps-like data set in an in-process DuckDB laid out as the engine stores tables
(docs/engine.md, "Storage (DuckDB)")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest

NOW = dt.datetime(2026, 11, 28, 6, 0, 0)
HOSTS = [
    (
        "eu-west-1",
        f"eu-west-1-cell-{c}",
        f"eu-west-1-cell-{c}-silo-{s}",
        f"eu-west-1-{i % 3 + 1}",
        ms,
        it,
        osv,
        f"i-test-{ms}-eu-west-1-cell-{c}-silo-{s}-{i:08d}.amazonaws.com",
    )
    for c in (1, 2)
    for s in (1, 2)
    for ms, it, osv, n in (("apollo", "r5.4xlarge", "AL2", 3), ("zeus", "m5.4xlarge", "AL2", 2))
    for i in range(n)
]
DIMS = [
    "region",
    "cell",
    "silo",
    "availability_zone",
    "microservice_name",
    "instance_type",
    "os_version",
    "instance_name",
]
METRICS = ["cpu_user", "cpu_system", "memory_used", "disk_used"]
EVENTS = ["gc_pause"]
STEP_S = 300  # one emission per host every 5 minutes over 3 days


@dataclass
class Data:
    con: duckdb.DuckDBPyConnection
    host: np.ndarray  # host index per emission
    t_ns: np.ndarray  # emission time, epoch ns
    values: dict[str, np.ndarray]


def _build() -> Data:
    rng = np.random.default_rng(7)
    end_ns = int((NOW - dt.datetime(1970, 1, 1)).total_seconds()) * 10**9
    times = end_ns - np.arange(0, 3 * 86400, STEP_S, dtype=np.int64)[::-1] * 10**9 - 7 * 10**9
    host = np.repeat(np.arange(len(HOSTS)), len(times))
    t_ns = np.tile(times, len(HOSTS))
    values = {m: np.round(rng.uniform(0, 100, len(host)), 3) for m in METRICS + EVENTS}
    con = duckdb.connect()
    dims = {d: [HOSTS[h][k] for h in host] for k, d in enumerate(DIMS)}
    con.execute("CREATE SCHEMA devops")
    # single-measure table: one row per (emission, measure)
    parts = []
    for m in METRICS + EVENTS:
        cols: dict[str, Any] = dict(dims)
        if m in EVENTS:
            cols = {d: v for d, v in dims.items() if d not in ("instance_type", "os_version")}
        cols["measure_name"] = [m] * len(host)
        cols["time"] = pa.array(t_ns, pa.timestamp("ns"))
        cols["measure_value::double"] = values[m]
        parts.append(pa.table(cols))
    single = pa.concat_tables(parts, promote_options="default")
    con.register("s", single)
    con.execute('CREATE TABLE devops.single AS SELECT *, 1::BIGINT AS "_version" FROM s')
    mcols: dict[str, Any] = dict(dims)
    mcols["measure_name"] = ["metrics"] * len(host)
    mcols["time"] = pa.array(t_ns, pa.timestamp("ns"))
    for m in METRICS:
        mcols[m] = values[m]
    ecols: dict[str, Any] = {d: v for d, v in dims.items() if d not in ("instance_type", "os_version")}
    ecols["measure_name"] = ["events"] * len(host)
    ecols["time"] = pa.array(t_ns, pa.timestamp("ns"))
    ecols["gc_pause"] = values["gc_pause"]
    multi = pa.concat_tables([pa.table(mcols), pa.table(ecols)], promote_options="default")
    con.register("m", multi)
    con.execute('CREATE TABLE devops.multi AS SELECT *, 1::BIGINT AS "_version" FROM m')
    con.unregister("s")
    con.unregister("m")
    return Data(con, host, t_ns, values)


@pytest.fixture(scope="session")
def data() -> Data:
    return _build()
