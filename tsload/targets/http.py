"""A lean HTTP/1.1 keep-alive client for one origin: POST a pre-encoded body, read the response.

(Used by the Timestream and the InfluxDB targets: nothing in it is Timestream's.)

Why not aiohttp: for small JSON POSTs its per-request machinery (request/response objects,
multidicts, stream readers, tracing hooks) dominates the CPU; measured here on one core,
pre-encoded bodies over aiohttp reach about half the request rate of this client (see
`scripts/bench-ingest --transport-compare` and docs/ingest.md). What this client does:

- one origin (scheme, host, port); HTTPS verifies certificates with the system trust store
  (`ssl.create_default_context()`) and sends SNI;
- a LIFO pool of idle keep-alive connections, one request per connection at a time (no pipelining);
- responses framed by Content-Length or chunked transfer encoding; `Connection: close` honoured;
- connect and read timeouts; any socket, TLS or framing problem raises `HttpError` and the
  connection is discarded.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from dataclasses import dataclass
from typing import cast
from urllib.parse import urlparse

from tsload._errors import ConfigError

_MAX_HEADER_BYTES = 64 * 1024


class HttpError(Exception):
    """The request could not be completed (connection, TLS, timeout or protocol error)."""


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    # request written → response complete on the socket: the server's time plus the network's, so
    # that a caller's time minus this is the client's own part (benchmarks report it)
    wire_s: float = 0.0


class _Connection(asyncio.Protocol):
    """Parses exactly one response at a time into a future."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._buf = bytearray()
        self._waiter: asyncio.Future[HttpResponse] | None = None
        self._status = 0
        self._headers: dict[str, str] | None = None
        self._length = -1
        self._chunked = False
        self.keep_alive = True
        self._sent = 0.0

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio.Transport
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_exception(HttpError(f"connection lost: {exc or 'closed by peer'}"))

    def data_received(self, data: bytes) -> None:
        if self._waiter is None:
            # Nothing asked for: the peer is talking out of turn; this connection is unusable.
            self.keep_alive = False
            return
        self._buf += data
        try:
            self._parse()
        except HttpError as exc:
            self._fail(exc)

    # -- request/response
    def start(self, payload: bytes) -> asyncio.Future[HttpResponse]:
        assert self.transport is not None
        loop = asyncio.get_running_loop()
        self._waiter = loop.create_future()
        self._buf.clear()
        self._headers = None
        self._length = -1
        self._chunked = False
        self.transport.write(payload)
        self._sent = time.perf_counter()
        return self._waiter

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def _fail(self, exc: HttpError) -> None:
        waiter, self._waiter = self._waiter, None
        self.keep_alive = False
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)
        self.close()

    def _done(self, body: bytes) -> None:
        assert self._headers is not None
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(
                HttpResponse(self._status, self._headers, body, time.perf_counter() - self._sent)
            )

    def _parse(self) -> None:
        buf = self._buf
        if self._headers is None:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > _MAX_HEADER_BYTES:
                    raise HttpError("response header too large")
                return
            lines = bytes(buf[:end]).decode("latin-1").split("\r\n")
            del buf[: end + 4]
            parts = lines[0].split(" ", 2)
            if len(parts) < 2 or not parts[0].startswith("HTTP/1."):
                raise HttpError(f"bad status line {lines[0][:80]!r}")
            try:
                self._status = int(parts[1])
            except ValueError as exc:
                raise HttpError(f"bad status line {lines[0][:80]!r}") from exc
            headers: dict[str, str] = {}
            for line in lines[1:]:
                name, sep, value = line.partition(":")
                if sep:
                    headers[name.strip().lower()] = value.strip()
            self._headers = headers
            if headers.get("connection", "").lower() == "close" or parts[0] == "HTTP/1.0":
                self.keep_alive = False
            if "chunked" in headers.get("transfer-encoding", "").lower():
                self._chunked = True
            elif "content-length" in headers:
                try:
                    self._length = int(headers["content-length"])
                except ValueError as exc:
                    raise HttpError("bad Content-Length") from exc
            elif self._status in (204, 304) or 100 <= self._status < 200:
                self._length = 0
            else:
                raise HttpError("response without Content-Length or chunked encoding")
        if self._chunked:
            self._parse_chunked()
        elif len(buf) >= self._length:
            body = bytes(buf[: self._length])
            if len(buf) > self._length:
                self.keep_alive = False
            buf.clear()
            self._done(body)

    def _parse_chunked(self) -> None:
        buf = self._buf
        body = bytearray()
        pos = 0
        while True:
            eol = buf.find(b"\r\n", pos)
            if eol < 0:
                return
            size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
            try:
                size = int(size_text, 16)
            except ValueError as exc:
                raise HttpError("bad chunk size") from exc
            if size == 0:
                # the last chunk's size line is followed by optional trailers and an empty line
                if buf.find(b"\r\n\r\n", eol) < 0:
                    return
                buf.clear()
                self._done(bytes(body))
                return
            start = eol + 2
            if len(buf) < start + size + 2:
                return
            body += buf[start : start + size]
            pos = start + size + 2


