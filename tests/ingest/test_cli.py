"""`tsload ingest` / `tsload cleanup` as a user runs them: subprocesses, signals, exit codes."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest


def run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tsload", *args], capture_output=True, text=True, timeout=120, cwd=cwd
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--batch-size", "101"], "--batch-size"),
        (["--req-id-dim"], "--req-id-dim"),
        (["--shard", "3/3"], "--shard"),
        (["--backfill", "soon"], "--backfill"),
        (["-c", "0"], "-c/--concurrency"),
        (["--host-scale", "x"], "--host-scale"),
        (["-e", "ftp://x"], "-e/--endpoint"),
        (["--duration", "0"], "--duration"),
    ],
)
def test_bad_flags_exit_2_with_one_line(args: list[str], needle: str, tmp_path: Path) -> None:
    r = run("ingest", *args, "--local-data", str(tmp_path / "d"), cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsload") and needle in lines[0], r.stderr
    assert "Traceback" not in r.stderr


def test_ctrl_c_drains_prints_balanced_totals_and_exits_0(tmp_path: Path) -> None:
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tsload",
            "ingest",
            "--host-scale",
            "1",
            "--shard",
            "0/10",
            "--interval-millis",
            "1000",
            "-c",
            "4",
            "--stats-interval",
            "0.5",
            "--out",
            str(out),
            "--local-data",
            str(tmp_path / "data"),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    assert proc.stderr is not None
    try:
        while True:
            line = proc.stderr.readline()
            assert line, "tsload ingest ended before showing progress"
            if "records/s" in line and "ingested 0," not in line:
                break
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr
    assert "(balanced)" in stdout and "dropped 0" in stdout
    doc = json.loads((out / "ingest-summary.json").read_text())
    assert doc["balanced"] and doc["ingested"] == doc["generated"] > 0 and doc["dropped"] == 0


def test_second_ctrl_c_quits_at_once(tmp_path: Path) -> None:
    # an endpoint that accepts connections and never answers: nothing can finish on its own
    with socket.socket() as hole:
        hole.bind(("127.0.0.1", 0))
        hole.listen(64)
        url = f"http://127.0.0.1:{hole.getsockname()[1]}"
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tsload",
                "ingest",
                "-e",
                url,
                "--host-scale",
                "1",
                "--drain-timeout",
                "60",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        try:
            time.sleep(3)  # let it start and block on the endpoint
            proc.send_signal(signal.SIGINT)
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130, stderr
    assert "interrupted" in stderr and "Traceback" not in stderr


def test_cleanup_deletes_table_then_database(tmp_path: Path) -> None:
    data = str(tmp_path / "data")
    r = run(
        "ingest",
        "--host-scale",
        "1",
        "--backfill",
        "1m",
        "--interval-millis",
        "60000",
        "--duration",
        "0",
        "-c",
        "4",
        "--local-data",
        data,
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "generated 26,000 records = ingested 26,000" in r.stdout
    again = run(
        "ingest",
        "--host-scale",
        "1",
        "--backfill",
        "1m",
        "--interval-millis",
        "60000",
        "--duration",
        "0",
        "--local-data",
        data,
        cwd=tmp_path,
    )
    # the second run describes the table it finds (and needs no create permission for it)
    assert "exists: kept as it is (memory store 2 h, magnetic store 365 d, magnetic-store writes off)" in (
        again.stderr
    )
    c = run("cleanup", "--local-data", data, cwd=tmp_path)
    assert c.returncode == 0, c.stderr
    assert c.stdout.splitlines() == ["deleted table devops.host_metrics", "deleted database devops"]
    c2 = run("cleanup", "--local-data", data, cwd=tmp_path)
    assert "does not exist" in c2.stdout


def test_print_model_summary_prints_and_exits_0(tmp_path: Path) -> None:
    r = run(
        "ingest",
        "--print-model-summary",
        "--host-scale",
        "2000",
        "--interval-millis",
        "300000",
        "--multi",
        cwd=tmp_path,
    )
    assert r.returncode == 0, r.stderr
    assert "Number of timeseries: 4,400,000" in r.stdout and "14,667" in r.stdout
    assert not (tmp_path / "tsload-data").exists()  # nothing started, nothing written


def test_unreachable_endpoint_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    from tests.conftest import free_port

    url = f"http://127.0.0.1:{free_port()}"
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "tsload", *args, "-e", url],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=tmp_path,
        )
        for args in (["ingest", "--duration", "1", "--host-scale", "1"], ["cleanup"])
    ]
    for proc in procs:
        _, stderr = proc.communicate(timeout=60)
        assert proc.returncode == 1, stderr
        lines = stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(f"tsload: error: cannot reach {url}"), stderr


@pytest.mark.parametrize(("slo", "needle"), [
    ("queries.p99<1s", "this command runs no queries"),
    ("ingest.lag.p99<5", "give the threshold in ms or s"),
    ("ingest.late<1%", "unknown metric 'late'"),
])
def test_bad_slo_exit_2_before_any_work(slo: str, needle: str, tmp_path: Path) -> None:
    r = run("ingest", "--local-data", str(tmp_path / "d"), "--slo", slo, cwd=tmp_path)
    assert r.returncode == 2, r.stderr
    (line,) = r.stderr.strip().splitlines()
    assert line.startswith("tsload: error: --slo: ") and needle in line
    assert not (tmp_path / "d").exists()


def test_slo_abort_on_fail_stops_early_and_exits_3(tmp_path: Path) -> None:
    """A breach on the running totals after the grace period drains the run like Ctrl-C: the
    summary is written, far fewer than the 60 s schedule's records were generated, exit 3."""
    out = tmp_path / "run"
    r = run("ingest", "--local-data", str(tmp_path / "d"), "--host-scale", "1", "--interval-millis", "1000",
            "--shard", "0/20", "--duration", "60", "--stats-interval", "0.3", "--out", str(out),
            "--slo", "ingest.service_time.p50<0.001ms", "--slo", "ingest.rejected<=0",
            "--abort-on-fail", "--slo-grace", "1s", cwd=tmp_path)
    assert r.returncode == 3, r.stderr
    assert "--abort-on-fail: SLO failed: ingest.service_time.p50<0.001ms" in r.stderr
    assert r.stderr.strip().splitlines()[-1].startswith("SLO failed: ingest.service_time.p50<0.001ms")
    assert "SLO: 1 of 2 FAILED" in r.stdout and "pass  ingest.rejected<=0" in r.stdout
    summary = json.loads((out / "ingest-summary.json").read_text())
    # shard 0/20 of host-scale 1: 50 hosts x 20 records + 60 event sets x 5 per second
    assert 0 < summary["generated"] < 30 * (50 * 20 + 60 * 5)
    assert summary["generated"] == summary["ingested"] + summary["failed"] + summary["dropped"]
