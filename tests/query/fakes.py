"""In-memory stand-ins for the unit tests of session logic (the wire is tested elsewhere).

`FakeTransport` answers like Timestream (the dicts of a Query response, errors classified by the
Timestream target's policy) and offers them through the target interface (`query_page`)."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable
from typing import Any

from tsload.targets import CallError, Page
from tsload.targets.timestream.query import call_error, to_page

__all__ = ["CallError", "FakeClock", "FakeTransport", "call_error"]


class FakeTransport:
    """Answers every query with `pages` pages of `rows_per_page` rows; scripted errors first."""

    def __init__(
        self,
        *,
        pages: int = 1,
        rows_per_page: int = 2,
        errors: list[CallError] | None = None,
        hang_after_first_page: bool = False,
        on_query: Callable[[dict[str, Any]], None] | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.clock = clock
        self.pages = pages
        self.rows_per_page = rows_per_page
        self.errors = list(errors or [])
        self.hang = hang_after_first_page
        self.calls: list[dict[str, Any]] = []
        self.cancelled: list[str] = []
        self._ids = itertools.count(1)
        self._on_query = on_query

    async def query(self, params: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(dict(params))
        if self._on_query is not None:
            self._on_query(params)
        await asyncio.sleep(0)
        if self.clock is not None:
            self.clock.now += 0.001 * (1 + len(self.calls) % 7)  # a query takes a few fake milliseconds
        if self.errors:
            raise self.errors.pop(0)
        token = params.get("NextToken")
        if token is None:
            qid, page = f"Q{next(self._ids)}", 1
        else:
            qid, page_s = token.split(":")
            page = int(page_s) + 1
            if self.hang:
                await asyncio.Event().wait()
        rows = [{"Data": [{"ScalarValue": str(i)}]} for i in range(self.rows_per_page)]
        out: dict[str, Any] = {"QueryId": qid, "Rows": rows, "ColumnInfo": [{"Name": "x"}]}
        if page < self.pages or (self.hang and page == 1):
            out["NextToken"] = f"{qid}:{page}"
        return out

    async def query_page(self, sql: str, next_token: str | None = None, *, keep_rows: bool = False) -> Page:
        params = {"QueryString": sql} if next_token is None else {"QueryString": sql, "NextToken": next_token}
        return to_page(await self.query(params), keep_rows=keep_rows)

    async def cancel_query(self, query_id: str) -> None:
        self.cancelled.append(query_id)


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1_000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)
