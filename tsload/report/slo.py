"""SLO thresholds: ``--slo EXPR`` parsed once, evaluated on a merged `Report`.

Grammar (one expression per ``--slo``)::

    EXPR    = SUBJECT "." METRIC OP NUMBER [UNIT]
    SUBJECT = "queries" (all queries merged) | "ingest" | a query name (do-q1 ...)
    OP      = "<" | "<=" | ">" | ">="
    UNIT    = "ms" | "s" | "%"

Query metrics: a latency statistic (``p50 p90 p99 p99.9 p999 max mean min``; latency from the
intended start), ``latency.STAT`` (the same), ``service_time.STAT`` (from the send), and
``failed``, ``timed_out``, ``late`` (of the executions), ``dropped`` (of the scheduled starts) as
counts or, with ``%``, percentages; ``queries_per_s`` (successful per second of wall time).
Ingest metrics: ``latency.STAT`` (from the scheduled emission time to the answer),
``service_time.STAT`` (from the send: the write latency), ``lag.STAT``; ``rejected``, ``failed``,
``dropped`` (of the generated records) and ``throttled``, ``retries`` (of the requests) as counts
or percentages; ``records_per_s``, ``measures_per_s``.
Latency thresholds need a unit (ms or s); percentages only go with counters; rates are plain.

A threshold with nothing measured behind it (no execution of that query, no ingestion) fails:
a CI gate must not pass on an empty run.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tsload._errors import ConfigError
from tsload.stats import hdr
from tsload.stats.summary import LatencySummary, summarize

if TYPE_CHECKING:
    from tsload.report.merge import Report

STATS = ("p50", "p90", "p99", "p99.9", "p999", "max", "mean", "min")
_STAT_ATTR = {"p50": "p50", "p90": "p90", "p99": "p99", "p99.9": "p999", "p999": "p999", "max": "max",
              "mean": "mean", "min": "min"}
QUERY_COUNTERS = ("failed", "timed_out", "late", "dropped")
QUERY_RATES = ("queries_per_s",)
INGEST_COUNTERS = ("rejected", "failed", "dropped", "throttled", "retries")
INGEST_RATES = ("records_per_s", "measures_per_s")
QUERY_LATENCIES = ("latency", "service_time")
INGEST_LATENCIES = ("latency", "service_time", "lag")
OPS = ("<=", ">=", "<", ">")

ALLOWED = ("SUBJECT.METRIC OP NUMBER[ms|s|%] with SUBJECT queries, ingest or a query name and OP < <= > >=, "
           "e.g. do-q1.p99<500ms, queries.failed<1%, do-q3.service_time.p50<200ms, ingest.lag.p99<5s, "
           "ingest.rejected<0.1%, ingest.records_per_s>1000")

_EXPR = re.compile(
    r"^\s*(?P<lhs>[^<>=\s]+)\s*(?P<op><=|>=|<|>)\s*"
    r"(?P<num>(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>ms|s|%)?\s*$"
)


@dataclass(frozen=True)
class Slo:
    """One parsed threshold. ``metric`` is canonical (``latency.p99``, ``failed``, ``records_per_s``)."""

    expr: str
    subject: str  # "queries", "ingest" or a query name
    metric: str
    op: str
    threshold: float  # in `unit`
    unit: str  # "ms", "s", "%" or ""

    def holds(self, value: float) -> bool:
        t = self.threshold
        return {"<": value < t, "<=": value <= t, ">": value > t, ">=": value >= t}[self.op]


@dataclass(frozen=True)
class SloResult:
    """An evaluated threshold: ``value`` in ``unit`` (None: nothing measured, which fails)."""

    expr: str
    value: float | None
    threshold: float
    unit: str
    passed: bool

    def as_dict(self) -> dict[str, Any]:
        return {"expr": self.expr, "value": self.value, "threshold": self.threshold, "unit": self.unit,
                "pass": self.passed}


def _bad(expr: str, why: str) -> ConfigError:
    return ConfigError("slo", f"{why}; allowed: {ALLOWED}", got=expr)


def _split_subject(lhs: str) -> tuple[str, str]:
    """(subject, metric text): the metric is the longest known suffix after a dot."""
    for subject in ("queries", "ingest"):
        if lhs.startswith(subject + "."):
            return subject, lhs[len(subject) + 1:]
    metrics = sorted(
        {*STATS, *QUERY_COUNTERS, *QUERY_RATES, *(f"{k}.{s}" for k in QUERY_LATENCIES for s in STATS)},
        key=len, reverse=True,
    )
    for m in metrics:
        if lhs.endswith("." + m) and len(lhs) > len(m) + 1:
            return lhs[: -len(m) - 1], m
    head, _, tail = lhs.rpartition(".")
    return head, tail


def parse_slo(expr: str) -> Slo:
    """Parse one expression (ConfigError naming it and what is allowed)."""
    m = _EXPR.match(expr)
    if m is None:
        raise _bad(expr, "not of the form SUBJECT.METRIC OP NUMBER[UNIT]")
    lhs, op, unit = m["lhs"], m["op"], m["unit"] or ""
    threshold = float(m["num"])
    subject, metric = _split_subject(lhs)
    if not subject or not metric:
        raise _bad(expr, f"{lhs!r} names no SUBJECT.METRIC")
    ingest = subject == "ingest"
    latencies = INGEST_LATENCIES if ingest else QUERY_LATENCIES
    counters = INGEST_COUNTERS if ingest else QUERY_COUNTERS
    rates = INGEST_RATES if ingest else QUERY_RATES
    if not ingest and metric in STATS:
        metric = f"latency.{metric}"
    kind, _, stat = metric.partition(".")
    if kind in latencies and stat in STATS:
        metric = f"{kind}.{_STAT_ATTR[stat]}"
        if unit not in ("ms", "s"):
            raise _bad(expr, f"{metric} is a latency: give the threshold in ms or s")
    elif metric in counters:
        if unit not in ("", "%"):
            raise _bad(expr, f"{metric} is a count: give a plain number or a percentage")
    elif metric in rates:
        if unit:
            raise _bad(expr, f"{metric} is a rate per second: give a plain number")
    else:
        names = [*(f"{k}.STAT" for k in latencies), *counters, *rates]
        if not ingest:
            names.insert(0, "STAT")
        raise _bad(expr, f"unknown metric {metric!r} for {subject} (metrics: {', '.join(names)}; "
                         f"STAT: {' '.join(STATS)})")
    return Slo(expr=expr.strip(), subject=subject, metric=metric, op=op, threshold=threshold, unit=unit)


def parse_slos(
    exprs: Iterable[str],
    *,
    queries: Collection[str] | None = None,
    ingest: bool = True,
    query_side: bool = True,
) -> tuple[Slo, ...]:
    """Parse every ``--slo`` before work starts; check subjects against what the command runs.

    ``queries``: the query names the workload can run (None: not known yet, e.g. ``tsload report``);
    ``ingest``/``query_side``: whether the command ingests / runs queries at all.
    """
    out = []
    for e in exprs:
        slo = parse_slo(e)
        if slo.subject == "ingest" and not ingest:
            raise _bad(e, "this command does not ingest; SUBJECT is queries or a query name")
        if slo.subject != "ingest" and not query_side:
            raise _bad(e, "this command runs no queries; SUBJECT is ingest")
        if queries is not None and slo.subject not in ("queries", "ingest") and slo.subject not in queries:
            raise _bad(e, f"no query {slo.subject!r} in the workload (queries: {', '.join(sorted(queries))})")
        out.append(slo)
    return tuple(out)


def check_subjects(slos: Sequence[Slo], report: Report) -> None:
    """ConfigError when a threshold names a query these runs never had (``tsload report``)."""
    names = {r.query for r in report.queries}
    for s in slos:
        if s.subject not in ("queries", "ingest") and s.subject not in names:
            known = ", ".join(sorted(names)) or "none"
            raise _bad(s.expr, f"no query {s.subject!r} in these runs (queries: {known})")


# -- evaluation --------------------------------------------------------------------------------------
def _stat(summary: LatencySummary | None, attr: str, unit: str) -> float | None:
    if summary is None:
        return None
    v = float(getattr(summary, attr))
    return v * 1e3 if unit == "ms" else v


def _ratio(count: int, whole: int, unit: str) -> float | None:
    if unit != "%":
        return float(count)
    return 100.0 * count / whole if whole > 0 else None


def _merged(histograms: dict[str, Any]) -> LatencySummary | None:
    return summarize(hdr.merge(histograms.values())) if histograms else None


def measure(slo: Slo, report: Report) -> float | None:
    """The measured value of one threshold's metric, in its unit (None: nothing measured)."""
    kind, _, stat = slo.metric.partition(".")
    if slo.subject == "ingest":
        i = report.ingest
        if i is None:
            return None
        if stat:
            summary = {"latency": i.write_latency_from_schedule, "service_time": i.write_latency,
                       "lag": i.lag}[kind]
            return _stat(summary, stat, slo.unit)
        if slo.metric in INGEST_RATES:
            return getattr(i, slo.metric)  # type: ignore[no-any-return]
        whole = i.requests if slo.metric in ("throttled", "retries") else i.generated
        return _ratio(int(getattr(i, slo.metric)), whole, slo.unit)
    rows = [r for r in report.queries if slo.subject in ("queries", r.query)]
    if not rows:
        return None
    if stat:
        if slo.subject == "queries":
            hists = report.histograms if kind == "latency" else report.service_histograms
            return _stat(_merged(hists), stat, slo.unit)
        r = rows[0]
        return _stat(r.latency if kind == "latency" else r.service_time, stat, slo.unit)
    if slo.metric == "queries_per_s":
        rates = [r.queries_per_s for r in rows]
        return None if any(x is None for x in rates) else float(sum(x for x in rates if x is not None))
    total = sum(r.total for r in rows)
    count = sum(int(getattr(r, slo.metric)) for r in rows)
    whole = total + sum(r.dropped for r in rows) if slo.metric == "dropped" else total
    return _ratio(count, whole, slo.unit)


