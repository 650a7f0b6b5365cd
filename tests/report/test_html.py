"""`tsload report --format html`: every chart present, drawn from the run's own data."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.report.synth import INTERVAL_S, T0, IngestRun, Session, rounded, write_ingest, write_session
from tests.report.test_report import report_json, run_cli
from tsload.report.html import render_html
from tsload.report.merge import build_report
from tsload.report.render import ms
from tsload.report.rundirs import find_run_dirs
from tsload.stats import hdr


@pytest.fixture
def run_dir(tmp_path: Path) -> tuple[Path, list[Session], IngestRun]:
    rng = np.random.default_rng(21)
    root = tmp_path / "run"
    sessions = [
        Session({"do-q1": rng.lognormal(np.log(0.003), 0.3, 400),
                 "do-q2": rng.lognormal(np.log(0.03), 0.4, 60)}, started=T0, duration=40.0, index=1),
        Session({"do-q1": rng.lognormal(np.log(0.3), 0.3, 30)}, started=T0 + 10.0, duration=30.0, index=2),
    ]
    for s in sessions:
        write_session(root / "queries", s)
    ingest = IngestRun(rng.exponential(0.004, 240), rng.exponential(0.15, 240), started=T0, duration=40.0,
                       ingested=24_000, rejected_by_reason={"InvalidTime": 2})
    write_ingest(root / "ingest", ingest)
    return root, sessions, ingest


def figures(page: str) -> dict[str, tuple[dict[str, Any], str]]:
    out = {}
    pattern = r'<figure id="([^"]+)" class="chart" data-chart="([^"]*)">(.*?)</figure>'
    for m in re.finditer(pattern, page, re.S):
        out[m.group(1)] = (json.loads(html.unescape(m.group(2))), m.group(3))
    return out


def series(chart: dict[str, Any], label: str) -> tuple[list[float], list[float]]:
    s = next(s for s in chart["series"] if s["label"] == label)
    return s["x"], s["y"]


def sig6(x: float) -> float:
    return float(f"{x:.6g}")


def binned_histograms(sessions: list[Session], q: str) -> dict[int, Any]:
    """Per 5 s bin from T0: a histogram of q's latencies whose execution time falls in it."""
    bins: dict[int, Any] = {}
    for s in sessions:
        if q not in s.latencies:
            continue
        # a session's .hlog intervals start at its own start; bins are keyed by interval start
        times, lat = s.times(q), rounded(np.asarray(s.latencies[q]))
        for k in range(int(np.ceil(s.duration / INTERVAL_S))):
            a = s.started + k * INTERVAL_S
            sel = lat[(times >= a) & (times < a + INTERVAL_S)]
            h = bins.setdefault(round((a - T0) / INTERVAL_S), hdr.new_histogram())
            for v in sel:
                hdr.record_seconds(h, float(v))
    return bins


def drawn_points(svg: str, k: int) -> list[tuple[float, float]]:
    """The vertices matplotlib drew for series k (its line's path, in the <g> tagged by its gid)."""
    m = re.search(rf'<g id="tsload-series-{k}">\s*<path d="([^"]*)"', svg)
    assert m is not None, f"series {k} not drawn"
    return [(float(x), float(y)) for x, y in re.findall(r"[ML] (-?[\d.]+) (-?[\d.]+)", m.group(1))]


