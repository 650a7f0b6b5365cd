"""Bad invocations and bad files: each is refused with the documented exit status and ONE stderr line
naming the culprit, never a traceback, and leaves no run directory that looks like a success.

Table-driven: CASES below. All subprocesses run concurrently once per module (a few seconds on two
cores); each case is then its own test so a failure names the case.
"""

from __future__ import annotations

import json
import socket
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.reliability._proc import EngineProcess, Result, tsload


@dataclass(frozen=True)
class Case:
    id: str
    argv: tuple[str, ...]
    culprit: str  # must appear in the one stderr line ("a|b": either)
    code: int | tuple[int, ...] = 2  # the documented exit status (a tuple: any of them)
    out: bool = False  # ingest: add --out {tmp}/<id> and check nothing successful-looking is left
    absent: str = ""  # a path (with placeholders) the refused command must not have created
    logdir: bool = False  # query: add -l {tmp}/runs/<id> and check it was not created


def c(
    id: str,
    argv: str | tuple[str, ...],
    culprit: str,
    code: int | tuple[int, ...] = 2,
    out: bool = False,
    absent: str = "",
) -> Case:
    return Case(id, tuple(argv.split()) if isinstance(argv, str) else argv, culprit, code, out, absent)


def q(id: str, argv: str, culprit: str) -> Case:
    """A `tsload query` case on a valid workload folder, model parameters (no table round trip)."""
    base = "query --workload {tmp}/wl-ok --params model --host-scale 1 --duration 1 "
    return Case(id, tuple((base + argv).split()), culprit, logdir=True)


