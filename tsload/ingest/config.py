"""The ingest run's configuration: one frozen, picklable object (it crosses process boundaries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tsload._errors import ConfigError
from tsload.targets import TargetConfig


@dataclass(frozen=True)
class IngestConfig:
    target: TargetConfig = field(default_factory=TargetConfig)
    database: str = "devops"
    table: str = "host_metrics"
    memory_store_retention_hours: int = 2
    magnetic_store_retention_days: int = 365
    enable_magnetic_writes: bool = False
    concurrency: int = 1  # writer coroutines per process (the sample's -c default)
    processes: int = 1
    host_scale: int = 100
    interval_millis: int = 5000
    batch_writes: bool = False
    batch_size: int = 100
    multi: bool = False
    add_req_id: bool = False
    req_id_dim: bool = False
    instance_name_seed: int = 12345
    seed: int = 0
    shard: tuple[int, int] | None = None
    duration_s: float | None = None  # None: until stopped
    backfill_s: float = 0.0
    aligned: bool = False
    stats_interval_s: float = 10.0
    out_dir: Path | None = None
    sdk_writes: bool = False
    drain_timeout_s: float = 10.0
    max_attempts: int = 10
    backoff_base_s: float = 0.05
    backoff_cap_s: float = 5.0
    queue_size: int = 0  # 0: 2 x concurrency, at least 16
    create_schema: bool = True
    # Epoch ms the live schedule starts at (the end of --backfill); None: when the run starts. Set by
    # `tsload run` so that its live phase continues exactly where its backfill phase ended.
    live_start_ms: int | None = None
    # --add-req-id: the spec wants a fresh UUID4 per host emission. Values stay a function of
    # (seed, host, time); request ids also mix in this nonce, drawn once per run (None: draw it) and
    # shared by the run's processes. Set it to repeat a run's request ids exactly.
    request_id_nonce: int | None = None

    def validate(self) -> None:
        def need(ok: bool, message: str) -> None:
            if not ok:
                raise ConfigError(message)

        need(bool(self.database), "-d/--database-name: must not be empty")
        need(bool(self.table), "-t/--table-name: must not be empty")
        need(self.concurrency >= 1, f"-c/--concurrency: at least 1, got {self.concurrency}")
        need(self.processes >= 1, f"-p/--processes: at least 1, got {self.processes}")
        need(self.host_scale >= 1, f"--host-scale: a positive integer, got {self.host_scale}")
        need(self.interval_millis >= 1, f"--interval-millis: a positive integer, got {self.interval_millis}")
        need(1 <= self.batch_size <= 100, f"--batch-size: 1..100, got {self.batch_size}")
        need(not self.req_id_dim or self.add_req_id, "--req-id-dim: only together with --add-req-id")
        need(
            self.memory_store_retention_hours >= 1,
            f"--memory-store-retention-hours: at least 1, got {self.memory_store_retention_hours}",
        )
        need(
            self.magnetic_store_retention_days >= 1,
            f"--magnetic-store-retention-days: at least 1, got {self.magnetic_store_retention_days}",
        )
        need(
            self.duration_s is None or self.duration_s >= 0,
            f"--duration: zero or more seconds, got {self.duration_s}",
        )
        need(self.backfill_s >= 0, f"--backfill: zero or more, got {self.backfill_s}")
        need(
            not (self.duration_s == 0 and self.backfill_s == 0),
            "--duration: 0 only makes sense with --backfill (nothing would be written)",
        )
        need(self.stats_interval_s > 0, f"--stats-interval: positive seconds, got {self.stats_interval_s}")
        need(self.drain_timeout_s >= 0, f"--drain-timeout: zero or more seconds, got {self.drain_timeout_s}")
        need(self.max_attempts >= 1, f"max_attempts: at least 1, got {self.max_attempts}")
        if self.shard is not None:
            k, n = self.shard
            need(n >= 1 and 0 <= k < n, f"--shard: K/N with 0 <= K < N, got {k}/{n}")

    @property
    def effective_queue_size(self) -> int:
        return self.queue_size or max(16, 2 * self.concurrency)
