"""Splitting the global host range: per process (contiguous) and per machine (shard K/N)."""

from __future__ import annotations

import re

from tsload._errors import ConfigError

_SHARD = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


def process_range(n: int, index: int, processes: int) -> range:
    """The contiguous part of range(n) owned by process `index` of `processes`; sizes differ by <= 1."""
    if processes < 1 or not 0 <= index < processes:
        raise ValueError(f"process index {index} not in 0..{processes - 1}")
    if n < 0:
        raise ValueError(f"negative range size {n}")
    q, r = divmod(n, processes)
    start = index * q + min(index, r)
    return range(start, start + q + (1 if index < r else 0))


def parse_shard(text: str) -> tuple[int, int]:
    """Parse `K/N` (0 <= K < N)."""
    m = _SHARD.match(text)
    if m is None:
        raise ConfigError("shard", "K/N with 0 <= K < N", got=text)
    k, n = int(m.group(1)), int(m.group(2))
    if n < 1 or k >= n:
        raise ConfigError("shard", "K/N with 0 <= K < N", got=text)
    return k, n


def shard_range(n: int, k: int, n_shards: int) -> range:
    """Shard `k` of `n_shards` of range(n): contiguous, sizes differ by <= 1."""
    return process_range(n, k, n_shards)
