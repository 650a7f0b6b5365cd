"""`await ingest(IngestConfig(...))`: resolve the target, create the schema, run the processes,
show progress through callbacks, and return the summary (also written to the run directory).

The library installs no signal handlers: a caller that wants Ctrl-C to drain passes `stop`
(an `asyncio.Event`) and sets it; cancelling the call stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tsload._errors import first_error
from tsload._files import make_private_dir, write_private
from tsload.ingest.config import IngestConfig
from tsload.ingest.plan import WorkerPlan, client_options
from tsload.ingest.stats import Aggregator, Progress
from tsload.ingest.summary import (
    IngestSummary,
    config_dict,
    percentiles_ms,
)
from tsload.ingest.worker import ModelFactory
from tsload.stats import hdr
from tsload.targets import Schema, Target

log = logging.getLogger(__name__)

OnProgress = Callable[[Progress], None]
OnMessage = Callable[[str], None]


def _open_hlogs(out_dir: Path | None, start_s: float) -> list[Any]:
    if out_dir is None:
        return []
    try:
        from tsload.stats.hlog import IntervalLogWriter
    except ImportError:  # interval logs are optional until the stats helper lands
        return []
    make_private_dir(out_dir)
    writers = []
    for name in ("write-latency.hlog", "lag.hlog"):
        write_private(out_dir / name, "")  # the writer truncates it and keeps the 0600 mode
        writers.append(IntervalLogWriter(out_dir / name, start_time_s=start_s))
    return writers


def schema_of(cfg: IngestConfig) -> Schema:
    """The schema settings of `cfg` (IngestConfig has every `Schema` field, under the same name)."""
    return Schema(**{f.name: getattr(cfg, f.name) for f in dataclasses.fields(Schema)})


async def create_schema(target: Target, cfg: IngestConfig) -> list[str]:
    """The database and table of `cfg` on the open target, created if missing (one line each)."""
    return await target.ensure_schema(schema_of(cfg))


def with_request_id_nonce(cfg: IngestConfig) -> IngestConfig:
    """The run's config with its request-id nonce drawn (once, before the processes start)."""
    if not (cfg.add_req_id or cfg.req_id_dim) or cfg.request_id_nonce is not None:
        return cfg
    import secrets

    return dataclasses.replace(cfg, request_id_nonce=secrets.randbits(63))


def backfill_notes(cfg: IngestConfig) -> list[str]:
    notes = []
    if cfg.backfill_s > cfg.memory_store_retention_hours * 3600 and not cfg.enable_magnetic_writes:
        notes.append(
            f"warning: --backfill reaches {cfg.backfill_s / 3600:g} h back but the memory store keeps "
            f"{cfg.memory_store_retention_hours} h: older records are rejected unless the table has "
            "magnetic-store writes on (--enable-magnetic-writes when tsload creates the table)"
        )
    return notes


async def ingest(
    cfg: IngestConfig,
    *,
    stop: asyncio.Event | None = None,
    on_progress: OnProgress | None = None,
    on_message: OnMessage | None = None,
    model: ModelFactory | None = None,
) -> IngestSummary:
    """Run the ingestion workload described by `cfg` and return its summary."""
    from tsload._procs import Children
    from tsload.ingest.worker import process_main, run_worker
    from tsload.targets import open_target

    cfg.validate()
    cfg = with_request_id_nonce(cfg)
    stop = stop or asyncio.Event()
    say = on_message or (lambda text: log.info("%s", text))
    async with open_target(cfg.target, client_options(cfg)) as target:
        if cfg.create_schema:
            for line in await create_schema(target, cfg):
                say(line)
        for note in backfill_notes(cfg):
            say(note)
        started = time.time()
        live_start_ms = cfg.live_start_ms if cfg.live_start_ms is not None else time.time_ns() // 1_000_000
        aggregator = Aggregator(cfg.interval_millis)
        hlogs = _open_hlogs(cfg.out_dir, started)
        warnings: list[str] = []
        last_tick = started

        def tick(whole_phase_s: float | None = None) -> None:
            nonlocal last_tick
            progress, latency, lag = aggregator.tick()
            if whole_phase_s is not None:
                # the final line's time is the summary's (the children's span), so its rate agrees
                progress = dataclasses.replace(progress, elapsed_s=whole_phase_s)
            now = time.time()
            for writer, h in zip(hlogs, (latency, lag), strict=False):
                writer.add(h, last_tick, now)
            last_tick = now
            for w in progress.warnings:
                if on_progress is None and w not in warnings:
                    log.warning("%s", w)  # nobody shows progress: say it once through logging
                warnings.append(w)
            if on_progress is not None:
                on_progress(progress)

        async def ticker() -> None:
            while True:
                await asyncio.sleep(cfg.stats_interval_s)
                tick()

        results: list[dict[str, Any]] = []
        try:
            async with asyncio.TaskGroup() as tg:
                ticking = tg.create_task(ticker())
                if cfg.processes == 1:
                    results.append(
                        await run_worker(cfg, 0, live_start_ms, target, stop, aggregator.add, model=model)
                    )
                else:
                    handoff = await target.handoff()
                    plans = [WorkerPlan(cfg, i, live_start_ms, handoff, model) for i in range(cfg.processes)]
                    await Children("ingest", process_main, plans).run(aggregator.add, stop)
                    results.extend(aggregator.results.values())
                ticking.cancel()
        except BaseExceptionGroup as group:
            # one error from inside the run (a fatal target answer, a bad record) is what the caller sees
            raise first_error(group) from None
        ended = time.time()
        elapsed = max(
            max((r.get("ended", ended) for r in results), default=ended)
            - min((r.get("started", started) for r in results), default=started),
            1e-9,
        )
        tick(elapsed)
        for writer in hlogs:
            with contextlib.suppress(Exception):
                writer.close()
    totals = aggregator.totals()
    summary = IngestSummary(
        generated=totals["generated"],
        ingested=totals["ingested"],
        rejected_by_reason=aggregator.rejected_by_reason(),
        failed=totals["failed"],
        dropped=totals["dropped"],
        requests=totals["requests"],
        retries=totals["retries"],
        throttled=totals["throttled"],
        errors_by_code=aggregator.errors_by_code(),
        generated_measures=totals["generated_measures"],
        ingested_measures=totals["ingested_measures"],
        elapsed_s=elapsed,
        started=started,
        ended=ended,
        drain_deadline_hit=any(bool(r.get("drain_deadline_hit")) for r in results),
        latency_ms=percentiles_ms(aggregator.latency_total),
        lag_ms=percentiles_ms(aggregator.lag_total),
        config=config_dict(cfg),
        latency_hdr=hdr.encode(aggregator.latency_total),
        lag_hdr=hdr.encode(aggregator.lag_total),
        latency_from_schedule_ms=(percentiles_ms(aggregator.from_schedule_total)
                                  if aggregator.from_schedule_total.get_total_count() else {}),
        latency_from_schedule_hdr=(hdr.encode(aggregator.from_schedule_total)
                                   if aggregator.from_schedule_total.get_total_count() else ""),
        warnings=tuple(dict.fromkeys(warnings)),
        cpu_s=sum(float(r.get("cpu_s", 0.0)) for r in results),
        duration_cut=any(bool(r.get("duration_cut")) for r in results),
    )
    if cfg.out_dir is not None:
        summary.write_run_dir(cfg.out_dir)
    return summary
