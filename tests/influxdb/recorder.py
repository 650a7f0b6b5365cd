"""A small aiohttp server on a free loopback port that records every request and answers as told:
the stand-in for InfluxDB 2.x/3.x (not installable here) when checking request shapes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    # aiohttp decodes a Content-Encoding: gzip body before the handler sees it (and answers 400
    # when it is not gzip), so `body` is always the plain text


# (request, its 1-based number) -> (status, body bytes, content type)
Reply = Callable[[Recorded, int], tuple[int, bytes, str]]


def default_reply(req: Recorded, n: int) -> tuple[int, bytes, str]:
    if req.path in ("/write", "/api/v2/write", "/api/v3/write_lp"):
        return 204, b"", "text/plain"
    if req.path == "/api/v3/query_sql":
        return 200, b'[{"n": 1}, {"n": 2}]', "application/json"
    if req.path == "/query":
        return (
            200,
            b'{"results":[{"statement_id":0,"series":[{"name":"m","columns":["time","n"],"values":[[1,1]]}]}]}',
            "application/json",
        )
    return 404, b'{"error":"not here"}', "application/json"


@dataclass
class Recorder:
    reply: Reply = default_reply
    requests: list[Recorded] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        rec = Recorded(
            request.method, request.path, dict(request.query), dict(request.headers), await request.read()
        )
        self.requests.append(rec)
        status, body, ctype = self.reply(rec, len(self.requests))
        return web.Response(status=status, body=body, content_type=ctype.split(";")[0])

    async def __aenter__(self) -> Recorder:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()
