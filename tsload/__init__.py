"""tsload: the Amazon Timestream DevOps workload, as an asyncio load generator and library.

    import asyncio, tsload

    async def main() -> None:
        result = await tsload.run_experiment(tsload.RunConfig(backfill_s=600, duration_s=30))
        print(result.out_dir, [(q.query, q.latency) for q in result.report.queries])

        summary = await tsload.ingest(tsload.IngestConfig(host_scale=1, backfill_s=600, duration_s=0))
        queries = await tsload.query(tsload.QueryConfig(think_time_ms=0, repetitions=20, params="model"))

    asyncio.run(main())

With no region and no endpoint, each call starts the embedded local engine (`tsload serve`) for
its duration. Names are imported on first use, so `import tsload` (and the CLI) stays quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tsload import ingest, query
    from tsload._errors import ConfigError, TsloadError
    from tsload.experiment import RunConfig, RunResult, run_experiment
    from tsload.ingest import IngestConfig, IngestSummary
    from tsload.query import QueryConfig, QueryRunResult, run_query_workload
    from tsload.report import Report, load_report
    from tsload.targets import TargetConfig
    from tsload.targets.local import LocalEngine

# public name -> module holding it; `ingest` and `query` are the packages, callable as their main
# function (`await tsload.ingest(IngestConfig(...))`, `await tsload.query(QueryConfig(...))`)
_EXPORTS = {
    "ConfigError": "tsload._errors",
    "IngestConfig": "tsload.ingest",
    "IngestSummary": "tsload.ingest",
    "LocalEngine": "tsload.targets.local",
    "QueryConfig": "tsload.query",
    "QueryRunResult": "tsload.query",
    "Report": "tsload.report",
    "RunConfig": "tsload.experiment",
    "RunResult": "tsload.experiment",
    "TargetConfig": "tsload.targets",
    "TsloadError": "tsload._errors",
    "load_report": "tsload.report",
    "run_experiment": "tsload.experiment",
    "run_query_workload": "tsload.query",
}

__all__ = [
    "ConfigError",
    "IngestConfig",
    "IngestSummary",
    "LocalEngine",
    "QueryConfig",
    "QueryRunResult",
    "Report",
    "RunConfig",
    "RunResult",
    "TargetConfig",
    "TsloadError",
    "__version__",
    "ingest",
    "load_report",
    "query",
    "run_experiment",
    "run_query_workload",
]


def __getattr__(name: str) -> Any:
    if name in ("ingest", "query"):
        return importlib.import_module(f"tsload.{name}")
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'tsload' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