ING = "ingest --host-scale 1 --interval-millis 60000"
CASES: list[Case] = [
    # --- tsload model: numeric flags out of range, wrong types, unknown values and flags
    c("model-host-scale-0", "model --host-scale 0", "--host-scale"),
    c("model-host-scale-negative", "model --host-scale -4", "--host-scale"),
    c("model-host-scale-text", "model --host-scale many", "--host-scale"),
    c("model-interval-0", "model --interval-millis 0", "--interval-millis"),
    c("model-interval-float", "model --interval-millis 1.5", "--interval-millis"),
    c("model-batch-size-0", "model --batch-size 0", "--batch-size"),
    c("model-batch-size-101", "model --batch-size 101", "--batch-size"),
    c("model-hosts-unknown", "model --hosts servers", "--hosts"),
    c("model-seed-text", "model --instance-name-seed abc", "--instance-name-seed"),
    c("model-unknown-flag", "model --hostscale 3", "--hostscale"),
    # --- tsload serve
    c("serve-data-is-file", "serve --data {file} --port 0", "--data"),
    c("serve-data-locked", "serve --data {engine_data} --port 0", "--data"),
    c("serve-port-in-use", "serve --data {tmp}/serve-busy --port {busy}", "--port",
      absent="{tmp}/serve-busy"),
    c("serve-port-too-big", "serve --data {tmp}/d1 --port 70000", "--port"),
    c("serve-port-negative", "serve --data {tmp}/d2 --port -1", "--port"),
    c("serve-port-text", "serve --data {tmp}/d3 --port http", "--port"),
    c("serve-throttle-rate-high", "serve --data {tmp}/d4 --throttle-rate 1.5", "--throttle-rate"),
    c("serve-throttle-rate-text", "serve --data {tmp}/d5 --throttle-rate often", "--throttle-rate"),
    c("serve-error-rate-negative", "serve --data {tmp}/d6 --error-rate -0.1", "--error-rate"),
    c("serve-reject-rate-high", "serve --data {tmp}/d7 --reject-rate 2", "--reject-rate"),
    c("serve-latency-reversed", "serve --data {tmp}/d8 --latency-ms 50:10", "--latency-ms"),
    c("serve-latency-garbage", "serve --data {tmp}/d9 --latency-ms fast", "--latency-ms"),
    c("serve-latency-three-parts", "serve --data {tmp}/d10 --latency-ms 1:2:3", "--latency-ms"),
    c("serve-latency-infinite", "serve --data {tmp}/d13 --latency-ms 1:inf", "--latency-ms",
      absent="{tmp}/d13"),
    c("serve-latency-nan", "serve --data {tmp}/d14 --latency-ms nan", "--latency-ms", absent="{tmp}/d14"),
    c("serve-non-loopback", "serve --data {tmp}/d11 --host 0.0.0.0", "--host"),
    c("serve-unknown-flag", "serve --data {tmp}/d12 --throttle 0.1", "--throttle"),
    # --- tsload ingest: contradictory, malformed, out of range (validated before any target is touched)
    c("ingest-req-id-dim-alone", f"{ING} --req-id-dim --duration 1", "--req-id-dim", out=True),
    c("ingest-shard-k-equals-n", f"{ING} --shard 4/4 --duration 1", "--shard", out=True),
    c("ingest-shard-word", f"{ING} --shard half --duration 1", "--shard", out=True),
    c("ingest-shard-zero-n", f"{ING} --shard 1/0 --duration 1", "--shard", out=True),
    c("ingest-shard-negative", f"{ING} --shard -1/4 --duration 1", "--shard", out=True),
    c("ingest-shard-three-parts", f"{ING} --shard 1/2/3 --duration 1", "--shard", out=True),
    c("ingest-backfill-garbage", f"{ING} --backfill 10parsecs --duration 0", "--backfill", out=True),
    c("ingest-duration-0-no-backfill", f"{ING} --duration 0", "--duration", out=True),
    c("ingest-duration-garbage", f"{ING} --duration soon", "--duration", out=True),
    c("ingest-batch-size-0", f"{ING} --batch-size 0 --duration 1", "--batch-size", out=True),
    c("ingest-batch-size-101", f"{ING} --batch-writes --batch-size 101 --duration 1", "--batch-size",
      out=True),
    c("ingest-concurrency-0", f"{ING} -c 0 --duration 1", "--concurrency", out=True),
    c("ingest-concurrency-text", f"{ING} -c lots --duration 1", "--concurrency", out=True),
    c("ingest-processes-0", f"{ING} -p 0 --duration 1", "--processes", out=True),
    c("ingest-host-scale-0", "ingest --host-scale 0 --duration 1", "--host-scale", out=True),
    c("ingest-interval-0", "ingest --host-scale 1 --interval-millis 0 --duration 1", "--interval-millis",
      out=True),
    c("ingest-stats-interval-0", f"{ING} --stats-interval 0 --duration 1", "--stats-interval", out=True),
    c("ingest-drain-timeout-negative", f"{ING} --drain-timeout -1 --duration 1", "--drain-timeout", out=True),
    c("ingest-memory-retention-0", f"{ING} --memory-store-retention-hours 0 --duration 1",
      "--memory-store-retention-hours", out=True),
    c("ingest-magnetic-retention-0", f"{ING} --magnetic-store-retention-days 0 --duration 1",
      "--magnetic-store-retention-days", out=True),
    c("ingest-empty-database", (*ING.split(), "-d", "", "--duration", "1"), "--database-name", out=True),
    c("ingest-empty-table", (*ING.split(), "-t", "", "--duration", "1"), "--table-name", out=True),
    c("ingest-endpoint-not-url", f"{ING} -e notaurl --duration 1", "--endpoint", out=True),
    c("ingest-local-data-is-file", f"{ING} --local-data {{file}} --duration 1", "--local-data", out=True),
    c("ingest-unknown-flag", f"{ING} --hosts 5 --duration 1", "--hosts", out=True),
    c("ingest-summary-batch-size", "ingest --print-model-summary --batch-size 500", "--batch-size"),
    # refused by the target (the engine): TargetError, exit 1, still one line naming the culprit; should
    # tsload learn to check these names/ranges itself, exit 2 naming the flag is just as right
    c("ingest-endpoint-unreachable", f"{ING} -e http://127.0.0.1:{{closed}} --duration 1", "cannot reach",
      code=1, out=True),
    c("ingest-db-name-too-short", f"{ING} -e {{url}} -d ab --duration 1", "DatabaseName|--database-name",
      code=(1, 2), out=True),
    c("ingest-table-name-bad-chars", f"{ING} -e {{url}} -t bad/name --duration 1", "TableName|--table-name",
      code=(1, 2), out=True),
    c("ingest-memory-retention-too-big", f"{ING} -e {{url}} -t longmem --memory-store-retention-hours 100000"
      " --duration 1", "MemoryStoreRetentionPeriodInHours|--memory-store-retention-hours", code=(1, 2),
      out=True),
    # --- tsload query: flags, config files, workload folders, log directory
    q("query-config-missing", "--config {tmp}/missing.ini", "missing.ini"),
    q("query-config-empty", "--config {tmp}/empty.ini", "empty.ini"),
    q("query-config-garbled", "--config {tmp}/garbled.ini", "garbled.ini"),
    q("query-config-is-dir", "--config {tmp}/empty", "empty"),
    q("query-config-no-distribution", "--config {tmp}/nosection.ini", "query_distribution"),
    q("query-unknown-query-name", "--config {tmp}/unknown.ini", "zz-q9"),
    q("query-weight-not-number", "--config {tmp}/nonnum.ini", "do-q1"),
    q("query-weights-zero", "--config {tmp}/zero.ini", "zero.ini"),
    q("query-sql-unknown-placeholder", "--workload {tmp}/wl-bad-placeholder", "q1.sql"),
    q("query-sql-broken-brace", "--workload {tmp}/wl-broken-brace", "q1.sql"),
    q("query-workload-missing", "--workload {tmp}/no-such-workload", "--workload"),
    q("query-log-dir-is-file", "-l {file}", "--log-dir"),
    q("query-params-unknown", "--params sky", "--params"),
    q("query-fixed-params-vs-model", "--fixed-params", "--fixed-params"),
    q("query-repetitions-negative", "--repetitions -1", "--repetitions"),
    q("query-repetitions-text", "--repetitions many", "--repetitions"),
    q("query-concurrency-0", "-c 0", "--concurrency"),
    q("query-processes-0", "-p 0", "--processes"),
    q("query-think-time-negative", "--think-time-milliseconds -5", "--think-time-milliseconds"),
    q("query-timeout-0", "--timeout 0", "--timeout"),
    q("query-duration-negative", "--duration -3", "--duration"),
    q("query-end-time-garbage", "--query-end-time yesterday", "--query-end-time"),
    q("query-model-host-scale-0", "--host-scale 0", "--host-scale"),
    q("query-endpoint-not-url", "-e notaurl", "--endpoint"),
    q("query-local-data-is-file", "--local-data {file}", "--local-data"),
    q("query-stats-interval-0", "--stats-interval 0", "--stats-interval"),
    q("query-unknown-flag", "--queries 5", "--queries"),
    # --- tsload cleanup
    c("cleanup-endpoint-unreachable", "cleanup -e http://127.0.0.1:{closed}", "cannot reach", code=1),
    c("cleanup-local-data-is-file", "cleanup --local-data {file}", "--local-data"),
    c("cleanup-endpoint-not-url", "cleanup -e ftp://x", "--endpoint"),
    c("cleanup-unknown-flag", "cleanup --force", "--force"),
    # --- tsload report: missing, garbled and empty files
    c("report-no-dirs", "report", "DIR"),
    c("report-missing-dir", "report {tmp}/does-not-exist", "does-not-exist"),
    c("report-dir-is-file", "report {file}", "afile"),
    c("report-empty-dir", "report {tmp}/empty", "empty"),
    c("report-garbled-session-json", "report {tmp}/garbled-session", "session.json"),
    c("report-empty-session-json", "report {tmp}/empty-session", "session.json"),
    c("report-session-json-not-object", "report {tmp}/list-session", "session.json"),
    c("report-garbled-ingest-summary", "report {tmp}/garbled-ingest", "ingest-summary.json"),
    c("report-garbled-hdr", "report {tmp}/garbled-hdr", "write-latency.hdr"),
    c("report-unknown-format", "report {tmp}/garbled-hdr --format xml", "--format"),
    c("report-d-missing", "report -d {tmp}/nowhere -o x.csv", "--directory"),
    # --- the shell
    c("unknown-command", "frobnicate", "frobnicate"),
]


