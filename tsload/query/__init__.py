"""The query workload: `await run_query_workload(QueryConfig(...))` returns per-query results.

from tsload.query import QueryConfig, run_query_workload
from tsload.targets import TargetConfig

result = await run_query_workload(QueryConfig(target=TargetConfig(endpoint="http://127.0.0.1:8000"),
                                              think_time_ms=0, repetitions=50, params="model"))
for name, q in result.queries.items():
    print(name, q.successful, q.latency.p99 if q.latency else None)
"""

from __future__ import annotations

import sys
import types
from collections.abc import Coroutine
from typing import Any

from tsload.query.config import QueryConfig
from tsload.query.runner import QueryProgress, QueryRunResult, QueryStats, run_query_workload
from tsload.query.workload import Workload, WorkloadConfig, default_workload_dir, load_workload

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


class _CallableModule(types.ModuleType):
    """`await tsload.query(QueryConfig(...))`: the package called is `run_query_workload`."""

    def __call__(self, cfg: QueryConfig, **kwargs: Any) -> Coroutine[Any, Any, QueryRunResult]:
        return run_query_workload(cfg, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
