"""`QueryConfig`: everything `tsload query` (or an embedding program) can set, validated."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsload._errors import ConfigError, checker
from tsload.model import limits
from tsload.query.arrival import ARRIVALS, DEFAULT_QUEUE
from tsload.query.params import PARAM_SOURCES, end_expression
from tsload.targets import CLIENTS, TargetConfig


@dataclass(frozen=True)
class QueryConfig:
    target: TargetConfig = field(default_factory=TargetConfig)
    database: str = "devops"
    table: str = "host_metrics"
    workload_dir: Path | None = None  # None: the bundled DevOps workload
    config_file: Path | None = None  # None: <workload>/config.ini
    concurrency: int = 1  # sessions per process
    processes: int = 1
    log_dir: Path = field(default_factory=lambda: Path.home() / "timestream_perf")
    run_prefix: str | None = None  # None: the target's description ("local", the region, the host)
    query_end_time: str | None = None  # None: now()
    repetitions: int | None = None  # overrides the config file's
    multi: bool = False
    think_time_ms: int = 30_000
    randomized_think_time: bool = False
    params: str = "table"  # table | model | fixed
    host_scale: int = 100  # --params model
    instance_name_seed: int = 12345  # --params model
    seed: int | None = None  # None: drawn at random (and recorded in session.json)
    duration_s: float | None = None
    timeout_s: float | None = None
    stats_interval_s: float = 10.0
    count_datapoints: bool = True
    # every query of the mix runs at least once: the sessions share the positive-weight queries
    # (session g takes the queries at positions g, g+S, g+2S ... of the mix, S sessions in all)
    # and run them first, then draw by weight. `tsload run` turns it on so that a short run
    # still shows do-q5/do-q6 (0.05 % each); off, the draws are the sample's.
    cover_mix: bool = False
    # the target's client (`ClientOptions.client`): auto (for Timestream: the fast path to a fixed
    # endpoint, the SDK with AWS endpoint discovery), sdk, or fast
    transport: str = "auto"
    # (K, N): this machine runs shard K of N. Its sessions take global indexes K*P*C .. (K+1)*P*C-1
    # (seeds as in one run N times larger) and, with --params model, hosts of shard K's host range.
    shard: tuple[int, int] | None = None
    # The open model (query.arrival): queries/s of the whole run, split exactly over processes and
    # shards; `concurrency` is then the pool of sessions in flight and think time is not used.
    arrival_rate: float | None = None
    arrival: str = "constant"  # constant | poisson
    arrival_queue: int = DEFAULT_QUEUE  # scheduled starts waiting for a free session, per process

    def __post_init__(self) -> None:
        object.__setattr__(self, "target", self.target.defaulting_database(self.database))

    def validate(self) -> None:
        """Raise a ConfigError naming the first field that is not allowed (fields, not flags)."""

        need = checker(self)
        if self.target.kind == "timestream":
            limits.check_schema_names(database=self.database, table=self.table)
        need(self.concurrency >= 1, "concurrency", "a positive integer")
        need(self.processes >= 1, "processes", "a positive integer")
        need(self.repetitions is None or self.repetitions >= 1, "repetitions", "a positive integer")
        need(self.think_time_ms >= 0, "think_time_ms", "zero or more milliseconds")
        need(self.params in PARAM_SOURCES, "params", "table, model or fixed")
        need(self.duration_s is None or self.duration_s > 0, "duration_s", "a positive number of seconds")
        need(self.timeout_s is None or self.timeout_s > 0, "timeout_s", "a positive number of seconds")
        need(self.stats_interval_s > 0, "stats_interval_s", "a positive number of seconds")
        need(self.host_scale >= 1, "host_scale", "a positive integer")
        need(self.transport in CLIENTS, "transport", ", ".join(CLIENTS))
        need(
            self.arrival_rate is None or (self.arrival_rate > 0 and math.isfinite(self.arrival_rate)),
            "arrival_rate",
            "a positive number of queries/s",
        )
        need(self.arrival in ARRIVALS, "arrival", " or ".join(ARRIVALS))
        need(self.arrival_queue >= 1, "arrival_queue", "a positive integer")
        if self.shard is not None:
            k, n = self.shard
            need(n >= 1 and 0 <= k < n, "shard", "K/N with 0 <= K < N")
            if self.params == "model" and self.model_hosts(self.fleet_hosts()) == range(0):
                need(
                    False,
                    "shard",
                    f"a shard holding hosts of the {{host_scale}} {self.host_scale} fleet "
                    f"({self.fleet_hosts():,} hosts); use fewer shards",
                )
        if self.target.kind == "influxdb":
            if self.multi:
                raise ConfigError(
                    "multi",
                    "off with --target influxdb (the InfluxDB queries read the metrics and events "
                    "measurements, see docs/influxdb.md)",
                )
            if self.transport == "sdk":
                raise ConfigError("transport", "auto or fast with --target influxdb (it has no SDK path)")
            from tsload.targets import query_language

            language = query_language(self.target)
            assert language is not None
            language.end_expression(self.query_end_time)  # raises on a bad query_end_time
        else:
            end_expression(self.query_end_time)  # raises on a bad query_end_time
        for name_field in ("database", "table"):
            name = getattr(self, name_field)
            need(bool(name) and "\x00" not in name, name_field, "a non-empty name")

    @property
    def shard_index(self) -> int:
        return self.shard[0] if self.shard is not None else 0

    def fleet_hosts(self) -> int:
        """The number of metrics hosts of the --params model fleet."""
        from tsload.model.fleet import Fleet, FleetConfig

        fleet = Fleet(FleetConfig(host_scale=self.host_scale, instance_name_seed=self.instance_name_seed))
        return fleet.n_hosts

    def model_hosts(self, n_hosts: int) -> range:
        """The host ids this run's --params model sessions draw from: shard K's part, or all."""
        from tsload.model.shard import shard_range

        return range(n_hosts) if self.shard is None else shard_range(n_hosts, self.shard[0], self.shard[1])

    def workload_files(self) -> dict[str, str | None]:
        """The workload directory and mix config as given (None: the built-in ones), for run files."""
        return {
            "workload": str(self.workload_dir) if self.workload_dir else None,
            "config": str(self.config_file) if self.config_file else None,
        }

    def arrival_model(self) -> str | None:
        """The open model's arrival process; None for a closed model (no --arrival-rate)."""
        return self.arrival if self.arrival_rate is not None else None

    def as_dict(self) -> dict[str, Any]:
        """JSON-able, for session.json."""
        return {
            **self.target.as_dict(),
            "database": self.database,
            "table": self.table,
            **self.workload_files(),
            "concurrency": self.concurrency,
            "processes": self.processes,
            "run_prefix": self.run_prefix,
            "query_end_time": self.query_end_time,
            "repetitions": self.repetitions,
            "cover_mix": self.cover_mix,
            "multi": self.multi,
            "think_time_ms": self.think_time_ms,
            "randomized_think_time": self.randomized_think_time,
            "params": self.params,
            "host_scale": self.host_scale,
            "instance_name_seed": self.instance_name_seed,
            "seed": self.seed,
            "duration_s": self.duration_s,
            "timeout_s": self.timeout_s,
            "transport": self.transport,
            "shard": f"{self.shard[0]}/{self.shard[1]}" if self.shard is not None else None,
            "arrival_rate": self.arrival_rate,
            "arrival": self.arrival_model(),
            "arrival_queue": self.arrival_queue if self.arrival_rate is not None else None,
        }
