"""Run one query to its last row: pagination, retries with backoff, a timeout, CancelQuery.

Latency is measured from sending the first request until the last page has arrived (retries
and their backoff included, as the user waits for them). A retryable error (throttling, 5xx,
a connection problem) repeats the failing call after an exponential backoff with full jitter,
up to ``retries`` times per call; each retry is counted. A query that fails or times out after
the server gave it a QueryId is cancelled with CancelQuery.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tsload.query.transport import CallError, QueryTransport

log = logging.getLogger(__name__)

CANCEL_TIMEOUT_S = 5.0


@dataclass(frozen=True)
class RetryPolicy:
    retries: int = 0
    base_s: float = 0.05
    cap_s: float = 5.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2.0**attempt)))


@dataclass
class Outcome:
    """What happened to one execution."""

    ok: bool
    elapsed_s: float
    rows: int = 0
    pages: int = 0
    query_id: str | None = None
    request_id: str | None = None
    retries: int = 0
    throttled: int = 0
    timed_out: bool = False
    cancelled: bool = False  # CancelQuery was sent and accepted
    error: str | None = None
    error_code: str | None = None
    column_info: list[dict[str, Any]] = field(default_factory=list)
    result_rows: list[dict[str, Any]] = field(default_factory=list)  # only with keep_rows


class QueryExecutor:
    def __init__(
        self,
        transport: QueryTransport,
        policy: RetryPolicy,
        *,
        timeout_s: float | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.transport = transport
        self.policy = policy
        self.timeout_s = timeout_s
        self._rng = rng or random.Random()
        self._sleep = sleep
        self._clock = clock

    async def run(self, sql: str, *, keep_rows: bool = False) -> Outcome:
        state = Outcome(ok=False, elapsed_s=0.0)
        start = self._clock()
        try:
            async with asyncio.timeout(self.timeout_s):
                await self._pages(sql, state, keep_rows)
            state.ok = True
        except TimeoutError:
            state.timed_out = True
            state.error_code = "Timeout"
            state.error = f"no last page within --timeout {self.timeout_s:g} s"
        except CallError as exc:
            state.error_code = exc.code
            state.error = str(exc)
            state.request_id = exc.request_id or state.request_id
            state.query_id = state.query_id or exc.query_id
        except asyncio.CancelledError:
            # The session is stopping: stop the server's work too, then let the cancellation through.
            if state.query_id is not None:
                await asyncio.shield(self._cancel(state))
            raise
        state.elapsed_s = self._clock() - start
        if not state.ok and state.query_id is not None:
            await self._cancel(state)
        return state

    async def _pages(self, sql: str, state: Outcome, keep_rows: bool) -> None:
        params: dict[str, Any] = {"QueryString": sql}
        while True:
            page = await self._call(params, state)
            state.pages += 1
            state.query_id = page.get("QueryId", state.query_id)
            meta = page.get("ResponseMetadata") or {}
            state.request_id = meta.get("RequestId", state.request_id)
            rows = page.get("Rows") or ()
            state.rows += len(rows)
            if keep_rows:
                if page.get("ColumnInfo"):
                    state.column_info = list(page["ColumnInfo"])
                state.result_rows.extend(rows)
            token = page.get("NextToken")
            if not token:
                return
            params = {"QueryString": sql, "NextToken": token}

    async def _call(self, params: dict[str, Any], state: Outcome) -> dict[str, Any]:
        attempt = 0
        while True:
            try:
                return await self.transport.query(params)
            except CallError as exc:
                if not exc.retryable or attempt >= self.policy.retries:
                    raise
                if exc.throttled:
                    state.throttled += 1
                state.request_id = exc.request_id or state.request_id
                await self._sleep(self.policy.backoff_s(attempt, self._rng))
                attempt += 1
                state.retries += 1

    async def _cancel(self, state: Outcome) -> None:
        assert state.query_id is not None
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                await self.transport.cancel(state.query_id)
            state.cancelled = True
        except (CallError, TimeoutError) as exc:
            log.debug("CancelQuery %s failed: %s", state.query_id, exc)
