"""`await run_query_workload(QueryConfig(...))`: the query workload, embeddable.

Resolves the target (starting a local engine when neither a region nor an endpoint is given),
runs ``-p`` processes × ``-c`` sessions, reports progress through a callback, and returns the
per-query results merged over all sessions. The library installs no signal handlers and keeps
no global state: a caller that wants a graceful stop sets `stop`; cancelling the call stops at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tsload._errors import ConfigError, first_error
from tsload.query.arrival import ArrivalSummary
from tsload.query.config import QueryConfig
from tsload.query.logfiles import dir_name, run_prefix
from tsload.query.params import end_expression
from tsload.query.session import SessionResult
from tsload.query.worker import ProcessPlan, client_options, process_main, run_process
from tsload.query.workload import Workload, load_workload
from tsload.stats import hdr
from tsload.stats.recorder import RecorderSnapshot
from tsload.stats.summary import LatencySummary, summarize, union_seconds

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class QueryStats:
    """One query over every session of the run."""

    name: str
    total: int
    successful: int
    failed: int
    timed_out: int
    retries: int
    throttled: int
    cancelled: int
    histogram: Any  # HDR histogram (µs) of successful executions' latency from the intended start
    latency: LatencySummary | None
    queries_per_s: float
    service_histogram: Any = None  # HDR histogram (µs) of their service time (from the send)
    service_time: LatencySummary | None = None
    late: int = 0  # started more than 10 ms behind schedule (open model)
    dropped: int = 0  # scheduled, never started (open model)


@dataclass(frozen=True)
class QueryRunResult:
    queries: dict[str, QueryStats]
    sessions: tuple[SessionResult, ...]
    started: float
    ended: float
    stopped: bool  # stopped early (stop set, or --duration reached) rather than all repetitions done
    seed: int
    log_dirs: tuple[str, ...] = field(default=())
    arrival: ArrivalSummary | None = None  # the open model's schedule against what happened

    @property
    def elapsed_s(self) -> float:
        return max(self.ended - self.started, 1e-9)


@dataclass(frozen=True)
class QueryProgress:
    """A live view: the last interval's histograms and counts, and the cumulative counts."""

    elapsed_s: float
    interval: RecorderSnapshot
    totals: dict[str, int]  # "<query>|total", "<query>|ok", "|failed", "|timed_out", "|retries"

    @property
    def interval_s(self) -> float:
        return max(self.interval.end_s - self.interval.start_s, 1e-9)


OnProgress = Callable[[QueryProgress], None]
OnMessage = Callable[[str], None]


def resolve_workload(cfg: QueryConfig) -> Workload:
    from tsload.targets import query_language

    lang = query_language(cfg.target)
    folder = lang.folder if lang is not None else None
    return load_workload(cfg.workload_dir, config=cfg.config_file, multi=cfg.multi, folder=folder)


def _model_text(model: str) -> str:
    return f"{model}-measure" if model in ("single", "multi") else model


def resolve_end(cfg: QueryConfig) -> str:
    """`{end}` in the target's query language."""
    from tsload.targets import query_language

    lang = query_language(cfg.target)
    return lang.end_expression(cfg.query_end_time) if lang is not None else end_expression(cfg.query_end_time)


def merge_results(sessions: list[SessionResult], elapsed_s: float) -> dict[str, QueryStats]:
    names: list[str] = []
    for s in sessions:
        names.extend(n for n in s.counts if n not in names)
    out: dict[str, QueryStats] = {}
    for name in names:
        counts = [s.counts[name] for s in sessions if name in s.counts]
        h = hdr.merge(hdr.decode(s.histograms[name]) for s in sessions if name in s.histograms)
        sh = hdr.merge(hdr.decode(s.service_histograms[name])
                       for s in sessions if name in s.service_histograms)

        def total(key: str, counts: list[dict[str, int]] = counts) -> int:
            return sum(int(c.get(key, 0)) for c in counts)

        ok = total("successful")
        out[name] = QueryStats(
            name=name,
            total=total("total"),
            successful=ok,
            failed=total("failed"),
            timed_out=total("timed_out"),
            retries=total("retries"),
            throttled=total("throttled"),
            cancelled=total("cancelled"),
            histogram=h,
            latency=summarize(h),
            queries_per_s=ok / max(elapsed_s, 1e-9),
            service_histogram=sh,
            service_time=summarize(sh),
            late=total("late"),
            dropped=total("dropped"),
        )
    return out


