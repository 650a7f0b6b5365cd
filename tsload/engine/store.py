"""The DuckDB store (storage schema: docs/engine.md, "Storage (DuckDB)").

One connection, owned here; every DuckDB call runs in a worker thread (`asyncio.to_thread`) on
its own cursor. An asyncio lock serialises the writers (flushes, DDL, duplicate lookups);
queries take it only for the flush that precedes them and then run concurrently on their own
cursors, each on a consistent snapshot. Writes are acknowledged from memory: accepted rows wait in
their table's buffer and are appended as one Arrow batch per table when the buffer reaches
`flush_rows`, when writes pause, every `flush_interval` seconds, before every query, and at
shutdown. The write-ahead log (`wal.py`) makes the acknowledged-but-unflushed rows survive a
killed process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from tsload.engine import limits
from tsload.engine.batch import build_arrow
from tsload.engine.config import FLUSH_ROWS
from tsload.engine.dedupe import BUCKET_NS, NO_HORIZON, Entry
from tsload.engine.keys import load_series_ranges, probe, scan_window
from tsload.engine.records import Row
from tsload.engine.tables import SQL_TYPE, Segment, TableState, Upsert, qi
from tsload.engine.wal import WriteAheadLog, entry_rows, request_entry, rows_entry, segment_entry

log = logging.getLogger(__name__)
T = TypeVar("T")
# What one flush writes for a table: rows, segments, upserts, new columns.
Work = tuple[TableState, list[Row], list[Segment], list[Upsert], list[tuple[str, str, str]]]

META = "_tsload"
DB_FILE = "tsload.duckdb"
# DuckDB schemas a Timestream database may not be mapped onto.
# The widest window `load_index` reads at once (one hour of buckets).
MAX_LOAD_BUCKETS = 360
RESERVED_DATABASES = frozenset({META, "main", "information_schema", "pg_catalog", "temp", "system"})


@dataclass
class DatabaseMeta:
    name: str
    kms_key_id: str
    created: float
    updated: float


@dataclass(frozen=True)
class StoreConfig:
    path: Path
    flush_rows: int = FLUSH_ROWS
    flush_interval: float = 0.5
    flush_idle: float = 0.05  # buffered rows are flushed at once when no write came for this long
    max_buffer_rows: int = 1_000_000
    dedupe_capacity: int = 2_000_000
    wal: bool = True  # write-ahead log of acknowledged rows (off with --discard)
    # DuckDB's buffer pool (its default is 80 % of the machine's RAM: with days of data stored the
    # engine's RSS then grows to whatever the table scans touched). Larger work spills to disk.
    memory_limit: str = "768MB"


class Store:
    def __init__(self, config: StoreConfig) -> None:
        self.config = config
        self.lock = asyncio.Lock()
        self.databases: dict[str, DatabaseMeta] = {}
        self.tables: dict[tuple[str, str], TableState] = {}
        self.buffered = 0
        self._last_queued = 0.0
        self.rows_flushed = 0
        self.flushes = 0
        self.running_queries = 0
        self._con: Any = None
        self._flusher: asyncio.Task[None] | None = None
        self._flush_now = asyncio.Event()
        self._closing = False
        self.wal = WriteAheadLog(config.path.parent) if config.wal else None
        self._committed: tuple[int, int] = (0, 0)
        self.replayed_rows = 0
        self.index_loads = 0
        self.keys_loaded = 0

    # ---- lifecycle --------------------------------------------------------------------------------
    async def open(self) -> None:
        import duckdb

        self._con = await asyncio.to_thread(
            duckdb.connect, str(self.config.path), config={"memory_limit": self.config.memory_limit}
        )
        await self._run(self._load)
        if self.wal is not None:
            await self._replay(self.wal)
        self._flusher = asyncio.create_task(self._flush_loop(), name="tsload-engine-flush")

    async def close(self) -> None:
        if self._flusher is not None:
            # Let a flush in progress finish (its thread cannot be cancelled), then stop the loop.
            self._closing = True
            self._flush_now.set()
            await self._flusher
            self._flusher = None
        if self._con is None:
            return
        # Queries run outside the lock: let them end (the engine interrupts them first).
        for _ in range(300):
            if not self.running_queries:
                break
            await asyncio.sleep(0.1)
        async with self.lock:
            await self._flush_locked()
            await self._run(lambda cur: cur.execute("CHECKPOINT"))
        con, self._con = self._con, None
        await asyncio.to_thread(con.close)
        if self.wal is not None:
            self.wal.close()

    async def _run(self, fn: Callable[[Any], T]) -> T:
        # Cursors are made here, on the event loop thread, one per call; only their use is threaded.
        cur = self._con.cursor()

        def work() -> T:
            try:
                return fn(cur)
            finally:
                cur.close()

        fut = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            return await asyncio.shield(fut)
        except asyncio.CancelledError:
            # The thread cannot be stopped: keep holding the caller's lock until it is done.
            await asyncio.wait([fut])
            raise

    def _load(self, cur: Any) -> None:
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {META}")
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {META}.databases (name VARCHAR PRIMARY KEY, kms_key_id VARCHAR,"
            " created DOUBLE, updated DOUBLE)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {META}.tables (db VARCHAR, name VARCHAR, memory_hours BIGINT,"
            " magnetic_days BIGINT, magnetic_writes BOOLEAN, rejected_location VARCHAR, schema VARCHAR,"
            " created DOUBLE, updated DOUBLE, PRIMARY KEY (db, name))"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {META}.wal_state (id INTEGER PRIMARY KEY, file_no BIGINT,"
            " pos BIGINT)"
        )
        found = cur.execute(f"SELECT file_no, pos FROM {META}.wal_state WHERE id = 1").fetchone()
        if found is not None:
            self._committed = (int(found[0]), int(found[1]))
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {META}.columns (db VARCHAR, tbl VARCHAR, name VARCHAR,"
            " role VARCHAR, type VARCHAR)"
        )
        for name, kms, created, updated in cur.execute(f"SELECT * FROM {META}.databases").fetchall():
            self.databases[name] = DatabaseMeta(name, kms, created, updated)
        for db, name, mem, mag, mw, loc, schema, created, updated in cur.execute(
            f"SELECT * FROM {META}.tables"
        ).fetchall():
            qt = f"{qi(db)}.{qi(name)}"
            newest = cur.execute(f"SELECT max(epoch_ns(time)) FROM {qt}").fetchone()[0]
            ts = self.new_table_state(
                db,
                name,
                (mem, mag),
                (mw, json.loads(loc) if loc else None),
                json.loads(schema) if schema else None,
                created,
                updated,
                horizon_ns=NO_HORIZON if newest is None else newest + 1,
            )
            for cname, role, typ in cur.execute(
                f"SELECT name, role, type FROM {META}.columns WHERE db = ? AND tbl = ?", [db, name]
            ).fetchall():
                ts.register_column(cname, role, typ, pending=False)
            load_series_ranges(cur, ts)
            ts.measure_names.update(
                r[0] for r in cur.execute(f"SELECT DISTINCT measure_name FROM {qt}").fetchall()
            )
            self.tables[(db, name)] = ts

    async def _replay(self, wal: WriteAheadLog) -> None:
        """Re-apply logged rows that never reached DuckDB (the engine was killed)."""
        entries = wal.read_after(*self._committed)
        wal.open(self._committed[0])
        for entry in entries:
            db, table, now_ns, rows = entry_rows(entry)
            ts = self.tables.get((db, table))
            if ts is None:
                continue  # deleted since
            idxs = ts.needs_lookup(rows, set())
            existing = await self.lookup_existing(ts, rows, idxs) if idxs else None
            before = len(ts.rows)
            ts.apply(rows, set(), now_ns, store=True, existing=existing)
            self.queued(len(ts.rows) - before)
            self.replayed_rows += len(ts.rows) - before
        if entries:
            log.warning("replayed %d acknowledged rows from the write-ahead log", self.replayed_rows)
        await self.flush()

    def log_segment(self, ts: TableState, seg: Segment, now_ns: int) -> None:
        """`log_rows` for a `Segment` (its columns, as they are)."""
        if self.wal is not None:
            self.wal.append(segment_entry(ts.database, ts.name, now_ns, seg))

    def log_request(self, ts: TableState, seg: Segment, raw: bytes, now_ns: int) -> None:
        """`log_segment` for a segment that is a whole request: the request's bytes as received,
        when they fit on one log line (else its columns)."""
        if self.wal is not None:
            entry = request_entry(ts.database, ts.name, now_ns, raw)
            self.wal.append(entry if entry is not None else segment_entry(ts.database, ts.name, now_ns, seg))

    def log_rows(self, ts: TableState, rows: list[Row], now_ns: int) -> None:
        """Append just-accepted rows to the write-ahead log (before they are acknowledged)."""
        if self.wal is not None and rows:
            self.wal.append(rows_entry(ts.database, ts.name, now_ns, rows))

    # ---- catalog ----------------------------------------------------------------------------------
    async def create_database(self, name: str, kms_key_id: str) -> DatabaseMeta:
        now = time.time()
        meta = DatabaseMeta(name, kms_key_id, now, now)

        def work(cur: Any) -> None:
            cur.execute(f"CREATE SCHEMA IF NOT EXISTS {qi(name)}")
            cur.execute(f"INSERT INTO {META}.databases VALUES (?, ?, ?, ?)", [name, kms_key_id, now, now])

        async with self.lock:
            await self._run(work)
        self.databases[name] = meta
        return meta

    async def update_database(self, meta: DatabaseMeta, kms_key_id: str) -> None:
        meta.kms_key_id = kms_key_id
        meta.updated = time.time()
        async with self.lock:
            await self._run(
                lambda cur: cur.execute(
                    f"UPDATE {META}.databases SET kms_key_id = ?, updated = ? WHERE name = ?",
                    [kms_key_id, meta.updated, meta.name],
                )
            )

    async def delete_database(self, name: str) -> None:
        def work(cur: Any) -> None:
            cur.execute(f"DROP SCHEMA IF EXISTS {qi(name)} CASCADE")
            cur.execute(f"DELETE FROM {META}.databases WHERE name = ?", [name])

        async with self.lock:
            await self._run(work)
        self.databases.pop(name, None)

    def new_table_state(
        self,
        database: str,
        name: str,
        retention: tuple[int, int],
        magnetic: tuple[bool, dict[str, Any] | None],
        schema: dict[str, Any] | None,
        created: float,
        updated: float,
        horizon_ns: int = NO_HORIZON,
    ) -> TableState:
        """The one place a `TableState` is made: for CreateTable, and for each row of the meta table
        at start. `retention` is (memory store hours, magnetic store days), `magnetic` is (magnetic
        writes enabled, rejected-data location), as CreateTable and UpdateTable validate them."""
        (memory_hours, magnetic_days), (magnetic_writes, location) = retention, magnetic
        return TableState(
            database=database,
            name=name,
            memory_hours=memory_hours,
            magnetic_days=magnetic_days,
            magnetic_writes=magnetic_writes,
            magnetic_rejected_location=location,
            schema=schema,
            created=created,
            updated=updated,
            dedupe_capacity=self.config.dedupe_capacity,
            horizon_ns=horizon_ns,
        )

    async def create_table(self, ts: TableState) -> None:
        def work(cur: Any) -> None:
            cur.execute(
                f"CREATE TABLE {qi(ts.database)}.{qi(ts.name)} (measure_name VARCHAR,"
                f" time TIMESTAMP_NS, {limits.VERSION_COLUMN} BIGINT)"
            )
            cur.execute(f"INSERT INTO {META}.tables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _table_row(ts))

        async with self.lock:
            await self._run(work)
        self.tables[(ts.database, ts.name)] = ts

    async def save_table(self, ts: TableState) -> None:
        def work(cur: Any) -> None:
            cur.execute(f"DELETE FROM {META}.tables WHERE db = ? AND name = ?", [ts.database, ts.name])
            cur.execute(f"INSERT INTO {META}.tables VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _table_row(ts))

        async with self.lock:
            await self._run(work)

    async def delete_table(self, ts: TableState) -> None:
        def work(cur: Any) -> None:
            cur.execute(f"DROP TABLE IF EXISTS {qi(ts.database)}.{qi(ts.name)}")
            cur.execute(f"DELETE FROM {META}.tables WHERE db = ? AND name = ?", [ts.database, ts.name])
            cur.execute(f"DELETE FROM {META}.columns WHERE db = ? AND tbl = ?", [ts.database, ts.name])

        async with self.lock:
            # Flush first, so that the write-ahead log never holds rows of a dropped table.
            await self._flush_locked()
            self.tables.pop((ts.database, ts.name), None)
            await self._run(work)

    # ---- writes -----------------------------------------------------------------------------------
    def queued(self, n: int) -> None:
        """Account for rows a TableState just buffered; wake the flusher when a batch is full."""
        self.buffered += n
        self._last_queued = time.monotonic()
        if self.buffered >= self.config.flush_rows:
            self._flush_now.set()

    async def backpressure(self) -> None:
        if self.buffered >= self.config.max_buffer_rows:
            await self.flush()

    async def flush(self) -> None:
        async with self.lock:
            await self._flush_locked()

    async def _flush_loop(self) -> None:
        """Flush when `flush_rows` are waiting, when writes pause for `flush_idle` seconds (the end
        of a burst, e.g. a backfill, need not wait for the timer), or every `flush_interval`."""
        next_trim = time.monotonic() + 60
        last_flush = time.monotonic()
        tick = min(self.config.flush_idle, self.config.flush_interval)
        while not self._closing:
            if time.monotonic() >= next_trim:
                next_trim = time.monotonic() + 60
                self._trim_indexes()
            # Wake when the pause that makes a flush due ends, not at the next tick: the end of
            # a burst was flushed up to a whole tick (50 ms) late.
            # (Rows queued before the last flush attempt keep the tick: a failing flush is not
            # retried in a tight loop.)
            wait = tick
            if self.buffered and self._last_queued > last_flush:
                wait = min(wait, max(self._last_queued + self.config.flush_idle - time.monotonic(), 0.001))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._flush_now.wait()
            full = self._flush_now.is_set()
            self._flush_now.clear()
            if self._closing:
                return
            now = time.monotonic()
            due = (
                full
                or now - last_flush >= self.config.flush_interval
                or now - self._last_queued >= self.config.flush_idle
            )
            if due and (self.buffered or any(ts.pending_columns for ts in self.tables.values())):
                try:
                    await self.flush()
                except Exception:
                    log.exception("flush failed")
                last_flush = time.monotonic()

    def _trim_indexes(self) -> None:
        """Forget duplicate keys older than the oldest time a table still accepts."""
        now = time.time_ns()
        for ts in self.tables.values():
            ts.index.drop_older_than(ts.window(now)[0])

    async def _flush_locked(self) -> None:
        work: list[Work] = []
        for ts in self.tables.values():
            if ts.rows or ts.segments or ts.pending_columns or ts.upserts:
                work.append((ts, ts.rows, ts.segments, ts.upserts, ts.pending_columns))
                ts.rows, ts.segments, ts.upserts, ts.pending_columns = [], [], [], []
        pos: tuple[int, int] | None = None
        if self.wal is not None:
            pos = self.wal.position()
            if pos == self._committed:
                pos = None
            self.wal.rotate_if_large()
        if not work and pos is None:
            return
        n = sum(len(w[1]) + sum(len(seg[1]) for seg in w[2]) for w in work)
        self.buffered -= n
        await self._run(lambda cur: self._flush_sync(cur, work, pos))
        self.rows_flushed += n
        self.flushes += 1
        if pos is not None and self.wal is not None:
            self._committed = pos
            self.wal.discard_before(pos[0])

    def _flush_sync(
        self,
        cur: Any,
        work: list[Work],
        wal_pos: tuple[int, int] | None,
    ) -> None:
        # One transaction: the rows and the write-ahead log position they cover commit together.
        cur.execute("BEGIN TRANSACTION")
        try:
            self._flush_tables(cur, work)
            if wal_pos is not None:
                cur.execute(f"INSERT OR REPLACE INTO {META}.wal_state VALUES (1, ?, ?)", list(wal_pos))
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise

    def _flush_tables(self, cur: Any, work: list[Work]) -> None:
        for ts, rows, segments, upserts, columns in work:
            if self.tables.get((ts.database, ts.name)) is not ts:
                continue  # dropped meanwhile
            qt = f"{qi(ts.database)}.{qi(ts.name)}"
            for name, role, typ in columns:
                cur.execute(f"ALTER TABLE {qt} ADD COLUMN IF NOT EXISTS {qi(name)} {SQL_TYPE[typ]}")
                cur.execute(
                    f"INSERT INTO {META}.columns VALUES (?, ?, ?, ?, ?)",
                    [ts.database, ts.name, name, role, typ],
                )
            if rows or segments:
                batch = build_arrow(rows, segments)
                cur.register("_tsload_batch", batch)
                try:
                    cur.execute(f"INSERT INTO {qt} BY NAME SELECT * FROM _tsload_batch")
                finally:
                    cur.unregister("_tsload_batch")
            for u in upserts:
                conds = ["measure_name = ?", "time = make_timestamp_ns(?)", f"{limits.VERSION_COLUMN} < ?"]
                params: list[Any] = [u.measure_name, u.time_ns, u.version]
                present = dict(u.dims)
                for cname, (role, _) in ts.columns.items():
                    if role == "dimension":
                        if cname in present:
                            conds.append(f"{qi(cname)} = ?")
                            params.append(present[cname])
                        else:
                            conds.append(f"{qi(cname)} IS NULL")
                cur.execute(f"DELETE FROM {qt} WHERE " + " AND ".join(conds), params)

    async def load_index(self, ts: TableState, times: list[int]) -> int:
        """Read the index's missing buckets around `times` back from DuckDB; returns rows read.

        A window starts at the first missing bucket and spans `ts.load_span` buckets, sized from
        the rows per bucket seen so far so that a window fills about an eighth of the index: a
        re-sent range then costs one scan per window instead of one DuckDB lookup per request.
        """
        index = ts.index
        total = 0
        async with self.lock:
            await self._flush_locked()
            for _ in range(4):
                missing = index.missing(times)
                if not missing or self.tables.get((ts.database, ts.name)) is not ts:
                    break
                lo = missing[0]
                hi = lo + ts.load_span
                loaded, n = await self._run(_scan(ts, lo, hi))
                index.install(loaded, range(lo, hi))
                total += n
                self.keys_loaded += n
                self.index_loads += 1
                per_bucket = max(n / (hi - lo), 1.0)
                ts.load_span = int(min(max(index.capacity / 8 / per_bucket, 1), MAX_LOAD_BUCKETS))
        return total

    async def lookup_existing(
        self, ts: TableState, rows: list[Row], idxs: list[int]
    ) -> dict[int, tuple[int, int]]:
        """(fingerprint, version) of stored rows matching rows[idxs] by key, for keys the index lacks."""
        async with self.lock:
            await self._flush_locked()
            return await self._run(lambda cur: probe(cur, ts, [rows[i] for i in idxs]))

    async def run_query(self, fn: Callable[[Any], T]) -> T:
        """Run `fn(cursor)` in a thread once every acknowledged write is in DuckDB.

        Only the flush holds the lock: the query itself runs on its own cursor beside later
        flushes and other queries (DuckDB's MVCC gives it a consistent snapshot), so a long
        query neither blocks ingestion nor other queries.
        """
        async with self.lock:
            await self._flush_locked()
        self.running_queries += 1
        try:
            return await self._run(fn)
        finally:
            self.running_queries -= 1


def _scan(ts: TableState, lo: int, hi: int) -> Callable[[Any], tuple[dict[int, dict[int, Entry]], int]]:
    return lambda cur: scan_window(cur, ts, lo * BUCKET_NS, hi * BUCKET_NS)


def _table_row(ts: TableState) -> list[Any]:
    return [
        ts.database,
        ts.name,
        ts.memory_hours,
        ts.magnetic_days,
        ts.magnetic_writes,
        json.dumps(ts.magnetic_rejected_location) if ts.magnetic_rejected_location else None,
        json.dumps(ts.schema) if ts.schema else None,
        ts.created,
        ts.updated,
    ]
