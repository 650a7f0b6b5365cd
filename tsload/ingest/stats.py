"""Counters and histograms of one ingest process, and their merge across processes.

Each process keeps cumulative counters plus an interval histogram pair (write latency, lag)
that is shipped and reset every stats interval; the parent adds interval histograms into
totals (HDR histograms merge exactly), so percentiles over the whole run are true percentiles
across all processes.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tsload.stats import hdr

COUNTER_NAMES = (
    "generated",
    "generated_measures",
    "ingested",
    "ingested_measures",
    "failed",
    "dropped",
    "requests",
    "retries",
    "throttled",
    "failed_requests",
)


class IngestStats:
    """Mutable stats of one process (single event loop: no locking)."""

    def __init__(self, process: int) -> None:
        self.process = process
        self.c: dict[str, int] = dict.fromkeys(COUNTER_NAMES, 0)
        self.rejected: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.latency = hdr.new_histogram()
        self.lag = hdr.new_histogram()
        # scheduled emission -> final answer (queueing, every attempt and back-off): the ingest
        # counterpart of a query's latency from its intended start; `latency` is per attempt, from the send
        self.from_schedule = hdr.new_histogram()
        self.phase = "starting"

    def record_latency(self, seconds: float) -> None:
        hdr.record_seconds(self.latency, seconds)

    def record_lag(self, seconds: float) -> None:
        hdr.record_seconds(self.lag, seconds)

    def record_from_schedule(self, seconds: float) -> None:
        hdr.record_seconds(self.from_schedule, seconds)

    def message(self, *, final: bool = False, result: dict[str, Any] | None = None) -> dict[str, Any]:
        """A picklable report; resets the interval histograms."""
        msg = {
            "process": self.process,
            "t": time.time(),
            "phase": self.phase,
            "counters": dict(self.c),
            "rejected": dict(self.rejected),
            "errors": dict(self.errors),
            "latency": hdr.encode(self.latency) if self.latency.get_total_count() else "",
            "lag": hdr.encode(self.lag) if self.lag.get_total_count() else "",
            "from_schedule": hdr.encode(self.from_schedule) if self.from_schedule.get_total_count() else "",
            "final": final,
            "result": result or {},
        }
        self.latency.reset()
        self.lag.reset()
        self.from_schedule.reset()
        return msg


@dataclass(frozen=True)
class Progress:
    """One live-progress tick (what the CLI shows)."""

    elapsed_s: float
    phase: str
    records_per_s: float
    measures_per_s: float
    requests_per_s: float
    latency_p50_ms: float | None
    latency_p99_ms: float | None
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    generated: int
    ingested: int
    rejected: int
    failed: int
    throttled: int
    retries: int
    warnings: tuple[str, ...] = ()
    requests: int = 0
    dropped: int = 0
    generated_measures: int = 0
    ingested_measures: int = 0
    # the run's totals so far (HDR, µs; live objects of the aggregator: read them in the callback)
    latency_total: Any = field(default=None, repr=False)
    lag_total: Any = field(default=None, repr=False)
    from_schedule_total: Any = field(default=None, repr=False)


def _ms(h: Any, q: float) -> float | None:
    if h.get_total_count() == 0:
        return None
    return float(h.get_value_at_percentile(q)) / 1000.0


@dataclass
class Aggregator:
    """Merges process reports; produces progress ticks and the run's totals."""

    interval_ms: int
    started_mono: float = field(default_factory=time.monotonic)
    counters: dict[int, dict[str, int]] = field(default_factory=dict)
    rejected: dict[int, dict[str, int]] = field(default_factory=dict)
    errors: dict[int, dict[str, int]] = field(default_factory=dict)
    phases: dict[int, str] = field(default_factory=dict)
    results: dict[int, dict[str, Any]] = field(default_factory=dict)
    latency_total: Any = field(default_factory=hdr.new_histogram)
    lag_total: Any = field(default_factory=hdr.new_histogram)
    latency_tick: Any = field(default_factory=hdr.new_histogram)
    lag_tick: Any = field(default_factory=hdr.new_histogram)
    from_schedule_total: Any = field(default_factory=hdr.new_histogram)
    _last_tick_mono: float = 0.0
    _last_totals: dict[str, int] = field(default_factory=dict)

    def add(self, msg: dict[str, Any]) -> None:
        p = int(msg["process"])
        self.counters[p] = msg["counters"]
        self.rejected[p] = msg["rejected"]
        self.errors[p] = msg["errors"]
        self.phases[p] = msg["phase"]
        if msg.get("final"):
            self.results[p] = msg.get("result", {})
        for key, total, tick in (
            ("latency", self.latency_total, self.latency_tick),
            ("lag", self.lag_total, self.lag_tick),
        ):
            if msg.get(key):
                h = hdr.decode(msg[key])
                total.add(h)
                tick.add(h)
        if msg.get("from_schedule"):
            self.from_schedule_total.add(hdr.decode(msg["from_schedule"]))

    def totals(self) -> dict[str, int]:
        out = dict.fromkeys(COUNTER_NAMES, 0)
        for c in self.counters.values():
            for k, v in c.items():
                out[k] = out.get(k, 0) + int(v)
        return out

    def rejected_by_reason(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for r in self.rejected.values():
            out.update(r)
        return dict(out)

    def errors_by_code(self) -> dict[str, int]:
        out: Counter[str] = Counter()
        for r in self.errors.values():
            out.update(r)
        return dict(out)

    def phase(self) -> str:
        phases = set(self.phases.values())
        for name in ("backfill", "live", "draining", "done"):
            if name in phases:
                return name
        return next(iter(phases), "starting")

    def tick(self) -> tuple[Progress, Any, Any]:
        """Progress since the previous tick; returns the tick's latency and lag histograms too."""
        now = time.monotonic()
        if not self._last_tick_mono:
            self._last_tick_mono = self.started_mono
        dt = max(now - self._last_tick_mono, 1e-9)
        totals = self.totals()
        last = self._last_totals or dict.fromkeys(COUNTER_NAMES, 0)
        rejected = sum(self.rejected_by_reason().values())
        latency, lag = self.latency_tick, self.lag_tick
        warnings: list[str] = []
        lag_p50 = _ms(lag, 50)
        if lag_p50 is not None and self.phase() == "live" and lag_p50 > 0.05 * self.interval_ms:
            warnings.append(
                "Can't keep up ingestion to the desired inter-event interval. "
                f"Expected interval: {self.interval_ms} ms. Actual: {self.interval_ms + lag_p50:.0f} ms. "
                "Consider increasing concurrency or processes."
            )
        progress = Progress(
            elapsed_s=now - self.started_mono,
            phase=self.phase(),
            records_per_s=(totals["ingested"] - last["ingested"]) / dt,
            measures_per_s=(totals["ingested_measures"] - last["ingested_measures"]) / dt,
            requests_per_s=(totals["requests"] - last["requests"]) / dt,
            latency_p50_ms=_ms(latency, 50),
            latency_p99_ms=_ms(latency, 99),
            lag_p50_ms=lag_p50,
            lag_p99_ms=_ms(lag, 99),
            generated=totals["generated"],
            ingested=totals["ingested"],
            rejected=rejected,
            failed=totals["failed"],
            throttled=totals["throttled"],
            retries=totals["retries"],
            warnings=tuple(warnings),
            requests=totals["requests"],
            dropped=totals["dropped"],
            generated_measures=totals["generated_measures"],
            ingested_measures=totals["ingested_measures"],
            latency_total=self.latency_total,
            lag_total=self.lag_total,
            from_schedule_total=self.from_schedule_total,
        )
        self._last_tick_mono = now
        self._last_totals = totals
        self.latency_tick = hdr.new_histogram()
        self.lag_tick = hdr.new_histogram()
        return progress, latency, lag