def _prepare(tmp: Path) -> None:
    (tmp / "afile").write_text("not a directory\n")
    (tmp / "empty").mkdir()
    for name, text in (
        ("garbled-session/s1/session.json", "{not json"),
        ("empty-session/s1/session.json", ""),
        ("list-session/s1/session.json", "[1, 2, 3]"),
        ("garbled-ingest/run/ingest-summary.json", '{"generated": '),
    ):
        (tmp / name).parent.mkdir(parents=True)
        (tmp / name).write_text(text)
    ini = "[default]\nquery_mode = regular\nrepetitions = 1\nretries = 1\n[query_distribution]\n"
    for name, text in (
        ("wl-ok/config.ini", ini + "do-q1 = 100\n"),
        ("wl-bad-placeholder/config.ini", ini + "q1 = 100\n"),
        ("wl-broken-brace/config.ini", ini + "q1 = 100\n"),
        ("unknown.ini", ini + "zz-q9 = 100\n"),
        ("nosection.ini", "[default]\nquery_mode = regular\n"),
        ("nonnum.ini", ini + "do-q1 = lots\n"),
        ("zero.ini", ini + "do-q1 = 0\n"),
        ("empty.ini", ""),
    ):
        (tmp / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp / name).write_text(text)
    (tmp / "garbled.ini").write_bytes(b"garbage\x00\xff[[[\n")
    for model in ("single", "multi"):
        for wl, name, sql in (
            ("wl-ok", "do-q1", "SELECT count(*) FROM {db}.{table} WHERE region = {region}"),
            ("wl-bad-placeholder", "q1", "SELECT {nope} FROM {db}.{table}"),
            ("wl-broken-brace", "q1", "SELECT count(*) FROM {db}.{table} WHERE region = {region"),
        ):
            folder = tmp / wl / "queries" / model
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{name}.sql").write_text(sql + "\n")
    run = tmp / "garbled-hdr/run"
    run.mkdir(parents=True)
    doc = {"generated": 1, "ingested": 1, "rejected": {"total": 0, "by_reason": {}}, "failed": 0,
           "dropped": 0, "requests": 1, "retries": 0, "throttled": 0, "records_per_s": 1.0,
           "latency_ms": {}, "lag_ms": {}}
    (run / "ingest-summary.json").write_text(json.dumps(doc))
    (run / "write-latency.hdr").write_text("HISTFAAAAgarbage\n")
    (run / "lag.hdr").write_text("\n")


