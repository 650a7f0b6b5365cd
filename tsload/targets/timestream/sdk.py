"""The SDK path's one aioboto3 client per service (``--sdk-writes``, ``--sdk-queries``, AWS queries).

botocore's own retries are off (one attempt in total): tsload's `RetryPolicy` retries and counts.
(The write path used to pass ``max_attempts=1``, which botocore reads as one *retry*: a throttled
WriteRecords was silently sent twice and counted once.)
"""

from __future__ import annotations

import contextlib
from typing import Any


class SdkClient:
    """``await client.get()`` opens the aioboto3 client on first use; ``aclose()`` closes it."""

    def __init__(
        self,
        session: Any,
        service: str,
        region: str,
        endpoint_url: str | None,
        *,
        max_pool: int,
        read_timeout: int,
    ) -> None:
        self._session = session
        self._args = (service, region, endpoint_url)
        self._max_pool = max_pool
        self._read_timeout = read_timeout
        self._stack = contextlib.AsyncExitStack()
        self._client: Any = None

    async def get(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            service, region, endpoint_url = self._args
            config = Config(
                retries={"total_max_attempts": 1},
                max_pool_connections=self._max_pool,
                connect_timeout=20,
                read_timeout=self._read_timeout,
            )
            self._client = await self._stack.enter_async_context(
                self._session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)
            )
        return self._client

    async def aclose(self) -> None:
        self._client = None
        await self._stack.aclose()
