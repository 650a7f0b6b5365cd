"""The report model from a command's own results and running totals, for SLO evaluation.

``tsload report`` reads run directories; ``tsload query``/``ingest``/``run`` also evaluate ``--slo``
while they run (``--abort-on-fail``) and at the end, on the same `Report` model, so a threshold
means the same thing in every command. Query progress ticks carry each interval's histograms
(``<query>`` latency from the intended start, ``<query>|service_time``) and cumulative counters
(``<query>|total``, ``|ok``, ``|failed``, ``|timed_out``, ``|retries``, ``|late``, ``|dropped``);
`RunningTotals` adds the intervals up exactly.
"""

from __future__ import annotations

import time
from typing import Any

from tsload.report.merge import IngestRow, QueryRow, Report, natural_key
from tsload.stats import hdr
from tsload.stats.summary import summarize

SERVICE_KEY = "|service_time"


def _summ(h: Any) -> Any:
    return summarize(h) if h is not None and h.get_total_count() else None


def ingest_row_from_summary(s: Any) -> IngestRow:
    """An `IngestRow` from an `IngestSummary` (its histograms are exact: the run's totals)."""

    def dec(text: str) -> Any:
        return hdr.decode(text) if text else None

    return IngestRow(
        runs=1,
        generated=s.generated,
        ingested=s.ingested,
        rejected=s.rejected,
        rejected_by_reason=dict(s.rejected_by_reason),
        failed=s.failed,
        dropped=s.dropped,
        requests=s.requests,
        retries=s.retries,
        throttled=s.throttled,
        errors_by_code=dict(s.errors_by_code),
        ingested_measures=s.ingested_measures,
        wall_s=s.elapsed_s,
        records_per_s=s.records_per_s,
        measures_per_s=s.measures_per_s,
        write_latency=_summ(dec(s.latency_hdr)),
        lag=_summ(dec(s.lag_hdr)),
        configs=(dict(s.config),),
        write_latency_from_schedule=_summ(dec(s.latency_from_schedule_hdr)),
    )


def ingest_report(summary: Any) -> Report:
    return Report(sources=(), sessions=0, wall_s=summary.elapsed_s, started_s=summary.started,
                  ended_s=summary.ended, queries=(), ingest=ingest_row_from_summary(summary), histograms={})


class RunningTotals:
    """Cumulative figures of a live run, fed by the progress callbacks (one event loop)."""

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self.started = clock()
        self._hists: dict[str, Any] = {}
        self._counts: dict[str, int] = {}
        self._ingest: Any = None

    def add_query(self, progress: Any) -> None:
        """A `QueryProgress`: its interval's histograms are added, its cumulative counts kept."""
        for k, h in progress.interval.histograms.items():
            self._hists.setdefault(k, hdr.new_histogram()).add(h)
        self._counts = dict(progress.totals)

    def add_ingest(self, progress: Any) -> None:
        """An ingest `Progress` of the live phase (it carries the run's cumulative histograms)."""
        self._ingest = progress

    def report(self) -> Report:
        wall = max(self._clock() - self.started, 1e-9)
        names = sorted({k.split("|", 1)[0] for k in self._counts} | {k for k in self._hists if "|" not in k},
                       key=natural_key)
        rows = []
        for q in names:
            n = self._counts

            def c(key: str, q: str = q, n: dict[str, int] = n) -> int:
                return int(n.get(f"{q}|{key}", 0))

            rows.append(QueryRow(
                query=q, sessions=0, total=c("total"), successful=c("ok"), failed=c("failed"),
                timed_out=c("timed_out"), retries=c("retries"), latency=_summ(self._hists.get(q)),
                queries_per_s=c("ok") / wall, service_time=_summ(self._service(q)),
                late=c("late"), dropped=c("dropped"),
            ))
        return Report(
            sources=(), sessions=0, wall_s=wall, started_s=self.started, ended_s=self._clock(),
            queries=tuple(rows), ingest=self._ingest_row(),
            histograms={q: self._hists[q] for q in names if q in self._hists},
            service_histograms={q: h for q in names if (h := self._service(q)) is not None},
        )

    def _service(self, q: str) -> Any:
        """A query's service-time histogram; the closed model records none apart (it is the
        latency there)."""
        h = self._hists.get(q + SERVICE_KEY)
        return self._hists.get(q) if h is None else h

    def _ingest_row(self) -> IngestRow | None:
        p = self._ingest
        if p is None:
            return None
        wall = max(float(p.elapsed_s), 1e-9)
        return IngestRow(
            runs=1, generated=p.generated, ingested=p.ingested, rejected=p.rejected, rejected_by_reason={},
            failed=p.failed, dropped=p.dropped, requests=p.requests, retries=p.retries, throttled=p.throttled,
            errors_by_code={}, ingested_measures=p.ingested_measures, wall_s=wall,
            records_per_s=p.ingested / wall, measures_per_s=p.ingested_measures / wall,
            write_latency=_summ(p.latency_total), lag=_summ(p.lag_total), configs=(),
            write_latency_from_schedule=_summ(p.from_schedule_total),
        )