def arrival_summary(cfg: QueryConfig, sessions: list[SessionResult]) -> ArrivalSummary | None:
    """Achieved against requested over the union of the processes' schedule windows."""
    if cfg.arrival_rate is None:
        return None
    blocks = [s.arrival for s in sessions if s.arrival]
    span = union_seconds((b["origin_s"], b["origin_s"] + b["window_s"]) for b in blocks) if blocks else None
    return ArrivalSummary.build(
        requested_per_s=cfg.arrival_rate,
        arrival=cfg.arrival,
        span_s=span,
        started=sum(int(b["started"]) for b in blocks),
        late=sum(int(b["late"]) for b in blocks),
        dropped=sum(int(b["dropped"]) for b in blocks),
    )


async def run_query_workload(
    cfg: QueryConfig,
    *,
    stop: asyncio.Event | None = None,
    on_progress: OnProgress | None = None,
    on_message: OnMessage | None = None,
) -> QueryRunResult:
    """Run the query workload described by `cfg`; return the per-query results of all sessions."""
    from tsload.targets import open_target

    cfg.validate()
    workload = resolve_workload(cfg)
    end = resolve_end(cfg)
    seed = cfg.seed if cfg.seed is not None else secrets.randbits(32)
    stop = stop or asyncio.Event()
    say = on_message or (lambda text: log.info("%s", text))
    log_dir = cfg.log_dir.expanduser()
    if log_dir.exists() and not log_dir.is_dir():
        raise ConfigError("log_dir", "a directory", got=log_dir)

    async with open_target(cfg.target, client_options(cfg)) as target:
        prefix = run_prefix(cfg.run_prefix if cfg.run_prefix else target.description, cfg.shard)
        started_dt = dt.datetime.now(dt.UTC).replace(microsecond=0)
        first = log_dir / dir_name(prefix, started_dt, 1, 1)
        if first.exists():
            raise ConfigError(
                "log_dir", f"a place for new session directories ({first} exists: use another {{run_prefix}})"
            )
        from dataclasses import replace

        cfg = replace(cfg, log_dir=log_dir)
        handoff = await target.handoff() if cfg.processes > 1 else None
        plans = [
            ProcessPlan(cfg, p, workload, handoff, started_dt, prefix, end, seed)
            for p in range(1, cfg.processes + 1)
        ]
        shard = f"shard {cfg.shard[0]}/{cfg.shard[1]}: " if cfg.shard is not None else ""
        say(
            f"query workload: {shard}{cfg.processes} process(es) x {cfg.concurrency} session(s), "
            f"{workload.config.query_mode} mode, {_model_text(workload.model)} queries from "
            f"{workload.directory}, "
            f"params {cfg.params}, target {target.description}, logs {log_dir}/{prefix}-"
            f"{started_dt.strftime('%Y-%m-%d-%H-%M-%S')}-*"
        )
        started = time.time()
        pending: list[RecorderSnapshot] = []
        totals: dict[str, int] = {}

        def on_worker(msg: dict[str, Any]) -> None:
            if "interval" in msg:
                pending.append(RecorderSnapshot.decode(msg["interval"]))

        def publish() -> None:
            if not pending:
                return
            snap = RecorderSnapshot.merged(pending)
            pending.clear()
            for k, n in snap.counts.items():
                totals[k] = totals.get(k, 0) + int(n)
            if on_progress is not None:
                on_progress(QueryProgress(time.time() - started, snap, dict(totals)))

        async def publisher() -> None:
            while True:
                await asyncio.sleep(cfg.stats_interval_s)
                publish()

        results: list[SessionResult] = []
        try:
            async with asyncio.TaskGroup() as tg:
                pub = tg.create_task(publisher())
                if cfg.processes == 1:
                    results = await run_process(plans[0], target, stop, on_worker)
                else:
                    from tsload._procs import Children

                    per_process = await Children("query", process_main, plans).run(on_worker, stop)
                    results = [SessionResult(**r) for rs in per_process for r in rs]
                pub.cancel()
        except BaseExceptionGroup as group:
            raise first_error(group) from None
        publish()
    ended = time.time()
    # the open model's sessions run whatever the schedule hands them: only a stop ends it early
    stopped = stop.is_set() or (cfg.arrival_rate is None and any(
        s.executed < (cfg.repetitions or workload.config.repetitions) for s in results
    ))
    results.sort(key=lambda s: tuple(int(x) for x in s.tag.split("-")))
    return QueryRunResult(
        queries=merge_results(results, ended - started),
        sessions=tuple(results),
        started=started,
        ended=ended,
        stopped=stopped,
        seed=seed,
        log_dirs=tuple(s.directory for s in results if s.directory),
        arrival=arrival_summary(cfg, results),
    )
