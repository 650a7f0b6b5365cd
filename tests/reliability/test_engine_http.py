"""Malformed HTTP/JSON against a `tsload serve` subprocess: every answer is an AWS-shaped 4xx (JSON with
`__type` and a message) and the engine keeps serving afterwards."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.reliability._proc import EngineProcess

AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261128/us-east-1/timestream/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)
JSON_CT = "application/x-amz-json-1.0"


def headers(target: str | None = "Timestream_20181101.ListDatabases", **extra: str) -> dict[str, str]:
    h = {"Content-Type": JSON_CT, "Authorization": AUTH, "X-Amz-Date": "20261128T050000Z"}
    if target is not None:
        h["X-Amz-Target"] = target
    h.update(extra)
    return {k: v for k, v in h.items() if v != ""}


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    tmp = tmp_path_factory.mktemp("engine-http")
    with EngineProcess(tmp / "data", log=tmp / "engine.log") as eng:
        _post(eng, "Timestream_20181101.CreateDatabase", {"DatabaseName": "fuzzdb"})
        _post(eng, "Timestream_20181101.CreateTable", {"DatabaseName": "fuzzdb", "TableName": "fuzztable"})
        yield eng


def _post(eng: EngineProcess, target: str | None, body: Any, **extra: str) -> tuple[int, dict[str, Any]]:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    conn = http.client.HTTPConnection("127.0.0.1", eng.port, timeout=30)
    try:
        conn.request("POST", "/", body=raw, headers=headers(target, **extra))
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, json.loads(data) if data else {}
    finally:
        conn.close()


def _still_serving(eng: EngineProcess) -> None:
    assert eng.alive()
    status, doc = _post(eng, "Timestream_20181101.DescribeDatabase", {"DatabaseName": "fuzzdb"})
    assert status == 200 and doc["Database"]["DatabaseName"] == "fuzzdb"


def _record(**kw: Any) -> dict[str, Any]:
    rec: dict[str, Any] = {"Dimensions": [{"Name": "host", "Value": "h1"}], "MeasureName": "cpu",
                           "MeasureValue": "1.5", "MeasureValueType": "DOUBLE", "Time": "1"}
    rec.update(kw)
    return {k: v for k, v in rec.items() if v is not None}


def _write(records: Any, **kw: Any) -> dict[str, Any]:
    return {"DatabaseName": "fuzzdb", "TableName": "fuzztable", "Records": records, **kw}


W = "Timestream_20181101.WriteRecords"
Q = "Timestream_20181101.Query"
# (id, target, body, extra headers, expected __type)
BAD: list[tuple[str, str | None, Any, dict[str, str], str]] = [
    ("no-auth", "Timestream_20181101.ListDatabases", {}, {"Authorization": ""},
     "MissingAuthenticationTokenException"),
    ("garbled-auth", "Timestream_20181101.ListDatabases", {}, {"Authorization": "Bearer xyz"},
     "IncompleteSignatureException"),
    ("auth-without-date", "Timestream_20181101.ListDatabases", {}, {"X-Amz-Date": ""},
     "IncompleteSignatureException"),
    ("no-target", None, {}, {}, "UnknownOperationException"),
    ("unknown-target-prefix", "DynamoDB_20120810.ListTables", {}, {}, "UnknownOperationException"),
    ("unknown-operation", "Timestream_20181101.DropEverything", {}, {}, "UnknownOperationException"),
    ("truncated-json", W, b'{"DatabaseName": "fuzzdb", "Records": [', {}, "SerializationException"),
    ("json-array-body", W, b"[1, 2, 3]", {}, "SerializationException"),
    ("json-string-body", W, b'"hello"', {}, "SerializationException"),
    ("not-utf8", W, b"\xff\xfe\x00garbage", {}, "SerializationException"),
    ("deeply-nested", W, b"[" * 5000 + b"]" * 5000, {}, "SerializationException"),
    ("nan-literal", W, b'{"DatabaseName": NaN}', {}, "SerializationException"),
    ("records-not-list", W, _write("many"), {}, "ValidationException"),
    ("records-empty", W, _write([]), {}, "ValidationException"),
    ("records-of-numbers", W, _write([1, 2]), {}, "ValidationException"),
    ("too-many-records", W, _write([_record(Time=str(i + 1)) for i in range(101)]), {},
     "ValidationException"),
    ("database-name-number", W, {"DatabaseName": 5, "TableName": "fuzztable", "Records": [_record()]}, {},
     "ValidationException"),
    ("dimensions-not-list", W, _write([_record(Dimensions={"host": "h1"})]), {}, "ValidationException"),
    ("dimension-value-number", W, _write([_record(Dimensions=[{"Name": "host", "Value": 7}])]), {},
     "ValidationException"),
    ("measure-name-list", W, _write([_record(MeasureName=["cpu"])]), {}, "ValidationException"),
    ("dimension-name-object", W, _write([_record(Dimensions=[{"Name": {"a": 1}, "Value": "v"}])]), {},
     "ValidationException"),
    ("measure-value-number", W, _write([_record(MeasureValue=1.5)]), {}, "ValidationException"),
    ("measure-value-not-double", W, _write([_record(MeasureValue="abc")]), {}, "ValidationException"),
    ("time-is-list", W, _write([_record(Time=[1])]), {}, "ValidationException"),
    ("time-missing", W, _write([_record(Time=None)]), {}, "ValidationException"),
    ("version-zero", W, _write([_record(Version=0)]), {}, "ValidationException"),
    ("unknown-type", W, _write([_record(MeasureValueType="COMPLEX")]), {}, "ValidationException"),
    ("unknown-time-unit", W, _write([_record(TimeUnit="FORTNIGHTS")]), {}, "ValidationException"),
    ("common-attributes-list", W, _write([_record()], CommonAttributes=[1]), {}, "ValidationException"),
    ("reserved-measure-name", W, _write([_record(MeasureName="measure_value::double")]), {},
     "ValidationException"),
    ("multi-values-not-list", W, _write([_record(MeasureValue=None, MeasureValueType="MULTI",
                                                 MeasureValues="x")]), {}, "ValidationException"),
    ("unknown-table", W, {"DatabaseName": "fuzzdb", "TableName": "nope", "Records": [_record()]}, {},
     "ResourceNotFoundException"),
    ("query-string-number", Q, {"QueryString": 42}, {}, "ValidationException"),
    ("query-max-rows-huge", Q, {"QueryString": "SELECT 1", "MaxRows": 10**12}, {}, "ValidationException"),
    ("query-bad-next-token", Q, {"QueryString": "SELECT 1", "NextToken": "forged"}, {},
     "ValidationException"),
    ("create-table-bad-retention", "Timestream_20181101.CreateTable",
     {"DatabaseName": "fuzzdb", "TableName": "ret",
      "RetentionProperties": {"MemoryStoreRetentionPeriodInHours": "x",
                              "MagneticStoreRetentionPeriodInDays": 1}},
     {}, "ValidationException"),
    ("list-tables-bad-max-results", "Timestream_20181101.ListTables", {"MaxResults": "ten"}, {},
     "ValidationException"),
    ("list-databases-bad-token", "Timestream_20181101.ListDatabases", {"NextToken": {"a": 1}}, {},
     "ValidationException"),
    ("cancel-query-no-id", "Timestream_20181101.CancelQuery", {}, {}, "ValidationException"),
]


@pytest.mark.parametrize(
    ("target", "body", "extra", "code"), [b[1:] for b in BAD], ids=[b[0] for b in BAD]
)
def test_malformed_request_gets_aws_shaped_4xx(
    engine: EngineProcess, target: str | None, body: Any, extra: dict[str, str], code: str
) -> None:
    status, doc = _post(engine, target, body, **extra)
    assert 400 <= status < 500, (status, doc)
    assert doc["__type"].rsplit("#", 1)[-1] == code, doc
    assert isinstance(doc.get("Message"), str) and doc["Message"], doc
    _still_serving(engine)


def test_wrong_content_type_is_not_a_crash(engine: EngineProcess) -> None:
    status, doc = _post(engine, "Timestream_20181101.ListDatabases", {}, **{"Content-Type": "text/plain"})
    # The engine is lenient about Content-Type (botocore always sends the right one); either way the
    # answer is well-formed JSON and the engine keeps serving.
    assert status == 200 or (400 <= status < 500 and "__type" in doc), (status, doc)
    _still_serving(engine)


def test_truncated_body_and_dropped_connections_do_not_kill_the_engine(engine: EngineProcess) -> None:
    request = (
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "".join(f"{k}: {v}\r\n" for k, v in headers(W).items())
        + "Content-Length: 100000\r\n\r\n"
    ).encode() + b'{"DatabaseName": "fuzzdb", "Rec'
    for _ in range(20):
        with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as s:
            s.sendall(request)  # then hang up mid-body
    tls_hello = b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"
    for junk in (tls_hello, b"GARBAGE / HTTP/9.9\r\n\r\n", b"\r\n" * 50):
        with socket.create_connection(("127.0.0.1", engine.port), timeout=5) as s:
            s.sendall(junk)
            s.settimeout(5)
            with contextlib.suppress(TimeoutError, ConnectionError):
                s.recv(4096)
    _still_serving(engine)


def test_huge_payload_is_refused_and_engine_survives(engine: EngineProcess) -> None:
    body = (b'{"DatabaseName": "fuzzdb", "TableName": "fuzztable", "Records": ["'
            + b"x" * (9 * 1024 * 1024) + b'"]}')
    try:
        status, doc = _post(engine, W, body)
    except (ConnectionError, http.client.HTTPException):
        status, doc = 413, {"__type": "connection closed mid-upload"}
    assert 400 <= status < 500 and "__type" in doc, (status, doc)
    _still_serving(engine)


def test_engine_log_has_no_internal_errors(engine: EngineProcess) -> None:
    """Runs last: everything above was refused as the client's fault (no 5xx, no traceback in the
    engine's log), including hang-ups mid-body and oversized bodies (findings F6, F7, fixed)."""
    stats = engine.stats()
    assert stats["errors"].get("InternalServerException", 0) == 0, stats["errors"]
    assert stats["records_ingested"] == 0
    log = Path(engine.data).parent / "engine.log"
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
