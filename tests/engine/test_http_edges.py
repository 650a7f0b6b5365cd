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


# ---- the engine's own HTTP/1.1 server (tsload/engine/httpd.py) -------------------------------------
AUTH_HEADERS = (
    "Content-Type: application/x-amz-json-1.0\r\nX-Amz-Date: 20260101T000000Z\r\n"
    "Authorization: AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/timestream/aws4_request, "
    "SignedHeaders=host, Signature=00\r\n"
)


def _exchange(
    url: str, payload: bytes, *, responses: int = 1, timeout: float = 10
) -> list[tuple[int, dict[str, str], bytes]]:
    """Send raw bytes, read `responses` HTTP responses (Content-Length framed) or until the peer closes."""
    host, port = url.removeprefix("http://").split(":")
    out: list[tuple[int, dict[str, str], bytes]] = []
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(payload)
        buf = b""
        while len(out) < responses:
            end = buf.find(b"\r\n\r\n")
            if end >= 0:
                lines = buf[:end].decode("latin-1").split("\r\n")
                headers = {
                    k.strip().lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:])
                }
                n = int(headers.get("content-length", "0"))
                if len(buf) >= end + 4 + n:
                    out.append((int(lines[0].split(" ")[1]), headers, buf[end + 4 : end + 4 + n]))
                    buf = buf[end + 4 + n :]
                    continue
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
    return out


def _post(op: str, body: bytes, extra: str = "", version: str = "HTTP/1.1") -> bytes:
    return (
        f"POST / {version}\r\nHost: x\r\nX-Amz-Target: Timestream_20181101.{op}\r\n{AUTH_HEADERS}{extra}"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body


def test_pipelined_requests_are_answered_in_order(engine: Running) -> None:
    # a slow operation (a task) between two immediate ones: answers still come back in order
    payload = (
        _post("DescribeEndpoints", b"{}")
        + _post("ListDatabases", b"{}")
        + _post("DescribeDatabase", b'{"DatabaseName": "nope-nope"}')
        + _post("DescribeEndpoints", b"{}")
    )
    got = _exchange(engine.url, payload, responses=4)
    assert [s for s, _, _ in got] == [200, 200, 404, 200]
    assert b"Endpoints" in got[0][2] and b"Databases" in got[1][2] and b"Endpoints" in got[3][2]
    assert all(h["x-amzn-requestid"] for _, h, _ in got)


def test_chunked_body_and_expect_continue(engine: Running) -> None:
    body = b'{"DatabaseName": "nope-nope"}'
    head = (
        f"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: Timestream_20181101.DescribeDatabase\r\n{AUTH_HEADERS}"
        "Transfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    chunks = b"".join(f"{len(p):x}\r\n".encode() + p + b"\r\n" for p in (body[:7], body[7:])) + b"0\r\n\r\n"
    host, port = engine.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        s.sendall(head)  # the client waits for "100 Continue" before sending the body
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(chunks[:9])
        time.sleep(0.05)  # the body arrives in pieces
        s.sendall(chunks[9:])
        raw = b""
        while b"ResourceNotFoundException" not in raw or not raw.endswith(b"}"):
            part = s.recv(4096)
            assert part, raw
            raw += part
    assert raw.startswith(b"HTTP/1.1 404 "), raw
    # a body sent along with its head needs no interim answer
    got = _exchange(engine.url, head + chunks, responses=1)
    assert got[0][0] == 404 and got[0][1]["x-amzn-errortype"] == "ResourceNotFoundException"


def test_http10_closes_and_routes(engine: Running) -> None:
    got = _exchange(engine.url, _post("DescribeEndpoints", b"{}", version="HTTP/1.0"), responses=2)
    assert len(got) == 1 and got[0][0] == 200 and got[0][1]["connection"] == "close"
    got = _exchange(engine.url, b"GET /nowhere HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got[0][0] == 404 and b"__type" in got[0][2]
    got = _exchange(engine.url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got[0][0] == 405
    got = _exchange(engine.url, b"GET /tsload/stats?x=1 HTTP/1.1\r\nHost: x\r\n\r\n")
    assert got[0][0] == 200 and b'"requests"' in got[0][2]


@pytest.mark.parametrize(
    "junk",
    [
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",  # a TLS ClientHello: refused at once
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n",
        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"POST / HTTP/2.0\r\nHost: x\r\n\r\n",
        b"POST / HTTP/1.1\r\n bad header\r\n\r\n",
        b"X" * (70 * 1024),
    ],
)
def test_malformed_http_is_a_400_and_the_connection_closes(engine: Running, junk: bytes) -> None:
    before = engine.stats()["errors"].get("InternalServerException", 0)
    got = _exchange(engine.url, junk, responses=2)
    assert len(got) == 1, got  # answered once, then closed
    status, headers, raw = got[0]
    assert status == 400 and headers["connection"] == "close" and b"__type" in raw
    assert engine.stats()["errors"].get("InternalServerException", 0) == before


def test_oversized_declared_body_is_drained_then_refused(engine: Running) -> None:
    body = b"x" * (9 * 1024 * 1024)
    got = _exchange(engine.url, _post("WriteRecords", body), responses=1, timeout=30)
    assert got[0][0] == 413 and got[0][1]["connection"] == "close"


def test_a_client_that_reads_late_gets_every_answer_in_order(engine: Running) -> None:
    """Thousands of pipelined requests sent before reading any answer: the server stops reading
    while its answers are not taken (bounded buffers), then serves the rest once they are."""
    import threading

    n = 20000  # ~5 MB of answers: more than the socket buffers, so the server pauses
    payload = b"".join(_post("DescribeDatabase", b'{"DatabaseName": "nope-%d"}' % i) for i in range(n))
    host, port = engine.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=30) as s:
        sender = threading.Thread(target=s.sendall, args=(payload,), daemon=True)
        sender.start()
        time.sleep(0.5)  # answers pile up unread meanwhile
        buf = b""
        seen = 0
        while seen < n:
            chunk = s.recv(1 << 20)
            assert chunk, f"closed after {seen} answers"
            buf += chunk
            while True:
                end = buf.find(b"\r\n\r\n")
                if end < 0:
                    break
                head = buf[:end].decode()
                length = int(head.lower().split("content-length: ", 1)[1].split("\r\n", 1)[0])
                if len(buf) < end + 4 + length:
                    break
                body = buf[end + 4 : end + 4 + length]
                assert head.startswith("HTTP/1.1 404 ") and b"nope-%d " % seen in body, (seen, body)
                buf = buf[end + 4 + length :]
                seen += 1
        sender.join(10)
