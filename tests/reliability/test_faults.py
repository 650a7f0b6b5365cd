"""Faults survived, nothing lost, nothing counted twice.

- a 260,000-record backfill through throttling, server errors, rejected records and latency;
- the engine SIGKILLed and restarted mid-run on the same port and data directory;
- a 2-second endpoint with a small queue (bounded memory, lag, the "Can't keep up" warning);
- Ctrl-C (SIGINT to the process group) during an ingest on the embedded engine.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.reliability._proc import EngineProcess
from tests.reliability._results import record
from tests.reliability._store import query_count, stored_counts
from tsload.ingest import IngestConfig
from tsload.ingest.runner import ingest
from tsload.model.fleet import EVENT_NAMES, METRIC_NAMES, Fleet, FleetConfig
from tsload.targets import TargetConfig

DB, TABLE = "devops", "host_metrics"


def expected_records(host_scale: int, backfill_s: int, interval_ms: int) -> int:
    fleet = Fleet(FleetConfig(host_scale=host_scale))
    emissions = backfill_s * 1000 // interval_ms
    return emissions * (fleet.n_hosts * len(METRIC_NAMES) + fleet.n_event_sets * len(EVENT_NAMES))


def backfill_cfg(url: str, **kw: Any) -> IngestConfig:
    base: dict[str, Any] = dict(
        target=TargetConfig(endpoint=url),
        host_scale=1,
        interval_millis=60_000,
        backfill_s=600,
        duration_s=0,
        concurrency=32,
        stats_interval_s=1.0,
    )
    base.update(kw)
    return IngestConfig(**base)


async def test_faulted_backfill_reconciles_exactly(tmp_path: Path) -> None:
    faults = ("--throttle-rate", "0.3", "--error-rate", "0.05", "--reject-rate", "0.01",
              "--latency-ms", "0:50", "--fault-seed", "11")
    engine = EngineProcess(tmp_path / "data", *faults, log=tmp_path / "engine.log")
    await asyncio.to_thread(engine.start)
    try:
        summary = await ingest(backfill_cfg(engine.url, backoff_base_s=0.005, backoff_cap_s=0.2,
                                            out_dir=tmp_path / "run"))
        stats = await asyncio.to_thread(engine.stats)
        via_query = await query_count(engine.url, DB, TABLE)
    finally:
        assert engine.stop() == 0
    stored = stored_counts(tmp_path / "data", DB, TABLE)
    generated = expected_records(1, 600, 60_000)
    ise = summary.errors_by_code.get("InternalServerException", 0)
    record(
        "faulted backfill",
        faults="throttle 0.3, error 0.05, reject 0.01, latency 0-50 ms",
        injected=stats["injected_throttles"] + stats["injected_errors"] + stats["injected_rejected_records"],
        generated=summary.generated, ingested=summary.ingested, rejected=summary.rejected,
        failed=summary.failed, stored=stored["rows"], distinct=stored["distinct"],
        invariant=summary.balanced and stored["rows"] == summary.ingested == stored["distinct"],
    )
    # tsload's own books
    assert generated >= 200_000
    assert summary.generated == generated
    assert summary.dropped == 0
    assert summary.generated == summary.ingested + summary.rejected + summary.failed
    # the engine's books
    assert stats["records_ingested"] == summary.ingested
    assert stored["rows"] == summary.ingested, stored
    assert stored["distinct"] == stored["rows"], "a record was stored twice"
    if via_query is not None:
        assert via_query == summary.ingested
    # injected faults reconcile with what tsload saw and counted
    assert stats["injected_throttles"] == summary.throttled > 0
    assert summary.errors_by_code["ThrottlingException"] == summary.throttled
    assert stats["injected_errors"] == ise > 0
    assert stats["injected_rejected_records"] == stats["records_rejected"] == summary.rejected > 0
    assert set(summary.rejected_by_reason) == {
        "Record rejected by the local engine's fault injection (--reject-rate)."
    }
    assert stats["writes"] == summary.requests + summary.retries  # every attempt reached the engine
    given_up = summary.throttled + ise - summary.retries  # last attempts of requests that failed
    assert given_up >= 0
    assert (given_up == 0) == (summary.failed == 0)
    assert summary.failed <= 100 * given_up
    # the run directory says the same
    doc = json.loads((tmp_path / "run" / "ingest-summary.json").read_text())
    assert (doc["generated"], doc["ingested"], doc["rejected"]["total"], doc["failed"]) == (
        summary.generated, summary.ingested, summary.rejected, summary.failed)


async def test_engine_sigkill_and_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    engine = EngineProcess(data, "--latency-ms", "5:15", log=tmp_path / "engine.log")
    await asyncio.to_thread(engine.start)
    port = engine.port
    before_kill: dict[str, Any] = {}
    restarted = asyncio.Event()

    async def killer() -> None:
        nonlocal engine
        while True:
            stats = await asyncio.to_thread(engine.stats)
            if stats["records_ingested"] >= 180_000:
                break
            before_kill.update(stats)
            await asyncio.sleep(0.05)
        before_kill.update(stats)
        await asyncio.to_thread(engine.kill)
        await asyncio.sleep(1.0)  # down for a while: ingest must keep retrying
        # same data dir, same port (rebinding over the killed server's TIME_WAIT connections: finding F8)
        engine = EngineProcess(data, "--latency-ms", "5:15", port=port, log=tmp_path / "engine.log")
        await asyncio.to_thread(engine.start)
        restarted.set()

    try:
        kill_task = asyncio.create_task(killer())
        summary = await ingest(backfill_cfg(engine.url, concurrency=8, backoff_base_s=0.1, backoff_cap_s=2.0))
        await kill_task
        after = await asyncio.to_thread(engine.stats)
        via_query = await query_count(engine.url, DB, TABLE)
    finally:
        engine.stop()
    assert restarted.is_set() and engine.port == port
    stored = stored_counts(data, DB, TABLE)
    generated = expected_records(1, 600, 60_000)
    lost = summary.ingested - stored["rows"]
    record(
        "engine SIGKILL + restart",
        faults="kill -9 after 180,000 records, down 1 s",
        injected=1,
        generated=summary.generated, ingested=summary.ingested, rejected=summary.rejected,
        failed=summary.failed, stored=stored["rows"], distinct=stored["distinct"],
        acknowledged_then_lost=lost, flushed_before_kill=before_kill.get("rows_flushed"),
        invariant=summary.balanced and stored["distinct"] == stored["rows"] and lost == 0,
    )
    # ingest kept retrying through the outage and finished the backfill
    assert summary.generated == generated and summary.balanced
    assert summary.failed == 0 and summary.rejected == 0
    assert summary.errors_by_code.get("ConnectionError", 0) > 0, summary.errors_by_code
    assert after["records_ingested"] > 0  # the restarted engine took the rest
    # nothing stored twice, nothing lost: every record acknowledged before the kill is on disk (the
    # engine's write-ahead log; finding F3, fixed), and everything after it too
    assert stored["distinct"] == stored["rows"]
    assert stored["rows"] == summary.ingested, f"{lost} acknowledged records lost"
    assert stored["rows"] >= before_kill["rows_flushed"] + after["records_ingested"]
    if via_query is not None:
        assert via_query == stored["rows"]


def _rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def _spawn(args: list[str], cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tsload", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        cwd=cwd,
        start_new_session=True,  # its own process group, so the test can signal the group
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


async def test_slow_endpoint_bounded_memory_lag_and_warning(tmp_path: Path) -> None:
    engine = EngineProcess(tmp_path / "data", "--latency-ms", "2000", log=tmp_path / "engine.log")
    await asyncio.to_thread(engine.start)
    try:
        # --duration 8 must hold against a target far slower than the schedule (finding F9, fixed):
        # generation stops at 8 s and the 1 s drain deadline bounds the rest.
        proc = _spawn(["ingest", "-e", engine.url, "--host-scale", "1", "--interval-millis", "1000",
                       "--duration", "8", "-c", "2", "--stats-interval", "1", "--drain-timeout", "1",
                       "--out", str(tmp_path / "run")], tmp_path)
        samples: list[tuple[float, int]] = []
        t0 = time.monotonic()
        while proc.poll() is None and time.monotonic() - t0 < 60:
            rss = _rss_kib(proc.pid)
            if rss is not None:
                samples.append((time.monotonic() - t0, rss))
            await asyncio.sleep(0.25)
        took = time.monotonic() - t0
        _, err = await asyncio.to_thread(proc.communicate, timeout=30)
        delayed = (await asyncio.to_thread(engine.stats))["injected_latency_requests"]
    finally:
        engine.stop()
    doc = json.loads((tmp_path / "run" / "ingest-summary.json").read_text())
    settled = [kib for t, kib in samples if t >= 3.0]
    growth_mib = (max(settled) - settled[0]) / 1024 if settled else float("nan")
    record(
        "slow endpoint (2 s), queue 16",
        faults="latency 2000 ms", injected=delayed,
        generated=doc["generated"], ingested=doc["ingested"], rejected=doc["rejected"]["total"],
        failed=doc["failed"], dropped=doc["dropped"], lag_p50_ms=doc["lag_ms"]["p50"],
        rss_mib_max=max(kib for _, kib in samples) / 1024, exit_s=round(took, 1),
        rss_growth_mib_after_3s=round(growth_mib, 1),
        invariant=doc["balanced"],
    )
    assert proc.returncode in (0, 130), err[-2000:]  # 130: the 1 s drain deadline was hit
    assert took < 8 + 1 + 20  # duration + drain deadline + slack for start-up on a busy machine
    assert "Traceback" not in err
    assert "Can't keep up ingestion to the desired inter-event interval" in err
    assert doc["balanced"]
    # 2 writers x 2 s per request against 2,200 emissions/s: lag is measured and reported in seconds
    assert doc["lag_ms"]["p50"] is not None and doc["lag_ms"]["p50"] > 1000
    # the bounded queue blocks producers: memory stays flat once running (would grow with the backlog)
    assert len(settled) >= 8
    assert growth_mib < 64, samples


async def test_sigint_to_process_group_drains_and_writes_summary(tmp_path: Path) -> None:
    data = tmp_path / "engine-data"
    proc = _spawn(["ingest", "--local-data", str(data), "--host-scale", "1", "--interval-millis", "1000",
                   "--duration", "600", "-c", "16", "--stats-interval", "1", "--drain-timeout", "5",
                   "--out", str(tmp_path / "run")], tmp_path)
    assert proc.stderr is not None
    seen: list[str] = []
    # wait for the live phase (a progress line), then Ctrl-C the whole process group
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = await asyncio.to_thread(proc.stderr.readline)
        if not line:
            break
        seen.append(line)
        if "live]" in line:
            break
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    took = time.monotonic() - sent
    err = "".join(seen) + err
    doc = json.loads((tmp_path / "run" / "ingest-summary.json").read_text())
    engines_left = _processes_mentioning(str(data))
    stored = stored_counts(data, DB, TABLE)
    record(
        "Ctrl-C during ingest",
        faults="SIGINT to the process group", injected=1,
        generated=doc["generated"], ingested=doc["ingested"], rejected=doc["rejected"]["total"],
        failed=doc["failed"], dropped=doc["dropped"], stored=stored["rows"], exit_s=round(took, 1),
        invariant=doc["balanced"] and stored["rows"] == doc["ingested"],
    )
    assert proc.returncode in (0, 130), err[-2000:]
    assert "Traceback" not in err
    assert "generated" in out and "balanced" in out
    assert doc["balanced"] and doc["generated"] > 0
    assert took < 5 + 30  # drain deadline plus generous slack for stopping the engine on a busy machine
    assert engines_left == []  # the embedded engine was stopped, not orphaned
    # a clean stop of the embedded engine makes everything acknowledged durable
    assert stored["rows"] == doc["ingested"] and stored["distinct"] == stored["rows"]


def _processes_mentioning(needle: str) -> list[int]:
    """PIDs whose command line contains `needle` (a unique temp path): leftovers of this test."""
    found = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        try:
            if needle in (proc_dir / "cmdline").read_bytes().decode(errors="replace"):
                found.append(int(proc_dir.name))
        except OSError:
            continue
    return found


# -- query sessions -----------------------------------------------------------------------------------


def _query_workload(root: Path, queries: dict[str, tuple[str, float]], retries: int) -> Path:
    for model in ("single", "multi"):
        (root / "queries" / model).mkdir(parents=True, exist_ok=True)
        for name, (sql, _) in queries.items():
            (root / "queries" / model / f"{name}.sql").write_text(sql + "\n")
    (root / "config.ini").write_text(
        f"[default]\nquery_mode = regular\nrepetitions = 1\nretries = {retries}\n[query_distribution]\n"
        + "".join(f"{name} = {weight}\n" for name, (_, weight) in queries.items())
    )
    return root


async def test_query_sessions_survive_throttling_errors_and_timeouts(tmp_path: Path) -> None:
    """8 sessions x 30 queries against an engine that throttles 30%, fails 5% and delays 0-20 ms; one
    query in twenty runs until the 1 s timeout cancels it."""
    from tests.engine.conftest import engine_in_thread, fill_numbers, slow_sql
    from tsload.engine import EngineConfig
    from tsload.engine.config import FaultConfig
    from tsload.query import QueryConfig
    from tsload.query.runner import run_query_workload

    # the slow query's table, written before the faults are on (so every injected fault counted
    # below is one tsload saw)
    with engine_in_thread(EngineConfig(data_dir=tmp_path / "data")) as eng:
        fill_numbers(eng.client("timestream-write"), "fdb", "nums", 2000)
    faults = FaultConfig(throttle_rate=0.3, error_rate=0.05, latency_ms=(0.0, 20.0), seed=5)
    wl = _query_workload(tmp_path / "wl", {
        "fast": ("SELECT {region} AS r, 42 AS answer", 95),
        "slow": (slow_sql("fdb", "nums"), 5),
    }, retries=20)
    sessions, reps = 8, 30
    with engine_in_thread(EngineConfig(data_dir=tmp_path / "data", faults=faults, query_wait=0.05)) as eng:
        result = await run_query_workload(QueryConfig(
            target=TargetConfig(endpoint=eng.url), workload_dir=wl, params="fixed", think_time_ms=0,
            concurrency=sessions, repetitions=reps, timeout_s=1.0, log_dir=tmp_path / "logs", seed=3,
            count_datapoints=False,
        ))
        stats = eng.stats()
        slow_cancelled = result.queries["slow"].cancelled if "slow" in result.queries else 0
        for _ in range(50):  # CancelQuery of the last timed-out query may still be on its way
            if stats["cancelled_queries"] >= slow_cancelled:
                break
            await asyncio.sleep(0.1)
            stats = eng.stats()
    qs = result.queries
    total = sum(q.total for q in qs.values())
    retries = sum(q.retries for q in qs.values())
    throttled = sum(q.throttled for q in qs.values())
    timed_out = sum(q.timed_out for q in qs.values())
    failed = sum(q.failed for q in qs.values())
    cancelled = sum(q.cancelled for q in qs.values())
    injected = stats["injected_throttles"] + stats["injected_errors"]
    session_files = sorted((tmp_path / "logs").glob("*/session.json"))
    record(
        "query sessions: throttling, errors, timeouts",
        faults="throttle 0.3, error 0.05, latency 0-20 ms, 1 s timeout",
        injected=injected, generated=total, ingested="-", rejected="-", failed=failed,
        queries=total, retries=retries, timed_out=timed_out, cancelled=cancelled,
        sessions_alive=len(session_files),
        invariant=len(session_files) == sessions and total == sessions * reps,
    )
    # no session died: each ran all its queries and wrote its files
    assert len(session_files) == sessions
    executed = [json.loads(f.read_text()) for f in session_files]
    per_session = [sum(v["total"] for v in doc["queries"].values()) for doc in executed]
    assert per_session == [reps] * sessions and total == sessions * reps
    for q in qs.values():
        assert q.total == q.successful + q.failed + q.timed_out
    # faults were met, retried and counted against what the engine injected
    assert stats["injected_throttles"] > 0 and stats["injected_errors"] > 0
    # a query cut off by its timeout may leave one injected throttle unread by the client
    assert stats["injected_throttles"] - timed_out <= throttled <= stats["injected_throttles"]
    assert 0 < retries <= injected
    assert retries >= injected - timed_out - failed  # only a query cut short leaves a fault unretried
    assert qs["fast"].failed == 0 and qs["fast"].successful > 0
    # timeouts are reported, and those with a QueryId were cancelled on the engine
    assert "slow" in qs and qs["slow"].timed_out == qs["slow"].total > 0
    assert qs["slow"].cancelled > 0
    assert stats["cancelled_queries"] >= cancelled
    errs = "".join(p.read_text() for p in (tmp_path / "logs").glob("*/slow.err"))
    assert errs.count("timed out after") == qs["slow"].timed_out


async def test_sigint_during_query_run_writes_every_session(tmp_path: Path) -> None:
    probe = "SELECT count(*) FROM {db}.{table} WHERE region = {region}"
    wl = _query_workload(tmp_path / "wl", {"probe": (probe, 1)}, retries=2)
    logs = tmp_path / "logs"
    proc = _spawn(["query", "--local-data", str(tmp_path / "data"), "--workload", str(wl),
                   "--params", "model", "--host-scale", "1", "-c", "8", "--think-time-milliseconds", "100",
                   "--repetitions", "100000", "--stats-interval", "1", "-l", str(logs)], tmp_path)
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = await asyncio.to_thread(proc.stderr.readline)
        if not line:
            break
        seen.append(line)
        if line.startswith("[") and "queries" in line:  # a progress line: sessions are running
            break
    os.killpg(proc.pid, signal.SIGINT)
    sent = time.monotonic()
    out, err = await asyncio.to_thread(proc.communicate, timeout=60)
    took = time.monotonic() - sent
    err = "".join(seen) + err
    session_dirs = sorted(d for d in logs.iterdir() if d.is_dir())
    complete = [d for d in session_dirs if (d / "session.json").exists() and list(d.glob("*-summary.csv"))]
    record(
        "Ctrl-C during queries", faults="SIGINT to the process group", injected=1,
        generated="-", ingested="-", rejected="-", failed="-", sessions=len(session_dirs),
        sessions_with_summaries=len(complete), exit_s=round(took, 1),
        invariant=proc.returncode == 0 and len(complete) == len(session_dirs) == 8,
    )
    assert proc.returncode == 0, err[-2000:]
    assert "Traceback" not in err
    assert took < 30
    assert len(session_dirs) == 8 and complete == session_dirs
    assert "probe" in out  # the final per-query table
    assert _processes_mentioning(str(tmp_path / "data")) == []
