"""One ingest process: its emitters on a schedule, a bounded queue, `-c` writer coroutines.

Producers (a few coroutines, each owning a group of phase slots) wake at their slots' scheduled
times on the loop's monotonic clock, encode the due emissions with the model's encoder (times =
the scheduled epoch times) and put the requests on a bounded queue: when writers fall behind,
producers block and lag grows, it is measured, and memory stays bounded. Backfill walks the same
grid from now - D to now with `per_series` (several timestamps of one host per request) as fast
as the writers drain the queue.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from tsload.ingest.config import IngestConfig
from tsload.ingest.plan import WorkerPlan, client_options, host_ranges
from tsload.ingest.schedule import IntArray, Slot, build_slots, first_at_or_after, grid_times
from tsload.ingest.sender import QueueItem, Sender, Writes
from tsload.ingest.stats import IngestStats
from tsload.targets import EncodedRequest, RequestEncoder, RetryPolicy

if TYPE_CHECKING:
    from tsload.model.encode import EncodeOptions
    from tsload.model.fleet import Fleet

Report = Callable[[dict[str, Any]], None]

_IDS_PER_CALL = 512  # emissions encoded per encoder call (bounds the burst of requests one call makes)
# Measures encoded per backfill encoder call. The call is one CPU burst during which no response
# is read and no request sent; with 32 requests in flight the target has ~40 ms of work queued,
# so a burst must stay well below that (a 20,000-record MULTI call was ~40 MB of JSON and
# starved `tsload serve --discard` for a third of the run).
_MEASURES_PER_BACKFILL_CALL = 20_000
_PRODUCER_GROUPS = 8


class FleetLike(Protocol):
    @property
    def n_hosts(self) -> int: ...
    @property
    def n_event_sets(self) -> int: ...
    def host_of_event_set(self, event_ids: IntArray) -> IntArray: ...


class WriteTarget(Writes, Protocol):
    """What one ingest process needs of its `tsload.targets.Target`: writes and the encoder."""

    def encoder(self, fleet: Fleet, options: EncodeOptions) -> RequestEncoder: ...


# A custom model (tests): the fleet and an encoder of its own; the default asks the target.
ModelFactory = Callable[[IngestConfig], tuple[FleetLike, RequestEncoder]]
EncoderFactory = Callable[["Fleet", "EncodeOptions"], RequestEncoder]


def default_model(cfg: IngestConfig, encoder: EncoderFactory) -> tuple[FleetLike, RequestEncoder]:
    """The DevOps fleet, and the target's request encoder for it (`Target.encoder`)."""
    from tsload.model.encode import EncodeOptions
    from tsload.model.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(host_scale=cfg.host_scale, instance_name_seed=cfg.instance_name_seed))
    options = EncodeOptions(
        database=cfg.database,
        table=cfg.table,
        multi=cfg.multi,
        add_req_id=cfg.add_req_id,
        req_id_dim=cfg.req_id_dim,
        data_seed=cfg.seed,
        batch_size=cfg.batch_size,
        request_id_nonce=cfg.request_id_nonce or 0,
    )
    return fleet, encoder(fleet, options)


def records_per_emission(cfg: IngestConfig, kind: str) -> int:
    if cfg.lines_per_emission:
        return 1
    extra = 1 if cfg.add_req_id and not cfg.req_id_dim else 0
    return (20 if kind == "metrics" else 5) + extra


def measures_per_record(cfg: IngestConfig, kind: str) -> int:
    if not cfg.lines_per_emission:
        return 1
    extra = 1 if cfg.add_req_id and not cfg.req_id_dim else 0
    return (20 if kind == "metrics" else 5) + extra


def event_range(fleet: FleetLike, hosts: range) -> range:
    """Event sets are enumerated in host order, so a host range owns a contiguous event-set range."""
    owners = fleet.host_of_event_set(np.arange(fleet.n_event_sets, dtype=np.int64))
    lo = int(np.searchsorted(owners, hosts.start, "left"))
    hi = int(np.searchsorted(owners, hosts.stop, "left"))
    return range(lo, hi)


