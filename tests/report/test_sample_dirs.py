"""Session directories as the AWS sample's query driver writes them, read by `tsload report`.

The directories are written here from the sample's own format strings (tests/sample_format.py)
and its summary arithmetic (numpy, str.format), not with tsload's writers: a failed execution
(``Rows: None``), a query of the mix that never ran (``do-q5, 0, 0, , , , ,``), a session
stopped before its summary, two machines. The report must find them without ``-d``, merge their
latencies exactly (checked against nearest-rank percentiles of the raw values), take counts from
the ``.log`` lines and warn, naming the session, when the summary CSV disagrees. Last, tsload's
own writer is held to the same bytes.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.sample_format import (
    EMPTY_ROW,
    SAMPLE_EMPTY_ROW_FORMAT,
    SAMPLE_LOG_FORMAT,
    SAMPLE_ROW_FORMAT,
    SUMMARY_ROW,
    check_log_line,
)
from tsload.cli import main
from tsload.query.logfiles import SessionFiles
from tsload.query.samplefmt import summary_csv

HEADER = ("Query type, Total Count, Successful Count, Avg. latency (in secs), Std dev latency (in secs), "
          "Median, 90th perc (in secs), 99th Perc (in secs), Geo Mean (in secs)")
MIX = ("do-q1", "do-q2", "do-q5")
T0 = dt.datetime(2026, 12, 4, 11, 51, 4, tzinfo=dt.UTC)


@dataclass
class Execution:
    query: str
    seconds: float  # as the driver measured it (end - start)
    rows: int | None  # None: failed
    query_id: str | None


@dataclass
class SampleSession:
    process: int
    thread: int
    executions: list[Execution]
    summary: bool = True  # False: stopped before writing its summary CSV
    started: dt.datetime = T0
    failures: dict[int, str] = field(default_factory=dict)  # execution number -> .err block

    @property
    def name(self) -> str:
        return f"us-east-1-{self.started.strftime('%Y-%m-%d-%H-%M-%S')}-{self.process}-{self.thread}"


def sample_summary(s: SampleSession) -> str:
    """The driver's summary, as it computes it: numpy over unrounded timings, round(), str.format."""
    out = [HEADER]
    for q in MIX:
        done = [e for e in s.executions if e.query == q]
        t = [e.seconds for e in done if e.rows is not None]
        if t:
            out.append(SAMPLE_ROW_FORMAT.format(
                q, len(done), len(t), round(np.average(t), 3), round(np.std(t), 3),
                round(np.percentile(t, 50), 3), round(np.percentile(t, 90), 3),
                round(np.percentile(t, 99), 3), round(np.exp(np.mean(np.log(t))), 3)))
        else:
            out.append(SAMPLE_EMPTY_ROW_FORMAT.format(q, len(done), len(t)))
    return "\n".join(out)  # os.linesep on the sample's Linux hosts, no newline at the end


def write_sample_session(root: Path, s: SampleSession) -> Path:
    d = root / s.name
    d.mkdir(parents=True)
    prefix = f"[{s.process}-{s.thread}]"
    files = {q: [] for q in MIX}  # type: dict[str, list[str]]
    errs = dict.fromkeys(MIX, "")
    when = s.started
    for n, e in enumerate(s.executions, 1):
        when += dt.timedelta(seconds=e.seconds)
        files[e.query].append(SAMPLE_LOG_FORMAT.format(
            prefix, n, when.strftime("%Y-%m-%d %H:%M:%S"), e.query_id, round(e.seconds, 3), e.rows))
        if n in s.failures:
            errs[e.query] += s.failures[n]
    for q in MIX:
        (d / f"{q}.sql").write_text(f"SELECT 1 -- {q}")
        (d / f"{q}.log").write_text("".join(line + "\n" for line in files[q]))
        (d / f"{q}.err").write_text(errs[q])
    for stage, t in (("begin", s.started), ("end", when)):
        (d / f"numDatapoints-{stage}.log").write_text(SAMPLE_LOG_FORMAT.format(
            prefix, 1, t.strftime("%Y-%m-%d %H:%M:%S"), "AEDQNUM", 0.021, 1) + "\n")
        (d / f"numDatapoints-{stage}.err").write_text("")
        (d / f"numDatapoints-{stage}-result.txt").write_text("  num_data_points\n0          432000")
    if s.summary:
        (d / f"{s.name}-summary.csv").write_text(sample_summary(s))
    return d


THROTTLED = (
    "An error occurred (ThrottlingException) when calling the Query operation (reached max retries: 9): "
    "Rate exceeded\n"
    "2026-12-04 11:51:09 QueryId: AEDQTHROTTLED RequestId: 5f0c3e2a-9d7b-4c7e-8a1f-2b6d0e9c4a11\n"
    "Traceback (most recent call last):\n"
    '  File "/home/ec2-user/query_execution_utils.py", line 25, in executeQueryInstance\n'
    "    result = timestream.executeQuery(client, queryStr, timing=True, logFile=outFile)\n"
    "botocore.errorfactory.ThrottlingException: An error occurred (ThrottlingException) when calling "
    "the Query operation (reached max retries: 9): Rate exceeded\n\n"
)