@pytest.fixture(scope="module")
def results(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, tuple[Case, Result, Path, str]]]:
    tmp = tmp_path_factory.mktemp("bad-input")
    _prepare(tmp)
    busy = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    closed = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()  # nothing listens there: connections are refused
    engine = EngineProcess(tmp / "engine-data")
    engine.start()
    subst = {"tmp": str(tmp), "file": str(tmp / "afile"), "busy": str(busy.getsockname()[1]),
             "url": engine.url, "engine_data": str(tmp / "engine-data"), "closed": str(closed_port)}

    def run(case: Case) -> tuple[Case, Result, Path, str]:
        argv = [a.format(**subst) for a in case.argv]
        out = tmp / "runs" / case.id
        if case.out:
            argv += ["--out", str(out)]
        if case.logdir:
            argv = [*argv[:1], "-l", str(out), *argv[1:]] if "-l" not in argv else argv
        absent = case.absent.format(**subst)
        try:
            return case, tsload(*argv, timeout=45, cwd=tmp), out, absent
        except subprocess.TimeoutExpired:
            return case, Result(tuple(argv), -999, "", "timed out after 45 s"), out, absent

    try:
        with ThreadPoolExecutor(max_workers=4) as pool:
            yield {r[0].id: r for r in pool.map(run, CASES)}
    finally:
        engine.stop()
        busy.close()


def test_there_are_at_least_40_cases() -> None:
    assert len(CASES) >= 40
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case_id", [case.id for case in CASES])
def test_refused_cleanly(results: dict[str, tuple[Case, Result, Path, str]], case_id: str) -> None:
    case, res, out, absent = results[case_id]
    where = f"tsload {' '.join(res.argv)}\nstderr: {res.stderr!r}\nstdout: {res.stdout!r}"
    assert "Traceback" not in res.stderr + res.stdout, where
    codes = case.code if isinstance(case.code, tuple) else (case.code,)
    assert res.returncode in codes, where
    assert len(res.stderr_lines) == 1, where
    line = res.stderr_lines[0]
    assert line.startswith("tsload"), where
    assert "error" in line, where
    assert any(culprit in line for culprit in case.culprit.split("|")), where
    if case.out:
        # nothing that looks like a finished run: no summary JSON, no histograms
        assert not (out / "ingest-summary.json").exists(), where
        assert not out.exists() or not any(out.glob("*.hdr")), where
    if case.logdir:
        assert not out.exists(), f"query left {out} behind\n{where}"
    if absent:
        assert not Path(absent).exists(), f"{absent} was left behind\n{where}"
