"""`RunConfig`: one experiment (backfill, then live ingestion and query sessions side by side).

The defaults are chosen so that a run on the embedded local engine is meaningful and short on a
2-core laptop (about a minute):

- host scale 1 = 1,000 hosts and 1,200 event sets, every dashboard and alert has hosts to look at;
- a 60 s interval: 26,000 records per minute live (~430 records/s single-measure), light enough
  that ingestion never starves the queries of the machine's two cores;
- 1 h of backfill = 60 emissions of the fleet, 1.56 M records, inside the default 2 h memory-store
  window (no magnetic writes needed), so the one-hour queries (do-q1..q6) see a full window;
- 30 s live with 4 sessions and 1 s think time: ~100 queries, enough for p50/p90 per query;
- `--params model`: sessions pick hosts from the model the run writes, so every query finds data.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from tsload._errors import ConfigError
from tsload.ingest.config import IngestConfig
from tsload.query.config import QueryConfig
from tsload.targets import TargetConfig

DEFAULT_RUNS_DIR = Path("./tsload-runs")


def default_out_dir(now: dt.datetime | None = None) -> Path:
    """`./tsload-runs/<UTC timestamp>` (sortable, no characters that need quoting)."""
    when = (now or dt.datetime.now(dt.UTC)).strftime("%Y-%m-%dT%H-%M-%SZ")
    return DEFAULT_RUNS_DIR / when


@dataclass(frozen=True)
class RunConfig:
    target: TargetConfig = field(default_factory=TargetConfig)
    database: str = "devops"
    table: str = "host_metrics"
    memory_store_retention_hours: int = 2
    magnetic_store_retention_days: int = 365
    enable_magnetic_writes: bool = False
    # the model
    host_scale: int = 1
    interval_millis: int = 60_000
    multi: bool = False
    instance_name_seed: int = 12345
    seed: int = 0
    shard: tuple[int, int] | None = None
    # ingestion
    backfill_s: float = 3600.0
    duration_s: float = 30.0
    ingest_processes: int = 1
    ingest_concurrency: int = 16
    batch_writes: bool = False
    batch_size: int = 100
    add_req_id: bool = False
    req_id_dim: bool = False
    # queries
    query_sessions: int = 4
    query_processes: int = 1
    think_time_ms: int = 1000
    randomized_think_time: bool = False
    workload_dir: Path | None = None
    config_file: Path | None = None
    params: str = "model"
    repetitions: int | None = None  # None: sessions run until --duration ends
    query_timeout_s: float | None = None
    # the run
    out_dir: Path = field(default_factory=default_out_dir)
    stats_interval_s: float = 2.0
    drain_timeout_s: float = 10.0
    prices_file: str | None = None

    def validate(self) -> None:
        if not self.duration_s > 0:
            raise ConfigError(f"--duration: positive (e.g. 30s, 5m) is allowed, got {self.duration_s}")
        if self.query_sessions < 0:
            raise ConfigError(f"--query-sessions: 0 or more is allowed, got {self.query_sessions}")
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise ConfigError(f"--out {self.out_dir}: exists and is not a directory")
        if self.out_dir.is_dir() and any(self.out_dir.iterdir()):
            raise ConfigError(f"--out {self.out_dir}: exists and is not empty; choose a new directory")
        if self.backfill_s < 0:
            raise ConfigError(f"--backfill: zero (none) or more is allowed, got {self.backfill_s}")
        # every flag shared with ingest and query is checked by them, with their messages
        if self.backfill_s > 0:
            self.backfill_config(0).validate()
        self.live_config(1, 0).validate()
        if self.query_sessions:
            self.query_config().validate()

    def _ingest_base(self) -> IngestConfig:
        return IngestConfig(
            target=self.target,
            database=self.database,
            table=self.table,
            memory_store_retention_hours=self.memory_store_retention_hours,
            magnetic_store_retention_days=self.magnetic_store_retention_days,
            enable_magnetic_writes=self.enable_magnetic_writes,
            concurrency=self.ingest_concurrency,
            processes=self.ingest_processes,
            host_scale=self.host_scale,
            interval_millis=self.interval_millis,
            batch_writes=self.batch_writes,
            batch_size=self.batch_size,
            multi=self.multi,
            add_req_id=self.add_req_id,
            req_id_dim=self.req_id_dim,
            instance_name_seed=self.instance_name_seed,
            seed=self.seed,
            shard=self.shard,
            stats_interval_s=self.stats_interval_s,
            drain_timeout_s=self.drain_timeout_s,
            create_schema=False,  # run_experiment creates the table once, before either phase
        )

    def backfill_config(self, live_start_ms: int, target: TargetConfig | None = None) -> IngestConfig:
        """History from live_start − backfill to live_start, as fast as the target accepts."""
        return replace(
            self._ingest_base(),
            target=target or self.target,
            backfill_s=self.backfill_s,
            duration_s=0,
            live_start_ms=live_start_ms,
            out_dir=self.out_dir / "backfill",
        )

    def live_config(
        self, live_start_ms: int, gap_ms: int, target: TargetConfig | None = None
    ) -> IngestConfig:
        """Live for --duration from live_start_ms; the gap since the backfill ended is written first."""
        return replace(
            self._ingest_base(),
            target=target or self.target,
            backfill_s=gap_ms / 1000,
            duration_s=self.duration_s,
            live_start_ms=live_start_ms,
            out_dir=self.out_dir / "ingest",
        )

    def query_config(self, target: TargetConfig | None = None, run_prefix: str | None = None) -> QueryConfig:
        return QueryConfig(
            target=target or self.target,
            database=self.database,
            table=self.table,
            workload_dir=self.workload_dir,
            config_file=self.config_file,
            concurrency=max(self.query_sessions, 1),
            processes=self.query_processes,
            log_dir=self.out_dir / "queries",
            run_prefix=run_prefix,
            # sessions run until --duration ends unless --repetitions caps them
            repetitions=self.repetitions or 1_000_000_000,
            multi=self.multi,
            think_time_ms=self.think_time_ms,
            randomized_think_time=self.randomized_think_time,
            params=self.params,
            host_scale=self.host_scale,
            instance_name_seed=self.instance_name_seed,
            seed=self.seed,
            duration_s=self.duration_s,
            timeout_s=self.query_timeout_s,
            stats_interval_s=self.stats_interval_s,
            shard=self.shard,
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for run.json (no credentials: the profile name at most)."""
        return {
            "region": self.target.region,
            "endpoint": self.target.endpoint,
            "profile": self.target.profile,
            "database": self.database,
            "table": self.table,
            "host_scale": self.host_scale,
            "interval_millis": self.interval_millis,
            "multi": self.multi,
            "instance_name_seed": self.instance_name_seed,
            "seed": self.seed,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard else None,
            "backfill_s": self.backfill_s,
            "duration_s": self.duration_s,
            "ingest_processes": self.ingest_processes,
            "ingest_concurrency": self.ingest_concurrency,
            "batch_writes": self.batch_writes,
            "batch_size": self.batch_size,
            "add_req_id": self.add_req_id,
            "req_id_dim": self.req_id_dim,
            "query_sessions": self.query_sessions,
            "query_processes": self.query_processes,
            "think_time_ms": self.think_time_ms,
            "randomized_think_time": self.randomized_think_time,
            "workload": str(self.workload_dir) if self.workload_dir else None,
            "config": str(self.config_file) if self.config_file else None,
            "params": self.params,
            "repetitions": self.repetitions,
            "memory_store_retention_hours": self.memory_store_retention_hours,
            "magnetic_store_retention_days": self.magnetic_store_retention_days,
            "enable_magnetic_writes": self.enable_magnetic_writes,
            "out": str(self.out_dir),
        }