def make_sessions(seed: int) -> list[tuple[str, SampleSession]]:
    """Two machines, sessions of very different speeds; latencies in whole ms (what .log keeps)."""
    rng = np.random.default_rng(seed)
    out: list[tuple[str, SampleSession]] = []
    specs = [("host-a", 1, 1, 0.004, 400), ("host-a", 1, 2, 1.8, 40), ("host-b", 1, 1, 0.25, 150),
             ("host-b", 2, 1, 6.0, 12)]
    for machine, p, t, scale, n in specs:
        ex = []
        for i in range(n):
            q = "do-q1" if rng.random() < 0.7 else "do-q2"
            seconds = float(rng.lognormal(np.log(scale), 0.4)) + 1e-4  # never exactly a rounding half
            ex.append(Execution(q, seconds, int(rng.integers(1, 80)), f"AEDQ{p}{t}{i:05d}"))
        out.append((machine, SampleSession(p, t, ex)))
    # one failed execution (a throttle, QueryId known), and a session stopped before its summary
    a2 = out[1][1]
    a2.executions[4] = Execution(a2.executions[4].query, 2.31, None, "AEDQTHROTTLED")
    a2.failures[5] = THROTTLED
    out[3][1].summary = False
    return out


def nearest_rank(sorted_vals: np.ndarray, p: float) -> float:
    return float(sorted_vals[max(int(p * len(sorted_vals) / 100 + 0.5), 1) - 1])


