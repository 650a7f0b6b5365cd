"""Chart data for the HTML report, built from interval logs (.hlog) and merged histograms.

Charts are data first (`Chart`: labelled x/y series), rendered afterwards: with matplotlib as SVG
when it is installed (the ``report`` extra), else by `svg.render_basic_svg`. Each chart's data is
also embedded in the page, so what is drawn can be checked against the run's files.

Time charts put every interval of every log on one time axis: bins of the logs' (median)
interval length starting at the earliest interval; a bin's histogram is the sum of the intervals
that start in it, across sessions, processes and machines. Throughput = values in the bin / bin
length (queries/s from the query logs; write requests/s from ``write-latency.hlog``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tsload.report.merge import Report, natural_key
from tsload.report.rundirs import RunDirs
from tsload.stats import hdr
from tsload.stats.hlog import Interval, read_interval_log
from tsload.stats.summary import percentile_distribution, percentiles_us

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

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "x_label": self.x_label,
            "y_label": self.y_label,
            "series": [{"label": s.label, "x": list(s.xs), "y": list(s.ys)} for s in self.series],
        }


def _r(x: float) -> float:
    return float(f"{x:.6g}")


def _collect(paths: Iterable[Path]) -> dict[str, list[Interval]]:
    out: dict[str, list[Interval]] = {}
    for p in paths:
        for iv in read_interval_log(p).intervals:
            out.setdefault(iv.tag or p.stem, []).append(iv)
    return out


@dataclass(frozen=True)
class TimeBins:
    t0: float
    width: float

    def index(self, t: float) -> int:
        return max(math.floor((t - self.t0) / self.width + 1e-9), 0)

    def start(self, i: int) -> float:
        return i * self.width


def _bins(groups: Sequence[dict[str, list[Interval]]]) -> TimeBins | None:
    ivs = [iv for g in groups for lst in g.values() for iv in lst]
    if not ivs:
        return None
    width = statistics.median(iv.length_s for iv in ivs)
    return TimeBins(min(iv.start_s for iv in ivs), max(round(width, 3), 0.001))


def _binned(ivs: Iterable[Interval], bins: TimeBins) -> list[tuple[int, Any]]:
    per: dict[int, Any] = {}
    for iv in ivs:
        per.setdefault(bins.index(iv.start_s), hdr.new_histogram()).add(iv.histogram)
    return sorted(per.items())


def _throughput(label: str, binned: list[tuple[int, Any]], bins: TimeBins) -> Series:
    xs = tuple(_r(bins.start(i)) for i, _ in binned)
    ys = tuple(_r(h.get_total_count() / bins.width) for _, h in binned)
    return Series(label, xs, ys)


def _percentile_series(binned: list[tuple[int, Any]], bins: TimeBins) -> tuple[Series, ...]:
    rows = [(bins.start(i), percentiles_us(h, [p for _, p in TIME_PERCENTILES]))
            for i, h in binned if h.get_total_count()]
    return tuple(
        Series(label, tuple(_r(x) for x, _ in rows), tuple(_r(v[k] / 1000.0) for _, v in rows))
        for k, (label, _) in enumerate(TIME_PERCENTILES)
    )


def distribution_series(label: str, h: Any) -> Series:
    pts = percentile_distribution(h)
    return Series(label, tuple(_r(p) for p, _ in pts), tuple(_r(v / 1000.0) for _, v in pts))


def chart_id(*parts: str) -> str:
    return "chart-" + "-".join("".join(c if c.isalnum() or c in "-_" else "_" for c in p) for p in parts)


def build_charts(report: Report, found: RunDirs) -> list[Chart]:
    query_logs = _collect(p for s in found.sessions for p in s.hlogs)
    ingest_logs = _collect(p for r in found.ingests for p in r.hlogs)
    bins = _bins([query_logs, ingest_logs])
    charts: list[Chart] = []
    x_time = "seconds since start"
    if bins is not None and query_logs:
        names = sorted(query_logs, key=natural_key)
        binned = {q: _binned(query_logs[q], bins) for q in names}
        charts.append(Chart(chart_id("throughput", "queries"), "Query throughput over time", x_time,
                            "queries/s", "time", tuple(_throughput(q, binned[q], bins) for q in names)))
        for q in names:
            charts.append(Chart(chart_id("latency-over-time", q), f"{q}: latency percentiles over time",
                                x_time, "latency (ms)", "time", _percentile_series(binned[q], bins)))
    if bins is not None:
        for name, title, unit in (("write-latency", "Write latency over time", "latency (ms)"),
                                  ("lag", "Ingestion lag over time", "lag (ms)")):
            if name in ingest_logs:
                binned_i = _binned(ingest_logs[name], bins)
                if name == "write-latency":
                    charts.append(Chart(chart_id("throughput", "ingest"), "Ingest write requests over time",
                                        x_time, "requests/s", "time",
                                        (_throughput("write requests", binned_i, bins),)))
                charts.append(Chart(chart_id(name, "over-time"), title, x_time, unit, "time",
                                    _percentile_series(binned_i, bins)))
    for q, h in sorted(report.histograms.items(), key=lambda kv: natural_key(kv[0])):
        if h.get_total_count():
            charts.append(Chart(chart_id("distribution", q), f"{q}: latency by percentile", "percentile",
                                "latency (ms)", "percentile", (distribution_series(q, h),)))
    return charts
