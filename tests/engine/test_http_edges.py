"""Malformed and hostile HTTP: every answer AWS-shaped, never an internal error."""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from tests.engine.conftest import Running
from tests.engine.test_writes import raw_call


@pytest.mark.parametrize(
    "record",
    [
        {"MeasureName": ["x"], "MeasureValue": "1", "Time": "1"},
        {"MeasureName": {"a": 1}, "MeasureValue": "1", "Time": "1"},
        {"MeasureName": "m", "MeasureValue": "1", "Time": "1", "Dimensions": [{"Name": ["d"], "Value": "v"}]},
        {
            "MeasureName": "m",
            "MeasureValueType": "MULTI",
            "Time": "1",
            "MeasureValues": [{"Name": {"n": 1}, "Value": "1", "Type": "DOUBLE"}],
        },
        {"MeasureName": "m", "MeasureValue": "1", "Time": "1", "TimeUnit": ["SECONDS"]},
        {"MeasureName": "m", "MeasureValue": "1", "Time": "1", "MeasureValueType": ["DOUBLE"]},
    ],
)
def test_non_string_names_are_validation_errors(engine: Running, tsw: Any, record: dict[str, Any]) -> None:
    if "edges" not in {d["DatabaseName"] for d in tsw.list_databases()["Databases"]}:
        tsw.create_database(DatabaseName="edges")
        tsw.create_table(DatabaseName="edges", TableName="etab")
    status, body, _ = raw_call(
        engine.url, "WriteRecords", {"DatabaseName": "edges", "TableName": "etab", "Records": [record]}
    )
    assert status == 400 and body["__type"].endswith("#ValidationException"), body
    assert "InternalServerException" not in engine.stats()["errors"]


def test_oversized_body_is_413(engine: Running) -> None:
    status, body, _ = raw_call(engine.url, "WriteRecords", {"pad": "x" * (9 * 1024 * 1024)})
    assert status == 413 and body["__type"].endswith("#ValidationException")


def test_client_hanging_up_mid_body(engine: Running) -> None:
    before = engine.stats()
    host, port = engine.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as s:
        s.sendall(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.0\r\n"
            b"X-Amz-Target: Timestream_20181101.WriteRecords\r\nX-Amz-Date: 20260101T000000Z\r\n"
            b"Authorization: AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/timestream/aws4_request, "
            b'SignedHeaders=host, Signature=00\r\nContent-Length: 100000\r\n\r\n{"Data'
        )
    deadline = time.monotonic() + 10
    while engine.stats()["client_disconnects"] == before.get("client_disconnects", 0):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    after = engine.stats()
    assert after["errors"].get("InternalServerException", 0) == before["errors"].get(
        "InternalServerException", 0
    )
