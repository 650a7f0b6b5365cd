"""A lean HTTP/1.1 server (asyncio.Protocol) for the engine's two routes.

Why not aiohttp: the engine answers small AWS JSON 1.0 POSTs at thousands per second, and
aiohttp's per-request machinery (request and response objects, multidicts, stream readers,
middleware and router layers, a task per request) cost more CPU than parsing and validating a
100-record WriteRecords body. Measured with `scripts/bench-engine` (see docs/engine.md). This
server does only what the engine's clients (botocore, tsload's fast path, urllib, http.client,
aiohttp) need:

- request line, headers (names lower-cased; a repeated header's values joined with ","),
  `Content-Length` or `Transfer-Encoding: chunked` request bodies, `Expect: 100-continue`;
- keep-alive (HTTP/1.1 default, HTTP/1.0 with `Connection: keep-alive`), pipelined requests
  answered in order; idle connections closed after `keepalive_s`;
- bounds: header block `MAX_HEAD_BYTES`, body `max_body` (a bigger declared body is answered
  413 by the handler's `too_large` response and drained, then the connection closes);
- malformed HTTP is answered 400 (the handler's `bad_request` response) and the connection
  closes; a client hanging up mid-body is counted (`on_disconnect_mid_body`), not an error.

A handler returns a finished `Response` (no task, no await: the hot path) or an awaitable of one,
which runs as a task while the connection holds further pipelined requests back.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import re
import socket
import time
from collections.abc import Awaitable, Callable
from email.utils import formatdate
from typing import NamedTuple, cast

log = logging.getLogger(__name__)

MAX_HEAD_BYTES = 64 * 1024
# What a buffer holding the start of a request can look like (an empty line may precede it).
_METHOD_START = re.compile(rb"(?:\r\n)*(?:[A-Z]{1,20}(?: |\Z)|\r?\Z)")
_REASONS = {
    100: "Continue",
    200: "OK",
    400: "Bad Request",
    402: "Payment Required",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    419: "Rejected Records",
    421: "Misdirected Request",
    429: "Too Many Requests",
    500: "Internal Server Error",
    505: "HTTP Version Not Supported",
}


class Request(NamedTuple):
    method: str
    path: str
    headers: dict[str, str]  # lower-case names
    body: bytes


class Response(NamedTuple):
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


Result = Response | Awaitable[Response]


class Handlers(NamedTuple):
    handle: Callable[[Request], Result]
    bad_request: Callable[[str], Response]  # malformed HTTP (the connection is closed after it)
    too_large: Callable[[int], Response]  # declared or chunked body over max_body
    on_disconnect_mid_body: Callable[[], None]
    internal_error: Callable[[], Response]  # a handler raised (it should map its own errors)


class _HttpError(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


_date_cache: tuple[int, bytes] = (0, b"")


def _date() -> bytes:
    global _date_cache
    now = int(time.time())
    if _date_cache[0] != now:
        _date_cache = (now, formatdate(now, usegmt=True).encode())
    return _date_cache[1]


def encode_response(resp: Response, keep_alive: bool, head_only: bool = False) -> bytes:
    status = resp.status
    parts = [
        b"HTTP/1.1 ",
        str(status).encode(),
        b" ",
        _REASONS.get(status, "Unknown").encode(),
        b"\r\n",
    ]
    for k, v in resp.headers:
        parts.append(f"{k}: {v}\r\n".encode("latin-1"))
    parts += [
        b"Content-Length: ",
        str(len(resp.body)).encode(),
        b"\r\nDate: ",
        _date(),
        b"\r\n" if keep_alive else b"\r\nConnection: close\r\n",
        b"\r\n",
    ]
    if not head_only:
        parts.append(resp.body)
    return b"".join(parts)


class _Connection(asyncio.Protocol):
    __slots__ = (
        "_buf",
        "_busy",
        "_closing",
        "_continued",
        "_draining",
        "_in_body",
        "_paused",
        "_server",
        "_transport",
        "_write_paused",
        "last_active",
    )

    def __init__(self, server: HttpServer) -> None:
        self._server = server
        self._transport: asyncio.Transport | None = None
        self._buf = bytearray()
        self._busy = False  # a handler task owns the connection until it answers
        self._closing = False
        self._paused = False  # reading stopped: pipelined requests piling up behind a slow one
        self._write_paused = False  # reading stopped: the client does not read its answers
        self._draining = 0  # bytes of a refused body still to be read and dropped before closing
        self._in_body = False  # a request's head arrived, its body has not completely
        self._continued = False  # "100 Continue" sent for the request in progress
        self.last_active = time.monotonic()

    # -- asyncio.Protocol
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        self._server.connections.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        self._closing = True
        self._server.connections.discard(self)
        if self._in_body:
            self._in_body = False
            self._server.handlers.on_disconnect_mid_body()

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        if self._draining:
            n = min(self._draining, len(data))
            self._draining -= n
            if not self._draining:
                self._close()
            return
        if self._closing:
            return
        self._buf += data
        if not self._busy:
            self._process()
        elif len(self._buf) > self._server.max_body + MAX_HEAD_BYTES and not self._paused:
            # pipelined data piling up behind a slow request: stop reading until it is answered
            self._paused = True
            self._reading()

    def pause_writing(self) -> None:
        # The client sends requests but does not read the answers: stop reading its requests
        # rather than buffer answers without bound.
        self._write_paused = True
        self._reading()

    def resume_writing(self) -> None:
        self._write_paused = False
        self._reading()

    def _reading(self) -> None:
        if self._transport is None or self._transport.is_closing():
            return
        if self._paused or self._write_paused:
            if self._transport.is_reading():
                self._transport.pause_reading()
        elif not self._transport.is_reading():
            self._transport.resume_reading()

    def eof_received(self) -> bool | None:
        # Half-close: answer what is complete, then close (returning None closes the transport).
        return None

    # -- requests
    def _process(self) -> None:
        buf = self._buf
        server = self._server
        while buf and not self._closing:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                if len(buf) > MAX_HEAD_BYTES:
                    self._refuse(server.handlers.bad_request("request header block too large"))
                elif _METHOD_START.match(buf) is None:
                    # not the start of a request line (a TLS handshake, binary junk): say so now
                    # rather than wait for a header block that will never come
                    self._refuse(server.handlers.bad_request("not an HTTP/1.1 request"))
                return
            try:
                method, path, version, headers = _parse_head(bytes(buf[:end]))
                length, chunked = _body_framing(headers)
            except _HttpError as exc:
                self._refuse(server.handlers.bad_request(str(exc)))
                return
            start = end + 4
            if chunked:
                try:
                    parsed = _dechunk(buf, start, server.max_body)
                except _HttpError as exc:
                    if exc.status == 413:
                        self._refuse(server.handlers.too_large(server.max_body))
                    else:
                        self._refuse(server.handlers.bad_request(str(exc)))
                    return
                if parsed is None:
                    self._expect_continue(headers)
                    self._in_body = True
                    return
                body, consumed = parsed
            else:
                if length > server.max_body:
                    self._refuse(
                        server.handlers.too_large(server.max_body), drain=length - (len(buf) - start)
                    )
                    return
                if len(buf) - start < length:
                    self._expect_continue(headers)
                    self._in_body = True
                    return
                body = bytes(buf[start : start + length])
                consumed = start + length
            del buf[:consumed]
            self._in_body = False
            self._continued = False
            conn_hdr = headers.get("connection", "").lower()
            keep_alive = "close" not in conn_hdr if version == "HTTP/1.1" else "keep-alive" in conn_hdr
            if server.closing:
                keep_alive = False
            head_only = method == "HEAD"
            try:
                result = server.handlers.handle(Request(method, path, headers, body))
            except Exception:  # the handler maps its own errors; this is a last resort
                log.exception("internal error in the HTTP handler")
                result = server.handlers.internal_error()
                keep_alive = False
            if isinstance(result, Response):
                self._send(result, keep_alive, head_only)
                if not keep_alive:
                    return
                continue
            self._busy = True
            task = asyncio.ensure_future(result)
            server.tasks.add(task)
            task.add_done_callback(
                functools.partial(self._answered, keep_alive=keep_alive, head_only=head_only)
            )
            return

    def _answered(self, task: asyncio.Future[Response], *, keep_alive: bool, head_only: bool) -> None:
        self._server.tasks.discard(task)
        self._busy = False
        if task.cancelled():
            self._close()
            return
        exc = task.exception()
        if exc is not None:
            log.error("internal error in a request handler", exc_info=exc)
            self._refuse(self._server.handlers.internal_error())
            return
        if self._closing:
            return  # the client went away meanwhile
        self._send(task.result(), keep_alive, head_only)
        if not keep_alive:
            return
        if self._paused:
            self._paused = False
            self._reading()
        self._process()

    def _expect_continue(self, headers: dict[str, str]) -> None:
        if (
            not self._continued
            and headers.get("expect", "").lower() == "100-continue"
            and self._transport is not None
        ):
            self._continued = True  # once per request (its head is parsed again as the body arrives)
            self._transport.write(b"HTTP/1.1 100 Continue\r\n\r\n")

    def _send(self, resp: Response, keep_alive: bool, head_only: bool = False) -> None:
        if self._transport is None or self._closing:
            return
        self._transport.write(encode_response(resp, keep_alive, head_only))
        if not keep_alive:
            self._close()

    def _refuse(self, resp: Response, drain: int = 0) -> None:
        """Answer and close; with `drain`, first read and drop that many more bytes of the body
        (a client that sends a whole refused body before reading then still gets the answer)."""
        self._in_body = False
        self._buf.clear()
        if self._transport is None or self._closing:
            return
        self._transport.write(encode_response(resp, False))
        if drain > 0:
            self._draining = drain
            self._closing = True
            self._paused = self._write_paused = False
            self._reading()
            return
        self._close()

    def _close(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.close()

    @property
    def idle(self) -> bool:
        return not self._busy and not self._buf

    def close_if_idle(self, before: float) -> None:
        if (self.idle and self.last_active < before) or (self._draining and self.last_active < before):
            self._close()

    def abort(self) -> None:
        self._closing = True
        if self._transport is not None:
            self._transport.abort()


def _parse_head(head: bytes) -> tuple[str, str, str, dict[str, str]]:
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError:  # pragma: no cover - latin-1 decodes any byte
        raise _HttpError("undecodable request head") from None
    lines = text.lstrip("\r\n").split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise _HttpError(f"malformed request line {lines[0][:80]!r}")
    method, path, version = parts
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _HttpError(f"unsupported HTTP version {version[:20]!r}")
    if not method.isalpha() or not method.isupper():
        raise _HttpError(f"malformed method {method[:20]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip() or " " in name or "\t" in name:
            raise _HttpError(f"malformed header line {line[:80]!r}")
        name = name.lower()
        value = value.strip(" \t")
        if name in headers:
            if name in ("content-length", "host"):
                raise _HttpError(f"repeated {name} header")
            headers[name] += "," + value
        else:
            headers[name] = value
    return method, path, version, headers


def _body_framing(headers: dict[str, str]) -> tuple[int, bool]:
    te = headers.get("transfer-encoding")
    cl = headers.get("content-length")
    if te is not None:
        if cl is not None:
            raise _HttpError("both Content-Length and Transfer-Encoding")
        if te.lower() != "chunked":
            raise _HttpError(f"unsupported Transfer-Encoding {te[:40]!r}")
        return 0, True
    if cl is None:
        return 0, False
    if not cl.isdigit() or not cl.isascii():
        raise _HttpError(f"malformed Content-Length {cl[:40]!r}")
    return int(cl), False


def _dechunk(buf: bytearray, pos: int, max_body: int) -> tuple[bytes, int] | None:
    """(body, bytes consumed from buf) when the whole chunked body is in buf, else None."""
    out = bytearray()
    while True:
        eol = buf.find(b"\r\n", pos)
        if eol < 0:
            if len(buf) - pos > 1024:
                raise _HttpError("malformed chunk size line")
            return None
        size_text = bytes(buf[pos:eol]).split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise _HttpError("malformed chunk size") from None
        if size < 0:
            raise _HttpError("malformed chunk size")
        if size == 0:
            # optional trailers, then an empty line
            end = buf.find(b"\r\n\r\n", eol)
            if end < 0:
                if buf[eol : eol + 4] == b"\r\n\r\n":  # pragma: no cover - found above
                    end = eol
                else:
                    return None
            return bytes(out), end + 4
        if len(out) + size > max_body:
            raise _HttpError("body too large", status=413)
        start = eol + 2
        if len(buf) < start + size + 2:
            return None
        if buf[start + size : start + size + 2] != b"\r\n":
            raise _HttpError("malformed chunk")
        out += buf[start : start + size]
        pos = start + size + 2


class HttpServer:
    """Serve `handlers` on a listening socket until `close()`."""

    def __init__(self, handlers: Handlers, *, max_body: int, keepalive_s: float = 75.0) -> None:
        self.handlers = handlers
        self.max_body = max_body
        self.keepalive_s = keepalive_s
        self.connections: set[_Connection] = set()
        self.tasks: set[asyncio.Future[Response]] = set()
        self.closing = False
        self._server: asyncio.AbstractServer | None = None
        self._sweeper: asyncio.Task[None] | None = None

    async def start(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: _Connection(self), sock=sock, backlog=1024)
        self._sweeper = asyncio.create_task(self._sweep(), name="tsload-engine-http-idle")

    async def _sweep(self) -> None:
        """Close keep-alive connections idle for longer than keepalive_s (one timer for all)."""
        period = max(0.05, min(10.0, self.keepalive_s / 4))
        while True:
            await asyncio.sleep(period)
            before = time.monotonic() - self.keepalive_s
            for conn in list(self.connections):
                conn.close_if_idle(before)

    async def close(self, grace_s: float = 30.0) -> None:
        """Stop accepting, let requests in progress answer (up to `grace_s`), close every connection."""
        self.closing = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
        if self._server is not None:
            self._server.close()
        for conn in list(self.connections):
            if conn.idle:
                conn.close_if_idle(float("inf"))
        if self.tasks:
            await asyncio.wait(list(self.tasks), timeout=grace_s)
        for conn in list(self.connections):
            conn.abort()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
            self._server = None
        await asyncio.sleep(0)
