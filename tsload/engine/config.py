"""Engine configuration (frozen), built by `tsload serve` from its flags."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field
from pathlib import Path

from tsload._errors import ConfigError


@dataclass(frozen=True)
class FaultConfig:
    throttle_rate: float = 0.0
    error_rate: float = 0.0
    reject_rate: float = 0.0
    invalid_endpoint_rate: float = 0.0
    latency_ms: tuple[float, float] | None = None  # uniform [lo, hi]; lo == hi for a fixed delay
    seed: int = 0

    def __post_init__(self) -> None:
        for name, value in (
            ("faults.throttle_rate", self.throttle_rate),
            ("faults.error_rate", self.error_rate),
            ("faults.reject_rate", self.reject_rate),
            ("faults.invalid_endpoint_rate", self.invalid_endpoint_rate),
        ):
            if not 0.0 <= value <= 1.0:
                raise ConfigError(name, "a probability in [0, 1]", got=value)

    @property
    def active(self) -> bool:
        return bool(
            self.throttle_rate
            or self.error_rate
            or self.reject_rate
            or self.invalid_endpoint_rate
            or self.latency_ms
        )


def parse_latency(text: str | None) -> tuple[float, float] | None:
    """`N` (fixed) or `N:M` (uniform range) milliseconds."""
    if text is None or text == "":
        return None
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts.append(parts[0])
    if len(parts) != 2 or not all(math.isfinite(p) for p in parts) or parts[0] < 0 or parts[1] < parts[0]:
        raise ConfigError("faults.latency_ms", "N or N:M milliseconds with 0 <= N <= M", got=text)
    return parts[0], parts[1]


# Rows per flush. DuckDB writes an append of at least one row group (122,880 rows) straight into
# the database file, while smaller appends go through its own log and are rewritten at each
# checkpoint: appending 1.2 M rows on a quiet machine cost 2.8 µs of CPU per row in 10k-row
# batches, 1.4 in 61,440-row ones, 0.62 in 122,880-row ones and 0.66 in 245,760-row ones. Under a
# sustained burst (a backfill) four row groups per flush: each flush costs the event loop GIL
# handoffs and fixed work, and DuckDB writes the row groups of one insert on both cores;
# scripts/bench-engine stored 471-552k records/s against 409-446k with one row group per flush
# (alternated runs, docs/engine.md). The flush interval and a pause in the writes still bound how
# long a row waits, and every query flushes first.
FLUSH_ROWS = 4 * 122_880


@dataclass(frozen=True)
class EngineConfig:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    discard: bool = False
    allow_remote: bool = False
    faults: FaultConfig = field(default_factory=FaultConfig)
    flush_rows: int = FLUSH_ROWS
    flush_interval: float = 0.5
    flush_idle: float = 0.05  # see StoreConfig.flush_idle
    dedupe_capacity: int = 2_000_000  # keys of the in-memory duplicate index (~120 bytes each)
    duckdb_memory_limit: str = "768MB"  # DuckDB's buffer pool (see StoreConfig.memory_limit)
    query_wait: float = 5.0  # a Query still running after this answers an empty page + NextToken

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise ConfigError("port", "0..65535", got=self.port)
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ConfigError("data_dir", "a directory", got=self.data_dir)
        if not self.allow_remote and not is_loopback(self.host):
            raise ConfigError("host", "a loopback address (or {allow_remote})", got=self.host)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
