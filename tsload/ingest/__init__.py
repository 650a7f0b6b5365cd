"""The ingestion engine: `await tsload.run_ingest(IngestConfig(...))` → `IngestSummary`.

Scheduling hosts on a monotonic clock, batching, the writer pool, process fan-out and the run's
statistics. The CLI (`tsload ingest`) is a thin shell over this. The package itself holds only the
light names (a configuration can be built without importing a database client); the engine,
`tsload.ingest.runner.ingest` (exported as `tsload.run_ingest`), is loaded on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tsload._units import parse_duration
from tsload.ingest.config import IngestConfig
from tsload.ingest.stats import Progress
from tsload.ingest.summary import IngestSummary

if TYPE_CHECKING:
    from tsload.ingest.runner import ingest

__all__ = ["IngestConfig", "IngestSummary", "Progress", "ingest", "parse_duration"]


def __getattr__(name: str) -> Any:
    # the engine (and with it the database clients) is imported on first use, not with a config
    if name == "ingest":
        from tsload.ingest.runner import ingest

        return ingest
    raise AttributeError(f"module 'tsload.ingest' has no attribute {name!r}")

