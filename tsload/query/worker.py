"""One process's share of a query run: its sessions on one event loop, interval stats sent out."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from tsload.query.config import QueryConfig
from tsload.query.executor import QueryExecutor, RetryPolicy
from tsload.query.logfiles import dir_name
from tsload.query.pacing import global_process, global_session_index, stagger_offsets_ms
from tsload.query.session import Session, SessionResult, SessionSpec
from tsload.query.transport import FastTransport, QueryTransport, SdkTransport
from tsload.query.workload import Workload
from tsload.stats.recorder import Recorder

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class WireTarget:
    """How a worker process reaches the target (picklable: no session objects)."""

    region: str
    endpoint: str | None
    profile: str | None
    static_keys: tuple[str, str, str | None] | None


@dataclass(frozen=True)
class ProcessPlan:
    cfg: QueryConfig
    process: int  # 1-based
    workload: Workload
    wire: WireTarget
    started: dt.datetime
    prefix: str
    end: str
    seed: int


def session_specs(plan: ProcessPlan, fleet: Any = None) -> list[SessionSpec]:
    """This process's sessions; `fleet` (the --params model fleet) narrows hosts to the shard's."""
    cfg, wl = plan.cfg, plan.workload
    k = cfg.shard_index
    # seeded by the global process number: shard K's process p staggers as process K*P + p of
    # one run N times larger
    offsets = stagger_offsets_ms(
        cfg.concurrency,
        cfg.think_time_ms,
        cfg.randomized_think_time,
        random.Random(f"tsload-query-stagger:{plan.seed}:{global_process(k, cfg.processes, plan.process)}"),
    )
    model_events = None
    if fleet is not None and cfg.shard is not None:
        from tsload.query.params import event_set_range

        model_events = event_set_range(fleet, cfg.model_hosts(int(fleet.n_hosts)))
    repetitions = cfg.repetitions if cfg.repetitions is not None else wl.config.repetitions
    return [
        SessionSpec(
            process=plan.process,
            index=i,
            directory=cfg.log_dir / dir_name(plan.prefix, plan.started, plan.process, i),
            database=cfg.database,
            table=cfg.table,
            end=plan.end,
            multi=cfg.multi,
            query_mode=wl.config.query_mode,
            repetitions=repetitions,
            templates=wl.templates,
            weights=wl.config.weights,
            params_source=cfg.params,
            think_ms=cfg.think_time_ms,
            randomized_think=cfg.randomized_think_time,
            start_offset_ms=offsets[i - 1],
            seed=plan.seed,
            count_datapoints=cfg.count_datapoints,
            config={
                **cfg.as_dict(),
                "seed": plan.seed,
                "workload": str(wl.directory),
                "config_file": str(wl.config.path),
                "retries": wl.config.retries,
            },
            global_index=global_session_index(k, cfg.processes, cfg.concurrency, plan.process, i),
            shard=cfg.shard,
            model_events=model_events,
        )
        for i in range(1, cfg.concurrency + 1)
    ]


def session_for_wire(wire: WireTarget) -> Any:
    import aioboto3

    if wire.static_keys is not None:
        ak, sk, token = wire.static_keys
        return aioboto3.Session(
            aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token, region_name=wire.region
        )
    return aioboto3.Session(profile_name=wire.profile, region_name=wire.region)


async def make_transport(
    session: Any, region: str, endpoint: str | None, kind: str, pool: int
) -> QueryTransport:
    from tsload._errors import TargetError

    if kind == "sdk" or (kind == "auto" and endpoint is None):
        return SdkTransport(session, region, endpoint, max_pool=max(10, pool))
    if endpoint is None:
        raise TargetError("the fast query path needs a fixed endpoint (-e or the local engine); use the SDK")
    credentials = await session.get_credentials()
    if credentials is None:
        raise TargetError(
            "no AWS credentials found (a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or a role)"
        )
    return FastTransport(credentials, region, endpoint)


async def run_process(
    plan: ProcessPlan,
    transport: QueryTransport,
    stop: asyncio.Event,
    emit: Emit,
    *,
    sleep: Callable[[float], Any] = asyncio.sleep,
) -> list[SessionResult]:
    """Run this process's sessions until they finish or `stop` is set; emit interval snapshots."""
    cfg = plan.cfg
    fleet = None
    if cfg.params == "model":
        from tsload.model.fleet import Fleet, FleetConfig

        fleet = Fleet(FleetConfig(host_scale=cfg.host_scale, instance_name_seed=cfg.instance_name_seed))
    policy = RetryPolicy(retries=plan.workload.config.retries)
    recorder = Recorder()
    sessions = [
        Session(
            spec,
            QueryExecutor(
                transport,
                policy,
                timeout_s=cfg.timeout_s,
                rng=random.Random(f"tsload-retry:{spec.session_seed}"),
            ),
            fleet=fleet,
            sleep=sleep,
            recorder=recorder,
        )
        for spec in session_specs(plan, fleet)
    ]

    def tick() -> None:
        for s in sessions:
            s.tick()
        emit({"process": plan.process, "interval": recorder.interval().encode()})

    async def ticker() -> None:
        while True:
            await asyncio.sleep(cfg.stats_interval_s)
            tick()

    async def deadline() -> None:
        assert cfg.duration_s is not None
        await asyncio.sleep(cfg.duration_s)
        stop.set()

    results: list[SessionResult] = []
    try:
        async with asyncio.TaskGroup() as tg:
            helpers = [tg.create_task(ticker())]
            if cfg.duration_s is not None:
                helpers.append(tg.create_task(deadline()))
            tasks = [tg.create_task(s.run(stop), name=f"query-session-{s.spec.tag}") for s in sessions]
            await asyncio.wait(tasks)
            for h in helpers:
                h.cancel()
        results = [t.result() for t in tasks]
    finally:
        for s in sessions:
            with contextlib.suppress(Exception):
                s.finish()
        tick()
    return results


def with_log_dir(cfg: QueryConfig, log_dir: Path) -> QueryConfig:
    return replace(cfg, log_dir=log_dir)
