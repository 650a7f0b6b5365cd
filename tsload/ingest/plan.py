"""Who writes what: the host range of each process, and the picklable plan a process runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tsload.ingest.config import IngestConfig
from tsload.model.shard import parse_shard, process_range, shard_range
from tsload.targets import ClientOptions, Handoff

__all__ = ["WorkerPlan", "client_options", "host_ranges", "parse_shard"]


def host_ranges(cfg: IngestConfig, n_hosts: int) -> list[range]:
    """The metrics-host id range of each process of this run (inside the shard, if any)."""
    mine = range(n_hosts) if cfg.shard is None else shard_range(n_hosts, cfg.shard[0], cfg.shard[1])
    return [
        range(mine.start + r.start, mine.start + r.stop)
        for r in (process_range(len(mine), i, cfg.processes) for i in range(cfg.processes))
    ]


def client_options(cfg: IngestConfig) -> ClientOptions:
    """How each ingest process talks to the target: `-c` requests in flight, --sdk-writes."""
    return ClientOptions(concurrency=cfg.concurrency, client="sdk" if cfg.sdk_writes else "auto")


@dataclass(frozen=True)
class WorkerPlan:
    cfg: IngestConfig
    process_index: int
    live_start_ms: int
    handoff: Handoff | None = None  # how a child process reopens the parent's target
    model: Any = None  # a picklable ModelFactory (tests); None = the DevOps model

