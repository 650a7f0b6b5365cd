"""Chart data for the HTML report, built from interval logs (.hlog) and merged histograms.

Charts are data first (`Chart`: labelled x/y series), rendered afterwards by matplotlib as SVG
(`svg.render_svg`, the ``report`` extra). Each chart's data is
also embedded in the page, so what is drawn can be checked against the run's files.

Time charts put every interval of every log on one time axis: bins of the logs' (median)
interval length starting at the earliest interval; a bin's histogram is the sum of the intervals
that start in it, across sessions, processes and machines. Throughput = values in the bin / bin
length (queries/s from the query logs; write requests/s from ``write-latency.hlog``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from tsload.report.merge import Report, natural_key
from tsload.report.rundirs import RunDirs
from tsload.stats import hdr
from tsload.stats.hlog import iter_interval_log, log_span
from tsload.stats.summary import (
    counts_array,
    percentile_distribution,
    percentiles_of_counts,
    standard_layout,
)

TIME_PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("max", 100.0),
)


@dataclass(frozen=True)
class Series:
    label: str
    xs: tuple[float, ...]
    ys: tuple[float, ...]


@dataclass(frozen=True)
class Chart:
    id: str
    title: str
    x_label: str
    y_label: str
    kind: str  # "time" | "percentile" (x = percentile 0..100, drawn on a 1/(1-p) log axis)
    series: tuple[Series, ...]
    y_log: bool = False  # latency spanning several decades: a log y axis keeps p50 visible under max
    caption: str = ""  # what the chart shows and how it was computed (not its title again)
    x_range: tuple[float, float] | None = None  # time charts: the whole run, the same for every chart
    steps: bool = False  # rates per bin: drawn as steps (each value holds over its bin)
    gap: float = 0.0  # time charts: points further apart than this are not joined by a line

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "y_log": self.y_log,
            "caption": self.caption,
            "x_range": list(self.x_range) if self.x_range else None,
            "steps": self.steps,
            "series": [{"label": s.label, "x": list(s.xs), "y": list(s.ys)} for s in self.series],
        }


def _r(x: float) -> float:
    return float(f"{x:.6g}")


MAX_BINS = 240  # per chart: bins widen (by whole interval lengths) on long runs


@dataclass(frozen=True)
class TimeBins:
    t0: float
    width: float
    end: float  # the latest interval's end (seconds since t0)

    def index(self, t: float) -> int:
        return max(math.floor((t - self.t0) / self.width + 1e-9), 0)

    def start(self, i: int) -> float:
        return i * self.width

    def count(self) -> int:
        return max(math.ceil(self.end / self.width - 1e-9), 1)

    def covered(self, i: int) -> float:
        """The part of bin ``i`` the run covers: the last bin is usually cut short by the run's end."""
        return max(min(self.width, self.end - self.start(i)), 1e-9)


def _bins(paths: Sequence[Path]) -> TimeBins | None:
    """Bin layout from a first pass over the logs' timestamps (histograms not decoded)."""
    covered = log_span(paths)
    if covered is None:
        return None
    t0 = covered.start_s
    width = max(round(covered.median_length_s, 3), 0.001)
    span = covered.end_s - t0
    if span / width > MAX_BINS:
        width *= math.ceil(span / width / MAX_BINS)
    return TimeBins(t0, width, span)


class _BinnedCounts:
    """Per (series, bin): the sum of the intervals' counters, kept sparse.

    Decoding every interval into a full histogram per bin would hold 188 KB per (series, bin);
    the non-zero counters of each interval are a few hundred entries.
    """

    def __init__(self) -> None:
        self._layout = standard_layout()
        self._n = len(self._layout.highest)
        self._parts: dict[str, dict[int, list[tuple[npt.NDArray[Any], npt.NDArray[Any]]]]] = {}

    def add(self, name: str, index: int, h: Any) -> None:
        if int(h.counts_len) != self._n or int(h.lowest_trackable_value) != hdr.LOWEST_US or int(
                h.significant_figures) != hdr.SIGNIFICANT_DIGITS:
            std = hdr.new_histogram()  # another tool's layout: re-record into ours
            std.add(h)
            h = std
        c = counts_array(h)
        nz = np.flatnonzero(c)
        self._parts.setdefault(name, {}).setdefault(index, []).append((nz, c[nz].astype(np.int64)))

    def names(self) -> list[str]:
        return sorted(self._parts, key=natural_key)

    def series(self, name: str) -> list[tuple[int, npt.NDArray[np.int64]]]:
        out = []
        for index, parts in sorted(self._parts.get(name, {}).items()):
            idx = np.concatenate([i for i, _ in parts])
            cnt = np.concatenate([c for _, c in parts])
            counts = np.zeros(self._n, dtype=np.int64)
            np.add.at(counts, idx, cnt)
            out.append((index, counts))
        return out

    def percentiles(self, counts: npt.NDArray[np.int64], ps: Sequence[float]) -> list[float]:
        return percentiles_of_counts(counts, self._layout, ps)


def _accumulate(paths: Sequence[Path], bins: TimeBins) -> _BinnedCounts:
    acc = _BinnedCounts()
    for p in paths:
        for iv in iter_interval_log(p):
            acc.add(iv.tag or p.stem, bins.index(iv.start_s), iv.histogram)
    return acc


