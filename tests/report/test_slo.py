"""SLO thresholds: the grammar, and values measured on exactly merged histograms of several shards."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.report.synth import T0, IngestRun, Session, write_ingest, write_session
from tsload._errors import ConfigError
from tsload.report import load_report
from tsload.report.slo import block_lines, evaluate, failure_line, parse_slo, parse_slos
from tsload.stats import hdr
from tsload.stats.summary import summarize


@pytest.mark.parametrize(("expr", "subject", "metric", "op", "threshold", "unit"), [
    ("do-q1.p99<500ms", "do-q1", "latency.p99", "<", 500.0, "ms"),
    ("queries.p99<1s", "queries", "latency.p99", "<", 1.0, "s"),
    ("queries.failed<1%", "queries", "failed", "<", 1.0, "%"),
    ("do-q3.service_time.p50<200ms", "do-q3", "service_time.p50", "<", 200.0, "ms"),
    ("do-q3.latency.p99.9 <= 2.5s", "do-q3", "latency.p999", "<=", 2.5, "s"),
    ("ingest.lag.p99<5s", "ingest", "lag.p99", "<", 5.0, "s"),
    ("ingest.latency.p99<200ms", "ingest", "latency.p99", "<", 200.0, "ms"),
    ("ingest.rejected<0.1%", "ingest", "rejected", "<", 0.1, "%"),
    ("ingest.records_per_s>1000", "ingest", "records_per_s", ">", 1000.0, ""),
    ("queries.dropped>=0", "queries", "dropped", ">=", 0.0, ""),
    ("my.query.name.p90<1e3ms", "my.query.name", "latency.p90", "<", 1000.0, "ms"),
])
def test_grammar(expr: str, subject: str, metric: str, op: str, threshold: float, unit: str) -> None:
    s = parse_slo(expr)
    assert (s.subject, s.metric, s.op, s.threshold, s.unit) == (subject, metric, op, threshold, unit)


@pytest.mark.parametrize(("expr", "why"), [
    ("do-q1.p99", "not of the form"),
    ("do-q1.p99<", "not of the form"),
    ("do-q1.p99=5ms", "not of the form"),
    ("do-q1.p98<5ms", "unknown metric 'p98'"),
    ("do-q1.p99<5", "give the threshold in ms or s"),
    ("do-q1.p99<5%", "give the threshold in ms or s"),
    ("queries.failed<5ms", "a count"),
    ("ingest.records_per_s>5%", "a rate per second"),
    ("ingest.late<1%", "unknown metric 'late'"),
    ("p99<5ms", "names no SUBJECT.METRIC"),
])
def test_malformed_is_one_line_naming_it(expr: str, why: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_slo(expr)
    msg = str(exc.value)
    assert "\n" not in msg and msg.startswith("slo: ") and why in msg and "allowed:" in msg
    assert msg.endswith(f", got {expr}")


def test_subjects_checked_against_the_command() -> None:
    assert len(parse_slos(["do-q1.p99<1s", "queries.failed<1%"], queries={"do-q1"}, ingest=False)) == 2
    with pytest.raises(ConfigError, match="no query 'do-q9' in the workload"):
        parse_slos(["do-q9.p99<1s"], queries={"do-q1", "do-q2"})
    with pytest.raises(ConfigError, match="does not ingest"):
        parse_slos(["ingest.lag.p99<1s"], ingest=False)
    with pytest.raises(ConfigError, match="runs no queries"):
        parse_slos(["queries.p99<1s"], query_side=False)


def _hist(values: np.ndarray) -> object:
    h = hdr.new_histogram()
    for v in values:
        hdr.record_seconds(h, float(v))
    return h


def test_values_on_merged_shards(tmp_path: Path) -> None:
    """Two shards' sessions: every value equals the statistic of one histogram of all raw values."""
    rng = np.random.default_rng(5)
    lat_a, lat_b = rng.lognormal(np.log(0.2), 0.5, 300), rng.lognormal(np.log(0.9), 0.3, 100)
    svc_a, svc_b = lat_a * 0.5, lat_b * 0.25
    q2 = rng.lognormal(np.log(0.01), 0.2, 50)
    cfg = {"arrival_rate": 10.0, "arrival": "poisson"}
    a = Session({"do-q1": lat_a, "do-q2": q2}, started=T0, duration=40.0, index=1, service={"do-q1": svc_a,
                "do-q2": q2}, late={"do-q1": 30}, dropped={"do-q1": 4}, failed={"do-q1": 2}, config=cfg)
    b = Session({"do-q1": lat_b}, started=T0, duration=40.0, index=1, process=2, service={"do-q1": svc_b},
                late={"do-q1": 10}, dropped={"do-q1": 6}, config=cfg)
    write_session(tmp_path / "shard-0", a)
    write_session(tmp_path / "shard-1", b)
    write_ingest(tmp_path / "ingest", IngestRun(rng.exponential(0.004, 200), rng.exponential(0.1, 200),
                                                started=T0, duration=40.0, ingested=9_990,
                                                rejected_by_reason={"InvalidTime": 10},
                                                from_schedule=rng.exponential(0.2, 200)))
    report, _ = load_report([tmp_path / "shard-0", tmp_path / "shard-1", tmp_path / "ingest"])
    row = report.row("do-q1")
    assert (row.late, row.dropped) == (40, 10)
    exact = summarize(_hist(np.concatenate([lat_a, lat_b])))
    exact_svc = summarize(_hist(np.concatenate([svc_a, svc_b])))
    every = summarize(_hist(np.concatenate([lat_a, lat_b, q2])))
    assert exact and exact_svc and every and row.service_time
    assert row.service_time.p99 == exact_svc.p99
    slos = parse_slos([
        "do-q1.p99<100ms", "do-q1.service_time.p50<10s", "queries.p99<10s", "do-q1.late<1%",
        "do-q1.dropped<=10", "queries.failed<1%", "ingest.rejected<0.2%", "ingest.latency.max>0s",
        "ingest.records_per_s>1000",
    ])
    results = evaluate(slos, report)
    by = {r.expr: r for r in results}
    assert by["do-q1.p99<100ms"].value == pytest.approx(exact.p99 * 1e3) and not by["do-q1.p99<100ms"].passed
    assert by["do-q1.service_time.p50<10s"].value == exact_svc.p50 and by["do-q1.service_time.p50<10s"].passed
    assert by["queries.p99<10s"].value == every.p99
    assert by["do-q1.late<1%"].value == pytest.approx(100 * 40 / 402) and not by["do-q1.late<1%"].passed
    assert by["do-q1.dropped<=10"].value == 10 and by["do-q1.dropped<=10"].passed
    assert by["queries.failed<1%"].value == pytest.approx(100 * 2 / 452)
    assert by["ingest.rejected<0.2%"].value == pytest.approx(0.1) and by["ingest.rejected<0.2%"].passed
    assert by["ingest.latency.max>0s"].passed
    assert by["ingest.records_per_s>1000"].value == pytest.approx(9_990 / 40.0)
    assert not by["ingest.records_per_s>1000"].passed
    assert report.arrival is not None
    assert report.arrival.scheduled == 452 + 10 and report.arrival.achieved_per_s == pytest.approx(452 / 40.0)
    lines = block_lines(results)
    assert lines[0] == "SLO: 3 of 9 FAILED"
    last = failure_line(results)
    assert last is not None and last.startswith("SLO failed: do-q1.p99<100ms (measured ")
    assert "ingest.records_per_s>1000" in last and "queries.p99<10s" not in last

    # the HTML report: the verdict first, from the SLOs; service time, late and dropped per query
    import dataclasses
    import html
    import re

    from tsload.report.html import render_html
    from tsload.report.render import ms

    report, found = load_report([tmp_path / "shard-0", tmp_path / "shard-1", tmp_path / "ingest"])
    page = render_html(dataclasses.replace(report, slo=tuple(results)), found)
    verdict = re.search(r'<p id="verdict" class="(\w+)">(.*?)</p>', page)
    assert verdict is not None and verdict.groups() == ("fail", "FAIL: 3 of 9 SLO(s) missed")
    assert page.index('id="verdict"') < page.index('<table id="queries">')
    sched = page[page.index('<table id="queries-schedule">'):]
    want = f"<tr><td>do-q1</td><td>{ms(exact_svc.p50)}</td><td>{ms(exact_svc.p99)}</td><td>40</td><td>10</td>"
    assert want in sched[: sched.index("</table>")]
    assert html.escape(report.arrival.verdict()) in page

    # the terminal table and the Markdown report carry the same row and the arrival verdict
    from tsload.report.render import to_markdown, to_text

    md = to_markdown(report)
    assert f"| do-q1 | {ms(exact_svc.p50)} | {ms(exact_svc.p99)} | 40 | 10 |" in md
    assert report.arrival.verdict() in md
    text = to_text(report, width=400)
    row = next(line for line in text.splitlines() if "do-q1" in line and ms(exact_svc.p99) in line)
    cells = [c.strip() for c in row.split("│")[1:6]]
    assert cells == ["do-q1", ms(exact_svc.p50), ms(exact_svc.p99), "40", "10"]


