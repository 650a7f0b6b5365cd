"""`tsload run` end to end against a local engine the test starts (so the test can read the table
afterwards): backfill + live ingest + query sessions, the run directory, the merged report, and
the table's contents (every record acknowledged is stored once, and the live phase continues the
backfill's schedule with no hole)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import orjson
import pytest

from tsload.targets.local import LocalEngine

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}
HOSTS = 1000  # host scale 1
EVENT_SETS = 1200
INTERVAL_S = 60


class Engine:
    """A `tsload serve` process kept alive across the test (LocalEngine is an async context)."""

    def __init__(self, data: Path) -> None:
        self.loop = asyncio.new_event_loop()
        self.engine = LocalEngine(data)
        self.loop.run_until_complete(self.engine.__aenter__())
        self.url = self.engine.endpoint_url

    def close(self) -> None:
        self.loop.run_until_complete(self.engine.__aexit__(None, None, None))
        self.loop.close()

    def query(self, sql: str) -> list[list[str | None]]:
        client = boto3.client(
            "timestream-query",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="k",
            aws_secret_access_key="s",
        )
        rows: list[list[str | None]] = []
        kwargs: dict[str, Any] = {"QueryString": sql}
        while True:
            page = client.query(**kwargs)
            rows += [[d.get("ScalarValue") for d in r["Data"]] for r in page["Rows"]]
            if not page.get("NextToken"):
                return rows
            kwargs["NextToken"] = page["NextToken"]


@pytest.fixture()
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = Engine(tmp_path / "engine")
    try:
        yield e
    finally:
        e.close()


def tsload(*args: str, cwd: Path, timeout: float = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tsload", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=ENV,
    )


def test_run_end_to_end(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "run1"
    proc = tsload(
        "run", "-e", engine.url, "--backfill", "5m", "--duration", "6s", "--query-sessions", "2",
        "--think-time-milliseconds", "200", "--stats-interval", "1", "--out", str(out), cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    # the run directory holds everything
    for rel in ("run.json", "report.json", "report.md", "report.html", "backfill/ingest-summary.json",
                "ingest/ingest-summary.json", "ingest/write-latency.hlog", "ingest/lag.hlog"):
        assert (out / rel).is_file(), rel
    # user-only, like every run directory tsload writes
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in [out, *out.rglob("*")]}
    assert all(m == (0o700 if (out / p).is_dir() else 0o600) for p, m in modes.items()), modes
    sessions = sorted(p for p in (out / "queries").iterdir() if p.is_dir())
    assert len(sessions) == 2
    assert all(list(s.glob("*.hdr")) for s in sessions)

    backfill = orjson.loads((out / "backfill/ingest-summary.json").read_bytes())
    live = orjson.loads((out / "ingest/ingest-summary.json").read_bytes())
    # 5 minutes of history at a 60 s interval: 5 emissions of every host (20 metrics) and event set (5)
    assert backfill["generated"] == 5 * (HOSTS * 20 + EVENT_SETS * 5)
    assert backfill["ingested"] == backfill["generated"]
    assert live["balanced"] and live["ingested"] > 0 and live["failed"] == 0

    # the report is the live phase: its ingest counts are the live summary's, its queries the sessions'
    report = orjson.loads((out / "report.json").read_bytes())
    assert report["ingest"]["generated"] == live["generated"]
    assert report["ingest"]["ingested"] == live["ingested"]
    assert report["query_sessions"] == 2
    total_queries = sum(q["total"] for q in report["queries"])
    assert total_queries > 0
    assert sum(q["failed"] for q in report["queries"]) == 0
    # the printed report and the cost estimate are on stdout
    assert "Queries" in proc.stdout and "Cost estimate" in proc.stdout
    assert "backfill: 5 m of history" in proc.stdout
    md = (out / "report.md").read_text()
    assert all(q["query"] in md for q in report["queries"])

    # the table: every acknowledged record stored once, and no hole between backfill and live
    [[stored]] = engine.query('SELECT count(*) FROM "devops"."host_metrics"')
    assert int(stored or 0) == backfill["ingested"] + live["ingested"]
    gaps = engine.query(
        'SELECT instance_name, count(DISTINCT time) AS n, '
        '(to_milliseconds(max(time)) - to_milliseconds(min(time))) / 60000 + 1 AS span '
        'FROM "devops"."host_metrics" WHERE measure_name = \'cpu_user\' GROUP BY instance_name'
    )
    assert len(gaps) == HOSTS
    # each host emitted at every interval from its first backfill time to its last live time
    assert all(int(n or 0) == int(span or 0) for _, n, span in gaps), [g for g in gaps if g[1] != g[2]][:5]
    assert min(int(n or 0) for _, n, _ in gaps) >= 5


def test_run_ctrl_c_in_live_phase_writes_the_report(engine: Engine, tmp_path: Path) -> None:
    # no --out: ./tsload-runs/<UTC time>, and tsload-runs/latest points at it
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "run", "-e", engine.url, "--backfill", "2m", "--duration", "5m",
         "--query-sessions", "2", "--think-time-milliseconds", "100", "--stats-interval", "1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    for line in proc.stderr:  # wait until both sides are live and have reported once
        seen.append(line)
        if line.startswith("queries [") or time.monotonic() > deadline:
            break
    assert any(line.startswith("queries [") for line in seen), "".join(seen)[-2000:]
    os.killpg(proc.pid, signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr[-2000:]
    assert "Traceback" not in stderr
    runs = [p for p in (tmp_path / "tsload-runs").iterdir() if p.name != "latest"]
    assert len(runs) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ", runs[0].name)
    out = tmp_path / "tsload-runs" / "latest"
    assert out.resolve() == runs[0].resolve()
    report = orjson.loads((out / "report.json").read_bytes())
    live = orjson.loads((out / "ingest/ingest-summary.json").read_bytes())
    assert live["balanced"] and report["ingest"]["ingested"] == live["ingested"]
    assert report["wall_s"] < 120  # it stopped long before --duration 5m
    assert "Queries" in stdout
    assert "live phase" in orjson.loads((out / "run.json").read_bytes())["stopped"]


def test_run_ctrl_c_in_backfill_claims_no_report(engine: Engine, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "run", "-e", engine.url, "--backfill", "2h",
         "--memory-store-retention-hours", "3", "--host-scale", "3", "--stats-interval", "1"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
        start_new_session=True,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    for line in proc.stderr:  # stop once the backfill has written something
        seen.append(line)
        if line.startswith("backfill written"):
            break
    assert "phase: live" not in "".join(seen)
    os.killpg(proc.pid, signal.SIGINT)
    _, stderr = proc.communicate(timeout=60)
    stderr = "".join(seen) + stderr
    assert "Traceback" not in stderr
    runs = [p for p in (tmp_path / "tsload-runs").iterdir()]
    assert len(runs) == 1  # and no `latest`: it produced no report
    assert not (runs[0] / "report.json").exists() and not (runs[0] / "report.html").exists()
    assert "report.html" not in stderr and "no report" in stderr
    assert "backfill" in orjson.loads((runs[0] / "run.json").read_bytes())["stopped"]


@pytest.mark.parametrize(
    ("args", "culprit"),
    [
        (["--duration", "0"], "--duration"),
        (["--duration", "soon"], "--duration"),
        (["--backfill", "-5m"], "--backfill"),
        (["--query-sessions", "-1"], "--query-sessions"),
        (["--ingest-concurrency", "0"], "--ingest-concurrency: a positive integer, got 0"),
        (["--params", "random"], "--params"),
        (["--shard", "3/3"], "--shard"),
        (["--repetitions", "-2"], "--repetitions"),
        (["--prices", "/nonexistent/prices.json"], "--prices"),
        (["--batch-size", "101"], "--batch-size"),
        (["--req-id-dim"], "--req-id-dim"),
        (["--drain-timeout", "-1"], "--drain-timeout"),
        (["--backfill", "3h"], "--backfill: at most the memory store's 2 h"),
        (["--workload", "/nonexistent/workload"], "/nonexistent/workload"),
        (["--config", "/nonexistent/mix.ini"], "/nonexistent/mix.ini"),
    ],
)
def test_run_bad_input_is_one_line_exit_2(tmp_path: Path, args: list[str], culprit: str) -> None:
    proc = tsload("run", "-e", "http://127.0.0.1:9", "--out", str(tmp_path / "out"), *args, cwd=tmp_path,
                  timeout=60)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and culprit in lines[0], proc.stderr
    assert not (tmp_path / "out").exists()


def test_run_out_dir_not_empty_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "used"
    out.mkdir()
    (out / "report.json").write_text("{}")
    proc = tsload("run", "-e", "http://127.0.0.1:9", "--out", str(out), cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and f"--out: a new or empty directory, got {out}" in proc.stderr
    assert (out / "report.json").read_text() == "{}"


def test_run_without_backfill_or_queries(engine: Engine, tmp_path: Path) -> None:
    live_only = tsload("run", "-e", engine.url, "--backfill", "0", "--duration", "3s",
                       "--query-sessions", "1", "--think-time-milliseconds", "200",
                       "--out", str(tmp_path / "a"), cwd=tmp_path)
    assert live_only.returncode == 0, live_only.stderr[-2000:]
    assert not (tmp_path / "a" / "backfill").exists() and "backfill:" not in live_only.stdout
    # ran its --duration: the query side's own end-of-duration stop is not an early stop
    assert "stopped" not in orjson.loads((tmp_path / "a" / "run.json").read_bytes())
    md = (tmp_path / "a" / "report.md").read_text()
    assert md.startswith("**Summary**") and "- target: 127.0.0.1" in md, md[:400]
    assert orjson.loads((tmp_path / "a" / "ingest/ingest-summary.json").read_bytes())["ingested"] > 0
    ingest_only = tsload("run", "-e", engine.url, "--backfill", "1m", "--duration", "2s", "--add-req-id",
                         "--query-sessions", "0", "--out", str(tmp_path / "b"), cwd=tmp_path)
    assert ingest_only.returncode == 0, ingest_only.stderr[-2000:]
    assert not (tmp_path / "b" / "queries").exists()
    report = orjson.loads((tmp_path / "b" / "report.json").read_bytes())
    assert report["queries"] == [] and report["ingest"]["ingested"] > 0
    assert "queries: none measured" in ingest_only.stdout
    backfill = orjson.loads((tmp_path / "b" / "backfill/ingest-summary.json").read_bytes())
    assert backfill["config"]["add_req_id"] is True
    # a request_id measure per host emission: 1 m at 60 s = one emission of 1,000 hosts + 1,200 event sets
    assert backfill["ingested"] == HOSTS * 21 + EVENT_SETS * 6


def test_run_against_an_unreachable_endpoint_leaves_no_run_directory(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a loopback port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "never"
    proc = tsload("run", "-e", f"http://127.0.0.1:{port}", "--out", str(out), cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "cannot reach" in lines[0] and "Traceback" not in proc.stderr
    assert not out.exists()


def test_run_open_model_and_slos_in_report_json(engine: Engine, tmp_path: Path) -> None:
    out = tmp_path / "open"
    proc = tsload("run", "-e", engine.url, "--backfill", "10m", "--duration", "3s", "--query-sessions", "3",
                  "--arrival-rate", "8", "--arrival", "poisson", "--stats-interval", "1", "--out", str(out),
                  "--slo", "queries.failed<=0", "--slo", "ingest.records_per_s>0",
                  "--slo", "ingest.latency.p50<0.001ms", cwd=tmp_path)
    assert proc.returncode == 3, proc.stderr[-3000:]
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith("SLO failed: ingest.latency.p50<0.001ms (measured ")
    report = orjson.loads((out / "report.json").read_bytes())
    assert [(s["expr"], s["pass"]) for s in report["slo"]] == [
        ("queries.failed<=0", True), ("ingest.records_per_s>0", True), ("ingest.latency.p50<0.001ms", False)]
    arrival = report["arrival"]
    assert arrival["requested_per_s"] == 8 and arrival["arrival"] == "poisson" and arrival["started"] > 0
    assert arrival["scheduled"] == arrival["started"] + arrival["dropped"]
    assert all(q["service_time"] is not None for q in report["queries"] if q["successful"])
    assert report["ingest"]["latency_from_schedule_ms"]["count"] > 0
    assert "arrival rate: requested 8.00/s (poisson)" in proc.stdout
