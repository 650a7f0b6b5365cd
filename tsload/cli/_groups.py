"""Flag groups: options that several commands take together, declared once as a frozen dataclass.

typer builds a command's options from its signature, one parameter per option, so ten target
flags taken by four commands were ten parameters written four times, and each command copied
them by hand into a configuration. A group is a frozen dataclass whose fields are the options
(`Annotated` typer options, as in `_options`); a command takes it as ONE parameter whose default
is the group with that command's defaults:

    @with_groups
    def command(where: TargetFlags = TargetFlags(), out: o.Out = None) -> None:
        cfg = where.config()

`with_groups` shows typer the group's fields in the group's place (in field order, each with the
default of the parameter's default instance) and, on the call, gathers them back into the group;
a flag not passed (a direct call with a few flags) keeps the command's default.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from tsload.cli import _options as o
from tsload.query.arrival import DEFAULT_QUEUE

if TYPE_CHECKING:
    from tsload.cli._slo import SloGate
    from tsload.ingest.config import IngestConfig
    from tsload.targets import TargetConfig

R = TypeVar("R")


def _group_parameters(group: Any) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(type(group), include_extras=True)
    return [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name], default=getattr(group, f.name)
        )
        for f in dataclasses.fields(group)
    ]


def with_groups(command: Callable[..., R]) -> Callable[..., R]:
    """`command` as typer should see it: every parameter whose default is a dataclass instance (a
    flag group) spread into that group's fields; a name taken twice is an error at import."""
    hints = typing.get_type_hints(command, include_extras=True)
    shown: list[inspect.Parameter] = []
    groups: dict[str, tuple[Any, tuple[str, ...]]] = {}  # parameter -> (its default, its fields)
    for p in inspect.signature(command).parameters.values():
        if dataclasses.is_dataclass(p.default) and not isinstance(p.default, type):
            fields = _group_parameters(p.default)
            groups[p.name] = (p.default, tuple(f.name for f in fields))
            shown += fields
        else:
            shown.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name]))

    @functools.wraps(command)
    def spread(**flags: Any) -> R:
        for name, (default, fields) in groups.items():
            flags[name] = dataclasses.replace(default, **{f: flags.pop(f) for f in fields if f in flags})
        return command(**flags)

    # Signature() refuses a parameter name given twice: two groups (or a group and a parameter)
    # declaring the same flag fail here, at import, not as a confusing typer error.
    wrapper: Any = spread
    wrapper.__signature__ = inspect.Signature(shown)
    wrapper.__annotations__ = {p.name: p.annotation for p in shown}
    return spread


# -- the groups (their fields are `_options`' aliases; a command passes its own defaults)

@dataclass(frozen=True)
class TargetFlags:
    """Where the workload goes: -d/-t and the target's flags (ingest, query, run and cleanup)."""

    database_name: o.Database = "devops"
    table_name: o.Table = "host_metrics"
    region: o.Region = None
    endpoint: o.Endpoint = None
    profile: o.Profile = None
    local_data: o.LocalData = "./tsload-data"
    target: o.TargetKind = "timestream"
    influx_api: o.InfluxApi = "v1"
    influx_org: o.InfluxOrg = None
    token_file: o.TokenFile = None

    def config(self) -> TargetConfig:
        """The `TargetConfig` of these flags, refusing flags that do not belong to the target."""
        return self._config(gzip=False)

    def _config(self, *, gzip: bool) -> TargetConfig:
        from pathlib import Path

        from tsload.targets import TargetConfig, check_config

        cfg = TargetConfig(
            region=self.region,
            endpoint=self.endpoint,
            profile=self.profile,
            local_data=Path(self.local_data),
            kind=self.target,
            influx_api=self.influx_api,
            influx_org=self.influx_org,
            token_file=Path(self.token_file) if self.token_file is not None else None,
            gzip=gzip,
        )
        check_config(cfg)  # each target refuses the flags that are not its own
        return cfg