class _Batcher:
    """--batch-writes: emissions of many hosts, packed up to batch-size records per request."""

    def __init__(self, cfg: IngestConfig, encoder: RequestEncoder, put: Callable[..., Any]) -> None:
        self._cfg = cfg
        self._encoder = encoder
        self._put = put
        self._buf: dict[str, list[tuple[IntArray, int, float]]] = {"metrics": [], "events": []}
        self._records: dict[str, int] = {"metrics": 0, "events": 0}
        self._oldest: dict[str, float] = {"metrics": 0.0, "events": 0.0}
        # buffering adds lag; keep it a small fraction of the interval
        self.max_delay_s = min(1.0, cfg.interval_millis * 0.02 / 1000.0)

    async def add(self, kind: str, ids: IntArray, t_ms: int, scheduled: float) -> None:
        if not len(ids):
            return
        if not self._buf[kind]:
            self._oldest[kind] = scheduled
        self._buf[kind].append((ids, t_ms, scheduled))
        self._records[kind] += len(ids) * records_per_emission(self._cfg, kind)
        if self._records[kind] >= self._cfg.batch_size * 8:
            await self.flush(kind)

    def stale(self, now: float) -> list[str]:
        return [k for k, v in self._buf.items() if v and now - self._oldest[k] >= self.max_delay_s]

    async def flush(self, kind: str) -> None:
        parts, self._buf[kind] = self._buf[kind], []
        self._records[kind] = 0
        if not parts:
            return
        ids = np.concatenate([p[0] for p in parts])
        times = np.concatenate([np.full(len(p[0]), p[1], dtype=np.int64) for p in parts])
        scheduled = min(p[2] for p in parts)
        for request in self._encoder.batched(kind, ids, times):
            await self._put(request, scheduled)

    async def flush_all(self) -> None:
        for kind in ("metrics", "events"):
            await self.flush(kind)


