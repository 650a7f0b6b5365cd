"""The fast write path sends what aioboto3's write_records sends, and classifies answers right."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import aioboto3
import orjson
import pytest
from botocore.credentials import RefreshableCredentials

from tests.targets.capture import Captured, CaptureServer, verify_sigv4
from tsload.targets import WriteKind as Kind
from tsload.targets.timestream.discovery import EndpointDiscovery
from tsload.targets.timestream.sigv4 import SigV4Signer
from tsload.targets.timestream.writer import FastWriter, SdkWriter

AK, SK = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"


def body_of(n: int = 3, *, token_db: str = "devops") -> bytes:
    return orjson.dumps(
        {
            "DatabaseName": token_db,
            "TableName": "host_metrics",
            "CommonAttributes": {
                "Dimensions": [
                    {"Name": "region", "Value": "us-east-1"},
                    {"Name": "instance_name", "Value": "i-zaZswmJk-apollo-00000000.amazonaws.com"},
                ],
                "Time": "1764306000000",
                "TimeUnit": "MILLISECONDS",
            },
            "Records": [
                {"MeasureName": f"m{i}", "MeasureValue": f"{i}.5", "MeasureValueType": "DOUBLE"}
                for i in range(n)
            ],
        }
    )


def session(token: str | None = None) -> aioboto3.Session:
    return aioboto3.Session(
        aws_access_key_id=AK, aws_secret_access_key=SK, aws_session_token=token, region_name="eu-west-1"
    )


@pytest.mark.parametrize("token", [None, "FQoGZXIvYXdzEXAMPLETOKEN"])
async def test_same_request_as_aioboto3(token: str | None) -> None:
    body = body_of(5)
    sess = session(token)
    async with CaptureServer() as server:
        fast = FastWriter(await sess.get_credentials(), "eu-west-1", endpoint_url=server.url)
        sdk = SdkWriter(sess, "eu-west-1", server.url)
        try:
            a = await fast.attempt(body, 5)
            b = await sdk.attempt(body, 5)
        finally:
            await fast.aclose()
            await sdk.aclose()
    assert a.kind is Kind.OK and a.ingested == 5
    assert b.kind is Kind.OK and b.ingested == 5
    ours, theirs = server.requests
    assert ours.target == theirs.target == "Timestream_20181101.WriteRecords"
    assert ours.headers["Content-Type"] == theirs.headers["Content-Type"]
    assert ours.json == theirs.json == orjson.loads(body)
    assert verify_sigv4(ours, SK, token) == AK
    assert verify_sigv4(theirs, SK, token) == AK  # the verifier itself agrees with botocore's own signing
    if token:
        assert ours.headers["X-Amz-Security-Token"] == theirs.headers["X-Amz-Security-Token"] == token

    # same credential scope and the same signed-header set
    def scope_and_signed(cap: Captured) -> tuple[str, set[str]]:
        auth = cap.headers["Authorization"]
        scope = auth.split("Credential=", 1)[1].split(",", 1)[0]
        signed = auth.split("SignedHeaders=", 1)[1].split(",", 1)[0]
        return scope, set(signed.split(";"))

    assert scope_and_signed(ours) == scope_and_signed(theirs)


def test_tampered_body_fails_verification() -> None:
    signer = SigV4Signer(None, "us-east-1")
    from tsload.targets.timestream.sigv4 import FrozenKeys

    body = body_of(2)
    headers = dict(
        signer.sign(FrozenKeys(AK, SK, None), "127.0.0.1:9", "Timestream_20181101.WriteRecords", body)
    )
    headers["Host"] = "127.0.0.1:9"
    verify_sigv4(Captured(headers, body), SK)
    with pytest.raises(AssertionError):
        verify_sigv4(Captured(headers, body.replace(b"0.5", b"0.6")), SK)


async def test_refreshed_credentials_are_picked_up() -> None:
    calls: list[int] = []

    def refresh() -> dict[str, Any]:
        calls.append(1)
        return {
            "access_key": f"AKID{len(calls)}",
            "secret_key": SK,
            "token": f"tok{len(calls)}",
            # inside botocore's mandatory refresh window: every read refreshes
            "expiry_time": (datetime.now(UTC) + timedelta(minutes=5)).isoformat(),
        }

    creds = RefreshableCredentials.create_from_metadata(refresh(), refresh, "test")
    signer = SigV4Signer(creds, "us-east-1", refresh_after=0.0)
    first = await signer.keys()
    second = await signer.keys()
    assert first.access_key != second.access_key
    assert second.access_key == f"AKID{len(calls)}"


async def test_error_classification_and_rediscovery() -> None:
    answers: list[tuple[int, dict[str, Any], dict[str, str]]] = [
        (400, {"__type": "com.amazonaws.timestream.v20181101#ThrottlingException", "message": "slow"}, {}),
        (500, {"__type": "InternalServerException", "message": "oops"}, {}),
        (
            419,
            {
                "__type": "com.amazonaws.timestream.v20181101#RejectedRecordsException",
                "message": "some rejected",
                "RejectedRecords": [
                    {
                        "RecordIndex": 0,
                        "Reason": "The record timestamp is outside the time range [2026-11-28T01:00:00Z)",
                    },
                    {
                        "RecordIndex": 2,
                        "Reason": "The record timestamp is outside the time range [2026-11-28T01:00:05Z)",
                    },
                ],
            },
            {},
        ),
        (400, {"__type": "ValidationException", "message": "bad"}, {}),
        (421, {"message": "misdirected"}, {}),
        (400, {"message": "nope"}, {"x-amzn-ErrorType": "AccessDeniedException:http://internal"}),
    ]

    def reply(cap: Captured, n: int) -> tuple[int, dict[str, Any], dict[str, str]]:
        return answers.pop(0)

    sess = session()
    async with CaptureServer(reply=reply) as server:
        discovery = EndpointDiscovery(sess, "eu-west-1", discovery_endpoint_url=server.url, scheme="http")
        fast = FastWriter(await sess.get_credentials(), "eu-west-1", discovery=discovery)
        try:
            results = [await fast.attempt(body_of(3), 3) for _ in range(6)]
        finally:
            await fast.aclose()
    throttle, server_error, rejected, validation, misdirected, denied = results
    assert throttle.kind is Kind.RETRY and throttle.throttled
    assert server_error.kind is Kind.RETRY and not server_error.throttled
    assert rejected.kind is Kind.REJECTED and rejected.ingested == 1
    assert len(set(rejected.rejected_reasons)) == 1 and len(rejected.rejected_reasons) == 2
    assert validation.kind is Kind.FATAL and validation.code == "ValidationException"
    assert misdirected.kind is Kind.RETRY and misdirected.rediscover
    assert denied.kind is Kind.FATAL and denied.code == "AccessDeniedException"
    assert discovery.discoveries == 2  # first use, then again after the 421
    targets = [r.target.rsplit(".", 1)[1] for r in server.requests]
    assert targets.count("DescribeEndpoints") == 2 and targets.count("WriteRecords") == 6


async def test_connection_refused_is_retryable() -> None:
    from tests.conftest import free_port

    fast = FastWriter(
        await session().get_credentials(), "eu-west-1", endpoint_url=f"http://127.0.0.1:{free_port()}"
    )
    try:
        result = await fast.attempt(body_of(1), 1)
    finally:
        await fast.aclose()
    assert result.kind is Kind.RETRY and result.code == "ConnectionError"


def test_against_moto_server() -> None:
    import asyncio

    from moto.server import ThreadedMotoServer

    from tests.conftest import free_port

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        url = f"http://127.0.0.1:{port}"

        async def run() -> tuple[Any, Any]:
            sess = session()
            async with sess.client("timestream-write", endpoint_url=url, region_name="eu-west-1") as c:
                await c.create_database(DatabaseName="devops")
                await c.create_table(DatabaseName="devops", TableName="host_metrics")
            fast = FastWriter(await sess.get_credentials(), "eu-west-1", endpoint_url=url)
            sdk = SdkWriter(sess, "eu-west-1", url)
            try:
                return await fast.attempt(body_of(4), 4), await sdk.attempt(body_of(3), 3)
            finally:
                await fast.aclose()
                await sdk.aclose()

        a, b = asyncio.run(run())
        assert a.kind is Kind.OK and b.kind is Kind.OK
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.timestreamwrite.models import timestreamwrite_backends

        backend = timestreamwrite_backends[DEFAULT_ACCOUNT_ID]["eu-west-1"]
        table = backend.databases["devops"].tables["host_metrics"]
        assert len(table.records) == 7
        assert {r["MeasureName"] for r in table.records} == {"m0", "m1", "m2", "m3"}
    finally:
        server.stop()
    assert threading.active_count() >= 1


def test_fast_path_under_uvloop() -> None:
    import uvloop

    async def run() -> tuple[Any, list[Captured]]:
        async with CaptureServer() as server:
            fast = FastWriter(await session().get_credentials(), "eu-west-1", endpoint_url=server.url)
            try:
                results = [await fast.attempt(body_of(2), 2) for _ in range(3)]
            finally:
                await fast.aclose()
            return results, server.requests

    results, requests = uvloop.run(run())
    assert [r.kind for r in results] == [Kind.OK] * 3
    assert len(requests) == 3 and all(verify_sigv4(r, SK) == AK for r in requests)
