"""Run one query to its last row: pagination, retries with backoff, a timeout, CancelQuery.

Latency is measured from sending the first request until the last page has arrived (retries
and their backoff included, as the user waits for them). A call the target calls retryable
(`CallError.retryable`: throttling, 5xx, a connection problem) is repeated after the back-off of
the one `RetryPolicy` (exponential, full jitter), up to ``max_retries`` times per call; each retry
is counted. A query that fails or times out after the server gave it a query id is cancelled,
when the target can (`CancelsQueries`).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

from tsload.targets import CallError, CancelsQueries, Page, RetryPolicy

log = logging.getLogger(__name__)

CANCEL_TIMEOUT_S = 5.0


class Queries(Protocol):
    """The part of `tsload.targets.Target` a session uses."""

    async def query_page(
        self, sql: str, next_token: str | None = None, *, keep_rows: bool = False
    ) -> Page: ...


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
    columns: tuple[str, ...] = ()  # only with keep_rows
    values: list[tuple[str | None, ...]] = field(default_factory=list)  # only with keep_rows


class QueryExecutor:
    def __init__(
        self,
        target: Queries,
        policy: RetryPolicy,
        *,
        timeout_s: float | None = None,
        rng: random.Random | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.target = target
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
        token: str | None = None
        while True:
            page = await self._call(sql, token, state, keep_rows)
            state.pages += 1
            state.query_id = page.query_id or state.query_id
            state.request_id = page.request_id or state.request_id
            state.rows += page.rows
            if keep_rows:
                if page.columns:
                    state.columns = page.columns
                state.values.extend(page.values)
            token = page.next_token
            if not token:
                return

    async def _call(self, sql: str, token: str | None, state: Outcome, keep_rows: bool) -> Page:
        retries = 0
        while True:
            try:
                return await self.target.query_page(sql, token, keep_rows=keep_rows)
            except CallError as exc:
                if not exc.retryable or retries >= self.policy.max_retries:
                    raise
                if exc.throttled:
                    state.throttled += 1
                state.request_id = exc.request_id or state.request_id
                await self._sleep(self.policy.backoff_s(retries + 1, self._rng))
                retries += 1
                state.retries += 1

    async def _cancel(self, state: Outcome) -> None:
        assert state.query_id is not None
        if not isinstance(self.target, CancelsQueries):
            return
        try:
            async with asyncio.timeout(CANCEL_TIMEOUT_S):
                await self.target.cancel_query(state.query_id)
            state.cancelled = True
        except (CallError, TimeoutError) as exc:
            log.debug("CancelQuery %s failed: %s", state.query_id, exc)
