"""Sending one WriteRecords request: the fast path (pre-encoded body, own SigV4, lean HTTP/1.1)
and the SDK path (aioboto3 `write_records`, for comparison with `--sdk-writes`).

Both expose `attempt(body, records) -> WriteOutcome`: a single try, classified; the retry policy lives
with the caller. Neither ever raises for a service or transport error.
"""

from __future__ import annotations

from typing import Any, Protocol

import orjson

from tsload.targets.base import WriteKind, WriteOutcome
from tsload.targets.http import HttpClient, HttpError
from tsload.targets.timestream.discovery import EndpointDiscovery
from tsload.targets.timestream.outcome import CONNECTION_ERROR, classify_error, classify_http
from tsload.targets.timestream.sdk import SdkClient
from tsload.targets.timestream.sigv4 import SigV4Signer

WRITE_RECORDS_TARGET = "Timestream_20181101.WriteRecords"


class RecordWriter(Protocol):
    async def attempt(self, body: bytes, records: int) -> WriteOutcome: ...

    async def aclose(self) -> None: ...


class FastWriter:
    """Pre-encoded bodies, SigV4 from the session's credentials, keep-alive HTTP/1.1.

    `endpoint_url` fixed (`-e` or the local engine), or `discovery` for AWS.
    """

    def __init__(
        self,
        credentials: Any,
        region: str,
        *,
        endpoint_url: str | None = None,
        discovery: EndpointDiscovery | None = None,
        connect_timeout: float = 20.0,
        read_timeout: float = 335.0,
    ) -> None:
        if (endpoint_url is None) == (discovery is None):
            raise ValueError("exactly one of endpoint_url and discovery")
        self._signer = SigV4Signer(credentials, region)
        self._discovery = discovery
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._clients: dict[str, HttpClient] = {}
        self._fixed = endpoint_url

    def _client(self, url: str) -> HttpClient:
        client = self._clients.get(url)
        if client is None:
            client = HttpClient(url, connect_timeout=self._connect_timeout, read_timeout=self._read_timeout)
            self._clients[url] = client
        return client

    async def attempt(self, body: bytes, records: int) -> WriteOutcome:
        if self._fixed is not None:
            url = self._fixed
        else:
            assert self._discovery is not None
            url = await self._discovery.url()
        client = self._client(url)
        keys = await self._signer.keys()
        headers = self._signer.sign(keys, client.host_header, WRITE_RECORDS_TARGET, body)
        try:
            response = await client.post("/", headers, body)
        except HttpError as exc:
            return WriteOutcome(WriteKind.RETRY, code=CONNECTION_ERROR, message=str(exc))
        result = classify_http(response.status, response.headers, response.body, records)
        if result.rediscover and self._discovery is not None:
            self._discovery.invalidate(url)
            stale = self._clients.pop(url, None)
            if stale is not None:
                await stale.aclose()
        return result

    async def aclose(self) -> None:
        clients, self._clients = self._clients, {}
        for client in clients.values():
            await client.aclose()


class SdkWriter:
    """aioboto3 `write_records` (botocore validates, serialises and signs every request itself)."""

    def __init__(self, session: Any, region: str, endpoint_url: str | None, *, max_pool: int = 100) -> None:
        self._sdk = SdkClient(
            session, "timestream-write", region, endpoint_url, max_pool=max_pool, read_timeout=335
        )

    async def attempt(self, body: bytes, records: int) -> WriteOutcome:
        import botocore.exceptions

        client = await self._sdk.get()
        kwargs = orjson.loads(body)
        try:
            response = await client.write_records(**kwargs)
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400) or 400)
            code = str(err.get("Code", ""))
            parsed: dict[str, Any] = {"RejectedRecords": exc.response.get("RejectedRecords", [])}
            return classify_error(
                status,
                code,
                str(err.get("Message", "")),
                parsed,
                records,
                exc.response.get("ResponseMetadata", {}).get("RequestId"),
            )
        except (botocore.exceptions.BotoCoreError, OSError) as exc:
            return WriteOutcome(WriteKind.RETRY, code=CONNECTION_ERROR, message=str(exc))
        total = int(response.get("RecordsIngested", {}).get("Total", records))
        return WriteOutcome(WriteKind.OK, ingested=total)

    async def aclose(self) -> None:
        await self._sdk.aclose()
