"""Session logic with an in-memory transport and a fake clock: think time, stagger, retries,
timeouts and CancelQuery, pagination, row_count, stopping, and the files a session writes."""

from __future__ import annotations

import asyncio
import random
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson

from tests.query.fakes import FakeClock, FakeTransport, call_error
from tests.sample_format import EMPTY_ROW, check_log_line
from tsload.query.executor import QueryExecutor
from tsload.query.samplefmt import summary_csv
from tsload.query.session import Session, SessionSpec
from tsload.targets import RetryPolicy


def no_errors(d: Path) -> bool:
    """Every .err exists for the mix (the sample creates them at session start) and is empty."""
    errs = list(d.glob("*.err"))
    return bool(errs) and all(e.stat().st_size == 0 for e in errs)


def spec(tmp_path: Path, **kw: Any) -> SessionSpec:
    base = SessionSpec(
        process=1,
        index=1,
        directory=tmp_path / "run-2026-11-28-05-00-00-1-1",
        database="devops",
        table="host_metrics",
        end="now()",
        multi=False,
        query_mode="regular",
        repetitions=5,
        templates={"do-q1": "SELECT {region} FROM {db}.{table}", "do-q2": "SELECT {cell} AS c"},
        weights=(("do-q1", 0.5), ("do-q2", 0.5)),
        params_source="fixed",
        think_ms=1000,
        randomized_think=False,
        start_offset_ms=0,
        seed=7,
        count_datapoints=False,
    )
    return replace(base, **kw)


def make(
    tmp_path: Path,
    transport: FakeTransport,
    clock: FakeClock,
    *,
    retries: int = 0,
    timeout: float | None = None,
    **kw: Any,
) -> Session:
    transport.clock = clock
    executor = QueryExecutor(
        transport,
        RetryPolicy(max_retries=retries),
        timeout_s=timeout,
        rng=random.Random(1),
        sleep=clock.sleep,
        clock=clock,
    )
    return Session(spec(tmp_path, **kw), executor, sleep=clock.sleep, wall_clock=clock)


async def run(session: Session, stop: asyncio.Event | None = None) -> Any:
    return await session.run(stop or asyncio.Event())


async def test_think_time_and_stagger(tmp_path: Path) -> None:
    clock = FakeClock()
    s = make(tmp_path, FakeTransport(), clock, start_offset_ms=2500, think_ms=1000, repetitions=5)
    await run(s)
    # stagger first, then one think time between queries, none after the last
    assert clock.sleeps == [2.5, 1.0, 1.0, 1.0, 1.0]


async def test_randomized_think_time_below_5000(tmp_path: Path) -> None:
    clock = FakeClock()
    s = make(tmp_path, FakeTransport(), clock, think_ms=1200, randomized_think=True, repetitions=200)
    await run(s)
    assert len(clock.sleeps) == 199 and all(s == 1.2 for s in clock.sleeps)  # [min(5000, T), T] = [T, T]
    clock = FakeClock()
    s = make(tmp_path / "b", FakeTransport(), clock, think_ms=8000, randomized_think=True, repetitions=200)
    await run(s)
    ms = [round(x * 1000) for x in clock.sleeps]
    assert all(5000 <= m <= 8000 for m in ms) and len(set(ms)) > 50


async def test_zero_think_time_never_sleeps(tmp_path: Path) -> None:
    clock = FakeClock()
    await run(make(tmp_path, FakeTransport(), clock, think_ms=0, repetitions=20))
    assert clock.sleeps == []


