"""The ingestion engine: `await ingest(IngestConfig(...))` → `IngestSummary`.

Scheduling hosts on a monotonic clock, batching, the writer pool, process fan-out and the run's
statistics. The CLI (`tsload ingest`) is a thin shell over this.
"""

from __future__ import annotations

import sys
import types
from collections.abc import Coroutine
from typing import Any

from tsload._units import parse_duration
from tsload.ingest.config import IngestConfig
from tsload.ingest.runner import ingest
from tsload.ingest.stats import Progress
from tsload.ingest.summary import IngestSummary

__all__ = ["IngestConfig", "IngestSummary", "Progress", "ingest", "parse_duration"]


class _CallableModule(types.ModuleType):
    """`await tsload.ingest(IngestConfig(...))`: the package called is `ingest`."""

    def __call__(self, cfg: IngestConfig, **kwargs: Any) -> Coroutine[Any, Any, IngestSummary]:
        return ingest(cfg, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
