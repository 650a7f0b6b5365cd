"""A small per-name recorder: latency histograms and counters, with interval snapshots.

One `Recorder` per event loop (no locks: call it from one thread). Recording goes into the
current interval's histogram only; `interval()` hands that interval out (for the ``.hlog``
writer and live views) and folds it into the cumulative totals, so each value is recorded once.
Snapshots encode to plain JSON-able dicts, so worker processes can send them to a parent that
merges them (`Recorder.merge` or `RecorderSnapshot.merged`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tsload.stats import hdr
from tsload.stats.summary import LatencySummary, summarize


@dataclass(frozen=True)
class RecorderSnapshot:
    """Histograms (µs) and counters of one time span [start_s, end_s) in epoch seconds."""

    start_s: float
    end_s: float
    histograms: Mapping[str, Any] = field(default_factory=dict)
    counts: Mapping[str, int] = field(default_factory=dict)

    def summary(self, name: str) -> LatencySummary | None:
        h = self.histograms.get(name)
        return None if h is None else summarize(h)

    def count(self, name: str) -> int:
        return int(self.counts.get(name, 0))

    def encode(self) -> dict[str, Any]:
        """JSON-able form: histograms as HDR base64 V2 strings."""
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "histograms": {k: hdr.encode(h) for k, h in self.histograms.items()},
            "counts": dict(self.counts),
        }

    @classmethod
    def decode(cls, data: Mapping[str, Any]) -> RecorderSnapshot:
        return cls(
            start_s=float(data["start_s"]),
            end_s=float(data["end_s"]),
            histograms={k: hdr.decode(v) for k, v in data.get("histograms", {}).items()},
            counts={k: int(v) for k, v in data.get("counts", {}).items()},
        )

    @classmethod
    def merged(cls, snapshots: Iterable[RecorderSnapshot]) -> RecorderSnapshot:
        """Exact merge: histograms added, counters summed, span = earliest start .. latest end."""
        snaps = list(snapshots)
        if not snaps:
            now = time.time()
            return cls(now, now)
        hists: dict[str, Any] = {}
        counts: dict[str, int] = {}
        for s in snaps:
            for k, h in s.histograms.items():
                hists.setdefault(k, hdr.new_histogram()).add(h)
            for k, n in s.counts.items():
                counts[k] = counts.get(k, 0) + int(n)
        return cls(min(s.start_s for s in snaps), max(s.end_s for s in snaps), hists, counts)


class Recorder:
    """Per-name latency histograms (seconds in, µs stored) and counters.

    ``clock`` returns wall-clock epoch seconds (``time.time`` by default; tests pass a fake).
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._start = clock()
        self._interval_start = self._start
        self._hist: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._total_hist: dict[str, Any] = {}
        self._total_counts: dict[str, int] = {}

    def record(self, name: str, seconds: float) -> None:
        """Record one latency given in seconds (clamped into 1 µs .. 1 h)."""
        h = self._hist.get(name)
        if h is None:
            h = self._hist[name] = hdr.new_histogram()
        hdr.record_seconds(h, seconds)

    def record_us(self, name: str, us: int, count: int = 1) -> None:
        h = self._hist.get(name)
        if h is None:
            h = self._hist[name] = hdr.new_histogram()
        h.record_value(min(max(int(us), hdr.LOWEST_US), hdr.HIGHEST_US), count)

    def add_count(self, name: str, n: int = 1) -> None:
        self._counts[name] = self._counts.get(name, 0) + n

    def interval(self) -> RecorderSnapshot:
        """What was recorded since the previous call (or since creation); starts a new interval."""
        now = self._clock()
        snap = RecorderSnapshot(self._interval_start, now, self._hist, self._counts)
        for k, h in self._hist.items():
            self._total_hist.setdefault(k, hdr.new_histogram()).add(h)
        for k, n in self._counts.items():
            self._total_counts[k] = self._total_counts.get(k, 0) + n
        self._hist = {}
        self._counts = {}
        self._interval_start = now
        return snap

    def total(self) -> RecorderSnapshot:
        """Everything recorded so far (a copy; the current interval included, and not reset)."""
        hists: dict[str, Any] = {}
        for src in (self._total_hist, self._hist):
            for k, h in src.items():
                hists.setdefault(k, hdr.new_histogram()).add(h)
        counts = dict(self._total_counts)
        for k, n in self._counts.items():
            counts[k] = counts.get(k, 0) + n
        return RecorderSnapshot(self._start, self._clock(), hists, counts)

    def merge(self, snapshot: RecorderSnapshot) -> None:
        """Add another recorder's snapshot (e.g. from a worker process) into the current interval."""
        for k, h in snapshot.histograms.items():
            mine = self._hist.get(k)
            if mine is None:
                mine = self._hist[k] = hdr.new_histogram()
            mine.add(h)
        for k, n in snapshot.counts.items():
            self._counts[k] = self._counts.get(k, 0) + int(n)
