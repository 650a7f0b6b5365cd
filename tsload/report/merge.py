"""Merging run directories into one report: histograms added, counters summed, rates over wall time.

Percentiles are never averaged: every session's ``<query>.hdr`` is added into one histogram per
query, and the statistics are read from that (exact up to HDR's 3 significant digits).

Rates use the *union* of the runs' wall-clock intervals [started, ended]: sessions that ran at
the same time (processes, machines, shards) count their overlap once, and runs made one after
another add up their durations. queries/s of a query = its successful executions / that union.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from tsload.report.rundirs import IngestRunDir, QuerySessionDir, RunDirs
from tsload.stats import hdr
from tsload.stats.summary import LatencySummary, summarize

SCHEMA_VERSION = 1


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


def natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class QueryRow:
    query: str
    sessions: int
    total: int
    successful: int
    failed: int
    timed_out: int
    retries: int
    latency: LatencySummary | None
    queries_per_s: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "sessions": self.sessions,
            "total": self.total,
            "successful": self.successful,
            "failed": self.failed,
            "timed_out": self.timed_out,
            "retries": self.retries,
            "latency": self.latency.as_dict() if self.latency else None,
            "queries_per_s": self.queries_per_s,
        }


def _ms_dict(s: LatencySummary | None) -> dict[str, float | int] | None:
    if s is None:
        return None
    return {
        "count": s.count,
        "mean": s.mean * 1e3,
        "stddev": s.stddev * 1e3,
        "p50": s.p50 * 1e3,
        "p90": s.p90 * 1e3,
        "p99": s.p99 * 1e3,
        "p999": s.p999 * 1e3,
        "max": s.max * 1e3,
    }


@dataclass(frozen=True)
class IngestRow:
    runs: int
    generated: int
    ingested: int
    rejected: int
    rejected_by_reason: dict[str, int]
    failed: int
    dropped: int
    requests: int
    retries: int
    throttled: int
    errors_by_code: dict[str, int]
    ingested_measures: int
    wall_s: float | None
    records_per_s: float | None
    measures_per_s: float | None
    write_latency: LatencySummary | None
    lag: LatencySummary | None
    configs: tuple[dict[str, Any], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "runs": self.runs,
            "generated": self.generated,
            "ingested": self.ingested,
            "rejected": {"total": self.rejected, "by_reason": dict(self.rejected_by_reason)},
            "failed": self.failed,
            "dropped": self.dropped,
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "errors": dict(self.errors_by_code),
            "ingested_measures": self.ingested_measures,
            "wall_s": self.wall_s,
            "records_per_s": self.records_per_s,
            "measures_per_s": self.measures_per_s,
            "latency_ms": _ms_dict(self.write_latency),
            "lag_ms": _ms_dict(self.lag),
        }


@dataclass(frozen=True)
class Report:
    sources: tuple[str, ...]
    sessions: int
    wall_s: float | None
    started_s: float | None
    ended_s: float | None
    queries: tuple[QueryRow, ...]
    ingest: IngestRow | None
    histograms: dict[str, Any] = field(repr=False)  # query → merged histogram (µs)
    session_configs: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()

    def row(self, query: str) -> QueryRow:
        for r in self.queries:
            if r.query == query:
                return r
        raise KeyError(query)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "sources": list(self.sources),
            "query_sessions": self.sessions,
            "wall_s": self.wall_s,
            "started_s": self.started_s,
            "ended_s": self.ended_s,
            "queries": [r.as_dict() for r in self.queries],
            "ingest": self.ingest.as_dict() if self.ingest else None,
            "warnings": list(self.warnings),
        }


def _merge_queries(
    sessions: Sequence[QuerySessionDir],
) -> tuple[list[QueryRow], dict[str, Any], float | None]:
    spans = [(s.started_s, s.ended_s) for s in sessions if s.started_s is not None and s.ended_s is not None]
    wall = union_seconds((a, b) for a, b in spans if a is not None and b is not None) if spans else None
    names: set[str] = set()
    for s in sessions:
        names.update(s.counts)
        names.update(s.histograms)
    rows: list[QueryRow] = []
    merged: dict[str, Any] = {}
    for q in sorted(names, key=natural_key):
        hists = [s.histograms[q] for s in sessions if q in s.histograms]
        h = hdr.merge(hists) if hists else None
        if h is not None:
            merged[q] = h
        counts = [s.counts[q] for s in sessions if q in s.counts]
        ok = sum(c.successful for c in counts)
        rows.append(QueryRow(
            query=q,
            sessions=sum(1 for s in sessions if q in s.counts or q in s.histograms),
            total=sum(c.total for c in counts),
            successful=ok,
            failed=sum(c.failed for c in counts),
            timed_out=sum(c.timed_out for c in counts),
            retries=sum(c.retries for c in counts),
            latency=summarize(h) if h is not None else None,
            queries_per_s=(ok / wall) if wall else None,
        ))
    return rows, merged, wall


def _num(d: dict[str, Any], key: str) -> int:
    v = d.get(key)
    if isinstance(v, dict):
        v = v.get("total")
    return int(v) if isinstance(v, int | float) else 0


def _merge_ingest(runs: Sequence[IngestRunDir]) -> IngestRow | None:
    if not runs:
        return None
    by_reason: dict[str, int] = {}
    by_code: dict[str, int] = {}
    for r in runs:
        errs = r.summary.get("errors")
        if isinstance(errs, dict):
            for code, n in errs.items():
                if isinstance(n, int | float):
                    by_code[str(code)] = by_code.get(str(code), 0) + int(n)
        rej = r.summary.get("rejected")
        if isinstance(rej, dict) and isinstance(rej.get("by_reason"), dict):
            for reason, n in rej["by_reason"].items():
                by_reason[str(reason)] = by_reason.get(str(reason), 0) + int(n)
    ingested = sum(_num(r.summary, "ingested") for r in runs)
    spans = [(r.started_s, r.ended_s) for r in runs]
    if all(a is not None and b is not None for a, b in spans):
        wall: float | None = union_seconds((a, b) for a, b in spans if a is not None and b is not None)
    else:
        wall = None
    measures = sum(_num(r.summary, "ingested_measures") for r in runs)
    if wall:
        rate: float | None = ingested / wall
    else:
        rates = [r.summary.get("records_per_s") for r in runs]
        rate = float(sum(x for x in rates if isinstance(x, int | float))) if any(
            isinstance(x, int | float) for x in rates) else None
    wl = [r.write_latency for r in runs if r.write_latency is not None]
    lag = [r.lag for r in runs if r.lag is not None]
    configs = tuple(r.summary["config"] for r in runs if isinstance(r.summary.get("config"), dict))
    return IngestRow(
        runs=len(runs),
        generated=sum(_num(r.summary, "generated") for r in runs),
        ingested=ingested,
        rejected=sum(_num(r.summary, "rejected") for r in runs),
        rejected_by_reason=dict(sorted(by_reason.items())),
        failed=sum(_num(r.summary, "failed") for r in runs),
        dropped=sum(_num(r.summary, "dropped") for r in runs),
        requests=sum(_num(r.summary, "requests") for r in runs),
        retries=sum(_num(r.summary, "retries") for r in runs),
        throttled=sum(_num(r.summary, "throttled") for r in runs),
        errors_by_code=dict(sorted(by_code.items())),
        ingested_measures=measures,
        wall_s=wall,
        records_per_s=rate,
        measures_per_s=(measures / wall) if wall and measures else None,
        write_latency=summarize(hdr.merge(wl)) if wl else None,
        lag=summarize(hdr.merge(lag)) if lag else None,
        configs=configs,
    )


def build_report(found: RunDirs, sources: Sequence[str] = ()) -> Report:
    rows, merged, wall = _merge_queries(found.sessions)
    starts = [t for t in (*(s.started_s for s in found.sessions), *(r.started_s for r in found.ingests)) if t]
    ends = [t for t in (*(s.ended_s for s in found.sessions), *(r.ended_s for r in found.ingests)) if t]
    configs: dict[bytes, dict[str, Any]] = {}
    for s in found.sessions:
        cfg = s.meta.get("config") if s.meta else None
        if isinstance(cfg, dict):
            configs.setdefault(orjson.dumps(cfg, option=orjson.OPT_SORT_KEYS), cfg)
    return Report(
        sources=tuple(sources),
        sessions=len(found.sessions),
        wall_s=wall,
        started_s=min(starts) if starts else None,
        ended_s=max(ends) if ends else None,
        queries=tuple(rows),
        ingest=_merge_ingest(found.ingests),
        histograms=merged,
        session_configs=tuple(configs.values()),
        warnings=found.warnings,
    )
