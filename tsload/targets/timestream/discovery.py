"""Timestream endpoint discovery for the fast write path, as the SDK does it.

Against AWS without `-e`, WriteRecords must go to the cell-specific address DescribeEndpoints
returns. The address is cached for CachePeriodInMinutes and dropped on InvalidEndpointException or
HTTP 421, after which the next request rediscovers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

from tsload._errors import TargetError

log = logging.getLogger(__name__)


class EndpointDiscovery:
    def __init__(
        self,
        session: Any,
        region: str,
        *,
        discovery_endpoint_url: str | None = None,
        scheme: str = "https",
        client_config: Any = None,
    ) -> None:
        self._session = session
        self._region = region
        self._discovery_url = discovery_endpoint_url
        self._scheme = scheme
        self._client_config = client_config
        self._url: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.discoveries = 0

    def invalidate(self, url: str | None = None) -> None:
        """Forget the cached address (only if it is still `url`, when given)."""
        if url is None or url == self._url:
            self._url = None

    async def url(self) -> str:
        if self._url is not None and time.monotonic() < self._expires:
            return self._url
        async with self._lock:
            if self._url is not None and time.monotonic() < self._expires:
                return self._url
            return await self._discover()

    async def _discover(self) -> str:
        import botocore.exceptions

        kwargs: dict[str, Any] = {"region_name": self._region}
        if self._discovery_url is not None:
            kwargs["endpoint_url"] = self._discovery_url
        if self._client_config is not None:
            kwargs["config"] = self._client_config
        try:
            async with self._session.client("timestream-write", **kwargs) as client:
                response = await client.describe_endpoints()
        except botocore.exceptions.ClientError as exc:
            err = exc.response.get("Error", {})
            raise TargetError(
                f"Timestream endpoint discovery failed in {self._region}: "
                f"{err.get('Code')}: {err.get('Message')}",
                code=str(err.get("Code")),
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise TargetError(f"Timestream endpoint discovery failed in {self._region}: {exc}") from exc
        endpoints = response.get("Endpoints") or []
        if not endpoints:
            raise TargetError(f"Timestream endpoint discovery in {self._region} returned no endpoint")
        address = str(endpoints[0]["Address"])
        minutes = float(endpoints[0].get("CachePeriodInMinutes", 1) or 1)
        self._url = address if "://" in address else f"{self._scheme}://{address}"
        self._expires = time.monotonic() + minutes * 60.0
        self.discoveries += 1
        log.info("Timestream write endpoint %s (cached %g min)", self._url, minutes)
        return self._url
