"""The ingest run's configuration: one frozen, picklable object (it crosses process boundaries)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tsload._errors import ConfigError, checker
from tsload.model import limits
from tsload.targets import TargetConfig

INFLUX_MAX_BATCH_LINES = 10_000  # the InfluxDB target's ceiling (lineproto.MAX_BATCH_LINES)
INFLUX_DEFAULT_BATCH_LINES = 5_000


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

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", self.target.defaulting_database(self.database))

    def validate(self) -> None:
        """Raise a ConfigError naming the first field that is not allowed (fields, not flags)."""

        need = checker(self)
        need(bool(self.database), "database", "a non-empty name")
        need(bool(self.table), "table", "a non-empty name")
        if self.target.kind == "timestream":
            limits.check_schema_names(database=self.database, table=self.table)
        need(self.concurrency >= 1, "concurrency", "a positive integer")
        need(self.processes >= 1, "processes", "a positive integer")
        need(self.host_scale >= 1, "host_scale", "a positive integer")
        need(self.interval_millis >= 1, "interval_millis", "a positive integer")
        if self.target.kind == "influxdb":
            need(
                1 <= self.batch_size <= INFLUX_MAX_BATCH_LINES,
                "batch_size",
                f"1..{INFLUX_MAX_BATCH_LINES:,} lines with --target influxdb",
            )
            if self.multi:
                raise ConfigError(
                    "multi",
                    "off with --target influxdb (a Timestream record shape: InfluxDB points always carry "
                    "all of an emission's fields, see docs/influxdb.md)",
                )
            if self.sdk_writes:
                raise ConfigError("sdk_writes", "off with --target influxdb (it has no SDK path)")
        else:
            need(1 <= self.batch_size <= 100, "batch_size", "1..100")
        if self.req_id_dim and not self.add_req_id:
            raise ConfigError("req_id_dim", "only together with {add_req_id}")
        need(self.memory_store_retention_hours >= 1, "memory_store_retention_hours", "a positive integer")
        need(self.magnetic_store_retention_days >= 1, "magnetic_store_retention_days", "a positive integer")
        need(self.duration_s is None or self.duration_s >= 0, "duration_s", "zero or more seconds")
        need(self.backfill_s >= 0, "backfill_s", "zero or more seconds")
        need(
            not (self.duration_s == 0 and self.backfill_s == 0),
            "duration_s",
            "0 only together with {backfill_s} (nothing would be written)",
        )
        need(self.stats_interval_s > 0, "stats_interval_s", "a positive number of seconds")
        need(self.drain_timeout_s >= 0, "drain_timeout_s", "zero or more seconds")
        need(self.max_attempts >= 1, "max_attempts", "a positive integer")
        if self.shard is not None:
            k, n = self.shard
            need(n >= 1 and 0 <= k < n, "shard", "K/N with 0 <= K < N")

    @property
    def lines_per_emission(self) -> bool:
        """The target stores one row per emission with all its values (InfluxDB points; Timestream
        with --multi): one record per emission, its values counted as measures."""
        return self.multi or self.target.kind == "influxdb"

    @property
    def effective_batch_writes(self) -> bool:
        """InfluxDB wants thousands of lines per request: emissions of many hosts are always packed."""
        return self.batch_writes or self.target.kind == "influxdb"

    @property
    def effective_queue_size(self) -> int:
        return self.queue_size or max(16, 2 * self.concurrency)
