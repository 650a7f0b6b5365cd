"""Scheduling, batching, retries and draining of the ingest engine, with a stand-in encoder,
over real loopback HTTP to a capture server."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from typing import Any

import orjson
import pytest

from tests.ingest.fake_model import fake_model
from tests.targets.capture import Captured, CaptureServer
from tsload._errors import TargetError
from tsload.ingest import IngestConfig, Progress
from tsload.ingest.runner import ingest
from tsload.targets import TargetConfig

N_HOSTS = 10  # 10 metrics hosts, 12 event sets


def cfg_for(url: str, **kw: Any) -> IngestConfig:
    base: dict[str, Any] = dict(
        target=TargetConfig(endpoint=url),
        host_scale=1,
        interval_millis=1000,
        concurrency=4,
        create_schema=False,
        stats_interval_s=0.5,
        backoff_base_s=0.001,
        backoff_cap_s=0.01,
    )
    base.update(kw)
    return IngestConfig(**base)


def times_by_emitter(requests: list[Captured]) -> Counter[str]:
    seen: Counter[str] = Counter()
    for r in requests:
        doc = r.json
        common = doc.get("CommonAttributes", {})
        for rec in doc["Records"]:
            dims = rec.get("Dimensions") or common.get("Dimensions")
            t = rec.get("Time") or common.get("Time")
            seen[f"{dims[0]['Value']}@{t}"] += 1
    return seen


async def test_live_run_emits_each_host_once_per_interval_at_scheduled_times() -> None:
    ticks: list[Progress] = []
    async with CaptureServer() as server:
        summary = await ingest(
            cfg_for(server.url, duration_s=2.0), model=fake_model(N_HOSTS), on_progress=ticks.append
        )
    # every emitter: exactly 2 emissions in [start, start + 2 s) at 1 s spacing
    assert summary.generated == 2 * (10 * 20 + 12 * 5)
    assert summary.ingested == summary.generated and summary.balanced
    assert len(server.requests) == 2 * (10 + 12)
    seen = times_by_emitter(server.requests)
    per_emitter: Counter[str] = Counter(key.split("@")[0] for key in seen)
    assert set(per_emitter.values()) == {2}
    by_emitter: dict[str, list[int]] = {}
    for key in seen:
        name, t = key.split("@")
        by_emitter.setdefault(name, []).append(int(t))
    assert all(abs(b - a) == 1000 for a, b in (sorted(v) for v in by_emitter.values()))
    # phases are spread over the interval (no single burst)
    phases = {t % 1000 for v in by_emitter.values() for t in v}
    assert len(phases) > 10
    assert summary.lag_ms["p50"] is not None and summary.latency_ms["p99"] is not None
    assert ticks and ticks[-1].ingested == summary.ingested
    # the final line's time and rate are the summary's, as printed (not the aggregator's own clock)
    assert ticks[-1].phase == "done" and ticks[-1].elapsed_s == summary.elapsed_s
    from tsload.cli.ingest import plain_line

    assert f"{summary.records_per_s:,.0f} records/s (whole phase)" in plain_line(ticks[-1])


async def test_aligned_sweep_puts_every_host_at_one_phase() -> None:
    async with CaptureServer() as server:
        await ingest(cfg_for(server.url, duration_s=1.0, aligned=True), model=fake_model(N_HOSTS))
    phases = {int(k.split("@")[1]) % 1000 for k in times_by_emitter(server.requests)}
    assert phases == {0}


async def test_batch_writes_pack_across_hosts_and_flush_at_the_end() -> None:
    async with CaptureServer() as server:
        summary = await ingest(
            cfg_for(server.url, duration_s=1.0, batch_writes=True, aligned=True), model=fake_model(N_HOSTS)
        )
    assert summary.generated == 10 * 20 + 12 * 5 == summary.ingested
    sizes = [len(r.json["Records"]) for r in server.requests]
    assert sum(sizes) == summary.generated and max(sizes) <= 100
    assert len(server.requests) < 22  # fewer requests than emissions: batches span hosts


async def test_backfill_then_stop_has_exact_counts() -> None:
    async with CaptureServer() as server:
        summary = await ingest(cfg_for(server.url, duration_s=0, backfill_s=10.0), model=fake_model(N_HOSTS))
    assert summary.generated == 10 * (10 * 20 + 12 * 5)
    assert summary.ingested == summary.generated
    seen = times_by_emitter(server.requests)
    assert len({k.split("@")[0] for k in seen}) == 22
    assert all(n == (20 if k.startswith("metrics") else 5) for k, n in seen.items())
    assert summary.lag_ms["p50"] is None  # backfill has no schedule to be late for


async def test_throttles_retry_and_rejects_are_counted() -> None:
    def reply(cap: Captured, n: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        records = len(cap.json["Records"])
        if n % 3 == 0:
            return 400, {"__type": "ThrottlingException", "message": "slow down"}, {}
        if n % 5 == 0:
            return (
                419,
                {
                    "__type": "RejectedRecordsException",
                    "message": "rejected",
                    "RejectedRecords": [{"RecordIndex": 0, "Reason": "Duplicate record at 17"}],
                },
                {},
            )
        return 200, {"RecordsIngested": {"Total": records}}, {}

    async with CaptureServer(reply=reply) as server:
        summary = await ingest(cfg_for(server.url, duration_s=0, backfill_s=5.0), model=fake_model(N_HOSTS))
    assert summary.balanced
    assert summary.throttled > 0 and summary.retries == summary.throttled
    assert summary.rejected > 0 and list(summary.rejected_by_reason) == ["Duplicate record at N"]
    assert summary.failed == 0
    # what the server accepted (records of 200 answers + non-rejected of 419) equals ingested
    assert summary.ingested + summary.rejected == summary.generated


async def test_retries_are_bounded_then_failed() -> None:
    def reply(cap: Captured, n: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 503, {"__type": "ServiceUnavailable", "message": "down"}, {}

    async with CaptureServer(reply=reply) as server:
        summary = await ingest(
            cfg_for(server.url, duration_s=0, backfill_s=1.0, max_attempts=3), model=fake_model(N_HOSTS)
        )
    assert summary.failed == summary.generated > 0 and summary.ingested == 0 and summary.balanced
    assert len(server.requests) == 3 * summary.requests


async def test_validation_exception_stops_with_a_clear_message() -> None:
    def reply(cap: Captured, n: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 400, {"__type": "ValidationException", "message": "Records too big"}, {}

    async with CaptureServer(reply=reply) as server:
        with pytest.raises(TargetError, match=r"ValidationException: Records too big.*tsload bug"):
            await ingest(cfg_for(server.url, duration_s=0, backfill_s=1.0), model=fake_model(N_HOSTS))


async def test_stop_drains_queued_requests() -> None:
    gate = asyncio.Event()

    async with CaptureServer() as server:
        stop = asyncio.Event()

        def progress(p: Progress) -> None:
            if p.ingested > 0:
                stop.set()
                gate.set()

        summary = await ingest(
            cfg_for(server.url, duration_s=None, stats_interval_s=0.3),
            model=fake_model(N_HOSTS),
            stop=stop,
            on_progress=progress,
        )
    assert gate.is_set()
    assert summary.balanced and summary.dropped == 0 and not summary.drain_deadline_hit
    assert summary.ingested == summary.generated > 0
    assert sum(len(orjson.loads(r.body)["Records"]) for r in server.requests) == summary.ingested


async def test_drain_deadline_drops_and_reports() -> None:
    from aiohttp import web

    release = asyncio.Event()

    async def never(request: web.Request) -> web.Response:
        await release.wait()
        return web.Response(status=500)

    app = web.Application()
    app.router.add_post("/", never)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    stop = asyncio.Event()
    try:
        asyncio.get_running_loop().call_later(0.5, stop.set)
        summary = await ingest(
            cfg_for(url, duration_s=None, drain_timeout_s=0.3), model=fake_model(N_HOSTS), stop=stop
        )
    finally:
        release.set()
        await runner.cleanup()
    assert summary.drain_deadline_hit
    assert summary.dropped > 0 and summary.ingested == 0 and summary.balanced


async def test_two_processes_split_the_hosts_and_merge_stats(tmp_path: Any) -> None:
    async with CaptureServer() as server:
        summary = await ingest(
            cfg_for(server.url, duration_s=0, backfill_s=3.0, processes=2, out_dir=tmp_path),
            model=fake_model(N_HOSTS),
        )
    assert summary.generated == 3 * (10 * 20 + 12 * 5) == summary.ingested
    seen = times_by_emitter(server.requests)
    assert len({k.split("@")[0] for k in seen}) == 22 and set(seen.values()) <= {5, 20}
    doc = orjson.loads((tmp_path / "ingest-summary.json").read_bytes())
    assert doc["generated"] == summary.generated and doc["rejected"] == {"total": 0, "by_reason": {}}
    for key in ("ingested", "failed", "dropped", "requests", "retries", "throttled", "records_per_s"):
        assert key in doc
    assert set(doc["latency_ms"]) == {"p50", "p90", "p99", "p999", "max"}
    from tsload.stats import hdr

    h = hdr.decode((tmp_path / "write-latency.hdr").read_text().strip())
    assert h.get_total_count() == summary.requests
    assert (tmp_path / "write-latency.hlog").exists() and (tmp_path / "lag.hlog").exists()


async def test_duration_is_a_wall_clock_limit_against_a_slow_target() -> None:
    from aiohttp import web

    release = asyncio.Event()

    async def slow(request: web.Request) -> web.Response:
        await request.read()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.5):
                await release.wait()
        return web.json_response({"RecordsIngested": {"Total": 1}})

    app = web.Application()
    app.router.add_post("/", slow)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    try:
        # 22 emissions per 100 ms are scheduled; one writer at 2 requests/s cannot keep up
        summary = await ingest(
            cfg_for(url, interval_millis=100, duration_s=1.0, concurrency=1, drain_timeout_s=0.2),
            model=fake_model(N_HOSTS),
        )
    finally:
        release.set()
        await runner.cleanup()
    assert summary.duration_cut and summary.drain_deadline_hit
    assert summary.generated < 10 * 22 * 20  # far fewer than the schedule's emissions were generated
    assert summary.balanced and summary.dropped > 0


async def test_run_directory_is_user_only(tmp_path: Any) -> None:
    import os

    out = tmp_path / "run"
    old = os.umask(0o022)
    try:
        async with CaptureServer() as server:
            await ingest(
                cfg_for(server.url, duration_s=0, backfill_s=1.0, out_dir=out), model=fake_model(N_HOSTS)
            )
    finally:
        os.umask(old)
    assert (out.stat().st_mode & 0o777) == 0o700
    names = sorted(p.name for p in out.iterdir())
    assert names == ["ingest-summary.json", "lag.hdr", "lag.hlog", "write-latency.hdr", "write-latency.hlog"]
    assert {p.stat().st_mode & 0o777 for p in out.iterdir()} == {0o600}


def test_a_run_draws_one_request_id_nonce_for_all_its_processes() -> None:
    from tsload.ingest.config import IngestConfig
    from tsload.ingest.runner import with_request_id_nonce

    plain = IngestConfig()
    assert with_request_id_nonce(plain) is plain  # no request ids: nothing drawn
    cfg = IngestConfig(add_req_id=True, processes=2)
    one, two = with_request_id_nonce(cfg), with_request_id_nonce(cfg)
    assert one.request_id_nonce is not None and two.request_id_nonce is not None
    assert one.request_id_nonce != two.request_id_nonce  # two runs: fresh ids
    assert with_request_id_nonce(one) is one  # a chosen nonce is kept (children get the same config)