def test_html_has_every_chart_built_from_the_data(
    run_dir: tuple[Path, list[Session], IngestRun], capsys: pytest.CaptureFixture[str]
) -> None:
    root, sessions, ingest = run_dir
    found = find_run_dirs([root])
    page = render_html(build_report(found, [str(root)]), found)
    data = report_json([str(root)], capsys)

    # Self-contained: nothing loaded from elsewhere.
    assert "<link" not in page and " src=" not in page and "@import" not in page

    figs = figures(page)
    expected = {
        "chart-throughput-queries", "chart-throughput-ingest", "chart-write-latency-over-time",
        "chart-lag-over-time", "chart-latency-over-time-do-q1", "chart-latency-over-time-do-q2",
        "chart-distribution-do-q1", "chart-distribution-do-q2",
    }
    assert set(figs) == expected
    for chart, svg in figs.values():
        assert "<svg" in svg and "</svg>" in svg
        assert all(len(s["x"]) == len(s["y"]) > 0 for s in chart["series"])
        for k, s in enumerate(chart["series"]):
            # one vertex per data point, in x order, higher values drawn higher (SVG y grows downwards)
            pts = drawn_points(svg, k)
            if chart["steps"]:  # steps-post: (x0,y0) (x1,y0) (x1,y1) ...: every other vertex is a point
                assert len(pts) == 2 * len(s["y"]) - 1
                pts = pts[::2]
            assert len(pts) == len(s["y"]), (chart["id"], s["label"])
            assert [p[0] for p in pts] == sorted(p[0] for p in pts)
            for (_, ya), (_, yb), va, vb in zip(pts, pts[1:], s["y"], s["y"][1:], strict=False):
                assert (va < vb) == (ya > yb) or va == vb or ya == yb, (chart["id"], s["label"])

    # Throughput: executions per 5 s bin across both sessions / 5, every bin of the run (0 when none).
    tp = figs["chart-throughput-queries"][0]
    n_bins = 8  # 40 s
    for q in ("do-q1", "do-q2"):
        bins = binned_histograms(sessions, q)
        xs, ys = series(tp, q)
        assert xs == [k * INTERVAL_S for k in range(n_bins)]
        counts = [bins[k].get_total_count() if k in bins else 0 for k in range(n_bins)]
        assert ys == [sig6(n / INTERVAL_S) for n in counts]
    # one time axis, the run's, for every chart over time
    assert {tuple(c["x_range"]) for c, _ in figs.values() if c["kind"] == "time"} == {(0.0, 40.0)}
    assert all(c["caption"] and c["caption"] != c["title"] for c, _ in figs.values())

    # Latency percentiles over time: the merged bin histograms of both sessions.
    bins = binned_histograms(sessions, "do-q1")
    lt = figs["chart-latency-over-time-do-q1"][0]
    for label, p in (("p50", 50), ("p99", 99), ("max", 100)):
        xs, ys = series(lt, label)
        nonempty = [k for k in sorted(bins) if bins[k].get_total_count()]
        assert xs == [k * INTERVAL_S for k in nonempty]
        assert ys == [sig6(bins[k].get_value_at_percentile(p) / 1000) for k in nonempty]

    # Ingest: requests/s and write latency / lag over time from the .hlog files.
    xs, ys = series(figs["chart-throughput-ingest"][0], "write requests")
    assert sum(y * INTERVAL_S for y in ys) == pytest.approx(len(ingest.write_latencies))
    _, lag_max = series(figs["chart-lag-over-time"][0], "max")
    assert max(lag_max) == pytest.approx(data["ingest"]["lag_ms"]["max"], rel=1e-6)
    _, wl_max = series(figs["chart-write-latency-over-time"][0], "max")
    assert max(wl_max) == pytest.approx(data["ingest"]["latency_ms"]["max"], rel=1e-6)

    # Distribution: ends at the merged max; its p99 point agrees with the JSON summary.
    for row in data["queries"]:
        xs, ys = series(figs[f"chart-distribution-{row['query']}"][0], row["query"])
        assert xs[-1] == 100.0 and ys[-1] == pytest.approx(row["latency"]["max_s"] * 1000, rel=1e-6)
        assert ys == sorted(ys)

    # The table and the embedded JSON say what `--format json` says.
    embedded = re.search(r'<script type="application/json" id="tsload-report">(.*?)</script>', page, re.S)
    assert embedded is not None and json.loads(embedded.group(1)) == data
    table = re.search(r'<table id="queries">(.*?)</table>', page, re.S)
    assert table is not None
    rows = [re.findall(r"<td>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", table.group(1))]
    cells = {r[0]: r for r in rows if r}
    for row in data["queries"]:
        lat = row["latency"]
        assert cells[row["query"]][1:3] == [str(row["total"]), str(row["successful"])]
        assert cells[row["query"]][9] == html.escape(ms(lat["p99_s"]))
        assert cells[row["query"]][13] == f"{row['queries_per_s']:,.2f}"


def test_html_without_matplotlib_is_one_line_exit_2(
    run_dir: tuple[Path, list[Session], IngestRun], tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import tsload.report.svg as svg

    monkeypatch.setattr(svg, "matplotlib_available", lambda: False)
    root, _, _ = run_dir
    code, _, err = run_cli([str(root), "--format", "html", "-o", str(tmp_path / "r.html")], capsys)
    assert code == 2 and "matplotlib" in err and "tsload[report]" in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "r.html").exists()


def test_html_cli_writes_one_file(run_dir: tuple[Path, list[Session], IngestRun], tmp_path: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    root, _, _ = run_dir
    out = tmp_path / "report.html"
    code, _, err = run_cli([str(root), "--format", "html", "-o", str(out)], capsys)
    assert code == 0, err
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "<summary>Configuration</summary>" in page
    assert "<td>--interval-millis</td><td>60000</td>" in page
    assert "Query sessions (2)" in page
    assert "live_start_ms" not in page.split('id="tsload-report"')[0]  # internal fields left out


def test_html_is_verdict_first_and_lists_every_query_of_the_mix(
    run_dir: tuple[Path, list[Session], IngestRun]
) -> None:
    root, _, _ = run_dir
    # a query of the mix that no session drew: the session still wrote its .sql
    session_dir = next(p.parent for p in (root / "queries").rglob("session.json"))
    (session_dir / "do-q5.sql").write_text("SELECT 1")
    found = find_run_dirs([root])
    page = render_html(build_report(found, [str(root)]), found)
    order = [page.index(marker) for marker in (
        '<section id="summary">', 'id="verdict"', 'id="headline"', '<section id="tables">',
        '<table id="queries">', '<section id="charts">', '<figure id="chart-throughput-queries"',
        '<details id="configuration">',
    )]
    assert order == sorted(order)
    for where in ('<table id="headline">', '<table id="queries">'):
        table = page[page.index(where):]
        table = table[: table.index("</table>")]
        trs = re.findall(r"<tr>(.*?)</tr>", table)
        names = [r[0] for r in (re.findall(r"<td>(.*?)</td>", tr) for tr in trs) if r]
        assert {"do-q1", "do-q2", "do-q5"} <= set(names), where
    queries_table = page[page.index('<table id="queries">'):]
    row = re.search(r"<tr><td>do-q5</td><td>(\d+)</td>", queries_table)
    assert row is not None and row.group(1) == "0"
    tp = figures(page)["chart-throughput-queries"][0]
    assert set(series(tp, "do-q5")[1]) == {0.0}
    # the ingest run rejected 2 records: the verdict says so
    assert 'class="fail"' in page and "2 rejected records" in page
