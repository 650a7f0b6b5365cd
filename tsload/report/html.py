"""`tsload report --format html`: one self-contained page (inline CSS and SVG, no network).

Verdict first, as a reader wants it: a summary (what ran, the verdict — SLOs when given, else
errors and rejections — and the headline numbers), then the tables (every query of the mix, also
those that did not run), then the charts (one time axis, the run's, for every chart over time),
and the configuration last, folded, in the user's terms (flags, not internal fields). The
report's JSON (`Report.as_dict`) and each chart's data are embedded as well, so the page can be
checked against the run directory and reused by scripts.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import Any

import orjson

from tsload.report.charts import Chart, build_charts
from tsload.report.merge import Report
from tsload.report.render import (
    INGEST_COLUMNS,
    QUERY_COLUMNS,
    SCHEDULE_COLUMNS,
    SCHEDULE_NOTE,
    ingest_breakdowns,
    ingest_cells,
    ingest_latency_rows,
    query_cells,
    schedule_rows,
)
from tsload.report.rundirs import RunDirs
from tsload.report.summary import config_rows, headline_rows, run_json_of, verdict_lines, what_ran
from tsload.report.svg import render_svg, require_matplotlib

_CSS = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1400px;color:#222;padding:0 1em}
svg{width:100%;height:auto}.pass{color:#1a7f37;font-weight:bold}.fail{color:#c62828;font-weight:bold}
#summary ul{margin:.3em 0}#summary li{margin:.15em 0}
h1{font-size:1.5em}h2{font-size:1.2em;margin-top:2em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #ddd;padding:3px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
th{background:#f4f4f4}pre{background:#f7f7f7;padding:.6em;overflow:auto;font-size:.85em}
figure{margin:1em 0}figcaption{font-size:.85em;color:#555}.note{color:#555;font-size:.9em}
"""


def _esc(x: Any) -> str:
    return html.escape(str(x))


def _table(header: Sequence[str], rows: Sequence[Sequence[str]], table_id: str) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _script_json(data: Any) -> str:
    # "</" would end the <script> element early.
    return orjson.dumps(data).decode().replace("</", "<\\/")


def _when(ts: float | None) -> str:
    if ts is None:
        return "unknown"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _figure(chart: Chart) -> str:
    data = html.escape(orjson.dumps(chart.as_dict()).decode(), quote=True)
    cap = f"<figcaption>{_esc(chart.caption)}</figcaption>" if chart.caption else ""
    return f'<figure id="{chart.id}" class="chart" data-chart="{data}">{render_svg(chart)}{cap}</figure>'


def _summary(report: Report, run_json: dict[str, Any] | None) -> list[str]:
    parts = ['<section id="summary"><h2>Summary</h2>', "<ul>"]
    parts += [f"<li><b>{_esc(k)}</b>: {_esc(v)}</li>" for k, v in what_ran(report, run_json)]
    parts.append("</ul>")
    ok, lines = verdict_lines(report, run_json)
    cls = "pass" if ok else "fail"
    parts.append(f'<p id="verdict" class="{cls}">{_esc(lines[0])}</p>')
    if len(lines) > 1:
        parts.append("<ul>" + "".join(f"<li>{_esc(x)}</li>" for x in lines[1:]) + "</ul>")
    header, rows = headline_rows(report)
    if rows:
        parts.append(_table(header, rows, "headline"))
    parts.append("</section>")
    return parts


def render_html(report: Report, found: RunDirs) -> str:
    """The self-contained page (ConfigError when matplotlib, the `report` extra, is missing)."""
    require_matplotlib()
    charts = build_charts(report, found)
    run_json = run_json_of(report.sources)
    parts: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8"><title>tsload report</title>',
        f"<style>{_CSS}</style></head><body>",
        "<h1>tsload report</h1>",
    ]
    parts += _summary(report, run_json)
    parts.append('<section id="tables">')
    if report.queries:
        parts.append("<h2>Queries</h2>")
        parts.append('<p class="note">Latency in milliseconds, merged from every session\'s HDR histogram '
                     "(not averaged); q/s = successful executions / union of the sessions' wall time. "
                     "Every query of the mix is listed; 0 = it was never drawn.</p>")
        parts.append(_table(QUERY_COLUMNS, [query_cells(r) for r in report.queries], "queries"))
        sched = schedule_rows(report)
        if sched is not None:
            verdict = f" {report.arrival.verdict()}." if report.arrival is not None else ""
            parts.append(f'<p class="note">{_esc(SCHEDULE_NOTE + verdict)}</p>')
            parts.append(_table(SCHEDULE_COLUMNS, sched, "queries-schedule"))
    if report.ingest is not None:
        parts.append("<h2>Ingest</h2>")
        parts.append(_table(INGEST_COLUMNS, [ingest_cells(report.ingest)], "ingest"))
        parts.append(_table(("latency (ms)", "p50", "p90", "p99", "p99.9", "max"),
                            ingest_latency_rows(report.ingest), "ingest-latency"))
        for title, key, counts in ingest_breakdowns(report.ingest):
            parts.append(f"<p>{_esc(title)}</p>")
            parts.append(_table((key, "count"), [[k, str(v)] for k, v in counts.items()], f"ingest-{key}"))
    parts.append("</section>")
    parts.append('<section id="charts"><h2>Charts</h2>')
    if not charts:
        parts.append('<p class="note">No interval logs (.hlog) or histograms to chart.</p>')
    elif not any(c.kind == "time" for c in charts):
        parts.append('<p class="note">No interval logs (.hlog) found: no charts over time.</p>')
    parts += [_figure(c) for c in charts]
    parts.append("</section>")
    for w in report.warnings:
        parts.append(f'<p class="note">warning: {_esc(w)}</p>')
    parts.append('<details id="configuration"><summary>Configuration</summary>')
    parts.append(_table(("", ""), [[a, b] for a, b in config_rows(report, run_json)], "config"))
    parts.append(f"<p>sources: {_esc(', '.join(report.sources))}; started {_when(report.started_s)}, "
                 f"ended {_when(report.ended_s)}</p>")
    if found.sessions:
        rows = []
        for sd in found.sessions:
            tag = sd.meta.get("session", "") if sd.meta else ""
            rows.append([sd.path.name, str(tag), _when(sd.started_s), _when(sd.ended_s),
                         str(sum(c.total for c in sd.counts.values())),
                         str(sum(c.successful for c in sd.counts.values()))])
        parts.append(f"<p>Query sessions ({len(rows)})</p>")
        parts.append(_table(("directory", "session", "started", "ended", "executions", "successful"), rows,
                            "sessions"))
    parts.append("</details>")
    parts.append('<script type="application/json" id="tsload-report">'
                 f"{_script_json(report.as_dict())}</script>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
