"""`tsload query` as a user runs it: -p processes, plain progress lines, Ctrl-C, bad flags."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import orjson
import pytest

from tests.query.test_wire import tiny_workload
from tests.sample_format import check_log_line

ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}


def tsload(*args: str) -> list[str]:
    return [sys.executable, "-m", "tsload", "query", *args]


def test_processes_and_sessions_write_their_dirs(tmp_path: Path, moto_url: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}", "q-b": "SELECT {az}"})
    proc = subprocess.run(
        tsload(
            "-e",
            moto_url,
            "--workload",
            str(wl),
            "--fixed-params",
            "-p",
            "2",
            "-c",
            "2",
            "--think-time-milliseconds",
            "0",
            "--repetitions",
            "5",
            "-l",
            str(tmp_path / "logs"),
            "--run-prefix",
            "http://x/y z",
            "--seed",
            "3",
            "--stats-interval",
            "0.2",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    dirs = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert len(dirs) == 4 and all(d.startswith("http_x_y_z-") for d in dirs)  # sanitised prefix
    assert sorted(d.rsplit("-", 2)[1] + "-" + d.rsplit("-", 2)[2] for d in dirs) == [
        "1-1",
        "1-2",
        "2-1",
        "2-2",
    ]
    total = 0
    for d in (tmp_path / "logs").iterdir():
        meta = orjson.loads((d / "session.json").read_bytes())
        total += sum(c["successful"] for c in meta["queries"].values())
        assert meta["session"] == f"{meta['process']}-{meta['session_index']}"
        # the sample's files, line for line; its summary is written even with a URL as the prefix
        lines = [x for f in d.glob("q-*.log") for x in f.read_text().splitlines()]
        assert len(lines) == 5 and all(check_log_line(x)[0] == f"[{meta['session']}]" for x in lines)
        head, *rows = (d / f"{d.name}-summary.csv").read_text().split("\n")
        assert head.startswith("Query type, ") and [r.split(", ")[0] for r in rows] == ["q-a", "q-b"]
        assert sum(int(r.split(", ")[1]) for r in rows) == 5  # --repetitions honoured
    assert total == 20
    assert "q-a" in proc.stdout and "q-b" in proc.stdout  # the final table
    assert "tsload query" in proc.stdout


def test_ctrl_c_writes_files_and_exits_0(tmp_path: Path, moto_url: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}"})
    p = subprocess.Popen(
        tsload(
            "-e",
            moto_url,
            "--workload",
            str(wl),
            "--fixed-params",
            "-c",
            "3",
            "--think-time-milliseconds",
            "100",
            "--repetitions",
            "100000",
            "-l",
            str(tmp_path / "logs"),
            "--stats-interval",
            "0.3",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert p.stderr is not None
    lines = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # wait for two progress lines: the sessions are running
        line = p.stderr.readline()
        lines.append(line)
        if sum(1 for x in lines if x.startswith("[")) >= 2:
            break
    p.send_signal(signal.SIGINT)
    out, err = p.communicate(timeout=60)
    assert p.returncode == 0, "".join(lines) + err
    assert "stopping" in err and "(stopped early)" in out
    dirs = list((tmp_path / "logs").iterdir())
    assert len(dirs) == 3
    for d in dirs:
        meta = orjson.loads((d / "session.json").read_bytes())
        assert meta["ended"] and 0 < meta["executed"] < 100000
        assert (d / f"{d.name}-summary.csv").exists() and (d / "q-a.hdr").exists()
        assert (d / "numDatapoints-end.log").exists()


def test_second_ctrl_c_quits_at_once(tmp_path: Path, moto_url: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}"})
    p = subprocess.Popen(
        tsload(
            "-e",
            moto_url,
            "--workload",
            str(wl),
            "--fixed-params",
            "-c",
            "2",
            "--think-time-milliseconds",
            "100",
            "--repetitions",
            "100000",
            "-l",
            str(tmp_path / "logs"),
            "--stats-interval",
            "0.3",
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=ENV,
    )
    assert p.stderr is not None
    while not p.stderr.readline().startswith("["):
        pass
    p.send_signal(signal.SIGINT)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=60)
    assert p.returncode in (0, 130), err  # 0 only if the first stop already finished
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["-c", "0"], "-c/--concurrency"),
        (["-p", "0"], "-p/--processes"),
        (["--params", "random"], "--params"),
        (["--timeout", "0"], "--timeout"),
        (["--duration", "-1"], "--duration"),
        (["--duration", "soon"], "--duration"),
        (["--duration", "0s"], "--duration"),
        (["--repetitions", "-2"], "--repetitions"),
        (["--query-end-time", "tomorrow"], "--query-end-time"),
        (["--think-time-milliseconds", "-1"], "--think-time-milliseconds"),
        (["--fixed-params", "--params", "model"], "--fixed-params"),
        (["-e", "ftp://x"], "-e/--endpoint"),
        (["--workload", "/nonexistent-dir"], "--workload"),
    ],
)
def test_bad_flags_one_line_exit_2(tmp_path: Path, args: list[str], needle: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}"})
    proc = subprocess.run(
        tsload("--workload", str(wl), *args, "-l", str(tmp_path / "logs")),
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsload: error:") and needle in lines[0], proc.stderr
    assert not (tmp_path / "logs").exists()


def test_duration_stops_all_sessions(tmp_path: Path, moto_url: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}"})
    proc = subprocess.run(
        tsload(
            "-e",
            moto_url,
            "--workload",
            str(wl),
            "--params",
            "model",
            "--host-scale",
            "1",
            "-c",
            "2",
            "--think-time-milliseconds",
            "50",
            "--repetitions",
            "100000",
            "--duration",
            "1500ms",
            "-l",
            str(tmp_path / "logs"),
        ),
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    for d in (tmp_path / "logs").iterdir():
        meta = orjson.loads((d / "session.json").read_bytes())
        assert 0 < meta["executed"] < 100000
        assert meta["params"]["instance_name"].startswith("i-zaZswmJk-")  # drawn from the model


def test_report_merges_what_sessions_wrote(tmp_path: Path, moto_url: str) -> None:
    import math

    import numpy as np

    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}", "q-b": "SELECT {cell}"})
    proc = subprocess.run(
        tsload(
            "-e",
            moto_url,
            "--workload",
            str(wl),
            "--fixed-params",
            "-c",
            "4",
            "--think-time-milliseconds",
            "0",
            "--repetitions",
            "30",
            "-l",
            str(tmp_path / "logs"),
            "--no-datapoint-counts",
        ),
        capture_output=True,
        text=True,
        timeout=120,
        env=ENV,
    )
    assert proc.returncode == 0, proc.stderr
    rep = subprocess.run(
        [sys.executable, "-m", "tsload", "report", str(tmp_path / "logs"), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert rep.returncode == 0, rep.stderr
    report = orjson.loads(rep.stdout)
    by_name = {q["query"]: q for q in report["queries"]}
    for name in ("q-a", "q-b"):
        raw = np.sort(
            [
                check_log_line(line)[3]
                for f in (tmp_path / "logs").rglob(f"{name}.log")
                for line in f.read_text().splitlines()
            ]
        )
        q = by_name[name]
        assert q["successful"] == len(raw) and q["sessions"] == 4
        for key, p in (("p50_s", 50), ("p99_s", 99)):
            rank = max(int(p / 100 * len(raw) + 0.5), 1)  # HDR's nearest rank
            # the .hdr holds µs, the .log lines the sample's 3 decimals
            assert math.isclose(q["latency"][key], raw[rank - 1], rel_tol=2e-3, abs_tol=5e-4 + 2e-6)