def _throughput(label: str, binned: list[tuple[int, npt.NDArray[np.int64]]], bins: TimeBins) -> Series:
    """One value per bin of the whole run, zero where nothing happened: a query that ran 4 times in
    30 s is 4 short steps, not a line joining them; the last bin's rate is over the part the run covered."""
    n = {i: int(c.sum()) for i, c in binned}
    idx = range(bins.count())
    return Series(label, tuple(_r(bins.start(i)) for i in idx),
                  tuple(_r(n.get(i, 0) / bins.covered(i)) for i in idx))


def _percentile_series(
    acc: _BinnedCounts, binned: list[tuple[int, npt.NDArray[np.int64]]], bins: TimeBins
) -> tuple[Series, ...]:
    rows = [(bins.start(i), acc.percentiles(c, [p for _, p in TIME_PERCENTILES]))
            for i, c in binned if c.any()]
    return tuple(
        Series(label, tuple(_r(x) for x, _ in rows), tuple(_r(v[k] / 1000.0) for _, v in rows))
        for k, (label, _) in enumerate(TIME_PERCENTILES)
    )


def distribution_series(label: str, h: Any) -> Series:
    pts = percentile_distribution(h)
    return Series(label, tuple(_r(p) for p, _ in pts), tuple(_r(v / 1000.0) for _, v in pts))


def wide_range(series: Sequence[Series], decades: float = 2.0) -> bool:
    """True when the positive y values span more than ``decades`` powers of ten."""
    ys = [y for s in series for y in s.ys if y > 0]
    return bool(ys) and max(ys) / min(ys) > 10.0**decades


def chart_id(*parts: str) -> str:
    return "chart-" + "-".join("".join(c if c.isalnum() or c in "-_" else "_" for c in p) for p in parts)


def build_charts(report: Report, found: RunDirs) -> list[Chart]:
    query_paths = [p for s in found.sessions for p in s.hlogs]
    ingest_paths = [p for r in found.ingests for p in r.hlogs]
    bins = _bins([*query_paths, *ingest_paths])
    charts: list[Chart] = []
    x_time = "run time (s)"
    if bins is None:
        xr = None
        per_bin = ""
        tc: dict[str, Any] = {}
    else:
        xr = (0.0, _r(max(bins.end, bins.width)))
        per_bin = f"{bins.width:.2g} s"
        # gap: points more than one bin apart are not joined (no line across bins without data)
        tc = {"x_range": xr, "gap": bins.width * 1.5}
    if bins is not None and query_paths:
        acc = _accumulate(query_paths, bins)
        # every query of the mix, also those that never ran (a flat zero says so)
        names = sorted({*acc.names(), *(r.query for r in report.queries)}, key=natural_key)
        binned = {q: acc.series(q) for q in names}
        charts.append(Chart(
            chart_id("throughput", "queries"), "Query throughput over time", x_time, "queries/s", "time",
            tuple(_throughput(q, binned[q], bins) for q in names), steps=True,
            caption=f"Executions started per {per_bin} bin, divided by the part of the bin the run covered; "
                    "each step holds over its bin, zero where the query did not run.", **tc))
        for q in names:
            if not binned[q]:
                continue
            ps = _percentile_series(acc, binned[q], bins)
            charts.append(Chart(
                chart_id("latency-over-time", q), f"{q}: latency percentiles over time", x_time,
                "latency (ms)", "time", ps, y_log=wide_range(ps),
                caption=f"One point per {per_bin} bin in which {q} completed (merged over sessions); "
                        "no line across bins without executions. max dashed, so p99 shows under it.", **tc))
    if bins is not None and ingest_paths:
        acc_i = _accumulate(ingest_paths, bins)
        for name, title, unit, what in (
            ("write-latency", "Write latency over time", "latency (ms)", "write requests answered"),
            ("lag", "Ingestion lag over time", "lag (ms)", "batches sent"),
        ):
            binned_i = acc_i.series(name)
            if not binned_i:
                continue
            if name == "write-latency":
                tput = (_throughput("write requests", binned_i, bins),)
                charts.append(Chart(
                    chart_id("throughput", "ingest"), "Ingest write requests over time", x_time,
                    "requests/s", "time", tput, steps=True,
                    caption=f"WriteRecords requests answered per second, per {per_bin} bin.", **tc))
            ps = _percentile_series(acc_i, binned_i, bins)
            charts.append(Chart(chart_id(name, "over-time"), title, x_time, unit, "time", ps,
                                y_log=wide_range(ps),
                                caption=f"Percentiles of the {what} in each {per_bin} bin.", **tc))
    for q, h in sorted(report.histograms.items(), key=lambda kv: natural_key(kv[0])):
        if h.get_total_count():
            ds = (distribution_series(q, h),)
            charts.append(Chart(
                chart_id("distribution", q), f"{q}: latency by percentile", "percentile",
                "latency (ms)", "percentile", ds, y_log=wide_range(ds),
                caption=f"All {h.get_total_count():,} executions of {q}, merged; the x axis stretches "
                        "the tail (1/(1-percentile), log)."))
    return charts
