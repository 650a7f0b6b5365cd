"""The lean HTTP/1.1 client: framing, keep-alive reuse, Connection: close, errors, TLS defaults."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator, Callable

import pytest

from tsload.targets.http import HttpClient, HttpError

Responder = Callable[[bytes], list[bytes]]


class RawServer:
    """Answers each request (read up to its Content-Length) with scripted raw bytes, in pieces."""

    def __init__(self, respond: Responder) -> None:
        self.respond = respond
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""
        self._server: asyncio.Server | None = None

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                for piece in self.respond(head + body):
                    if piece == b"<close>":
                        writer.close()
                        return
                    writer.write(piece)
                    await writer.drain()
                    await asyncio.sleep(0)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def __aenter__(self) -> RawServer:
        self._server = await asyncio.start_server(self._client, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.close()


@pytest.fixture
async def client_factory() -> AsyncIterator[Callable[[str], HttpClient]]:
    made: list[HttpClient] = []

    def make(url: str) -> HttpClient:
        c = HttpClient(url, read_timeout=2.0)
        made.append(c)
        return c

    yield make
    for c in made:
        await c.aclose()


OK = b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{"ok":true}'


async def test_keep_alive_reuses_one_connection(client_factory: Callable[[str], HttpClient]) -> None:
    async with RawServer(lambda req: [OK[:20], OK[20:50], OK[50:]]) as server:
        client = client_factory(server.url)
        for i in range(5):
            r = await client.post("/", [("X-Test", str(i))], b"body-%d" % i)
            assert (r.status, r.body, r.headers["content-type"]) == (200, b'{"ok":true}', "application/json")
    assert server.connections == 1
    assert [req.split(b"\r\n\r\n", 1)[1] for req in server.requests] == [b"body-%d" % i for i in range(5)]
    first = server.requests[0].decode()
    assert first.startswith("POST / HTTP/1.1\r\n") and f"Host: {server.url[7:]}\r\n" in first


async def test_chunked_response(client_factory: Callable[[str], HttpClient]) -> None:
    chunked = [
        b"HTTP/1.1 400 Bad\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n",
        b"6\r\n world\r\n",
        b"0\r\n\r\n",
    ]
    async with RawServer(lambda req: chunked) as server:
        client = client_factory(server.url)
        r1 = await client.post("/", [], b"x")
        r2 = await client.post("/", [], b"y")
    assert (r1.status, r1.body) == (400, b"hello world") and r2.body == b"hello world"
    assert server.connections == 1


async def test_connection_close_opens_a_new_connection(client_factory: Callable[[str], HttpClient]) -> None:
    close = b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok"
    async with RawServer(lambda req: [close, b"<close>"]) as server:
        client = client_factory(server.url)
        assert (await client.post("/", [], b"a")).body == b"ok"
        assert (await client.post("/", [], b"b")).body == b"ok"
    assert server.connections == 2


async def test_peer_closing_mid_response_is_an_http_error(
    client_factory: Callable[[str], HttpClient],
) -> None:
    async with RawServer(lambda req: [OK[:30], b"<close>"]) as server:
        client = client_factory(server.url)
        with pytest.raises(HttpError, match="connection lost"):
            await client.post("/", [], b"a")
        assert client.open_connections == 0


async def test_garbage_and_timeouts_are_http_errors(client_factory: Callable[[str], HttpClient]) -> None:
    async with RawServer(lambda req: [b"SMTP ready\r\n\r\n"]) as server:
        with pytest.raises(HttpError, match="bad status line"):
            await client_factory(server.url).post("/", [], b"a")
    async with RawServer(lambda req: []) as server:
        client = client_factory(server.url)
        client.read_timeout = 0.2
        with pytest.raises(HttpError, match="no response"):
            await client.post("/", [], b"a")


def test_https_verifies_certificates_by_default() -> None:
    client = HttpClient("https://ingest.timestream.us-east-1.amazonaws.com")
    assert client.port == 443 and client.host_header == "ingest.timestream.us-east-1.amazonaws.com"
    ctx = client._ssl
    assert ctx is not None and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert HttpClient("http://127.0.0.1:8080").host_header == "127.0.0.1:8080"
