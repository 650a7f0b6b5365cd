"""One process's share of a query run: its sessions on one event loop, interval stats sent out."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tsload.query.arrival import ArrivalState, arrivals, dispatch, drain_unstarted
from tsload.query.config import QueryConfig
from tsload.query.executor import Queries, QueryExecutor
from tsload.query.logfiles import dir_name
from tsload.query.pacing import global_process, global_session_index, stagger_offsets_ms
from tsload.query.session import QueryCounters, Session, SessionResult, SessionSpec
from tsload.query.workload import Workload
from tsload.stats.recorder import Recorder
from tsload.targets import ClientOptions, Handoff, RetryPolicy, query_language

Emit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class ProcessPlan:
    cfg: QueryConfig
    process: int  # 1-based
    workload: Workload
    handoff: Handoff | None  # how a child process reopens the parent's target (None: in-process)
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
    open_model = cfg.arrival_rate is not None
    offsets = stagger_offsets_ms(
        cfg.concurrency,
        0 if open_model else cfg.think_time_ms,
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
            language=query_language(cfg.target),
            query_mode=wl.config.query_mode,
            repetitions=repetitions,
            templates=wl.templates,
            weights=wl.config.weights,
            params_source=cfg.params,
            think_ms=0 if open_model else cfg.think_time_ms,
            randomized_think=cfg.randomized_think_time,
            start_offset_ms=offsets[i - 1],
            seed=plan.seed,
            count_datapoints=cfg.count_datapoints,
            cover_sessions=(cfg.processes * cfg.concurrency * (cfg.shard[1] if cfg.shard else 1)
                            if cfg.cover_mix else 0),
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


def client_options(cfg: QueryConfig) -> ClientOptions:
    """How each query process talks to the target: `-c` sessions in flight, --sdk-queries."""
    return ClientOptions(concurrency=cfg.concurrency, client=cfg.transport)


async def run_process(
    plan: ProcessPlan,
    target: Queries,
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
    policy = RetryPolicy(max_retries=plan.workload.config.retries)
    recorder = Recorder()
    sessions = [
        Session(
            spec,
            QueryExecutor(
                target,
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

    state: ArrivalState | None = None
    if cfg.arrival_rate is not None:
        state = ArrivalState(
            rate_per_s=cfg.arrival_rate / arrival_parts(cfg),
            queue=asyncio.Queue(maxsize=cfg.arrival_queue),
        )
        for s in sessions:
            s.arrival = state

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
            if state is not None:
                helpers.append(tg.create_task(_dispatch(plan, state, stop, sessions),
                                              name=f"query-arrivals-{plan.process}"))
            await asyncio.wait(tasks)
            for h in helpers:
                h.cancel()
        results = [t.result() for t in tasks]
    finally:
        if state is not None:
            _count_dropped(state, sessions)
        for s in sessions:
            with contextlib.suppress(Exception):
                s.finish()
        tick()
    if state is not None:
        results = [s.result() for s in sessions]
    return results


def arrival_parts(cfg: QueryConfig) -> int:
    """Into how many processes the run's arrival stream is split: N shards × P processes."""
    return (cfg.shard[1] if cfg.shard is not None else 1) * cfg.processes


async def _dispatch(
    plan: ProcessPlan, state: ArrivalState, stop: asyncio.Event, sessions: list[Session]
) -> None:
    cfg = plan.cfg
    reps = cfg.repetitions if cfg.repetitions is not None else plan.workload.config.repetitions
    schedule = arrivals(
        state.rate_per_s * arrival_parts(cfg), cfg.arrival, plan.seed, plan.workload.config.weights,
        part=global_process(cfg.shard_index, cfg.processes, plan.process) - 1, parts=arrival_parts(cfg),
    )
    # without --duration, the same number of queries as the closed model: repetitions per session
    limit = None if cfg.duration_s is not None else reps * cfg.concurrency
    await dispatch(schedule, state, stop, limit=limit, sessions=len(sessions),
                   ready=[s.ready for s in sessions])


def _count_dropped(state: ArrivalState, sessions: list[Session]) -> None:
    """Dropped starts belong to no session: the process's first session records them."""
    drain_unstarted(state)
    first = sessions[0]
    for name, n in state.dropped.items():
        first.counters.setdefault(name, QueryCounters()).dropped += n
        first.recorder.add_count(f"{name}|dropped", n)
    first.arrival_block = state.as_dict()


async def process_main(plan: ProcessPlan, stop: asyncio.Event, emit: Emit) -> list[dict[str, Any]]:
    """One spawned query process (`tsload._procs`): reopen the parent's target, run its sessions."""
    from tsload.targets import reopen

    assert plan.handoff is not None
    async with reopen(plan.handoff, client_options(plan.cfg)) as target:
        results = await run_process(plan, target, stop, emit)
    return [dataclasses.asdict(r) for r in results]