def test_nothing_measured_fails(tmp_path: Path) -> None:
    write_session(tmp_path / "q", Session({"do-q1": np.array([0.1, 0.2])}, started=T0, duration=10.0))
    report, _ = load_report([tmp_path])
    (r,) = evaluate(parse_slos(["ingest.lag.p99<5s"]), report)
    assert r.value is None and not r.passed
    (r,) = evaluate(parse_slos(["do-q1.service_time.p99<5s"]), report)  # an old session: no service time
    assert r.value is None and not r.passed


def _two_shards(root: Path) -> None:
    rng = np.random.default_rng(8)
    for k in range(2):
        s = Session({"do-q1": rng.lognormal(np.log(0.05), 0.3, 200)}, started=T0, duration=30.0,
                    process=k + 1, failed={"do-q1": k})
        write_session(root / f"shard-{k}", s)


def test_report_cli_gates_on_merged_shards(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.report.test_report import run_cli

    _two_shards(tmp_path)
    code, out, err = run_cli([str(tmp_path), "--slo", "do-q1.p50<1s", "--slo", "queries.failed<0.1%",
                              "--format", "json"], capsys)
    assert code == 3
    data = orjson.loads(out)  # stdout stays JSON: the block goes to stderr
    verdicts = [(r["expr"], r["pass"]) for r in data["slo"]]
    assert verdicts == [("do-q1.p50<1s", True), ("queries.failed<0.1%", False)]
    assert data["slo"][1]["value"] == pytest.approx(100 / 401) and data["slo"][1]["threshold"] == 0.1
    lines = err.strip().splitlines()
    assert lines[-1].startswith("SLO failed: queries.failed<0.1% (measured 0.249%)")
    assert "SLO: 1 of 2 FAILED" in err
    code, out, err = run_cli([str(tmp_path), "--slo", "do-q1.p50<1s"], capsys)
    assert code == 0 and "SLO: all 1 passed" in out and "pass  do-q1.p50<1s" in out


@pytest.mark.parametrize(("slo", "needle"), [
    ("do-q1.p99<5", "latency.p99 is a latency"),
    ("do-q9.p99<5s", "no query 'do-q9' in these runs"),
])
def test_report_cli_bad_slo_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str], slo: str,
                                      needle: str) -> None:
    from tests.report.test_report import run_cli

    _two_shards(tmp_path)
    code, out, err = run_cli([str(tmp_path), "--slo", slo], capsys)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("tsload: error: ") and needle in line