def run_report(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(["report", *args])
    out, err = capsys.readouterr()
    code = exc.value.code
    return (code if isinstance(code, int) else 1), out, err


@pytest.fixture
def sample_root(tmp_path: Path) -> tuple[Path, list[tuple[str, SampleSession]]]:
    sessions = make_sessions(5)
    root = tmp_path / "timestream_perf"
    for machine, s in sessions:
        write_sample_session(root / machine, s)
    return root, sessions


def test_the_written_dirs_are_the_samples_format(
    sample_root: tuple[Path, list[tuple[str, SampleSession]]],
) -> None:
    root, _ = sample_root
    logs = [f for f in root.rglob("*.log")]
    assert logs
    for f in logs:
        for line in f.read_text().splitlines():
            check_log_line(line)
    for f in root.rglob("*-summary.csv"):
        head, *rows = f.read_text().split("\n")
        assert head == HEADER and all(SUMMARY_ROW.match(r) or EMPTY_ROW.match(r) for r in rows)
        assert rows[-1] == "do-q5, 0, 0, , , , ,"


def test_report_merges_sample_dirs_exactly(
    sample_root: tuple[Path, list[tuple[str, SampleSession]]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, sessions = sample_root
    code, out, err = run_report([str(root), "--format", "json"], capsys)  # no -d: found as they are
    assert code == 0, err
    data = orjson.loads(out)
    assert data["query_sessions"] == 4
    assert any("millisecond" in w for w in data["warnings"])  # the report says what resolution it has
    assert not any("summary CSV counts" in w for w in data["warnings"])  # summaries and logs agree
    rows = {r["query"]: r for r in data["queries"]}
    assert set(rows) == set(MIX)
    assert rows["do-q5"]["total"] == 0 and rows["do-q5"]["latency"] is None
    for q in ("do-q1", "do-q2"):
        done = [e for _, s in sessions for e in s.executions if e.query == q]
        ok = np.sort([round(e.seconds, 3) for e in done if e.rows is not None])  # what .log keeps
        r = rows[q]
        assert (r["total"], r["successful"], r["failed"]) == (len(done), len(ok), len(done) - len(ok))
        lat = r["latency"]
        for p, key in ((50, "p50_s"), (90, "p90_s"), (99, "p99_s"), (99.9, "p999_s"), (100, "max_s")):
            # exact: the same millisecond as the nearest rank over every raw latency of all sessions
            assert round(lat[key] * 1000) == round(nearest_rank(ok, p) * 1000), (q, key)
            assert math.isclose(lat[key], nearest_rank(ok, p), rel_tol=1e-12)
        assert math.isclose(lat["mean_s"], float(ok.mean()), rel_tol=1e-9)
        assert math.isclose(lat["stddev_s"], float(ok.std()), rel_tol=1e-9)
        assert math.isclose(lat["geomean_s"], float(np.exp(np.log(ok).mean())), rel_tol=1e-9)
    assert rows["do-q1"]["failed"] + rows["do-q2"]["failed"] == 1
    # The sample summariser's averaged medians are far from the merged one (sessions of unequal speed)
    code, out, err = run_report(["-d", str(root), "-o", "summary.csv", "--averaged"], capsys)
    assert code == 0, err
    avg = (root / "summary-averaged.csv").read_text().splitlines()
    q1 = next(r for r in avg if r.startswith("do-q1,")).split(",")
    assert float(q1[5]) > 10 * rows["do-q1"]["latency"]["p50_s"]
    q5 = next(r for r in avg if r.startswith("do-q5,")).split(",")
    assert q5[1:3] == ["0.0", "0.0"] and q5[3:] == [""] * 6  # the crash row is read, stats empty


def test_a_summary_that_disagrees_with_its_log_lines_is_named(
    sample_root: tuple[Path, list[tuple[str, SampleSession]]], capsys: pytest.CaptureFixture[str]
) -> None:
    root, sessions = sample_root
    machine, name = sessions[0][0], sessions[0][1].name  # host-b has a session of the same name
    csv = root / machine / name / f"{name}-summary.csv"
    text = csv.read_text()
    csv.write_text(re.sub(r"^do-q2, (\d+), ", lambda m: f"do-q2, {int(m[1]) + 3}, ", text, flags=re.M))
    code, out, err = run_report([str(root), "--format", "json"], capsys)
    assert code == 0, err
    warnings = [w for w in orjson.loads(out)["warnings"] if "summary CSV counts" in w]
    assert len(warnings) == 1 and str(root / machine / name) in warnings[0] and "do-q2" in warnings[0]


def test_tsload_writes_the_same_bytes(tmp_path: Path) -> None:
    """tsload's session writer, fed the same executions, produces the sample's .log, .err (when
    nothing failed) and summary bytes."""
    s = make_sessions(9)[0][1]  # host-a's session 1-1: 400 executions
    s.executions[3] = Execution(s.executions[3].query, 0.5, None, None)  # failed, no QueryId
    ref = write_sample_session(tmp_path / "ref", s)
    d = tmp_path / "tsload" / s.name
    clock_at: list[dt.datetime] = []
    when = s.started
    for e in s.executions:
        when += dt.timedelta(seconds=e.seconds)
        clock_at.append(when)
    times = iter(clock_at)
    files = SessionFiles(d, f"{s.process}-{s.thread}", clock=lambda: next(times))
    files.open_queries(MIX)
    for n, e in enumerate(s.executions, 1):
        if e.rows is None:
            files.failure(e.query, n, query_id=e.query_id, request_id=None, elapsed_s=e.seconds,
                          error="ConnectionError: reset by peer")
        else:
            files.success(e.query, n, e.query_id, e.seconds, e.rows)
    files.close()
    lat = {q: [e.seconds for e in s.executions if e.query == q and e.rows is not None] for q in MIX}
    totals = {q: sum(1 for e in s.executions if e.query == q) for q in MIX}
    assert summary_csv(MIX, lat, totals).encode() == (ref / f"{s.name}-summary.csv").read_bytes()
    for q in MIX:
        assert (d / f"{q}.log").read_bytes() == (ref / f"{q}.log").read_bytes(), q
    failed_q = s.executions[3].query
    for q in MIX:
        assert ((d / f"{q}.err").stat().st_size == 0) == (q != failed_q)
    block = (d / f"{failed_q}.err").read_text().split("\n")
    # no service answer: the error, then traceback-style lines and a blank line (no ids line)
    assert block[0] == "ConnectionError: reset by peer" and block[1] == "Traceback (most recent call last):"
    assert block[-2:] == ["", ""]


def test_the_writer_and_the_reader_agree(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from tsload.query.samplefmt import log_line
    from tsload.report.samplelogs import parse_line, read_query_log

    cases = [(0.0, 5, "AEDQ1"), (0.0004, 1, "AEDQ2"), (1.0, 0, "AEDQ3"), (12.3456, 7, "AEDQ4"),
             (0.5, None, None)]
    text = "".join(log_line("[2-7]", n, T0, qid, t, rows) for n, (t, rows, qid) in enumerate(cases, 1))
    for n, (line, (t, rows, qid)) in enumerate(zip(text.splitlines(), cases, strict=True), 1):
        check_log_line(line)
        parsed = parse_line(line)
        assert parsed is not None
        assert (parsed.tag, parsed.execution, parsed.query_id, parsed.rows) == ("2-7", n, qid, rows)
        assert parsed.time_s == round(t, 3) and parsed.when_s == T0.timestamp()
    # an old tsload line (before the sample's format) is not silently taken: counted and warned about
    d = tmp_path / "us-east-1-2026-12-04-11-51-04-2-7"
    d.mkdir(parents=True)
    (d / "do-q1.sql").write_text("SELECT 1")
    (d / "do-q1.log").write_text(text + "1-1, 1, 2026-12-04T11:51:04.292Z, AEDQ, 0.059038, 59\n")
    ql = read_query_log(d / "do-q1.log")
    assert (ql.total, ql.successful, ql.bad_lines) == (5, 4, 1)
    assert ql.latencies_ms == {0: 2, 1000: 1, 12346: 1}
    code, out, err = run_report([str(tmp_path), "--format", "json"], capsys)
    assert code == 0, err
    assert any("1 line(s) not in the sample's .log format" in w for w in orjson.loads(out)["warnings"])