class HttpClient:
    """`await client.post("/", headers, body)` against one origin, over pooled keep-alive connections."""

    def __init__(
        self,
        url: str,
        *,
        connect_timeout: float = 20.0,
        read_timeout: float = 335.0,
        ssl_context: ssl.SSLContext | None = None,
        max_idle: int = 4096,
    ) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigError("target.endpoint", "an http(s)://host[:port] URL", got=url)
        self.url = url
        self.scheme = parsed.scheme
        self.hostname = parsed.hostname
        default_port = 443 if parsed.scheme == "https" else 80
        self.port = parsed.port or default_port
        # The Host header (and the signed host) carry the port only when it is not the default.
        self.host_header = self.hostname if self.port == default_port else f"{self.hostname}:{self.port}"
        if ":" in self.hostname and self.port == default_port:
            self.host_header = f"[{self.hostname}]"
        elif ":" in self.hostname:
            self.host_header = f"[{self.hostname}]:{self.port}"
        self.connect_timeout = connect_timeout
        self.read_timeout = read_timeout
        self._ssl: ssl.SSLContext | None = None
        if parsed.scheme == "https":
            self._ssl = ssl_context or ssl.create_default_context()
        self._idle: list[_Connection] = []
        self._max_idle = max_idle
        self._all: set[_Connection] = set()
        self._closed = False

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, proto = await loop.create_connection(
                    _Connection,
                    self.hostname,
                    self.port,
                    ssl=self._ssl,
                    server_hostname=self.hostname if self._ssl else None,
                )
        except (OSError, TimeoutError, ssl.SSLError) as exc:
            raise HttpError(f"cannot connect to {self.url}: {exc or type(exc).__name__}") from exc
        self._all.add(proto)
        return proto

    async def post(self, path: str, headers: list[tuple[str, str]], body: bytes) -> HttpResponse:
        return await self.request("POST", path, headers, body)

    async def request(
        self, method: str, path: str, headers: list[tuple[str, str]], body: bytes = b""
    ) -> HttpResponse:
        """One request of any method (the InfluxDB target's admin calls use GET and DELETE)."""
        if self._closed:
            raise HttpError("client closed")
        conn: _Connection | None = None
        while self._idle:
            candidate = self._idle.pop()
            if not candidate.closed:
                conn = candidate
                break
            self._all.discard(candidate)
        if conn is None:
            conn = await self._connect()
        head = "".join(f"{k}: {v}\r\n" for k, v in headers)
        payload = b"".join(
            (
                method.encode("ascii"),
                b" ",
                path.encode("latin-1"),
                b" HTTP/1.1\r\nHost: ",
                self.host_header.encode("latin-1"),
                b"\r\n",
                head.encode("latin-1"),
                b"Content-Length: ",
                str(len(body)).encode("ascii"),
                b"\r\n\r\n",
                body,
            )
        )
        try:
            async with asyncio.timeout(self.read_timeout):
                response = await conn.start(payload)
        except TimeoutError as exc:
            self._discard(conn)
            raise HttpError(f"no response within {self.read_timeout:g} s") from exc
        except HttpError:
            self._discard(conn)
            raise
        except BaseException:
            # Cancelled mid-request: the response would arrive on a connection nobody reads.
            self._discard(conn)
            raise
        if conn.keep_alive and not conn.closed and len(self._idle) < self._max_idle:
            self._idle.append(conn)
        else:
            self._discard(conn)
        return response

    def _discard(self, conn: _Connection) -> None:
        self._all.discard(conn)
        conn.close()

    @property
    def open_connections(self) -> int:
        return sum(1 for c in self._all if not c.closed)

    async def aclose(self) -> None:
        self._closed = True
        for conn in list(self._all):
            conn.close()
        self._all.clear()
        self._idle.clear()
        # let the transports run their close callbacks before the loop goes away
        with contextlib.suppress(Exception):
            await asyncio.sleep(0)
