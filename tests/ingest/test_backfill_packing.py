"""How backfill packs requests: a host with at least half a request of history gets requests of its
own (dimensions once, in CommonAttributes); smaller windows are packed across hosts."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from tsload.ingest import IngestConfig
from tsload.ingest.worker import Worker, default_model
from tsload.targets import ClientOptions, TargetConfig
from tsload.targets.timestream.target import TimestreamTarget


class _NoWriter:
    async def write(self, body: bytes, records: int) -> Any:  # pragma: no cover - never called
        raise AssertionError


def backfill_requests(**kw: Any) -> list[dict[str, Any]]:
    cfg = IngestConfig(host_scale=1, interval_millis=60_000, duration_s=0, **kw)
    encoder = TimestreamTarget(TargetConfig(), ClientOptions()).encoder  # nothing is opened
    worker = Worker(cfg, 0, 1_800_000_000_000, _NoWriter(), lambda _: None, default_model(cfg, encoder))
    bodies: list[dict[str, Any]] = []

    async def collect(request: Any, scheduled: float) -> None:
        bodies.append(orjson.loads(request.body))

    worker._put = collect  # type: ignore[method-assign]
    start = 1_800_000_000_000 - round(cfg.backfill_s * 1000)
    asyncio.run(worker._backfill(start, 1_800_000_000_000))
    return bodies


@pytest.mark.parametrize(("backfill_s", "events_per_request"), [(600, 50), (240, 100)])
def test_single_measure_events(backfill_s: int, events_per_request: int) -> None:
    bodies = backfill_requests(backfill_s=backfill_s)
    events = [b for b in bodies if b["Records"][0]["MeasureName"] == "task_completed"]
    assert events and {len(b["Records"]) for b in events} == {events_per_request}
    common = [("Dimensions" in b.get("CommonAttributes", {})) for b in events]
    # 10 timestamps x 5 events = 50 records: half a request, its own (dims once); 4 x 5 = 20: packed
    assert all(common) if events_per_request == 50 else not any(common)
    assert sum(len(b["Records"]) for b in bodies) == (backfill_s // 60) * (1000 * 20 + 1200 * 5)


def test_multi_measure_short_windows_stay_packed() -> None:
    bodies = backfill_requests(backfill_s=600, multi=True)
    assert {len(b["Records"]) for b in bodies} == {100}
    assert sum(len(b["Records"]) for b in bodies) == 10 * (1000 + 1200)