class Worker:
    def __init__(
        self,
        cfg: IngestConfig,
        process_index: int,
        live_start_ms: int,
        target: Writes,
        report: Report,
        model: tuple[FleetLike, RequestEncoder],
    ) -> None:
        self.cfg = cfg
        self.fleet, self.encoder = model
        hosts = host_ranges(cfg, self.fleet.n_hosts)[process_index]
        self.stats = IngestStats(process_index)
        self.live_start_ms = live_start_ms
        self.report = report
        self.queue: asyncio.Queue[QueueItem] = asyncio.Queue(cfg.effective_queue_size)
        self.sender = Sender(
            target,
            self.stats,
            RetryPolicy(cfg.max_attempts - 1, cfg.backoff_base_s, cfg.backoff_cap_s),
            seed=cfg.seed * 1_000_003 + process_index,
        )
        events = event_range(self.fleet, hosts)
        self.slots = build_slots(
            np.arange(hosts.start, hosts.stop, dtype=np.int64),
            self.fleet.n_hosts,
            np.arange(events.start, events.stop, dtype=np.int64),
            self.fleet.n_event_sets,
            cfg.interval_millis,
            cfg.aligned,
        )
        self.n_metric_hosts = len(hosts)
        self.n_event_sets = len(events)
        self.batcher = _Batcher(cfg, self.encoder, self._put) if cfg.effective_batch_writes else None
        self.deadline_hit = False
        self.duration_cut = False
        # epoch ms ↔ loop time, fixed once so the schedule never drifts with wall-clock steps
        self._epoch0_ms = 0
        self._mono0 = 0.0

    # -- clock
    def _mono_of(self, t_ms: int) -> float:
        return self._mono0 + (t_ms - self._epoch0_ms) / 1000.0

    async def _put(self, request: EncodedRequest, scheduled: float) -> None:
        await self.queue.put((request, scheduled))
        c = self.stats.c
        c["generated"] += request.records
        c["generated_measures"] += request.measures

    # -- producers
    async def _emit(self, slot: Slot, t_ms: int, scheduled: float) -> None:
        for kind, ids in (("metrics", slot.metric_ids), ("events", slot.event_ids)):
            for lo in range(0, len(ids), _IDS_PER_CALL):
                chunk = ids[lo : lo + _IDS_PER_CALL]
                if self.batcher is not None:
                    await self.batcher.add(kind, chunk, t_ms, scheduled)
                    continue
                times = np.full(len(chunk), t_ms, dtype=np.int64)
                for request in self.encoder.per_emission(kind, chunk, times):
                    await self._put(request, scheduled)

    async def _live_group(self, slots: list[Slot], start_ms: int, end_ms: int | None) -> None:
        if not slots:
            return
        interval = self.cfg.interval_millis
        loop = asyncio.get_running_loop()
        firsts = [first_at_or_after(s.phase_ms, interval, start_ms) for s in slots]
        k = int(np.argmin(firsts))
        base = firsts[k] - slots[k].phase_ms
        while True:
            slot = slots[k]
            t_ms = base + slot.phase_ms
            if end_ms is not None and t_ms >= end_ms:
                return
            scheduled = self._mono_of(t_ms)
            delay = scheduled - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            await self._emit(slot, t_ms, scheduled)
            k += 1
            if k == len(slots):
                k = 0
                base += interval

    async def _backfill(self, start_ms: int, end_ms: int) -> None:
        """History on the live grid. A host with at least half a request of records in the window
        gets requests of its own (`per_series`: dimensions once, in CommonAttributes); when one
        host's window holds less (multi-measure, short backfills), emissions of many hosts are
        packed together instead (`batched`, dimensions in every record).

        Why half, not a full request: a single-measure record with its own dimensions is about
        650 bytes, with them in CommonAttributes about 90. A 10-minute backfill at 60 s gives an
        event set 50 records; packed across hosts they made 100-record requests 7x the bytes, and
        the engine (or Timestream) decodes every byte: measured against `tsload serve --discard`,
        backfill went from about 300k to 560k records/s with the same client CPU (docs/ingest.md)."""
        cfg = self.cfg
        interval = cfg.interval_millis
        window = interval * 100
        t = start_ms
        pending: dict[str, tuple[list[IntArray], list[IntArray], int]] = {}

        async def flush(kind: str, *, whole: bool = False) -> None:
            """Encode the pending emissions; with `whole`, only as many as fill whole requests (the
            rest waits for more, so mid-window flushes send no part-filled request)."""
            ids_parts, time_parts, _ = pending.pop(kind, ([], [], 0))
            if not ids_parts:
                return
            ids, times = np.concatenate(ids_parts), np.concatenate(time_parts)
            if whole:
                rpe = records_per_emission(cfg, kind)
                per_request = max(1, cfg.batch_size // rpe)
                cut = len(ids) // per_request * per_request
                if cut < len(ids):
                    pending[kind] = ([ids[cut:]], [times[cut:]], (len(ids) - cut) * rpe)
                    ids, times = ids[:cut], times[:cut]
            if len(ids):
                for request in self.encoder.batched(kind, ids, times):
                    await self._put(request, -1.0)

        while t < end_ms:
            chunk_end = min(t + window, end_ms)
            for slot in self.slots:
                times = grid_times(slot.phase_ms, interval, t, chunk_end)
                if not len(times):
                    continue
                for kind, ids in (("metrics", slot.metric_ids), ("events", slot.event_ids)):
                    if not len(ids):
                        continue
                    per_id = len(times) * records_per_emission(cfg, kind)
                    per_call = max(
                        cfg.batch_size, _MEASURES_PER_BACKFILL_CALL // measures_per_record(cfg, kind)
                    )
                    if per_id * 2 < cfg.batch_size:
                        id_parts, t_parts, n = pending.get(kind, ([], [], 0))
                        id_parts.append(np.repeat(ids, len(times)))
                        t_parts.append(np.tile(times, len(ids)))
                        pending[kind] = (id_parts, t_parts, n + per_id * len(ids))
                        if pending[kind][2] >= per_call:
                            await flush(kind, whole=True)
                        continue
                    step = max(1, per_call // per_id)
                    for lo in range(0, len(ids), step):
                        for request in self.encoder.per_series(kind, ids[lo : lo + step], times):
                            await self._put(request, -1.0)
            for kind in list(pending):
                await flush(kind)
            t = chunk_end

    async def _batch_flusher(self) -> None:
        assert self.batcher is not None
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.batcher.max_delay_s / 2)
            for kind in self.batcher.stale(loop.time()):
                await self.batcher.flush(kind)

    async def _produce(self) -> None:
        cfg = self.cfg
        if cfg.backfill_s > 0:
            self.stats.phase = "backfill"
            await self._backfill(self.live_start_ms - round(cfg.backfill_s * 1000), self.live_start_ms)
        if cfg.duration_s == 0:
            return
        self.stats.phase = "live"
        end_ms = None if cfg.duration_s is None else self.live_start_ms + round(cfg.duration_s * 1000)
        groups = [self.slots[g::_PRODUCER_GROUPS] for g in range(min(_PRODUCER_GROUPS, len(self.slots)))]
        loop = asyncio.get_running_loop()
        # --duration is also a wall-clock limit: against a target slower than the schedule, producers
        # (even those blocked on the full queue) stop when it has passed, and the drain deadline applies.
        deadline = None
        if end_ms is not None and cfg.duration_s is not None:
            deadline = max(self._mono_of(end_ms), loop.time() + cfg.duration_s)
        try:
            async with asyncio.timeout_at(deadline), asyncio.TaskGroup() as tg:
                if self.batcher is not None:
                    flusher = tg.create_task(self._batch_flusher())
                producers = [tg.create_task(self._live_group(g, self.live_start_ms, end_ms)) for g in groups]
                if producers:
                    await asyncio.wait(producers)
                if self.batcher is not None:
                    flusher.cancel()
        except TimeoutError:
            self.duration_cut = True

    async def _reporter(self) -> None:
        # twice per stats interval, so the parent's ticks (on their own clock) show fresh figures
        while True:
            await asyncio.sleep(self.cfg.stats_interval_s / 2)
            self.report(self.stats.message())

    async def _drain(self, writers: list[asyncio.Task[None]]) -> None:
        if self.batcher is not None:
            await self.batcher.flush_all()
        for _ in writers:
            await self.queue.put(None)
        await asyncio.wait(writers)

    async def run(self, stop: asyncio.Event) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        self._epoch0_ms = time.time_ns() // 1_000_000
        self._mono0 = loop.time()
        if self.cfg.backfill_s == 0:
            # Live from when this process is ready: no catch-up burst for the setup time. (After a
            # backfill the gap since the planned start is written too, late, so history has no hole.)
            self.live_start_ms = max(self.live_start_ms, self._epoch0_ms)
        started = time.time()
        cpu0 = time.process_time()
        async with asyncio.TaskGroup() as tg:
            writers = [tg.create_task(self.sender.run(self.queue)) for _ in range(self.cfg.concurrency)]
            reporter = tg.create_task(self._reporter())
            producer = tg.create_task(self._produce())
            stopper = tg.create_task(stop.wait())
            await asyncio.wait({producer, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not producer.done():
                producer.cancel()
                await asyncio.wait({producer})
            self.stats.phase = "draining"
            drain = tg.create_task(self._drain(writers))
            if not stopper.done() and not self.duration_cut:
                await asyncio.wait({drain, stopper}, return_when=asyncio.FIRST_COMPLETED)
            if not drain.done():
                done, _ = await asyncio.wait({drain}, timeout=self.cfg.drain_timeout_s)
                if not done:
                    self.deadline_hit = True
                    drain.cancel()
                    for w in writers:
                        w.cancel()
                    await asyncio.wait([drain, *writers])
                    while not self.queue.empty():
                        item = self.queue.get_nowait()
                        if item is not None:
                            self.stats.c["dropped"] += item[0].records
            stopper.cancel()
            reporter.cancel()
        self.stats.phase = "done"
        result = {
            "drain_deadline_hit": self.deadline_hit,
            "duration_cut": self.duration_cut,
            "started": started,
            "ended": time.time(),
            "cpu_s": time.process_time() - cpu0,
            "metric_hosts": self.n_metric_hosts,
            "event_sets": self.n_event_sets,
        }
        self.report(self.stats.message(final=True, result=result))
        return result


async def run_worker(
    cfg: IngestConfig,
    process_index: int,
    live_start_ms: int,
    target: WriteTarget,
    stop: asyncio.Event,
    report: Report,
    model: ModelFactory | None = None,
) -> dict[str, Any]:
    """Run one process's share of the workload until its schedule ends or `stop` is set."""
    pair = model(cfg) if model is not None else default_model(cfg, target.encoder)
    return await Worker(cfg, process_index, live_start_ms, target, report, pair).run(stop)


async def process_main(plan: WorkerPlan, stop: asyncio.Event, emit: Report) -> None:
    """One spawned ingest process (`tsload._procs`): reopen the parent's target, run its share."""
    from tsload.targets import reopen

    assert plan.handoff is not None
    async with reopen(plan.handoff, client_options(plan.cfg)) as target:
        await run_worker(
            plan.cfg, plan.process_index, plan.live_start_ms, target, stop, emit, model=plan.model
        )
