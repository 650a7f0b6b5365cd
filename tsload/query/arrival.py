"""The open model: a schedule of intended query starts, split exactly over processes and shards.

The whole run has ONE arrival stream at ``--arrival-rate R``: ``constant`` puts arrival j at j/R
seconds, ``poisson`` draws exponential gaps of mean 1/R from the run seed. With G = N shards × P
processes, global process g (`pacing.global_process` - 1) takes the arrivals j ≡ g (mod G), so
however the run is split, the union of all processes' schedules is that same stream (and each
process runs at exactly R/G). Each arrival's query is drawn by weight from another seeded stream
indexed by j, so the query mix does not depend on the split either.

In a process, a dispatcher hands each arrival, at its intended time, to a bounded queue of
scheduled starts; the ``-c`` sessions are the pool that takes them (k6's pre-allocated VUs). A
session measures two latencies: **latency** from the intended start (queueing behind a busy pool
included: what a user of a dashboard waits) and **service time** from the send. An execution that
starts more than `LATE_AFTER_S` behind schedule is *late*; an arrival that finds the queue full
(`DEFAULT_QUEUE` waiting starts per process, ``--arrival-queue``), or is still queued when the run
ends, is *dropped*: scheduled, never started, and counted, never silently lost.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

ARRIVALS = ("constant", "poisson")
LATE_AFTER_S = 0.010
DEFAULT_QUEUE = 1000
_CHUNK = 4096


@dataclass(frozen=True, slots=True)
class Arrival:
    index: int  # j in the run's stream
    offset_s: float  # intended start, seconds after the schedule's origin
    query: str


def arrivals(
    rate: float,
    kind: str,
    seed: int,
    weights: Sequence[tuple[str, float]],
    *,
    part: int = 0,
    parts: int = 1,
) -> Iterator[Arrival]:
    """This part's arrivals (j ≡ part mod parts) of the run's stream, in order, forever."""
    import numpy as np  # here: the CLI imports this module for its defaults

    names = [n for n, w in weights if w > 0]
    cum = np.cumsum([w for _, w in weights if w > 0], dtype=np.float64)
    cum /= cum[-1]
    gaps = np.random.default_rng([seed, 0x6172, 1])  # the arrival times
    picks = np.random.default_rng([seed, 0x6172, 2])  # each arrival's query
    base = 0.0
    for chunk in itertools.count():
        j0 = chunk * _CHUNK
        js = np.arange(j0, j0 + _CHUNK)
        if kind == "poisson":
            offsets = base + np.cumsum(gaps.exponential(1.0 / rate, _CHUNK))
            base = float(offsets[-1])
        else:
            offsets = js / rate
        choice = np.minimum(np.searchsorted(cum, picks.random(_CHUNK), side="right"), len(names) - 1)
        first = (part - j0) % parts
        for i in range(first, _CHUNK, parts):
            yield Arrival(int(js[i]), float(offsets[i]), names[int(choice[i])])


@dataclass(frozen=True, slots=True)
class Scheduled:
    arrival: Arrival
    intended: float  # time.perf_counter() of the intended start


@dataclass
class ArrivalState:
    """One process's schedule against what happened (single event loop: no locks)."""

    rate_per_s: float  # this process's share of --arrival-rate
    queue: asyncio.Queue[Scheduled | None]
    origin: float = 0.0  # time.perf_counter() of the schedule's origin
    origin_wall: float = 0.0
    scheduled: int = 0
    started: int = 0
    late: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    last_start: float = 0.0
    stopped_at: float | None = None

    def take(self, item: Scheduled, now: float) -> float:
        """A session starts `item` at `now` (time.perf_counter()): its lag behind schedule (s)."""
        self.started += 1
        self.last_start = now
        lag = max(now - item.intended, 0.0)
        if lag > LATE_AFTER_S:
            self.late += 1
        return lag

    def drop(self, query: str) -> None:
        self.dropped[query] = self.dropped.get(query, 0) + 1

    @property
    def window_s(self) -> float:
        """The schedule's span: origin to the stop, or to the last start plus one mean gap."""
        if self.stopped_at is not None:
            return max(self.stopped_at - self.origin, 1e-9)
        return max(self.last_start - self.origin + 1.0 / self.rate_per_s, 1e-9)

    def as_dict(self) -> dict[str, Any]:
        """What session.json's ``arrival`` block holds (the process's, in its first session)."""
        return {
            "rate_per_s": self.rate_per_s,
            "origin_s": self.origin_wall,
            "window_s": self.window_s,
            "scheduled": self.scheduled,
            "started": self.started,
            "late": self.late,
            "dropped": sum(self.dropped.values()),
        }


