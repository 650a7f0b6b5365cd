"""`tsload compare BASELINE CANDIDATE`: two reports side by side, changes beyond noise marked.

Per query (p50, p99, q/s, errors) and for ingestion (records/s, write latency p50/p99, lag p99,
errors): the baseline value, the candidate value, the absolute and the relative change.

When is a change beyond noise? For a latency percentile, each run gives a 95 % confidence
interval from its own histogram: the ranks n·p ± 1.96·sqrt(n·p·(1-p)) of the n recorded values
(the order-statistic interval of a quantile, distribution-free), read back as latencies. For a
rate or a count, a Poisson interval k ± 1.96·sqrt(k). A change is marked (`*`) when the two
runs' intervals do not overlap; a percentile with too few values behind it (n·(1-p) < 1: e.g. p99
of fewer than 100 queries) is never marked, its interval reaching the histogram's end. Ingest
latency and lag changes are shown unmarked: the report keeps their summaries, not histograms.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from tsload.report.merge import Report, natural_key

Z95 = 1.96
NOISE = ("marked when the two runs' 95% intervals (order statistics for percentiles, Poisson for counts) "
         "are apart")


@dataclass(frozen=True)
class Change:
    metric: str
    unit: str
    base: float | None
    cand: float | None
    base_ci: tuple[float, float] | None
    cand_ci: tuple[float, float] | None

    @property
    def delta(self) -> float | None:
        return None if self.base is None or self.cand is None else self.cand - self.base

    @property
    def relative(self) -> float | None:
        d = self.delta
        return None if d is None or not self.base else d / self.base

    @property
    def beyond_noise(self) -> bool:
        a, b = self.base_ci, self.cand_ci
        if a is None or b is None or self.delta in (None, 0.0):
            return False
        return a[1] < b[0] or b[1] < a[0]

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "unit": self.unit, "baseline": self.base, "candidate": self.cand,
                "change": self.delta, "relative_change": self.relative, "beyond_noise": self.beyond_noise,
                "baseline_ci95": list(self.base_ci) if self.base_ci else None,
                "candidate_ci95": list(self.cand_ci) if self.cand_ci else None}


@dataclass(frozen=True)
class Group:
    name: str  # a query name or "ingest"
    changes: tuple[Change, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "changes": [c.as_dict() for c in self.changes]}


@dataclass(frozen=True)
class Comparison:
    baseline: Report
    candidate: Report
    groups: tuple[Group, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"baseline": list(self.baseline.sources), "candidate": list(self.candidate.sources),
                "noise": NOISE,
                "groups": [g.as_dict() for g in self.groups]}


def percentile_ci_ms(h: Any, p: float) -> tuple[float, float] | None:
    """95 % interval of the p-th percentile (ms) from the histogram's own n values."""
    if h is None:
        return None
    n = int(h.get_total_count())
    q = p / 100.0
    if n == 0 or n * (1.0 - q) < 1.0:
        return None
    half = Z95 * math.sqrt(n * q * (1.0 - q))
    lo_rank, hi_rank = max(n * q - half, 0.0), min(n * q + half, float(n))
    return (h.get_value_at_percentile(100.0 * lo_rank / n) / 1000.0,
            h.get_value_at_percentile(100.0 * hi_rank / n) / 1000.0)


def count_ci(k: float) -> tuple[float, float]:
    half = Z95 * math.sqrt(max(k, 0.0))
    return (max(k - half, 0.0), k + half)


def _scaled(ci: tuple[float, float], factor: float | None) -> tuple[float, float] | None:
    return None if factor is None else (ci[0] * factor, ci[1] * factor)


def _query_group(q: str, base: Report, cand: Report) -> Group:
    def row(r: Report) -> Any:
        return next((x for x in r.queries if x.query == q), None)

    rb, rc = row(base), row(cand)
    hb, hc = base.histograms.get(q), cand.histograms.get(q)
    changes = []
    for label, p, attr in (("p50", 50.0, "p50"), ("p99", 99.0, "p99")):
        vb = getattr(rb.latency, attr) * 1e3 if rb is not None and rb.latency is not None else None
        vc = getattr(rc.latency, attr) * 1e3 if rc is not None and rc.latency is not None else None
        changes.append(Change(label, "ms", vb, vc, percentile_ci_ms(hb, p), percentile_ci_ms(hc, p)))

    def rate(r: Any, wall: float | None) -> tuple[float | None, tuple[float, float] | None]:
        if r is None or r.queries_per_s is None or not wall:
            return (None, None) if r is None else (r.queries_per_s, None)
        return r.queries_per_s, _scaled(count_ci(r.successful), 1.0 / wall)

    qb, cib = rate(rb, base.wall_s)
    qc, cic = rate(rc, cand.wall_s)
    changes.append(Change("q/s", "q/s", qb, qc, cib, cic))
    eb = float(rb.failed + rb.timed_out) if rb is not None else None
    ec = float(rc.failed + rc.timed_out) if rc is not None else None
    changes.append(Change("errors", "", eb, ec, count_ci(eb) if eb is not None else None,
                          count_ci(ec) if ec is not None else None))
    return Group(q, tuple(changes))


