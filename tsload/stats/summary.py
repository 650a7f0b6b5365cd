"""Summary statistics of an HDR latency histogram (values in microseconds), vectorised with numpy.

hdrh walks its 23,552 counters in Python for every percentile query; a report asks for many
percentiles of many (interval) histograms, so the counters are viewed as one numpy array and
every statistic is computed from it. The definitions are HDR's own, so results equal hdrh's:

- percentile p (0 < p <= 100): the highest value equivalent to the bucket holding the value of
  rank ``max(1, int(p * N / 100 + 0.5))`` (nearest rank, as `get_value_at_percentile`);
- mean and population standard deviation: over each bucket's median-equivalent value
  (as `get_mean_value` / `get_stddev`);
- geometric mean: ``exp(sum(count * log(median equivalent)) / N)`` over the same values;
- max: the highest value equivalent to the largest recorded value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

US_PER_S = 1_000_000.0

#: The percentiles a summary carries (and the JSON/CSV keys they map to).
SUMMARY_PERCENTILES: tuple[float, ...] = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True, slots=True)
class LatencySummary:
    """Latency statistics in seconds (``count`` is the number of recorded values)."""

    count: int
    mean: float
    stddev: float
    min: float
    p50: float
    p90: float
    p99: float
    p999: float
    max: float
    geomean: float

    def as_dict(self) -> dict[str, float | int]:
        return {
            "count": self.count,
            "mean_s": self.mean,
            "stddev_s": self.stddev,
            "min_s": self.min,
            "p50_s": self.p50,
            "p90_s": self.p90,
            "p99_s": self.p99,
            "p999_s": self.p999,
            "max_s": self.max,
            "geomean_s": self.geomean,
        }


@dataclass(frozen=True)
class Layout:
    lowest: npt.NDArray[np.float64]  # lowest equivalent value per counter index
    highest: npt.NDArray[np.float64]  # highest equivalent value per counter index
    median: npt.NDArray[np.float64]  # median equivalent value per counter index


@lru_cache(maxsize=8)
def _layout_for(lowest: int, highest: int, digits: int, counts_len: int) -> Layout:
    from hdrh.histogram import HdrHistogram

    h = HdrHistogram(lowest, highest, digits)
    lo = np.empty(counts_len, dtype=np.float64)
    hi = np.empty(counts_len, dtype=np.float64)
    med = np.empty(counts_len, dtype=np.float64)
    for i in range(counts_len):
        v = h.get_value_from_index(i)
        lo[i] = h.get_lowest_equivalent_value(v)
        hi[i] = h.get_highest_equivalent_value(v)
        med[i] = h._hdr_median_equiv_value(v)
    return Layout(lo, hi, med)


def _layout(h: Any) -> Layout:
    return _layout_for(
        int(h.lowest_trackable_value), int(h.highest_trackable_value), int(h.significant_figures),
        int(h.counts_len),
    )


def counts_array(h: Any) -> npt.NDArray[np.uint64]:
    """A zero-copy numpy view of the histogram's counters."""
    arr: npt.NDArray[np.uint64] = np.ctypeslib.as_array(h.counts)[: h.counts_len]
    return arr


def percentiles_us(h: Any, percentiles: Sequence[float]) -> list[float]:
    """Values (µs) at the given percentiles (0..100), HDR nearest-rank semantics; 0.0 when empty."""
    return percentiles_of_counts(counts_array(h), _layout(h), percentiles)


def standard_layout() -> Layout:
    """The layout of `tsload.stats.hdr.new_histogram` (1 µs .. 1 h, 3 digits)."""
    from tsload.stats import hdr

    return _layout(hdr.new_histogram())


def percentiles_of_counts(
    counts: npt.NDArray[Any], layout: Layout, percentiles: Sequence[float]
) -> list[float]:
    """`percentiles_us` for a bare counts array (e.g. a sum of many histograms' counts)."""
    total = int(counts.sum())
    if total == 0:
        return [0.0 for _ in percentiles]
    cum = np.cumsum(counts, dtype=np.int64)
    out: list[float] = []
    for p in percentiles:
        p = min(max(float(p), 0.0), 100.0)
        target = max(int(p * total / 100.0 + 0.5), 1)
        idx = int(np.searchsorted(cum, target, side="left"))
        idx = min(idx, len(cum) - 1)
        out.append(float(layout.highest[idx] if p > 0 else layout.lowest[idx]))
    return out


