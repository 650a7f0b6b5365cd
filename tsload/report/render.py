"""Text renderings of a `Report`: rich tables, the sample-compatible CSV, Markdown and JSON."""

from __future__ import annotations

import io
from collections.abc import Sequence

import orjson
from rich.console import Console, Group, RenderableType
from rich.table import Table

from tsload.report.merge import IngestRow, QueryRow, Report
from tsload.report.sample_csv import SAMPLE_HEADER, AveragedTable, fmt3
from tsload.stats.summary import LatencySummary

FORMATS = ("table", "csv", "md", "json", "html")

#: Columns after the sample's nine, in this order.
EXTRA_CSV_COLUMNS = (
    "Failed Count", "Timed Out Count", "Retries", "99.9th Perc (in secs)", "Max (in secs)",
    "Min (in secs)", "Queries/s", "Sessions",
)
CSV_HEADER = SAMPLE_HEADER + "".join(f", {c}" for c in EXTRA_CSV_COLUMNS)

QUERY_COLUMNS = (
    "query", "total", "ok", "failed", "timed out", "mean", "stddev", "p50", "p90", "p99", "p99.9", "max",
    "geo mean", "q/s",
)


def ms(seconds: float) -> str:
    """A latency in milliseconds for tables (2 decimals)."""
    return f"{seconds * 1e3:,.2f}"


def rate(x: float | None) -> str:
    return "" if x is None else f"{x:,.2f}"


def query_cells(r: QueryRow) -> list[str]:
    lat = r.latency
    cells = [r.query, str(r.total), str(r.successful), str(r.failed), str(r.timed_out)]
    if lat is None:
        cells += [""] * 8
    else:
        vals = (lat.mean, lat.stddev, lat.p50, lat.p90, lat.p99, lat.p999, lat.max, lat.geomean)
        cells += [ms(v) for v in vals]
    cells.append(rate(r.queries_per_s))
    return cells


def _lat_cells(s: LatencySummary | None) -> list[str]:
    if s is None:
        return [""] * 5
    return [ms(s.p50), ms(s.p90), ms(s.p99), ms(s.p999), ms(s.max)]


INGEST_COLUMNS = (
    "runs", "generated", "ingested", "rejected", "failed", "dropped", "requests", "retries", "throttled",
    "records/s",
)


def ingest_cells(i: IngestRow) -> list[str]:
    return [
        str(i.runs), str(i.generated), str(i.ingested), str(i.rejected), str(i.failed), str(i.dropped),
        str(i.requests), str(i.retries), str(i.throttled), rate(i.records_per_s),
    ]


def ingest_breakdowns(i: IngestRow) -> list[tuple[str, str, dict[str, int]]]:
    """(title, key column, counts) tables: rejected records by reason, errors by code."""
    out = []
    if i.rejected_by_reason:
        out.append(("Rejected records by reason", "reason", i.rejected_by_reason))
    if i.errors_by_code:
        out.append(("Errors by code", "code", i.errors_by_code))
    return out


def ingest_latency_rows(i: IngestRow) -> list[list[str]]:
    return [["write latency", *_lat_cells(i.write_latency)], ["lag", *_lat_cells(i.lag)]]


SCHEDULE_COLUMNS = ("query", "service p50", "service p99", "late", "dropped")
SCHEDULE_NOTE = ("Open model: latency above is from each query's scheduled start; service time is from the "
                 "moment it was sent. late = started more than 10 ms behind schedule; dropped = scheduled "
                 "starts never made.")


def schedule_rows(report: Report) -> list[list[str]] | None:
    """Per query service time, late and dropped: only for open-model runs (in a closed-model run
    service time equals latency by construction, so the table would repeat the one above)."""
    if report.arrival is None and not any(r.late or r.dropped for r in report.queries):
        return None
    rows = []
    for r in report.queries:
        st = r.service_time
        cells = ["", ""] if st is None else [ms(st.p50), ms(st.p99)]
        rows.append([r.query, *cells, str(r.late), str(r.dropped)])
    return rows


def _headline(report: Report) -> str:
    wall = f"{report.wall_s:,.1f} s" if report.wall_s is not None else "unknown"
    return (f"{report.sessions} query session(s), wall time (union) {wall}; "
            "latency in ms, merged from HDR histograms")


