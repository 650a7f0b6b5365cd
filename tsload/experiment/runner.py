"""`await run_experiment(RunConfig(...))`: the whole DevOps workload in one call.

1. Resolve the target once (a local engine is started here and shared by both sides).
2. Backfill: the fleet's history up to T0, as fast as the target accepts (`<out>/backfill/`).
3. Live, for --duration: ingestion continues the schedule exactly where the backfill ended (the
   few seconds between T0 and the live start are written first, so history has no hole) while
   the query sessions run against the same table (`<out>/ingest/`, `<out>/queries/`).
4. The report of the live phase is merged from what the two sides wrote, and saved as
   report.json / report.md / report.html in `<out>`.

Like `ingest` and `run_query_workload`, the library installs no signal handlers: set `stop` for a
graceful end (the backfill stops, or the live phase drains and the report is still written).
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from tsload._errors import first_error
from tsload._files import make_private_dir, write_private
from tsload.experiment.config import RunConfig
from tsload.ingest import IngestSummary, Progress
from tsload.ingest.runner import ingest
from tsload.query.runner import QueryProgress, QueryRunResult, run_query_workload
from tsload.report import Report, RunDirs, load_report
from tsload.report.slo import Slo, evaluate
from tsload.targets import open_target

log = logging.getLogger(__name__)

OnMessage = Callable[[str], None]
OnIngestProgress = Callable[[Progress], None]
OnQueryProgress = Callable[[QueryProgress], None]
OnPhase = Callable[[str], None]


@dataclass(frozen=True)
class RunResult:
    out_dir: Path
    backfill: IngestSummary | None
    live: IngestSummary | None  # None: stopped during the backfill
    queries: QueryRunResult | None
    report: Report | None  # the live phase's merged report (None if nothing ran live)
    found: RunDirs | None
    target: str
    stopped: bool

    @property
    def balanced(self) -> bool:
        return all(s.balanced for s in (self.backfill, self.live) if s is not None)


def _write_run_json(out: Path, run_json: dict[str, Any]) -> None:
    write_private(out / "run.json", orjson.dumps(run_json, option=orjson.OPT_INDENT_2).decode())


async def run_experiment(
    cfg: RunConfig,
    *,
    stop: asyncio.Event | None = None,
    on_message: OnMessage | None = None,
    on_phase: OnPhase | None = None,
    on_ingest_progress: OnIngestProgress | None = None,
    on_query_progress: OnQueryProgress | None = None,
    slos: Sequence[Slo] = (),
) -> RunResult:
    """Run one experiment; return its summaries and merged report (also written under cfg.out_dir).

    ``slos`` are evaluated on the live phase's merged report (``Report.slo``, report.json's ``slo``).
    """
    cfg.validate()
    stop = stop or asyncio.Event()
    say = on_message or (lambda text: log.info("%s", text))
    phase = on_phase or (lambda name: None)
    make_private_dir(cfg.out_dir)
    run_json: dict[str, Any] = {"config": cfg.as_dict(), "started": time.time()}
    _write_run_json(cfg.out_dir, run_json)

    early = False  # stopped during the live phase, before --duration
    backfill: IngestSummary | None = None
    live: IngestSummary | None = None
    queries: QueryRunResult | None = None
    try:
        async with open_target(cfg.target) as resolved:
            # Both sides talk to the one target resolved here: a local engine is started once.
            shared = resolved.shared_config()
            if resolved.is_local:
                say(f"local engine: {shared.endpoint} (data in {cfg.target.local_data})")
            from tsload.ingest.runner import create_schema

            # once, before either phase (both phases' configs share the schema settings)
            for line in await create_schema(resolved, cfg.live_config(0, 0)):
                say(line)
            t0_ms = time.time_ns() // 1_000_000
            if cfg.backfill_s > 0:
                phase("backfill")
                backfill = await ingest(
                    cfg.backfill_config(t0_ms, shared),
                    stop=stop,
                    on_progress=on_ingest_progress,
                    on_message=say,
                )
            if not stop.is_set():
                phase("live")
                t1_ms = max(time.time_ns() // 1_000_000, t0_ms)
                gap_ms = t1_ms - t0_ms if cfg.backfill_s > 0 else 0
                live_cfg = cfg.live_config(t1_ms, gap_ms, shared)
                if cfg.query_sessions > 0:
                    make_private_dir(cfg.out_dir / "queries")
                # the query side sets `stop` itself when --duration is reached: only a stop well
                # before that is the user's (Ctrl-C, a failed SLO) and makes this an early stop
                live_t0 = time.monotonic()
                watcher = asyncio.create_task(_stopped_at(stop))
                try:
                    async with asyncio.TaskGroup() as tg:
                        ingest_task = tg.create_task(
                            ingest(live_cfg, stop=stop, on_progress=on_ingest_progress, on_message=say)
                        )
                        query_task = (
                            tg.create_task(
                                run_query_workload(
                                    cfg.query_config(shared, run_prefix=resolved.description),
                                    stop=stop,
                                    on_progress=on_query_progress,
                                    on_message=say,
                                )
                            )
                            if cfg.query_sessions > 0
                            else None
                        )
                except BaseExceptionGroup as group:
                    raise first_error(group) from None
                finally:
                    watcher.cancel()
                live = ingest_task.result()
                queries = query_task.result() if query_task is not None else None
                if watcher.done() and not watcher.cancelled():
                    early = watcher.result() - live_t0 < cfg.duration_s - 1.0
            phase("report")
    except BaseException as exc:
        _abandon(cfg.out_dir, run_json, exc)
        raise
    report: Report | None = None
    found: RunDirs | None = None
    run_json["ended"] = time.time()
    run_json["target"] = resolved.description
    if (live is None and stop.is_set()) or early:
        # a stopped run's directory says so (and what it holds), for whoever finds it later
        run_json["stopped"] = "during the backfill: no live phase, no report" if live is None else (
            "during the live phase: the report covers the part that ran")
    _write_run_json(cfg.out_dir, run_json)  # before the reports: their summary reads it
    if live is not None:
        dirs = [cfg.out_dir / "ingest"] + ([cfg.out_dir / "queries"] if queries is not None else [])
        report, found = load_report([d for d in dirs if d.exists()])
        if slos:
            report = dataclasses.replace(report, slo=evaluate(slos, report))
        _write_reports(cfg.out_dir, report, found, say)
    return RunResult(
        out_dir=cfg.out_dir,
        backfill=backfill,
        live=live,
        queries=queries,
        report=report,
        found=found,
        target=resolved.description,
        stopped=stop.is_set(),
    )


async def _stopped_at(stop: asyncio.Event) -> float:
    await stop.wait()
    return time.monotonic()


def _abandon(out: Path, run_json: dict[str, Any], exc: BaseException) -> None:
    """A run that failed or was cancelled must not leave a directory that looks like a result."""
    import contextlib

    wrote = [p for p in out.rglob("*") if p.is_file() and p.name != "run.json"]
    with contextlib.suppress(OSError):
        if not wrote:  # nothing but our own bookkeeping: leave no directory behind
            (out / "run.json").unlink(missing_ok=True)
            for d in sorted((p for p in out.rglob("*") if p.is_dir()), reverse=True):
                d.rmdir()
            out.rmdir()
            return
        run_json["ended"] = time.time()
        run_json["failed"] = f"{type(exc).__name__}: {exc}".strip()
        _write_run_json(out, run_json)


def _write_reports(out: Path, report: Report, found: RunDirs, say: OnMessage) -> None:
    from tsload.report.render import to_json, to_markdown

    write_private(out / "report.json", to_json(report))
    write_private(out / "report.md", to_markdown(report))
    from tsload._errors import ConfigError
    from tsload.report.html import render_html

    try:
        write_private(out / "report.html", render_html(report, found))
    except ConfigError as exc:  # the charts need the `report` extra (matplotlib)
        say(f"report.html skipped: {exc}")
