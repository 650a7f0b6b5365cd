"""A tiny Timestream-shaped aiohttp server on a free loopback port that records every request."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials


@dataclass
class Captured:
    headers: dict[str, str]
    body: bytes

    @property
    def target(self) -> str:
        return self.headers["X-Amz-Target"]

    @property
    def json(self) -> Any:
        return orjson.loads(self.body)


Reply = Callable[[Captured, int], tuple[int, dict[str, Any], dict[str, str]]]


@dataclass
class CaptureServer:
    reply: Reply | None = None
    requests: list[Captured] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.read()
        cap = Captured(dict(request.headers), body)
        self.requests.append(cap)
        target = cap.headers.get("X-Amz-Target", "")
        if target.endswith("DescribeEndpoints"):
            host = self.url.split("://", 1)[1]
            return web.json_response({"Endpoints": [{"Address": host, "CachePeriodInMinutes": 1}]})
        if self.reply is not None:
            status, payload, headers = self.reply(cap, len(self.requests))
            return web.Response(
                status=status,
                body=orjson.dumps(payload),
                headers=headers,
                content_type="application/x-amz-json-1.0",
            )
        n = len(cap.json.get("Records", []))
        return web.json_response({"RecordsIngested": {"Total": n, "MemoryStore": n, "MagneticStore": 0}})

    async def __aenter__(self) -> CaptureServer:
        app = web.Application()
        app.router.add_post("/", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()


_SIG = re.compile(r"Credential=([^/]+)/([^,]+), SignedHeaders=([^,]+), Signature=([0-9a-f]+)")


def verify_sigv4(cap: Captured, secret_key: str, token: str | None = None) -> str:
    """Recompute the signature with botocore's SigV4Auth over the captured request; return the access key."""
    m = _SIG.search(cap.headers["Authorization"])
    assert m, cap.headers["Authorization"]
    access_key, scope, signed, signature = m.groups()
    date, region, service, _ = scope.split("/")
    lower = {k.lower(): v for k, v in cap.headers.items()}
    headers = {name: lower[name] for name in signed.split(";")}
    request = AWSRequest(method="POST", url=f"http://{lower['host']}/", data=cap.body, headers=headers)
    request.context["timestamp"] = lower["x-amz-date"]
    auth = SigV4Auth(Credentials(access_key, secret_key, token), service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    assert expected == signature, "SigV4 signature does not verify"
    assert date == lower["x-amz-date"][:8]
    return access_key
