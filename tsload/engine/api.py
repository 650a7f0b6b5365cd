"""What every operation handler of the engine shares: the request context and the handler shapes.

The engine is split by job: `server` (lifecycle, HTTP dispatch, auth), `catalogue` (endpoints,
databases, tables), `writes` (WriteRecords) and `queries` (Query, CancelQuery). Each job module
exposes handlers of the shapes below; `server` maps operation names to them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

ACCOUNT = "000000000000"


class RequestContext:
    __slots__ = ("body", "host", "region")

    def __init__(self, host: str, region: str, body: bytes = b"") -> None:
        self.host = host
        self.region = region
        self.body = body  # the request's bytes as received (WriteRecords logs them as they are)


Handler = Callable[[dict[str, Any], RequestContext], Awaitable[dict[str, Any]]]
# A synchronous handler answers at once (a dict), or hands the rest of its work to an awaitable.
SyncHandler = Callable[[dict[str, Any], RequestContext], "dict[str, Any] | Awaitable[dict[str, Any]]"]