def summarize(h: Any) -> LatencySummary | None:
    """Summary in seconds of a µs histogram, or None when it holds no values."""
    counts = counts_array(h)
    nz = np.flatnonzero(counts)
    if nz.size == 0:
        return None
    layout = _layout(h)
    c = counts[nz].astype(np.float64)
    n = float(c.sum())
    med = layout.median[nz]
    mean = float((c * med).sum() / n)
    var = float((c * (med - mean) ** 2).sum() / n)
    with np.errstate(divide="ignore"):  # a recorded 0 makes the geometric mean 0, as it should
        geo = float(math.exp(float((c * np.log(med)).sum() / n)))
    p50, p90, p99, p999 = percentiles_us(h, SUMMARY_PERCENTILES)
    max_us = float(layout.highest[nz[-1]])
    min_us = float(layout.lowest[nz[0]])
    return LatencySummary(
        count=int(n),
        mean=mean / US_PER_S,
        stddev=math.sqrt(var) / US_PER_S,
        min=min_us / US_PER_S,
        p50=p50 / US_PER_S,
        p90=p90 / US_PER_S,
        p99=p99 / US_PER_S,
        p999=p999 / US_PER_S,
        max=max_us / US_PER_S,
        geomean=geo / US_PER_S,
    )


def percentile_distribution(h: Any, points_per_decade: int = 20) -> list[tuple[float, float]]:
    """(percentile 0..100, value µs) pairs for the classic HDR percentile-distribution chart.

    Percentile levels are spaced evenly on the chart's 1/(1-p) log axis, up to the level that
    the number of values can resolve, and the last pair is (100, max).
    """
    counts = counts_array(h)
    total = int(counts.sum())
    if total == 0:
        return []
    decades = max(math.log10(total), 1.0)
    xs = np.linspace(0.0, decades, math.ceil(decades * points_per_decade) + 1)
    levels = [float(100.0 * (1.0 - 10.0 ** (-x))) for x in xs]
    values = percentiles_us(h, levels)
    pairs = [(lvl, val) for lvl, val in zip(levels, values, strict=True) if lvl < 100.0]
    pairs.append((100.0, percentiles_us(h, [100.0])[0]))
    return pairs


def union_seconds(intervals: Iterable[tuple[float, float]]) -> float:
    """Total length of the union of [start, end] intervals."""
    spans = sorted((a, b) for a, b in intervals if b >= a)
    total = 0.0
    cur_a: float | None = None
    cur_b = 0.0
    for a, b in spans:
        if cur_a is None or a > cur_b:
            if cur_a is not None:
                total += cur_b - cur_a
            cur_a, cur_b = a, b
        else:
            cur_b = max(cur_b, b)
    if cur_a is not None:
        total += cur_b - cur_a
    return total


def summarize_values(counts_by_us: Mapping[int, int]) -> LatencySummary | None:
    """The same statistics, computed exactly from values (µs → how often seen), or None when empty.

    For latencies known exactly (the sample's ``.log`` lines, to the millisecond) the histogram's
    3 significant digits would blur figures above ~2 s by up to 0.1%; the definitions are the
    histogram's (nearest rank, population standard deviation), so the two agree within HDR's
    precision.
    """
    items = sorted((v, c) for v, c in counts_by_us.items() if c > 0)
    if not items:
        return None
    vals = np.array([float(v) for v, _ in items], dtype=np.float64)
    c = np.array([float(n) for _, n in items], dtype=np.float64)
    n = float(c.sum())
    mean = float((c * vals).sum() / n)
    var = float((c * (vals - mean) ** 2).sum() / n)
    with np.errstate(divide="ignore"):  # a recorded 0 makes the geometric mean 0, as it should
        geo = float(math.exp(float((c * np.log(vals)).sum() / n)))
    cum = np.cumsum(c)

    def at(p: float) -> float:
        rank = max(int(p * n / 100.0 + 0.5), 1)
        return float(vals[min(int(np.searchsorted(cum, rank, side="left")), len(vals) - 1)])

    return LatencySummary(
        count=int(n), mean=mean / US_PER_S, stddev=math.sqrt(var) / US_PER_S, min=float(vals[0]) / US_PER_S,
        p50=at(50.0) / US_PER_S, p90=at(90.0) / US_PER_S, p99=at(99.0) / US_PER_S, p999=at(99.9) / US_PER_S,
        max=float(vals[-1]) / US_PER_S, geomean=geo / US_PER_S,
    )
