"""The ingestion engine: `await ingest(IngestConfig(...))` → `IngestSummary`.

Scheduling hosts on a monotonic clock, batching, the writer pool, process fan-out and the run's
statistics. The CLI (`tsload ingest`) is a thin shell over this.
"""

from __future__ import annotations

from tsload.ingest.config import IngestConfig, parse_duration
from tsload.ingest.runner import ingest
from tsload.ingest.stats import Progress
from tsload.ingest.summary import IngestSummary

__all__ = ["IngestConfig", "IngestSummary", "Progress", "ingest", "parse_duration"]