def evaluate(slos: Sequence[Slo], report: Report) -> tuple[SloResult, ...]:
    out = []
    for s in slos:
        v = measure(s, report)
        ok = v is not None and not math.isnan(v) and s.holds(v)
        out.append(SloResult(expr=s.expr, value=v, threshold=s.threshold, unit=s.unit, passed=ok))
    return tuple(out)


# -- plain-text rendering (the end-of-run block of query/ingest/run/report) --------------------------
def _fmt(v: float | None, unit: str) -> str:
    if v is None:
        return "no data"
    text = f"{v:,.3f}".rstrip("0").rstrip(".") if abs(v) < 1000 else f"{v:,.0f}"
    return f"{text} {unit}".rstrip() if unit != "%" else f"{text}%"


def block_lines(results: Sequence[SloResult]) -> list[str]:
    """The SLO block: every threshold with its measured value and verdict (verdict first)."""
    if not results:
        return []
    failed = [r for r in results if not r.passed]
    head = (f"SLO: {len(failed)} of {len(results)} FAILED" if failed
            else f"SLO: all {len(results)} passed")
    width = max(len(r.expr) for r in results)
    lines = [head]
    for r in results:
        verdict = "pass" if r.passed else "FAIL"
        lines.append(f"  {verdict}  {r.expr:<{width}}  measured {_fmt(r.value, r.unit)}")
    return lines


def failure_line(results: Sequence[SloResult]) -> str | None:
    """The last line of a failed run: which thresholds failed and by how much (None when all passed)."""
    failed = [r for r in results if not r.passed]
    if not failed:
        return None
    return "SLO failed: " + ", ".join(f"{r.expr} (measured {_fmt(r.value, r.unit)})" for r in failed)