async def test_files_and_formats(tmp_path: Path) -> None:
    clock = FakeClock()
    s = make(tmp_path, FakeTransport(pages=3, rows_per_page=2), clock, think_ms=0, repetitions=12)
    result = await run(s)
    d = s.spec.directory
    names = sorted(p.name for p in d.iterdir())
    assert names == sorted(
        [
            "do-q1.sql",
            "do-q2.sql",
            "do-q1.log",
            "do-q2.log",
            "do-q1.err",
            "do-q2.err",
            "do-q1.hdr",
            "do-q2.hdr",
            "do-q1.hlog",
            "do-q2.hlog",
            "do-q1.service-time.hdr",
            "do-q2.service-time.hdr",
            "do-q1.service-time.hlog",
            "do-q2.service-time.hlog",
            "session.json",
            f"{d.name}-summary.csv",
        ]
    )
    assert (d / "do-q1.sql").read_text() == 'SELECT \'eu-west-1\' FROM "devops"."host_metrics"'
    executions: list[int] = []
    latencies: dict[str, list[float]] = {}
    for q in ("do-q1", "do-q2"):
        for line in (d / f"{q}.log").read_text().splitlines():
            prefix, execution, qid, seconds, rows = check_log_line(line)
            assert prefix == "[1-1]" and qid is not None
            executions.append(execution)
            assert rows == 6  # every page read
            latencies.setdefault(q, []).append(seconds)
    assert sorted(executions) == list(range(1, 13))
    meta = orjson.loads((d / "session.json").read_bytes())
    assert meta["session"] == "1-1" and meta["process"] == 1 and meta["session_index"] == 1
    assert sum(c["total"] for c in meta["queries"].values()) == 12
    assert meta["params"]["region"] == "eu-west-1"
    assert result.counts == meta["queries"]
    # the summary CSV is the sample's, computed from the same latencies
    csv = (d / f"{d.name}-summary.csv").read_text()
    assert csv == summary_csv(["do-q1", "do-q2"], s.latencies, {q: len(v) for q, v in s.latencies.items()})
    for q, seconds in latencies.items():  # the .log's Time is the latency, rounded as the sample does
        assert seconds == [round(x, 3) for x in s.latencies[q]]
    assert csv.splitlines()[0].startswith("Query type, Total Count, Successful Count, Avg. latency")


async def test_retries_on_throttling_are_counted(tmp_path: Path) -> None:
    clock = FakeClock()
    throttle = call_error("ThrottlingException", "Rate exceeded", status=400)
    t = FakeTransport(errors=[throttle, throttle])
    s = make(tmp_path, t, clock, retries=2, think_ms=0, repetitions=1)
    result = await run(s)
    (counts,) = result.counts.values()
    assert counts["successful"] == 1 and counts["retries"] == 2 and counts["throttled"] == 2
    assert len(clock.sleeps) == 2 and 0 <= clock.sleeps[0] <= 0.05 and 0 <= clock.sleeps[1] <= 0.1
    assert no_errors(s.spec.directory)


async def test_retries_exhausted_and_non_retryable(tmp_path: Path) -> None:
    clock = FakeClock()
    errors = [call_error("InternalServerException", "boom", status=500, request_id="R1")] * 3
    s = make(tmp_path, FakeTransport(errors=errors), clock, retries=2, think_ms=0, repetitions=1)
    (counts,) = (await run(s)).counts.values()
    assert counts["failed"] == 1 and counts["retries"] == 2 and counts["successful"] == 0
    (err,) = [e for e in s.spec.directory.glob("*.err") if e.stat().st_size]
    lines = err.read_text().split("\n")
    # the sample's block: error, "<time> QueryId: … RequestId: …", traceback-style lines, blank line
    assert lines[0] == ("An error occurred (InternalServerException) when calling the Query operation "
                        "(reached max retries: 2): boom")
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d QueryId: None RequestId: R1", lines[1])
    assert lines[2] == "Traceback (most recent call last):" and lines[-3].endswith(lines[0])
    assert lines[-2:] == ["", ""]
    (log_text,) = [f.read_text() for f in s.spec.directory.glob("*.log") if f.stat().st_size]
    _, execution, qid, _, rows = check_log_line(log_text.rstrip("\n"))
    assert (execution, qid, rows) == (1, None, None)  # a failed execution: Rows: None
    # the summary leaves the latency columns empty for a query without a success, as the sample
    summary = next(s.spec.directory.glob("*-summary.csv")).read_text().splitlines()
    assert [r for r in summary[1:] if ", 1, 0" in r] and all(EMPTY_ROW.match(r) for r in summary[1:])

    t = FakeTransport(errors=[call_error("ValidationException", "bad SQL", status=400)])
    s = make(tmp_path / "v", t, FakeClock(), retries=5, think_ms=0, repetitions=1)
    (counts,) = (await run(s)).counts.values()
    assert counts["failed"] == 1 and counts["retries"] == 0 and len(t.calls) == 1


