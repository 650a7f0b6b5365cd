"""WriteRecords: parse, look up what a table already holds, apply, log, and answer.

The hot path (`write_records_now`) runs without a task when no fault is configured and nothing
needs DuckDB; `write_records` is the same steps with fault injection and awaits in between.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Awaitable
from typing import Any

from tsload.engine.api import RequestContext
from tsload.engine.errors import ApiError, not_found
from tsload.engine.faults import INJECTED_REJECT_REASON, FaultInjector
from tsload.engine.records import ParsedWrite, parse_write_request
from tsload.engine.store import Store
from tsload.engine.tables import Rejection, TableState


class Writes:
    def __init__(self, store: Store, faults: FaultInjector, stats: Counter[str], *, discard: bool) -> None:
        self.store = store
        self.faults = faults
        self.stats = stats
        self.discard = discard

    async def write_records(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.stats["writes"] += 1
        await self.faults.inject("WriteRecords", self.stats)
        return await self._write(parse_write_request(body), ctx.body)

    def write_records_now(
        self, body: dict[str, Any], ctx: RequestContext
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        """WriteRecords without a task when no fault is configured and nothing needs DuckDB:
        the same steps as `write_records`, in the same order."""
        if self.faults.config.active:
            return self.write_records(body, ctx)
        self.stats["writes"] += 1
        parsed = parse_write_request(body)
        ts = self._write_table(parsed)
        if not self.discard and ts.needs_lookup_parsed(parsed, set()):
            return self._write(parsed, ctx.body)
        result = self._apply_write(ts, parsed, set(), None, ctx.body)
        if not self.discard and self.store.buffered >= self.store.config.max_buffer_rows:
            return self._after_backpressure(result)
        return result

    async def _after_backpressure(self, result: dict[str, Any]) -> dict[str, Any]:
        await self.store.backpressure()
        return result

    def _write_table(self, parsed: ParsedWrite) -> TableState:
        ts = self.store.tables.get((parsed.database, parsed.table))
        if ts is None:
            if parsed.database not in self.store.databases:
                raise not_found(f"The database {parsed.database} does not exist.")
            raise not_found(f"The table {parsed.table} does not exist in database {parsed.database}.")
        return ts

    async def _write(self, parsed: ParsedWrite, raw: bytes) -> dict[str, Any]:
        ts = self._write_table(parsed)
        injected = self.faults.rejected(parsed.n)
        store = not self.discard
        existing = None
        if store:
            idxs = ts.needs_lookup_parsed(parsed, injected)
            rows = parsed.rows if idxs else []
            if idxs:
                # Read the index's missing window back from DuckDB (one scan serves the
                # requests that follow); only keys it cannot hold are probed per request.
                await self.store.load_index(ts, [rows[i][3] for i in idxs])
                self._check_exists(ts)
                idxs = ts.needs_lookup(rows, injected)
            if idxs:
                self.stats["dedupe_db_lookups"] += 1
                existing = await self.store.lookup_existing(ts, rows, idxs)
                self._check_exists(ts)
        result = self._apply_write(ts, parsed, injected, existing, raw)
        if store:
            await self.store.backpressure()
        return result

    def _check_exists(self, ts: TableState) -> None:
        if self.store.tables.get((ts.database, ts.name)) is not ts:
            raise not_found(f"The table {ts.name} does not exist in database {ts.database}.")

    def _apply_write(
        self,
        ts: TableState,
        parsed: ParsedWrite,
        injected: set[int],
        existing: dict[int, tuple[int, int]] | None,
        raw: bytes,
    ) -> dict[str, Any]:
        """Apply, log what was accepted, count, answer. `raw`: the request's bytes as received."""
        store = not self.discard
        n_rows, n_segments = len(ts.rows), len(ts.segments)
        now_ns = time.time_ns()
        n_mem, n_mag, rejected = ts.apply_parsed(parsed, injected, now_ns, store=store, existing=existing)
        if store:
            if len(ts.rows) > n_rows:
                self.store.log_rows(ts, ts.rows[n_rows:], now_ns)
                self.store.queued(len(ts.rows) - n_rows)
            if len(ts.segments) > n_segments:
                new = ts.segments[n_segments:]
                if len(new) == 1 and len(ts.rows) == n_rows and len(new[0][1]) == parsed.n:
                    # The whole request became one segment: log its bytes instead of encoding
                    # the columns (a replay parses them again, to the same records).
                    self.store.log_request(ts, new[0], raw, now_ns)
                else:
                    for seg in new:
                        self.store.log_segment(ts, seg, now_ns)
                self.store.queued(sum(len(seg[1]) for seg in new))
        stats = self.stats
        stats["records_ingested"] += n_mem + n_mag
        stats["records_memory_store"] += n_mem
        stats["records_magnetic_store"] += n_mag
        if injected or rejected:
            stats["injected_rejected_records"] += len(injected)
            stats["records_rejected"] += len(injected) + len(rejected)
            all_rejected = rejected + [Rejection(i, INJECTED_REJECT_REASON) for i in injected]
            all_rejected.sort(key=lambda r: r.index)
            raise ApiError(
                "RejectedRecordsException",
                "One or more records have been rejected. See RejectedRecords for details.",
                RejectedRecords=[r.to_json() for r in all_rejected],
            )
        return {"RecordsIngested": {"Total": n_mem + n_mag, "MemoryStore": n_mem, "MagneticStore": n_mag}}
