"""Who writes what: the host range of each process, and the picklable plan a process runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tsload.ingest.config import IngestConfig


def split_range(r: range, index: int, parts: int) -> range:
    """Contiguous split of `r` into `parts` ranges whose sizes differ by at most one."""
    n = len(r)
    base, extra = divmod(n, parts)
    start = index * base + min(index, extra)
    size = base + (1 if index < extra else 0)
    return range(r.start + start, r.start + start + size)


def host_ranges(cfg: IngestConfig, n_hosts: int) -> list[range]:
    """The metrics-host id range of each process of this run (inside the shard, if any)."""
    everything = range(n_hosts)
    mine = everything if cfg.shard is None else split_range(everything, cfg.shard[0], cfg.shard[1])
    return [split_range(mine, i, cfg.processes) for i in range(cfg.processes)]


@dataclass(frozen=True)
class WireTarget:
    """How a child process reaches the target (sessions do not pickle)."""

    region: str
    write_endpoint: str | None
    profile: str | None
    static_keys: tuple[str, str, str | None] | None  # explicit keys (local engine, -e with env keys)


@dataclass(frozen=True)
class WorkerPlan:
    cfg: IngestConfig
    process_index: int
    live_start_ms: int
    wire: WireTarget | None = None
    model: Any = None  # a picklable ModelFactory (tests); None = the DevOps model


def parse_shard(text: str) -> tuple[int, int]:
    """`K/N` with 0 <= K < N."""
    from tsload._errors import ConfigError

    k_text, sep, n_text = text.partition("/")
    try:
        k, n = int(k_text), int(n_text)
    except ValueError:
        k, n = -1, 0
    if not sep or n < 1 or not 0 <= k < n:
        raise ConfigError(f"--shard: K/N with 0 <= K < N (e.g. 0/4), got {text!r}")
    return k, n
