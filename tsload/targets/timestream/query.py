"""How a Query/CancelQuery call reaches Timestream: a small protocol and two implementations.

- `SdkTransport`: aioboto3's ``timestream-query`` client (botocore serialises, signs, parses;
  endpoint discovery against AWS). botocore's own retries are off: tsload counts its retries.
- `FastTransport`: a pre-built JSON body, tsload's SigV4 signer and the lean keep-alive HTTP/1.1
  client of the write path; for a fixed endpoint (``-e`` or the local engine). The same bytes
  and signature botocore would send, at a fraction of the client CPU.

Both raise `CallError` (of `tsload.targets.base`, classified by `outcome.retryable`) for an error
answer or a transport failure; `to_page` turns an answer into the interface's `Page`.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from tsload.targets.base import CallError, Page
from tsload.targets.http import HttpClient, HttpError
from tsload.targets.timestream.outcome import CONNECTION_ERROR, THROTTLED, error_code, retryable
from tsload.targets.timestream.sdk import SdkClient
from tsload.targets.timestream.sigv4 import SigV4Signer

QUERY_TARGET = "Timestream_20181101.Query"
CANCEL_TARGET = "Timestream_20181101.CancelQuery"


def call_error(
    code: str,
    message: str,
    *,
    status: int | None = None,
    request_id: str | None = None,
    query_id: str | None = None,
) -> CallError:
    """A failed call, classified by the target's one retryable-error policy (outcome.py)."""
    return CallError(
        code,
        message,
        status=status,
        request_id=request_id,
        query_id=query_id,
        retryable=retryable(code, status),
        throttled=code == THROTTLED,
    )


def to_page(response: dict[str, Any], *, keep_rows: bool) -> Page:
    """A Query response as a `Page`; cells are converted only when the caller keeps the rows."""
    rows = response.get("Rows") or ()
    meta = response.get("ResponseMetadata") or {}
    columns: tuple[str, ...] = ()
    values: tuple[tuple[str | None, ...], ...] = ()
    if keep_rows:
        columns = tuple(
            str(c.get("Name", f"_col{i}")) for i, c in enumerate(response.get("ColumnInfo") or ())
        )
        values = tuple(
            tuple(
                None if d.get("NullValue") or "ScalarValue" not in d else str(d["ScalarValue"])
                for d in row.get("Data", ())
            )
            for row in rows
        )
    return Page(
        rows=len(rows),
        query_id=response.get("QueryId"),
        request_id=meta.get("RequestId"),
        next_token=response.get("NextToken") or None,
        columns=columns,
        values=values,
    )


class QueryTransport(Protocol):
    async def query(self, params: dict[str, Any]) -> dict[str, Any]: ...

    async def cancel(self, query_id: str) -> None: ...

    async def aclose(self) -> None: ...


class SdkTransport:
    """aioboto3 ``timestream-query``; one client (and connection pool) shared by a process's sessions."""

    def __init__(self, session: Any, region: str, endpoint_url: str | None, *, max_pool: int = 10) -> None:
        self._sdk = SdkClient(
            session, "timestream-query", region, endpoint_url, max_pool=max_pool, read_timeout=300
        )

    async def query(self, params: dict[str, Any]) -> dict[str, Any]:
        client = await self._sdk.get()
        try:
            response: dict[str, Any] = await client.query(**params)
        except Exception as exc:
            raise _sdk_error(exc) from exc
        return response

    async def cancel(self, query_id: str) -> None:
        client = await self._sdk.get()
        try:
            await client.cancel_query(QueryId=query_id)
        except Exception as exc:
            raise _sdk_error(exc) from exc

    async def aclose(self) -> None:
        await self._sdk.aclose()


def _sdk_error(exc: Exception) -> CallError:
    import botocore.exceptions

    if isinstance(exc, botocore.exceptions.ClientError):
        response: dict[str, Any] = exc.response or {}
        err = response.get("Error", {})
        meta = response.get("ResponseMetadata", {})
        return call_error(
            str(err.get("Code", "Unknown")),
            str(err.get("Message", "")),
            status=meta.get("HTTPStatusCode"),
            request_id=meta.get("RequestId"),
            query_id=response.get("QueryId"),
        )
    if isinstance(exc, botocore.exceptions.ParamValidationError):
        return call_error("ParamValidationError", str(exc))
    if isinstance(exc, botocore.exceptions.BotoCoreError | OSError):
        return call_error(CONNECTION_ERROR, f"{type(exc).__name__}: {exc}")
    try:
        import aiohttp

        if isinstance(exc, aiohttp.ClientError):
            return call_error(CONNECTION_ERROR, f"{type(exc).__name__}: {exc}")
    except ImportError:  # pragma: no cover - aiohttp comes with aiobotocore
        pass
    raise exc


class FastTransport:
    """Pre-encoded JSON + tsload's SigV4 + keep-alive HTTP/1.1 to one fixed endpoint."""

    def __init__(
        self, credentials: Any, region: str, endpoint_url: str, *, read_timeout: float = 300.0
    ) -> None:
        self._signer = SigV4Signer(credentials, region)
        self._http = HttpClient(endpoint_url, connect_timeout=20.0, read_timeout=read_timeout)

    async def _call(self, target: str, params: dict[str, Any]) -> dict[str, Any]:
        body = orjson.dumps(params)
        keys = await self._signer.keys()
        headers = self._signer.sign(keys, self._http.host_header, target, body)
        try:
            response = await self._http.post("/", headers, body)
        except HttpError as exc:
            raise call_error(CONNECTION_ERROR, str(exc)) from exc
        request_id = response.headers.get("x-amzn-requestid")
        try:
            data = orjson.loads(response.body) if response.body else {}
        except orjson.JSONDecodeError:
            data = {}
        if response.status >= 300 or not isinstance(data, dict):
            if not isinstance(data, dict):
                data = {}
            raw = (
                response.headers.get("x-amzn-errortype")
                or str(data.get("__type", ""))
                or f"HTTP{response.status}"
            )
            message = str(data.get("message", data.get("Message", "")))
            raise call_error(
                error_code(raw),
                message,
                status=response.status,
                request_id=request_id,
                query_id=data.get("QueryId"),
            )
        data.setdefault("ResponseMetadata", {"RequestId": request_id, "HTTPStatusCode": response.status})
        return data

    async def query(self, params: dict[str, Any]) -> dict[str, Any]:
        return await self._call(QUERY_TARGET, params)

    async def cancel(self, query_id: str) -> None:
        await self._call(CANCEL_TARGET, {"QueryId": query_id})

    async def aclose(self) -> None:
        await self._http.aclose()