async def test_timeout_cancels_the_query(tmp_path: Path) -> None:
    t = FakeTransport(hang_after_first_page=True)
    executor = QueryExecutor(t, RetryPolicy(), timeout_s=0.05)
    s = Session(spec(tmp_path, think_ms=0, repetitions=2, weights=(("do-q1", 1.0),)), executor)
    (counts,) = (await s.run(asyncio.Event())).counts.values()
    assert counts["timed_out"] == 2 and counts["cancelled"] == 2 and counts["successful"] == 0
    assert t.cancelled == ["Q1", "Q2"]
    (err,) = s.spec.directory.glob("*.err")
    text = err.read_text()
    assert "QueryId: Q1" in text and "timed out after" in text and "cancelled" in text
    log_lines = (s.spec.directory / "do-q1.log").read_text().splitlines()
    assert [check_log_line(x)[2:5:2] for x in log_lines] == [("Q1", None), ("Q2", None)]


async def test_row_count_mode_wraps(tmp_path: Path) -> None:
    seen: list[str] = []
    t = FakeTransport(on_query=lambda p: seen.append(p["QueryString"]))
    s = make(tmp_path, t, FakeClock(), query_mode="row_count", think_ms=0, repetitions=3)
    await run(s)
    assert seen and all(
        q.startswith("SELECT COUNT(*)\nFROM (\nSELECT ") and q.endswith("\n)\n") for q in seen
    )
    assert (
        s.spec.directory / "do-q2.sql"
    ).read_text() == "SELECT COUNT(*)\nFROM (\nSELECT 'eu-west-1-cell-8' AS c\n)\n"


async def test_stop_writes_everything(tmp_path: Path) -> None:
    stop = asyncio.Event()
    count = {"n": 0}

    def on_query(_: dict[str, Any]) -> None:
        count["n"] += 1
        if count["n"] == 4:
            stop.set()

    t = FakeTransport(hang_after_first_page=False, on_query=on_query)
    executor = QueryExecutor(t, RetryPolicy())
    s = Session(spec(tmp_path, think_ms=50, repetitions=1000), executor)
    result = await s.run(stop)
    assert 3 <= result.executed < 1000
    d = s.spec.directory
    assert (d / "session.json").exists() and (d / f"{d.name}-summary.csv").exists()
    assert sum(c["total"] for c in result.counts.values()) == result.executed


async def test_stop_during_stagger_starts_nothing(tmp_path: Path) -> None:
    stop = asyncio.Event()
    stop.set()
    s = Session(spec(tmp_path, start_offset_ms=60_000), QueryExecutor(FakeTransport(), RetryPolicy()))
    result = await s.run(stop)
    assert result.executed == 0 and not s.spec.directory.exists()


async def test_table_params(tmp_path: Path) -> None:
    class TableTransport(FakeTransport):
        async def query(self, params: dict[str, Any]) -> dict[str, Any]:
            sql = params["QueryString"]
            self.calls.append(dict(params))
            if self.clock is not None:
                self.clock.now += 0.002
            if "process_name" in sql:
                names = ["instance_name", "process_name", "jdk_version"]
                rows = [["i-a", "server", "JDK_11"], ["i-b", "host_manager", "JDK_8"]]
            elif "os_version" in sql:
                assert "instance_name = 'i-a'" in sql or "instance_name = 'i-b'" in sql
                names = [
                    "region",
                    "cell",
                    "silo",
                    "availability_zone",
                    "microservice_name",
                    "instance_type",
                    "os_version",
                ]
                rows = [["r", "c", "s", "az", "ms", "it", "os"]]
            else:
                names, rows = ["x"], [["1"]]
            return {
                "QueryId": "T",
                "ColumnInfo": [{"Name": n} for n in names],
                "Rows": [{"Data": [{"ScalarValue": v} for v in r]} for r in rows],
            }

    t = TableTransport()
    s = make(tmp_path, t, FakeClock(), params_source="table", repetitions=1, multi=True)
    await run(s)
    assert s.params is not None and s.params.instance_name in ("i-a", "i-b") and s.params.az == "az"
    assert "measure_name = 'events'" in t.calls[0]["QueryString"]
    assert "measure_name = 'metrics'" in t.calls[1]["QueryString"]


async def test_session_dir_is_user_only(tmp_path: Path) -> None:
    import os
    import stat

    old = os.umask(0o022)
    try:
        t = FakeTransport(errors=[call_error("ValidationException", "bad", status=400)])
        s = make(tmp_path, t, FakeClock(), think_ms=0, repetitions=4)
        await run(s)
    finally:
        os.umask(old)
    d = s.spec.directory
    assert stat.S_IMODE(d.stat().st_mode) == 0o700
    files = list(d.iterdir())
    assert any(f.suffix == ".err" for f in files) and any(f.suffix == ".hlog" for f in files)
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in files)
