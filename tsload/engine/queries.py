"""Query and CancelQuery: each query runs as a task on the store's query threads; its result is
paged with NextToken, and a query still running after `query_wait` answers an empty page that the
client polls, as Timestream does. The SQL translation itself is `tsload.engine.query`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import importlib
from collections import Counter
from typing import Any

from tsload.engine.api import RequestContext
from tsload.engine.errors import validation
from tsload.engine.faults import FaultInjector
from tsload.engine.paging import DEFAULT_MAX_ROWS, QueryState, ResultCache, new_query_id
from tsload.engine.store import Store


class Queries:
    def __init__(
        self,
        store: Store,
        faults: FaultInjector,
        stats: Counter[str],
        results: ResultCache,
        *,
        query_wait: float,
    ) -> None:
        self.store = store
        self.faults = faults
        self.stats = stats
        self.results = results
        self.query_wait = query_wait
        self.running: dict[str, Any] = {}  # QueryId -> DuckDB cursor of a query still executing
        self._cancelled: set[str] = set()
        self._executing: set[str] = set()  # QueryIds whose execution task has not finished

    def interrupt_all(self) -> None:
        for cur in list(self.running.values()):
            with contextlib.suppress(Exception):
                cur.interrupt()

    async def query(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        sql = body.get("QueryString")
        if not isinstance(sql, str) or not sql.strip():
            raise validation("QueryString is required")
        max_rows = body.get("MaxRows", DEFAULT_MAX_ROWS)
        if type(max_rows) is not int or not 1 <= max_rows <= 1000:
            raise validation(f"MaxRows must be an integer in [1, 1000], got {max_rows!r}")
        token = body.get("NextToken")
        if token is not None:
            state = self.results.take(token) if isinstance(token, str) else None
            if state is None:
                raise validation("The NextToken is invalid or has expired.")
            if state.query_string != sql:
                raise validation(
                    "The QueryString must be the same as in the request that returned the NextToken."
                )
        else:
            self.stats["queries"] += 1
            await self.faults.inject("Query", self.stats)
            query_id = new_query_id()
            task = asyncio.create_task(self._execute(query_id, sql), name=f"query-{query_id}")
            task.add_done_callback(self._query_done)
            self._executing.add(query_id)
            state = QueryState(query_id, sql, [], [], 0, 0, task=task)
        self.stats["query_pages"] += 1
        if state.task is not None:
            # Like Timestream, a query still running after a while answers an empty page with a
            # NextToken (and its QueryId, so that it can be cancelled); the client polls.
            await asyncio.wait([state.task], timeout=self.query_wait)
            if not state.task.done():
                return {
                    "QueryId": state.query_id,
                    "Rows": [],
                    "ColumnInfo": [],
                    "QueryStatus": state.status(),
                    "NextToken": self.results.put(state),
                }
            result = state.task.result()  # an ApiError propagates to the client
            state.task = None
            state.column_info = list(result.column_info)
            state.rows = list(result.rows)
            state.bytes_scanned = int(result.bytes_scanned)
            state.bytes_metered = int(result.bytes_metered)
        rows = state.next_page(max_rows)
        out: dict[str, Any] = {
            "QueryId": state.query_id,
            "Rows": rows,
            "ColumnInfo": state.column_info,
            "QueryStatus": state.status(),
        }
        if not state.done:
            out["NextToken"] = self.results.put(state)
        return out

    def _query_done(self, task: asyncio.Task[Any]) -> None:
        query_id = task.get_name().removeprefix("query-")
        self._executing.discard(query_id)
        self._cancelled.discard(query_id)
        if not task.cancelled():
            task.exception()  # retrieved: an abandoned query's error is not "never retrieved"

    async def _execute(self, query_id: str, sql: str) -> Any:
        engine = _sql_engine()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

        def run(cur: Any) -> Any:
            self.running[query_id] = cur
            if query_id in self._cancelled:
                raise _Cancelled
            return engine.execute_query(cur, sql, now=now)

        try:
            return await self.store.run_query(run)
        except (engine.QueryValidationError, engine.QueryExecutionError) as exc:
            if query_id in self._cancelled:
                raise validation(f"Query {query_id} was cancelled.") from None
            raise validation(str(exc)) from None
        except Exception as exc:
            if query_id in self._cancelled:
                raise validation(f"Query {query_id} was cancelled.") from None
            if type(exc).__module__.startswith("duckdb"):
                raise validation(f"Query failed: {exc}") from None
            raise
        finally:
            self.running.pop(query_id, None)

    async def cancel_query(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        query_id = body.get("QueryId")
        if not isinstance(query_id, str) or not query_id:
            raise validation("QueryId is required")
        if query_id in self._executing:
            self._cancelled.add(query_id)
            self._interrupt_until_done(query_id)
            self.results.cancel(query_id)
        elif not self.results.cancel(query_id):
            return {"CancellationMessage": f"Query {query_id} has already finished; nothing to cancel."}
        self.stats["cancelled_queries"] += 1
        return {"CancellationMessage": f"Query {query_id} has been cancelled."}


    def _interrupt_until_done(self, query_id: str) -> None:
        """Interrupt the query's cursor now and every 20 ms until the query ends. DuckDB drops an
        interrupt that lands between two statements (while the SQL is being translated, or the
        catalogue read), and the query would then run to its end: found when the tests moved from a
        stand-in SQL module to the real one."""
        cur = self.running.get(query_id)
        if cur is not None:
            cur.interrupt()
        if query_id in self._executing:
            asyncio.get_running_loop().call_later(0.02, self._interrupt_until_done, query_id)


class _Cancelled(Exception):
    """Raised in the worker thread when CancelQuery arrived before the query started."""


def _sql_engine() -> Any:
    """The SQL translation, imported on the first query: sqlglot costs ~0.3 s of start-up that a
    write-only engine never needs."""
    return importlib.import_module("tsload.engine.query")
