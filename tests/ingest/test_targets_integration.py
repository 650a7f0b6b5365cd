"""The real model and the real wire: the local engine (E's `tsload serve`), moto's server, and a
capture server; counts must be exact and reconcile with the engine's own counters."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any

import aioboto3
import orjson
import pytest

from tests.targets.capture import CaptureServer
from tsload.ingest import IngestConfig
from tsload.ingest.runner import ingest
from tsload.targets import TargetConfig
from tsload.targets.local import LocalEngine


def cfg(url: str, **kw: Any) -> IngestConfig:
    base: dict[str, Any] = dict(
        target=TargetConfig(endpoint=url),
        host_scale=1,
        interval_millis=60_000,
        concurrency=8,
        stats_interval_s=1.0,
    )
    base.update(kw)
    return IngestConfig(**base)


async def engine_stats(url: str) -> dict[str, Any]:
    import aiohttp

    async with aiohttp.ClientSession() as http, http.get(url + "/tsload/stats") as resp:
        doc: dict[str, Any] = await resp.json()
        return doc


async def count_rows(url: str, sql: str) -> int | None:
    """SELECT count(*) through the Query API (None if this engine build has no SQL yet)."""
    import botocore.exceptions

    session = aioboto3.Session(aws_access_key_id="k", aws_secret_access_key="k", region_name="us-east-1")
    async with session.client("timestream-query", endpoint_url=url, region_name="us-east-1") as q:
        try:
            r = await q.query(QueryString=sql)
        except botocore.exceptions.ClientError as exc:
            if "not available" in str(exc):
                return None
            raise
        return int(r["Rows"][0]["Data"][0]["ScalarValue"])


@pytest.mark.parametrize(("multi", "expected"), [(False, 260_000), (True, 22_000)])
async def test_backfill_row_counts_are_exact(tmp_path: Path, multi: bool, expected: int) -> None:
    async with LocalEngine(tmp_path / "data") as engine:
        summary = await ingest(
            cfg(engine.endpoint_url, backfill_s=600, duration_s=0, multi=multi, concurrency=16)
        )
        stats = await engine_stats(engine.endpoint_url)
        rows = await count_rows(engine.endpoint_url, 'SELECT count(*) FROM "devops"."host_metrics"')
    assert summary.generated == summary.ingested == expected and summary.balanced
    assert stats["records_ingested"] == expected
    if rows is not None:
        assert rows == expected


async def test_faults_retry_reject_and_reconcile_with_the_engine(tmp_path: Path) -> None:
    args = ("--throttle-rate", "0.15", "--error-rate", "0.1", "--reject-rate", "0.002", "--fault-seed", "3")
    async with LocalEngine(tmp_path / "data", extra_args=args) as engine:
        summary = await ingest(
            cfg(
                engine.endpoint_url,
                backfill_s=300,
                duration_s=0,
                shard=(0, 4),
                backoff_base_s=0.001,
                backoff_cap_s=0.005,
            )
        )
        stats = await engine_stats(engine.endpoint_url)
    assert summary.balanced
    assert summary.generated == 5 * (
        250 * 20 + 300 * 5
    )  # shard 0/4 of host-scale 1: 250 hosts, 300 event sets
    assert summary.throttled == stats["injected_throttles"] > 0
    assert summary.errors_by_code.get("InternalServerException", 0) == stats["injected_errors"] > 0
    # at 25% faults and 10 attempts, giving up has a probability of about 1e-6 per request
    assert summary.failed == 0
    assert summary.retries == summary.throttled + stats["injected_errors"]
    assert summary.ingested == stats["records_ingested"]
    assert summary.rejected == stats["records_rejected"] > 0
    assert summary.ingested + summary.rejected + summary.failed == summary.generated


async def test_live_requests_carry_common_attributes_and_request_ids() -> None:
    async with CaptureServer() as server:
        summary = await ingest(
            cfg(
                server.url,
                interval_millis=1000,
                duration_s=2.0,
                shard=(0, 10),
                add_req_id=True,
                create_schema=False,
            )
        )
    # shard 0/10 of host-scale 1: 100 hosts and 120 event sets, two emissions each
    assert len(server.requests) == 2 * 220
    kinds: Counter[int] = Counter()
    req_ids = set()
    for r in server.requests:
        doc = r.json
        common = doc["CommonAttributes"]
        assert len(common["Dimensions"]) == 8 and common["TimeUnit"] == "MILLISECONDS"
        assert int(common["Time"]) % 1000 == int(common["Time"]) % 1000  # an integer epoch-ms time
        assert all("Dimensions" not in rec and "Time" not in rec for rec in doc["Records"])
        kinds[len(doc["Records"])] += 1
        ids = [rec["MeasureValue"] for rec in doc["Records"] if rec["MeasureName"] == "request_id"]
        assert len(ids) == 1
        req_ids.add(ids[0])
    assert kinds == {21: 200, 6: 240}
    # a shard's own hosts are spread over the whole interval, not bunched in its tenth of it
    phases = sorted({int(r.json["CommonAttributes"]["Time"]) % 1000 for r in server.requests})
    assert phases[0] < 50 and phases[-1] > 950 and len(phases) > 50
    assert len(req_ids) == 440  # a fresh id per host emission
    assert summary.ingested == 200 * 21 + 240 * 6 == summary.generated


@pytest.mark.parametrize("sdk", [False, True])
def test_moto_server_receives_every_record(sdk: bool) -> None:
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.server import ThreadedMotoServer
    from moto.timestreamwrite.models import timestreamwrite_backends

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        summary = asyncio.run(
            ingest(
                cfg(
                    f"http://127.0.0.1:{port}",
                    backfill_s=60,
                    duration_s=0,
                    multi=True,
                    add_req_id=True,
                    sdk_writes=sdk,
                    table="sdk" if sdk else "fast",
                )
            )
        )
        table = (
            timestreamwrite_backends[DEFAULT_ACCOUNT_ID]["us-east-1"]
            .databases["devops"]
            .tables["sdk" if sdk else "fast"]
        )
        records = table.records
    finally:
        server.stop()
    assert summary.ingested == summary.generated == 2_200 == len(records)
    names = Counter(r["MeasureName"] for r in records)
    assert names == {"metrics": 1_000, "events": 1_200}
    for r in records:
        measures = {m["Name"] for m in r["MeasureValues"]}
        assert "request_id" in measures and len(r["Dimensions"]) == 8
    assert len({orjson.dumps(r["Dimensions"]) for r in records}) == 2_200


async def test_write_latency_both_ways_against_a_100ms_engine(tmp_path: Path) -> None:
    """From the send and from the scheduled emission: every request of the live phase is answered
    no sooner than 100 ms after its send, and its points waited at least that long since their
    scheduled emission; the two merge into the report as ingest.service_time and ingest.latency."""
    from tsload.report import load_report
    from tsload.report.slo import evaluate, parse_slos
    from tsload.stats import hdr
    from tsload.stats.summary import summarize

    async with LocalEngine(tmp_path / "data", extra_args=("--latency-ms", "100")) as engine:
        out = tmp_path / "run"
        summary = await ingest(cfg(engine.endpoint_url, interval_millis=1000, duration_s=2.0, shard=(0, 20),
                                   concurrency=2, out_dir=out))
    assert summary.requests > 0 and summary.latency_from_schedule_ms["p50"] is not None
    sched = summarize(hdr.decode((out / "write-latency-from-schedule.hdr").read_text().strip()))
    assert sched is not None and sched.count == summary.requests and sched.min >= 0.099
    report, _ = load_report([out])
    assert report.ingest is not None
    send, from_schedule = report.ingest.write_latency, report.ingest.write_latency_from_schedule
    assert send is not None and from_schedule is not None and send.min >= 0.099
    # from the schedule includes the queueing before the send: never shorter, here longer at the tail
    assert from_schedule.p50 >= send.p50 * 0.99 and from_schedule.max >= send.max * 0.99
    data = orjson.loads(orjson.dumps(report.as_dict()))
    assert data["ingest"]["latency_from_schedule_ms"]["count"] == summary.requests
    results = evaluate(parse_slos(["ingest.latency.min>=99ms", "ingest.service_time.p50<100ms"]), report)
    assert [r.passed for r in results] == [True, False]
