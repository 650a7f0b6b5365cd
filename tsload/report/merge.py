"""Merging run directories into one report: histograms added, counters summed, rates over wall time.

Percentiles are never averaged: every session's ``<query>.hdr`` is added into one histogram per
query, and the statistics are read from that (exact up to HDR's 3 significant digits). Sessions
the AWS sample wrote have no histogram: their ``.log`` lines give every latency to the millisecond,
and when all of a query's latencies come from such lines its statistics are computed from the
values themselves (exact at that resolution).

Rates use the *union* of the runs' wall-clock intervals [started, ended]: sessions that ran at
the same time (processes, machines, shards) count their overlap once, and runs made one after
another add up their durations. queries/s of a query = its successful executions / that union.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from tsload.query.arrival import ArrivalSummary
from tsload.report.rundirs import IngestRunDir, QuerySessionDir, RunDirs
from tsload.stats import hdr
from tsload.stats.summary import LatencySummary, summarize, summarize_values, union_seconds

if TYPE_CHECKING:
    from tsload.report.slo import SloResult

SCHEMA_VERSION = 1


def natural_key(name: str) -> list[Any]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


@dataclass(frozen=True)
class QueryRow:
    """One query's merged figures.

    ``latency`` is measured from the query's *intended* start (its place in the arrival schedule,
    so time spent queued behind a busy pool counts); ``service_time`` from the moment the request
    was sent. In a closed-model run the two are equal by construction. ``late`` counts executions
    that started more than 10 ms behind schedule, ``dropped`` scheduled starts that were
    never made because the bounded queue of scheduled starts was full (both 0 in a closed model).
    """

    query: str
    sessions: int
    total: int
    successful: int
    failed: int
    timed_out: int
    retries: int
    latency: LatencySummary | None
    queries_per_s: float | None
    service_time: LatencySummary | None = None
    late: int = 0
    dropped: int = 0

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
            "service_time": self.service_time.as_dict() if self.service_time else None,
            "late": self.late,
            "dropped": self.dropped,
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
    """Merged ingestion figures.

    ``write_latency`` is measured from the moment a request was sent to its answer (per attempt:
    the service time); ``write_latency_from_schedule`` from the scheduled emission time of the
    request's points to the final answer (queueing behind busy writers and retries included), the
    ingest counterpart of a query's ``latency``. ``lag`` is the part before the send.
    """

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
    write_latency_from_schedule: LatencySummary | None = None

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
            "latency_from_schedule_ms": _ms_dict(self.write_latency_from_schedule),
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
    histograms: dict[str, Any] = field(repr=False)  # query → merged latency histogram (µs)
    session_configs: tuple[dict[str, Any], ...] = ()
    warnings: tuple[str, ...] = ()
    service_histograms: dict[str, Any] = field(default_factory=dict, repr=False)  # query → service time (µs)
    arrival: ArrivalSummary | None = None  # open-model runs only
    slo: tuple[SloResult, ...] = ()  # evaluated thresholds, in the order given

    @property
    def slo_failed(self) -> tuple[SloResult, ...]:
        return tuple(r for r in self.slo if not r.passed)

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
            "arrival": self.arrival.as_dict() if self.arrival else None,
            "slo": [r.as_dict() for r in self.slo],
            "warnings": list(self.warnings),
        }


def _merge_queries(
    sessions: Sequence[QuerySessionDir],
) -> tuple[list[QueryRow], dict[str, Any], dict[str, Any], float | None]:
    spans = [(s.started_s, s.ended_s) for s in sessions if s.started_s is not None and s.ended_s is not None]
    wall = union_seconds((a, b) for a, b in spans if a is not None and b is not None) if spans else None
    names: set[str] = set()
    for s in sessions:
        names.update(s.counts)
        names.update(s.histograms)
        # every query of the mix: a session writes each query's .sql (as the sample did) whether or not
        # it ran, so a query drawn by no session still gets its row, with a zero count
        names.update(p.stem for p in s.path.glob("*.sql"))
    rows: list[QueryRow] = []
    merged: dict[str, Any] = {}
    merged_service: dict[str, Any] = {}
    for q in sorted(names, key=natural_key):
        hists = [s.histograms[q] for s in sessions if q in s.histograms]
        h = hdr.merge(hists) if hists else None
        if h is not None:
            merged[q] = h
        service = [s.service_histograms[q] for s in sessions if q in s.service_histograms]
        sh = hdr.merge(service) if service else None
        if sh is not None:
            merged_service[q] = sh
        latency = summarize(h) if h is not None else None
        service_time = summarize(sh) if sh is not None else None
        with_lat = [s for s in sessions if q in s.histograms]
        if with_lat and all(q in s.exact_us for s in with_lat):
            # every latency of this query is known exactly (the sample's .log lines, in ms)
            values: Counter[int] = Counter()
            for s in with_lat:
                values.update(s.exact_us[q])
            latency = summarize_values(values)
            if all(q in s.service_histograms for s in with_lat) and len(service) == len(with_lat):
                service_time = latency
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
            latency=latency,
            queries_per_s=(ok / wall) if wall else None,
            service_time=service_time,
            late=sum(c.late for c in counts),
            dropped=sum(c.dropped for c in counts),
        ))
    return rows, merged, merged_service, wall


def _arrival(sessions: Sequence[QuerySessionDir], rows: Sequence[QueryRow], wall: float | None,
             warnings: list[str]) -> ArrivalSummary | None:
    """The open-model summary when the sessions ran on an arrival schedule (one requested rate).

    Each process's first session carries its schedule's window (``arrival`` in session.json): the
    achieved rate is the executions started over the union of those windows, so setup time
    (parameters, data-point counts) does not dilute it.
    """
    rates: set[float] = set()
    kinds: set[str] = set()
    windows: list[tuple[float, float]] = []
    for s in sessions:
        meta = s.meta or {}
        cfg = meta.get("config")
        if isinstance(cfg, dict) and isinstance(cfg.get("arrival_rate"), int | float):
            rates.add(float(cfg["arrival_rate"]))
            kinds.add(str(cfg.get("arrival") or "constant"))
        block = meta.get("arrival")
        if isinstance(block, dict) and isinstance(block.get("origin_s"), int | float) and isinstance(
                block.get("window_s"), int | float):
            windows.append((float(block["origin_s"]), float(block["origin_s"]) + float(block["window_s"])))
    if not rates:
        return None
    if len(rates) > 1:
        warnings.append("the runs asked for different --arrival-rate values "
                        f"({', '.join(f'{r:g}' for r in sorted(rates))}/s): no achieved-vs-requested figure")
        return None
    span = union_seconds(windows) if windows else wall
    return ArrivalSummary.build(
        requested_per_s=rates.pop(),
        arrival=kinds.pop() if len(kinds) == 1 else "mixed",
        span_s=span,
        started=sum(r.total for r in rows),
        late=sum(r.late for r in rows),
        dropped=sum(r.dropped for r in rows),
    )


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
    wls = [r.write_latency_from_schedule for r in runs if r.write_latency_from_schedule is not None]
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
        write_latency_from_schedule=summarize(hdr.merge(wls)) if wls else None,
    )


def build_report(found: RunDirs, sources: Sequence[str] = ()) -> Report:
    rows, merged, merged_service, wall = _merge_queries(found.sessions)
    warnings = list(found.warnings)
    arrival = _arrival(found.sessions, rows, wall, warnings)
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
        warnings=tuple(warnings),
        service_histograms=merged_service,
        arrival=arrival,
    )
