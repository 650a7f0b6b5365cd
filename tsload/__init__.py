"""tsload: the Amazon Timestream DevOps workload, as an asyncio load generator and library.

    import asyncio
    import tsload

    async def main() -> None:
        result = await tsload.run_experiment(tsload.RunConfig())   # `tsload run`'s defaults
        print(result.out_dir, [(q.query, q.latency) for q in result.report.queries])

        summary = await tsload.run_ingest(tsload.IngestConfig(host_scale=1, backfill_s=600, duration_s=0))
        queries = await tsload.run_query(tsload.QueryConfig(think_time_ms=0, repetitions=20, params="model"))
        report, found = tsload.load_report([result.out_dir])
        print(tsload.to_markdown(report))

    asyncio.run(main())

With no region and no endpoint, each call starts the embedded local engine (`tsload serve`) for
its duration. Every error tsload raises on purpose is a `TsloadError` (see `tsload._errors`).

Names are imported on first use, so `import tsload` (and the CLI) stays quick, and building a
configuration imports no database client; the `TYPE_CHECKING` imports below are what a type
checker sees (tests/test_public_api.py runs `mypy --strict` on an embedding example).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
    from tsload._errors import (
        ConfigError,
        LimitError,
        QueryError,
        TargetError,
        TsloadError,
        WorkloadError,
    )
    from tsload.experiment.config import RunConfig
    from tsload.experiment.runner import RunResult, run_experiment
    from tsload.ingest.config import IngestConfig
    from tsload.ingest.runner import ingest as run_ingest
    from tsload.ingest.stats import Progress as IngestProgress
    from tsload.ingest.summary import IngestSummary
    from tsload.query.config import QueryConfig
    from tsload.query.runner import QueryProgress, QueryRunResult, QueryStats
    from tsload.query.runner import run_query_workload as run_query
    from tsload.report import load_report
    from tsload.report.html import render_html
    from tsload.report.merge import IngestRow, QueryRow, Report
    from tsload.report.render import to_csv, to_json, to_markdown, to_text
    from tsload.report.rundirs import RunDirs
    from tsload.stats.summary import LatencySummary
    from tsload.targets.base import TargetConfig
    from tsload.targets.local import LocalEngine

# public name -> (module, attribute): resolved on first use (and then cached in this module)
_EXPORTS: dict[str, tuple[str, str]] = {
    "ConfigError": ("tsload._errors", "ConfigError"),
    "IngestConfig": ("tsload.ingest.config", "IngestConfig"),
    "IngestProgress": ("tsload.ingest.stats", "Progress"),
    "IngestRow": ("tsload.report.merge", "IngestRow"),
    "IngestSummary": ("tsload.ingest.summary", "IngestSummary"),
    "LatencySummary": ("tsload.stats.summary", "LatencySummary"),
    "LimitError": ("tsload._errors", "LimitError"),
    "LocalEngine": ("tsload.targets.local", "LocalEngine"),
    "QueryConfig": ("tsload.query.config", "QueryConfig"),
    "QueryError": ("tsload._errors", "QueryError"),
    "QueryProgress": ("tsload.query.runner", "QueryProgress"),
    "QueryRow": ("tsload.report.merge", "QueryRow"),
    "QueryRunResult": ("tsload.query.runner", "QueryRunResult"),
    "QueryStats": ("tsload.query.runner", "QueryStats"),
    "Report": ("tsload.report.merge", "Report"),
    "RunConfig": ("tsload.experiment.config", "RunConfig"),
    "RunDirs": ("tsload.report.rundirs", "RunDirs"),
    "RunResult": ("tsload.experiment.runner", "RunResult"),
    "TargetConfig": ("tsload.targets.base", "TargetConfig"),
    "TargetError": ("tsload._errors", "TargetError"),
    "TsloadError": ("tsload._errors", "TsloadError"),
    "WorkloadError": ("tsload._errors", "WorkloadError"),
    "load_report": ("tsload.report", "load_report"),
    "render_html": ("tsload.report.html", "render_html"),
    "run_experiment": ("tsload.experiment.runner", "run_experiment"),
    "run_ingest": ("tsload.ingest.runner", "ingest"),
    "run_query": ("tsload.query.runner", "run_query_workload"),
    "to_csv": ("tsload.report.render", "to_csv"),
    "to_json": ("tsload.report.render", "to_json"),
    "to_markdown": ("tsload.report.render", "to_markdown"),
    "to_text": ("tsload.report.render", "to_text"),
}

__all__ = [
    "ConfigError",
    "IngestConfig",
    "IngestProgress",
    "IngestRow",
    "IngestSummary",
    "LatencySummary",
    "LimitError",
    "LocalEngine",
    "QueryConfig",
    "QueryError",
    "QueryProgress",
    "QueryRow",
    "QueryRunResult",
    "QueryStats",
    "Report",
    "RunConfig",
    "RunDirs",
    "RunResult",
    "TargetConfig",
    "TargetError",
    "TsloadError",
    "WorkloadError",
    "__version__",
    "load_report",
    "render_html",
    "run_experiment",
    "run_ingest",
    "run_query",
    "to_csv",
    "to_json",
    "to_markdown",
    "to_text",
]


def __getattr__(name: str) -> Any:
    where = _EXPORTS.get(name)
    if where is None:
        raise AttributeError(f"module 'tsload' has no attribute {name!r}")
    value = getattr(importlib.import_module(where[0]), where[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
