"""End to end on the local engine (`tsload serve`, started by `tsload query` itself through
`open_target`) after a backfill with `tsload ingest`, single- and multi-measure: every query of the
DevOps workload returns rows, no `.err` is written, and the session directory is exactly the
spec's layout in the contract's formats."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from tests.sample_format import SUMMARY_ROW, check_log_line
from tsload.report.sample_csv import SAMPLE_HEADER

ENV = {**os.environ, "PYTHONUNBUFFERED": "1"}
REPO = Path(__file__).resolve().parents[2]

QUERIES = [f"do-q{i}" for i in range(1, 7)]


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tsload", *args], cwd=cwd, capture_output=True, text=True, timeout=240, env=ENV
    )


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    for extra in ([], ["--multi", "-t", "host_metrics_multi"]):
        proc = run(
            [
                "ingest",
                "--local-data",
                str(root / "data"),
                "--host-scale",
                "1",
                "--interval-millis",
                "600000",
                "--backfill",
                "70m",
                "--duration",
                "0",
                *extra,
            ],
            root,
        )
        assert proc.returncode == 0, proc.stderr
    return root


def even_mix(path: Path, mode: str = "regular") -> Path:
    path.write_text(
        f"[default]\nquery_mode = {mode}\nretries = 3\n[query_distribution]\n"
        + "".join(f"{q} = 1\n" for q in QUERIES)
    )
    return path


@pytest.mark.parametrize(("multi", "params"), [(False, "table"), (True, "model")])
def test_every_query_returns_rows(data: Path, tmp_path: Path, multi: bool, params: str) -> None:
    logs = tmp_path / "logs"
    args = [
        "query",
        "--local-data",
        str(data / "data"),
        "-l",
        str(logs),
        "--config",
        str(even_mix(tmp_path / "c.ini")),
        "--think-time-milliseconds",
        "0",
        "--repetitions",
        "40",
        "--seed",
        "1",
        "--params",
        params,
        "--host-scale",
        "1",
    ]
    if multi:
        args += ["--multi", "-t", "host_metrics_multi"]
    proc = run(args, tmp_path)
    assert proc.returncode == 0, proc.stderr
    (d,) = logs.iterdir()
    assert re.fullmatch(r"local-\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-1-1", d.name)
    # the sample creates every .err at session start; all stay empty
    assert all(p.stat().st_size == 0 for p in d.glob("*.err")), [p.read_text() for p in d.glob("*.err")]
    exts = (".sql", ".log", ".err", ".hdr", ".hlog", ".service-time.hdr", ".service-time.hlog")
    expected = {f"{q}{ext}" for q in QUERIES for ext in exts}
    expected |= {
        "session.json",
        f"{d.name}-summary.csv",
        "numDatapoints-begin.log",
        "numDatapoints-end.log",
        "numDatapoints-begin.err",
        "numDatapoints-end.err",
        "numDatapoints-begin-result.txt",
        "numDatapoints-end-result.txt",
    }
    assert {p.name for p in d.iterdir()} == expected
    executions = []
    for q in QUERIES:
        lines = (d / f"{q}.log").read_text().splitlines()
        assert lines, q
        for line in lines:
            prefix, execution, qid, _, rows = check_log_line(line)  # the sample's own line format
            assert prefix == "[1-1]" and qid is not None
            assert rows is not None and rows > 0, f"{q} returned no rows: {line}"
            executions.append(execution)
    assert sorted(executions) == list(range(1, 41))
    summary = (d / f"{d.name}-summary.csv").read_text()
    assert not summary.endswith("\n")
    head, *rows = summary.split("\n")
    assert head == SAMPLE_HEADER and len(rows) == 6 and all(SUMMARY_ROW.match(r) for r in rows)
    for stage in ("begin", "end"):
        (line,) = (d / f"numDatapoints-{stage}.log").read_text().splitlines()
        assert check_log_line(line)[4] == 1
    meta = orjson.loads((d / "session.json").read_bytes())
    assert sum(c["successful"] for c in meta["queries"].values()) == 40 and meta["params_source"] == params
    assert meta["model"] == ("multi" if multi else "single")
    begin = (d / "numDatapoints-begin-result.txt").read_text().splitlines()
    assert begin[0].split() == ["num_data_points"] and int(begin[1].split()[1]) > 0


def test_row_count_mode(data: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    proc = run(
        [
            "query",
            "--local-data",
            str(data / "data"),
            "-l",
            str(logs),
            "--config",
            str(even_mix(tmp_path / "c.ini", "row_count")),
            "--think-time-milliseconds",
            "0",
            "--repetitions",
            "12",
            "--seed",
            "2",
            "--fixed-params",
            "--no-datapoint-counts",
        ],
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    (d,) = logs.iterdir()
    assert all(p.stat().st_size == 0 for p in d.glob("*.err"))
    for log in d.glob("*.log"):
        assert all(check_log_line(x)[4] == 1 for x in log.read_text().splitlines())  # one COUNT(*) row
    for sql in d.glob("*.sql"):
        assert sql.read_text().startswith("SELECT COUNT(*)\nFROM (\n")