def to_renderable(report: Report, averaged: AveragedTable | None = None) -> RenderableType:
    parts: list[RenderableType] = []
    if report.queries:
        t = Table(title="Queries", caption=_headline(report))
        for i, c in enumerate(QUERY_COLUMNS):
            t.add_column(c, justify="left" if i == 0 else "right")
        for r in report.queries:
            t.add_row(*query_cells(r))
        parts.append(t)
        sched = schedule_rows(report)
        if sched is not None:
            caption = report.arrival.verdict() if report.arrival is not None else None
            st = Table(title="Queries on the arrival schedule (ms)", caption=caption)
            for i, c in enumerate(SCHEDULE_COLUMNS):
                st.add_column(c, justify="left" if i == 0 else "right")
            for row in sched:
                st.add_row(*row)
            parts.append(st)
    if averaged is not None:
        parts.append(averaged_renderable(averaged))
    if report.ingest is not None:
        t = Table(title="Ingest")
        for c in INGEST_COLUMNS:
            t.add_column(c, justify="right")
        t.add_row(*ingest_cells(report.ingest))
        parts.append(t)
        lt = Table(title="Ingest latency (ms)")
        for i, c in enumerate(("", "p50", "p90", "p99", "p99.9", "max")):
            lt.add_column(c, justify="left" if i == 0 else "right")
        for row in ingest_latency_rows(report.ingest):
            lt.add_row(*row)
        parts.append(lt)
        for title, key, counts in ingest_breakdowns(report.ingest):
            rt = Table(title=title)
            rt.add_column(key)
            rt.add_column("count", justify="right")
            for k, n in counts.items():
                rt.add_row(k, str(n))
            parts.append(rt)
    return Group(*parts)


def averaged_renderable(table: AveragedTable) -> Table:
    t = Table(title=f"The sample's averaged table ({table.files} file(s); averaging percentiles is wrong: "
                    "compare with the merged table)")
    for i, c in enumerate(table.header):
        t.add_column(c.strip(), justify="left" if i == 0 else "right")
    for q, vals in table.rows:
        cells = [q, *("" if v is None else fmt3(v) for v in vals)]
        t.add_row(*cells[: len(table.header)])
    return t


def to_text(report: Report, averaged: AveragedTable | None = None, width: int = 160) -> str:
    buf = io.StringIO()
    Console(file=buf, width=width, no_color=True, highlight=False).print(to_renderable(report, averaged))
    return buf.getvalue()


def to_csv(report: Report) -> str:
    """The sample's header and column order (seconds, 3 decimals), then the extra columns."""
    lines = [CSV_HEADER]
    for r in report.queries:
        lat = r.latency
        cells = [r.query, str(r.total), str(r.successful)]
        if lat is None:
            cells += [""] * 6
        else:
            cells += [fmt3(v) for v in (lat.mean, lat.stddev, lat.p50, lat.p90, lat.p99, lat.geomean)]
        cells += [str(r.failed), str(r.timed_out), str(r.retries)]
        cells += ["", "", ""] if lat is None else [fmt3(lat.p999), fmt3(lat.max), fmt3(lat.min)]
        cells += ["" if r.queries_per_s is None else fmt3(r.queries_per_s), str(r.sessions)]
        lines.append(", ".join(cells))
    return "\n".join(lines) + "\n"


def _md_table(header: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    out = ["| " + " | ".join(header) + " |"]
    out.append("|" + "|".join("---" if i < left else "---:" for i in range(len(header))) + "|")
    out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
    return out


def summary_markdown(report: Report) -> list[str]:
    """The verdict-first summary (what ran, the verdict, the headline numbers) as Markdown lines."""
    from tsload.report.summary import headline_rows, run_json_of, verdict_lines, what_ran

    run_json = run_json_of(report.sources)
    lines = ["**Summary**", ""]
    lines += [f"- {k}: {v}" for k, v in what_ran(report, run_json)]
    _, verdict = verdict_lines(report, run_json)
    lines += ["", f"**{verdict[0]}**"]
    lines += [f"- {x}" for x in verdict[1:]]
    header, rows = headline_rows(report)
    if rows:
        lines.append("")
        lines += _md_table(header, rows)
    return [*lines, ""]


def to_markdown(report: Report, averaged: AveragedTable | None = None) -> str:
    lines: list[str] = summary_markdown(report)
    if report.queries:
        lines.append(f"**Queries** — {_headline(report)}")
        lines.append("")
        lines += _md_table(QUERY_COLUMNS, [query_cells(r) for r in report.queries])
        sched = schedule_rows(report)
        if sched is not None:
            lines += ["", f"**Queries on the arrival schedule (ms)** — {SCHEDULE_NOTE}"]
            if report.arrival is not None:
                lines += ["", report.arrival.verdict()]
            lines += ["", *_md_table(SCHEDULE_COLUMNS, sched)]
    if averaged is not None:
        lines += ["", f"**The sample's averaged table** ({averaged.files} file(s); for comparison only)", ""]
        lines += _md_table(
            [c.strip() for c in averaged.header],
            [[q, *("" if v is None else fmt3(v) for v in vals)] for q, vals in averaged.rows],
        )
    if report.ingest is not None:
        if lines:
            lines.append("")
        lines += ["**Ingest**", ""]
        lines += _md_table(INGEST_COLUMNS, [ingest_cells(report.ingest)], left=0)
        lines += ["", "**Ingest latency (ms)**", ""]
        lines += _md_table(("", "p50", "p90", "p99", "p99.9", "max"), ingest_latency_rows(report.ingest))
        for title, key, counts in ingest_breakdowns(report.ingest):
            lines += ["", f"**{title}**", ""]
            lines += _md_table((key, "count"), [[k, str(v)] for k, v in counts.items()])
    return "\n".join(lines) + "\n"


def to_json(report: Report) -> str:
    return orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"