@dataclass(frozen=True)
class WriteTargetFlags(TargetFlags):
    """`TargetFlags` and the write side's own --gzip (ingest and run)."""

    gzip: o.Gzip = False

    def config(self) -> TargetConfig:
        return self._config(gzip=self.gzip)


@dataclass(frozen=True)
class IngestFlags:
    """The ingestion workload of ingest and run: the table tsload creates, the fleet and its
    records, the phases. The flags each command words its own way (-c/-p, --seed, --out) stay
    in the command and are passed to `config`."""

    memory_store_retention_hours: o.MemoryStoreRetentionHours = 2
    magnetic_store_retention_days: o.MagneticStoreRetentionDays = 365
    enable_magnetic_writes: o.EnableMagneticWrites = False
    host_scale: o.HostScale = 100
    interval_millis: o.IntervalMillis = 5000
    batch_writes: o.BatchWrites = False
    batch_size: o.IngestBatchSize = None
    multi: o.Multi = False
    add_req_id: o.AddReqId = False
    req_id_dim: o.ReqIdDim = False
    instance_name_seed: o.InstanceNameSeed = 12345
    duration: o.Duration = None
    backfill: o.Backfill = None
    shard: o.Shard = None
    stats_interval: o.StatsInterval = 10.0
    drain_timeout: o.DrainTimeout = 10.0

    def batch_size_for(self, target: str) -> int:
        """--batch-size, or the target's default: 100 records (Timestream), 5,000 lines (InfluxDB)."""
        from tsload.ingest.config import INFLUX_DEFAULT_BATCH_LINES

        if self.batch_size is not None:
            return self.batch_size
        return INFLUX_DEFAULT_BATCH_LINES if target == "influxdb" else 100

    def config(self, where: WriteTargetFlags, *, concurrency: int, processes: int, seed: int) -> IngestConfig:
        """The `IngestConfig` of these flags, the target's and the command's own (not yet validated)."""
        from tsload._units import parse_duration
        from tsload.ingest.config import IngestConfig
        from tsload.model.shard import parse_shard

        return IngestConfig(
            target=where.config(),
            database=where.database_name,
            table=where.table_name,
            memory_store_retention_hours=self.memory_store_retention_hours,
            magnetic_store_retention_days=self.magnetic_store_retention_days,
            enable_magnetic_writes=self.enable_magnetic_writes,
            concurrency=concurrency,
            processes=processes,
            host_scale=self.host_scale,
            interval_millis=self.interval_millis,
            batch_writes=self.batch_writes,
            batch_size=self.batch_size_for(where.target),
            multi=self.multi,
            add_req_id=self.add_req_id,
            req_id_dim=self.req_id_dim,
            instance_name_seed=self.instance_name_seed,
            seed=seed,
            shard=parse_shard(self.shard) if self.shard is not None else None,
            duration_s=parse_duration(self.duration, "--duration") if self.duration is not None else None,
            backfill_s=parse_duration(self.backfill, "--backfill") if self.backfill is not None else 0.0,
            stats_interval_s=self.stats_interval,
            drain_timeout_s=self.drain_timeout,
        )


@dataclass(frozen=True)
class ArrivalFlags:
    """The open model (query and run): QueryConfig's fields of the same names."""

    arrival_rate: o.ArrivalRate = None
    arrival: o.Arrival = "constant"
    arrival_queue: o.ArrivalQueue = DEFAULT_QUEUE


@dataclass(frozen=True)
class SloFlags:
    """--slo, --abort-on-fail and --slo-grace (ingest, query and run): one gate."""

    slo: o.Slo = None
    abort_on_fail: o.AbortOnFail = False
    slo_grace: o.SloGrace = "10s"

    def gate(
        self, *, queries: Collection[str] | None = None, ingest: bool = True, query_side: bool = True
    ) -> SloGate:
        """The gate of these flags, every threshold parsed now (a bad one: exit 2 before any work)."""
        from tsload.cli._slo import gate_from_flags

        return gate_from_flags(
            self.slo, self.abort_on_fail, self.slo_grace,
            queries=queries, ingest=ingest, query_side=query_side,
        )
