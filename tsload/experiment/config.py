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


def run_ingest_defaults(**changes: Any) -> IngestConfig:
    """`tsload run`'s ingestion defaults (see the module docstring), with `changes` applied."""
    base = IngestConfig(
        host_scale=1,
        interval_millis=60_000,
        concurrency=16,
        backfill_s=3600.0,
        duration_s=30.0,
        stats_interval_s=2.0,
    )
    return replace(base, **changes)


def run_query_defaults(**changes: Any) -> QueryConfig:
    """`tsload run`'s query defaults (4 sessions, 1 s think time, hosts from the model)."""
    return replace(QueryConfig(concurrency=4, think_time_ms=1000, params="model"), **changes)


# What the query side of a run takes from its ingestion side: one target, one table, one model.
SHARED_FIELDS = (
    "target",
    "database",
    "table",
    "multi",
    "host_scale",
    "instance_name_seed",
    "seed",
    "shard",
    "duration_s",
    "stats_interval_s",
)
_QUERY_DEFAULTS = QueryConfig()


@dataclass(frozen=True)
class RunConfig:
    """One experiment: an ingestion configuration and a query configuration, side by side.

    `ingest` holds the target, the table, the model and the writers; its `backfill_s` is the
    history written first and its `duration_s` the live phase. `query` holds the sessions
    (`concurrency` sessions per process, think time, workload, params, repetitions: None runs them
    until the live phase ends); None runs no queries. The fields both sides have (`SHARED_FIELDS`)
    are the ingestion's: in `query` leave them at QueryConfig's defaults or set them equal, anything
    else is a ConfigError (never silently ignored).
    """

    ingest: IngestConfig = field(default_factory=run_ingest_defaults)
    query: QueryConfig | None = field(default_factory=run_query_defaults)
    out_dir: Path = field(default_factory=default_out_dir)
    prices_file: str | None = None

    @property
    def target(self) -> TargetConfig:
        return self.ingest.target

    @property
    def backfill_s(self) -> float:
        return self.ingest.backfill_s

    @property
    def duration_s(self) -> float:
        return self.ingest.duration_s or 0.0

    @property
    def query_sessions(self) -> int:
        return self.query.concurrency if self.query is not None else 0

    def validate(self) -> None:
        """Raise a ConfigError naming the field (`ingest.concurrency`, `query.concurrency`, `out_dir`)."""
        if self.ingest.duration_s is None or not self.ingest.duration_s > 0:
            raise ConfigError(
                "ingest.duration_s", "a positive duration (e.g. 30s, 5m)", got=self.ingest.duration_s
            )
        if self.out_dir.exists() and not self.out_dir.is_dir():
            raise ConfigError("out_dir", "a directory", got=self.out_dir)
        if self.out_dir.is_dir() and any(self.out_dir.iterdir()):
            raise ConfigError("out_dir", "a new or empty directory", got=self.out_dir)
        try:
            self.ingest.validate()
        except ConfigError as exc:
            raise exc.within("ingest") from exc.__cause__
        i = self.ingest
        if i.backfill_s > i.memory_store_retention_hours * 3600 and not i.enable_magnetic_writes:
            # refused, not warned: such a backfill spends minutes writing records the memory store
            # rejects (older than its retention) -- 1.6 M for --backfill 3h at the default scale
            raise ConfigError(
                "ingest.backfill_s",
                f"at most the memory store's {i.memory_store_retention_hours} h (older records are "
                "rejected); shorten it, raise {ingest.memory_store_retention_hours} or add "
                "{ingest.enable_magnetic_writes}",
                got=f"{i.backfill_s / 3600:g}h",
            )
        if self.query is not None:
            for name in SHARED_FIELDS:
                mine = getattr(self.query, name)
                if mine != getattr(_QUERY_DEFAULTS, name) and mine != getattr(self.ingest, name):
                    raise ConfigError(
                        f"query.{name}", f"the value of {{ingest.{name}}} (the run's one setting)", got=mine
                    )
            query = self.query_config()
            try:
                query.validate()
            except ConfigError as exc:
                raise exc.within("query") from exc.__cause__
            from tsload.query.workload import load_workload

            # the workload is read before any work starts, not when the live phase reaches it
            load_workload(query.workload_dir, config=query.config_file, multi=query.multi)

    def _ingest_base(self, target: TargetConfig | None) -> IngestConfig:
        # run_experiment creates the table once, before either phase
        return replace(self.ingest, target=target or self.ingest.target, create_schema=False)

    def backfill_config(self, live_start_ms: int, target: TargetConfig | None = None) -> IngestConfig:
        """History from live_start − backfill to live_start, as fast as the target accepts."""
        return replace(
            self._ingest_base(target),
            duration_s=0,
            live_start_ms=live_start_ms,
            out_dir=self.out_dir / "backfill",
        )

    def live_config(
        self, live_start_ms: int, gap_ms: int, target: TargetConfig | None = None
    ) -> IngestConfig:
        """Live for the run's duration from live_start_ms, writing the gap since the backfill first."""
        return replace(
            self._ingest_base(target),
            backfill_s=gap_ms / 1000,
            live_start_ms=live_start_ms,
            out_dir=self.out_dir / "ingest",
        )

    def query_config(self, target: TargetConfig | None = None, run_prefix: str | None = None) -> QueryConfig:
        query = self.query or run_query_defaults()
        shared = {name: getattr(self.ingest, name) for name in SHARED_FIELDS}
        shared["target"] = target or self.ingest.target
        return replace(
            query,
            **shared,
            log_dir=self.out_dir / "queries",
            run_prefix=run_prefix,
            # sessions run until the live phase ends unless repetitions caps them
            repetitions=query.repetitions or 1_000_000_000,
            cover_mix=True,  # the demo shows all six queries (QueryConfig.cover_mix)
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for run.json (no credentials: the profile name at most)."""
        i, q = self.ingest, self.query or run_query_defaults()
        return {
            **i.target.as_dict(),
            "profile": i.target.profile,
            "database": i.database,
            "table": i.table,
            "host_scale": i.host_scale,
            "interval_millis": i.interval_millis,
            "multi": i.multi,
            "instance_name_seed": i.instance_name_seed,
            "seed": i.seed,
            "shard": f"{i.shard[0]}/{i.shard[1]}" if i.shard else None,
            "backfill_s": i.backfill_s,
            "duration_s": i.duration_s,
            "ingest_processes": i.processes,
            "ingest_concurrency": i.concurrency,
            "batch_writes": i.batch_writes,
            "batch_size": i.batch_size,
            "add_req_id": i.add_req_id,
            "req_id_dim": i.req_id_dim,
            "query_sessions": self.query_sessions,
            "query_processes": q.processes,
            "think_time_ms": q.think_time_ms,
            "randomized_think_time": q.randomized_think_time,
            **q.workload_files(),
            "params": q.params,
            "repetitions": q.repetitions,
            "arrival_rate": q.arrival_rate,
            "arrival": q.arrival_model(),
            "memory_store_retention_hours": i.memory_store_retention_hours,
            "magnetic_store_retention_days": i.magnetic_store_retention_days,
            "enable_magnetic_writes": i.enable_magnetic_writes,
            "out": str(self.out_dir),
        }
