"""The query workload: `await tsload.run_query(QueryConfig(...))` returns per-query results.

    import tsload

    result = await tsload.run_query(tsload.QueryConfig(
        target=tsload.TargetConfig(endpoint="http://127.0.0.1:8000"),
        think_time_ms=0, repetitions=50, params="model"))
    for name, q in result.queries.items():
        print(name, q.successful, q.latency.p99 if q.latency else None)

The package itself holds only the light names (a configuration and a workload can be built
without importing a database client); the sessions (`tsload.query.runner`) load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsload.query.config import QueryConfig
from tsload.query.workload import Workload, WorkloadConfig, default_workload_dir, load_workload

if TYPE_CHECKING:
    from tsload.query.runner import QueryProgress, QueryRunResult, QueryStats, run_query_workload

_RUNNER = ("QueryProgress", "QueryRunResult", "QueryStats", "run_query_workload")

__all__ = [
    "QueryConfig",
    "QueryProgress",
    "QueryRunResult",
    "QueryStats",
    "Workload",
    "WorkloadConfig",
    "default_workload_dir",
    "load_workload",
    "run_query_workload",
]


def __getattr__(name: str) -> Any:
    # the sessions (and with them the database clients) are imported on first use
    if name in _RUNNER:
        from tsload.query import runner

        return getattr(runner, name)
    raise AttributeError(f"module 'tsload.query' has no attribute {name!r}")

