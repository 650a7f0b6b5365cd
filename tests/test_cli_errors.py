"""Every bad input, every command: one line `tsload: error: <flag or file>: <what is allowed>, got
<value>` on stderr, exit 2, no traceback; the value echoed as typed (`0`, not `0.0`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tsload.cli import main

NOWHERE = ["-e", "http://127.0.0.1:9"]  # validation fails before anything would connect here

CASES: list[tuple[list[str], str | None]] = [
    # typer's own parsing errors, reworded
    (["nope"], "COMMAND: one of model, serve, ingest, query, report, compare, run, cleanup, got nope"),
    (["model", "--no-such-flag"],
     "--no-such-flag: an option of tsload model (see tsload model --help), got --no-such-flag"),
    (["model", "--host-scale", "x"], "--host-scale: an integer, got x"),
    (["run", "--query-timeout", "1x"], "--query-timeout: a number, got 1x"),
    (["ingest", "--duration"], "--duration: a value after the flag, got none"),
    (["model", "extra"], "tsload model: no positional argument (see tsload model --help), got extra"),
    (["report", "--averaged=3"], "--averaged: no value (it is a switch), got 3"),
    # model
    (["model", "--batch-size", "0"], "--batch-size: 1..100, got 0"),
    (["model", "--host-scale", "0"], "--host-scale: a positive integer, got 0"),
    (["model", "--interval-millis", "-5"], "--interval-millis: a positive integer, got -5"),
    (["model", "--hosts", "x"], "--hosts: metrics or events, got x"),
    (["model", "--prices", "/nonexistent/p.json"],
     "--prices: a readable price file (No such file or directory), got /nonexistent/p.json"),
    # ingest
    (["ingest", *NOWHERE, "-c", "0"], "-c/--concurrency: a positive integer, got 0"),
    (["ingest", *NOWHERE, "--concurrency=0"], "-c/--concurrency: a positive integer, got 0"),
    (["ingest", *NOWHERE, "--batch-size", "0"], "--batch-size: 1..100, got 0"),
    (["ingest", "--print-model-summary", "--batch-size", "0"], "--batch-size: 1..100, got 0"),
    (["ingest", *NOWHERE, "--duration", "0"],
     "--duration: 0 only together with --backfill (nothing would be written), got 0"),
    (["ingest", *NOWHERE, "--duration", "soon"],
     "--duration: a duration like 90s, 90m, 12h or 3d, got soon"),
    (["ingest", *NOWHERE, "--req-id-dim"], "--req-id-dim: only together with --add-req-id"),
    (["ingest", *NOWHERE, "--shard", "4/4"], "--shard: K/N with 0 <= K < N, got 4/4"),
    (["ingest", *NOWHERE, "--stats-interval", "0"], "--stats-interval: a positive number of seconds, got 0"),
    (["ingest", "-e", "ftp://x"], "-e/--endpoint: an http(s)://host[:port] URL, got ftp://x"),
    # query
    (["query", *NOWHERE, "--config", "nope.ini"], "--config: an existing INI file, got nope.ini"),
    (["query", *NOWHERE, "--params", "x"], "--params: table, model or fixed, got x"),
    (["query", *NOWHERE, "-p", "0"], "-p/--processes: a positive integer, got 0"),
    (["query", *NOWHERE, "--timeout", "0"], "--timeout: a positive number of seconds, got 0"),
    (["query", *NOWHERE, "--repetitions", "-1"],
     "--repetitions: a positive integer (or 0 to keep the config's), got -1"),
    (["query", *NOWHERE, "--query-end-time", "yesterday"],
     "--query-end-time: an ISO-8601 time (2026-11-28T05:00:00Z), now() or ago(1h), got yesterday"),
    (["query", *NOWHERE, "--fixed-params", "--params", "model"],
     "--fixed-params: only with --params table or fixed, got --params model"),
    (["query", *NOWHERE, "--workload", "/nonexistent/wl"],
     "--workload: a workload folder, got /nonexistent/wl"),
    # run: its own flag names for the ingest and query settings it composes
    (["run", *NOWHERE, "--duration", "0"], "--duration: a positive duration (e.g. 30s, 5m), got 0"),
    (["run", *NOWHERE, "--ingest-concurrency", "0"], "--ingest-concurrency: a positive integer, got 0"),
    (["run", *NOWHERE, "--ingest-processes", "0"], "--ingest-processes: a positive integer, got 0"),
    (["run", *NOWHERE, "--query-sessions", "-1"], "--query-sessions: 0 (no queries) or more, got -1"),
    (["run", *NOWHERE, "--query-processes", "0"], "--query-processes: a positive integer, got 0"),
    (["run", *NOWHERE, "--query-timeout", "0"], "--query-timeout: a positive number of seconds, got 0"),
    (["run", *NOWHERE, "--batch-size", "101"], "--batch-size: 1..100, got 101"),
    (["run", *NOWHERE, "--shard", "3/3"], "--shard: K/N with 0 <= K < N, got 3/3"),
    (["run", *NOWHERE, "--params", "random"], "--params: table, model or fixed, got random"),
    (["run", *NOWHERE, "--workload", "/nonexistent/wl"],
     "--workload: a workload folder, got /nonexistent/wl"),
    (["run", *NOWHERE, "--config", "nope.ini"], "--config: an existing INI file, got nope.ini"),
    # report
    (["report"], "DIR: one or more run directories (or -d DIR), got none"),
    (["report", "/nonexistent/runs"], "DIR: an existing directory, got /nonexistent/runs"),
    (["report", "{tmp}", "-f", "xml"], "-f/--format: one of table, csv, md, json, html, got xml"),
    (["report", "{tmp}", "-o", "/no/such/dir/x.html"],
     "-o/--output-file: a file in an existing directory, got /no/such/dir/x.html"),
    # the target flags (two targets) and the query-load flags of the open model and SLOs
    (["ingest", "--target", "influxdb"],
     "-e/--endpoint: an InfluxDB URL with --target influxdb (e.g. http://127.0.0.1:8086), got none"),
    (["ingest", *NOWHERE, "--influx-api", "v2"], "--influx-api: only with --target influxdb"),
    (["ingest", "--target", "mongo"], "--target: one of timestream, influxdb, got mongo"),
    (["ingest", "--target", "influxdb", *NOWHERE, "-r", "us-east-1"],
     "-r/--region: a Timestream setting, not used with --target influxdb, got us-east-1"),
    (["query", *NOWHERE, "--arrival-rate", "0"], "--arrival-rate: a positive number of queries/s, got 0"),
    (["model", "--target", "influxdb", "--influx-instance", "db.nope"], None),
    (["query", *NOWHERE, "--slo", "a.p99<5"], None),
    # serve and cleanup
    (["serve", "--port", "70000"], "--port: 0..65535, got 70000"),
    (["serve", "--throttle-rate", "2"], "--throttle-rate: a probability in [0, 1], got 2"),
    (["serve", "--latency-ms", "5:1"], "--latency-ms: N or N:M milliseconds with 0 <= N <= M, got 5:1"),
    (["cleanup", "-e", "ftp://x"], "-e/--endpoint: an http(s)://host[:port] URL, got ftp://x"),
]


@pytest.mark.parametrize(("args", "line"), CASES, ids=[" ".join(a) for a, _ in CASES])
def test_bad_input_is_one_house_line(
    args: list[str],
    line: str | None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing a failing command might create lands in the checkout
    with pytest.raises(SystemExit) as exit_:
        main([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert exit_.value.code == 2, err
    if line is None:  # a long list of what is allowed: the shape, the flag and the value as typed
        flag, value = args[-2], args[-1]
        assert err.startswith(f"tsload: error: {flag}: ") and err.endswith(f", got {value}\n")
        assert err.count("\n") == 1
    else:
        assert err == f"tsload: error: {line}\n"
    assert not (tmp_path / "tsload-runs").exists() and not (tmp_path / "tsload-data").exists()


def test_report_makes_no_directories(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["report", str(tmp_path), "-o", str(tmp_path / "a" / "b" / "x.html")])
    assert not (tmp_path / "a").exists()


def test_no_traceback_from_the_console_script() -> None:
    r = subprocess.run([sys.executable, "-m", "tsload", "run", "--query-timeout", "1x"],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 2 and r.stderr == "tsload: error: --query-timeout: a number, got 1x\n"