@dataclass(frozen=True)
class ArrivalSummary:
    """The open model's schedule against what happened (whole run, all processes and shards).

    ``requested_per_s`` is ``--arrival-rate``; ``achieved_per_s`` the executions started per second
    of wall time; ``scheduled`` = started + dropped.
    """

    requested_per_s: float
    achieved_per_s: float | None
    arrival: str  # constant | poisson
    scheduled: int
    started: int
    late: int
    dropped: int

    @classmethod
    def build(cls, *, requested_per_s: float, arrival: str, span_s: float | None, started: int, late: int,
              dropped: int) -> ArrivalSummary:
        """``span_s``: the union of the processes' schedule windows (seconds of wall time)."""
        return cls(
            requested_per_s=requested_per_s,
            achieved_per_s=(started / span_s) if span_s else None,
            arrival=arrival,
            scheduled=started + dropped,
            started=started,
            late=late,
            dropped=dropped,
        )

    @property
    def kept_up(self) -> bool:
        """Achieved within 2 % of the request, nothing dropped."""
        if self.achieved_per_s is None or self.requested_per_s <= 0:
            return False
        return self.dropped == 0 and abs(self.achieved_per_s / self.requested_per_s - 1.0) <= 0.02

    def as_dict(self) -> dict[str, Any]:
        return {
            "requested_per_s": self.requested_per_s,
            "achieved_per_s": self.achieved_per_s,
            "arrival": self.arrival,
            "scheduled": self.scheduled,
            "started": self.started,
            "late": self.late,
            "dropped": self.dropped,
            "kept_up": self.kept_up,
        }

    def verdict(self) -> str:
        """One plain line: achieved against requested, and whether the target kept up."""
        achieved = "unknown" if self.achieved_per_s is None else f"{self.achieved_per_s:,.2f}/s"
        head = f"arrival rate: requested {self.requested_per_s:,.2f}/s ({self.arrival}), achieved {achieved}"
        tail = (f"{self.late:,} late (>10 ms behind schedule), {self.dropped:,} dropped of "
                f"{self.scheduled:,} scheduled")
        if self.kept_up:
            return f"{head}: kept up; {tail}"
        return f"{head}: DID NOT KEEP UP; {tail}"


async def _until(work: Any, stop: asyncio.Event) -> bool:
    """Await `work` unless `stop` comes first (then cancel it); True when `work` completed."""
    task = asyncio.ensure_future(work)
    stopper = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for t in (task, stopper):
            t.cancel()
    return task.done() and not task.cancelled()


async def dispatch(
    schedule: Iterator[Arrival],
    state: ArrivalState,
    stop: asyncio.Event,
    *,
    limit: int | None,
    sessions: int,
    ready: Sequence[asyncio.Event] = (),
) -> None:
    """Hand each arrival to the queue at its intended time until `limit` arrivals or `stop`.

    The origin is set once every session is ready (parameters resolved), so setup is not
    counted as lateness. At the end of the schedule one ``None`` per session tells the pool to
    finish; after a stop, what is still queued is counted as dropped by `drain_unstarted`.
    """
    # perf_counter, not loop.time(): uvloop's loop clock ticks in whole milliseconds, which would
    # make every start look up to 1 ms late (the executor times the service with perf_counter too)
    clock = time.perf_counter
    for ev in ready:
        if not await _until(ev.wait(), stop):
            break
    state.origin = clock()
    state.origin_wall = time.time()
    queue = state.queue
    for n, a in enumerate(schedule):
        if (limit is not None and n >= limit) or stop.is_set():
            break
        t = state.origin + a.offset_s
        delay = t - clock()
        if delay > 0:
            # a timeout on the stop event: one timer, no task per arrival
            try:
                async with asyncio.timeout(delay):
                    await stop.wait()
            except TimeoutError:
                pass
            if stop.is_set():
                break
        state.scheduled += 1
        if queue.full():
            state.drop(a.query)
        else:
            queue.put_nowait(Scheduled(a, t))
    if stop.is_set():
        state.stopped_at = clock()
        return
    for _ in range(sessions):
        if not await _until(queue.put(None), stop):
            state.stopped_at = clock()
            return


def drain_unstarted(state: ArrivalState) -> None:
    """Count what is still queued (the run ended before a session was free) as dropped."""
    while not state.queue.empty():
        item = state.queue.get_nowait()
        if item is not None:
            state.drop(item.arrival.query)