def _ingest_group(base: Report, cand: Report) -> Group | None:
    ib, ic = base.ingest, cand.ingest
    if ib is None and ic is None:
        return None

    def rec_rate(i: Any) -> tuple[float | None, tuple[float, float] | None]:
        if i is None or i.records_per_s is None:
            return None, None
        return i.records_per_s, _scaled(count_ci(i.ingested), 1.0 / i.wall_s) if i.wall_s else None

    changes = [Change("records/s", "records/s", *_pair(rec_rate(ib), rec_rate(ic)))]
    for label, attr, stat in (("write p50", "write_latency", "p50"), ("write p99", "write_latency", "p99"),
                              ("lag p99", "lag", "p99")):
        vb, vc = _ingest_ms(ib, attr, stat), _ingest_ms(ic, attr, stat)
        changes.append(Change(label, "ms", vb, vc, None, None))
    eb = float(ib.rejected + ib.failed) if ib is not None else None
    ec = float(ic.rejected + ic.failed) if ic is not None else None
    changes.append(Change("errors", "records", eb, ec, count_ci(eb) if eb is not None else None,
                          count_ci(ec) if ec is not None else None))
    return Group("ingest", tuple(changes))


_Val = tuple[float | None, tuple[float, float] | None]


def _pair(a: _Val, b: _Val) -> tuple[float | None, float | None, tuple[float, float] | None,
                                     tuple[float, float] | None]:
    return a[0], b[0], a[1], b[1]


def _ingest_ms(i: Any, attr: str, stat: str) -> float | None:
    s = getattr(i, attr) if i is not None else None
    return float(getattr(s, stat)) * 1e3 if s is not None else None


def compare_reports(base: Report, cand: Report) -> Comparison:
    names = sorted({*(r.query for r in base.queries), *(r.query for r in cand.queries)}, key=natural_key)
    groups = [_query_group(q, base, cand) for q in names]
    ig = _ingest_group(base, cand)
    if ig is not None:
        groups.append(ig)
    return Comparison(base, cand, tuple(groups))


COLUMNS = ("", "metric", "baseline", "candidate", "change", "relative", "beyond noise")


def _num(x: float | None) -> str:
    if x is None:
        return "-"
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:,.2f}"


def rows(cmp: Comparison) -> list[list[str]]:
    out = []
    for g in cmp.groups:
        for c in g.changes:
            d, rel = c.delta, c.relative
            out.append([g.name, c.metric + (f" ({c.unit})" if c.unit and c.unit != c.metric else ""),
                        _num(c.base), _num(c.cand), "-" if d is None else f"{d:+,.2f}",
                        "-" if rel is None else f"{rel:+.1%}", "*" if c.beyond_noise else ""])
    return out


def to_markdown(cmp: Comparison) -> str:
    from tsload.report.render import _md_table

    lines = [f"**Comparison** — baseline {', '.join(cmp.baseline.sources)}; candidate "
             f"{', '.join(cmp.candidate.sources)}", "", f"`*` = {NOISE}.", ""]
    lines += _md_table(COLUMNS, rows(cmp), left=2)
    return "\n".join(lines) + "\n"


def to_json(cmp: Comparison) -> str:
    import orjson

    return orjson.dumps(cmp.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"


def to_renderable(cmp: Comparison) -> Any:
    from rich.table import Table

    t = Table(title="Comparison: candidate vs baseline", caption=f"* = {NOISE}")
    for i, c in enumerate(COLUMNS):
        t.add_column(c, justify="left" if i < 2 else "right")
    for r in rows(cmp):
        t.add_row(*r)
    return t


def to_html(cmp: Comparison) -> str:
    import html as h

    from tsload.report.charts import Chart, chart_id, distribution_series, wide_range
    from tsload.report.html import _CSS, _figure, _table
    from tsload.report.svg import require_matplotlib

    require_matplotlib()
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8"><title>tsload compare</title>',
             f"<style>{_CSS}</style></head><body>", "<h1>tsload compare</h1>",
             f"<p>baseline: {h.escape(', '.join(cmp.baseline.sources))}<br>candidate: "
             f"{h.escape(', '.join(cmp.candidate.sources))}</p>",
             f'<p class="note">* = {h.escape(NOISE)}.</p>', _table(COLUMNS, rows(cmp), "comparison"),
             "<h2>Latency distributions</h2>"]
    names = sorted({*cmp.baseline.histograms, *cmp.candidate.histograms}, key=natural_key)
    for q in names:
        series = tuple(
            distribution_series(label, r.histograms[q]) for label, r in
            (("baseline", cmp.baseline), ("candidate", cmp.candidate))
            if q in r.histograms and r.histograms[q].get_total_count()
        )
        if series:
            parts.append(_figure(Chart(
                chart_id("compare", q), f"{q}: latency by percentile", "percentile", "latency (ms)",
                "percentile", series, y_log=wide_range(series),
                caption=f"{q}: both runs' merged latency distributions on one axis.")))
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
