"""The HTTP side: AWS JSON 1.0 for timestream-write and timestream-query on one port.

Requests look exactly like botocore's: `POST /`, `X-Amz-Target: Timestream_20181101.<Operation>`,
`Content-Type: application/x-amz-json-1.0`, SigV4 `Authorization` (any credentials are accepted,
but an unsigned request is refused as AWS refuses it). Errors carry `__type` and
`x-amzn-ErrorType` so botocore raises its modeled exception classes.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gc
import importlib
import itertools
import logging
import re
import secrets
import socket
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from tsload._errors import ConfigError
from tsload.engine import limits
from tsload.engine.config import EngineConfig
from tsload.engine.errors import ApiError, conflict, not_found, validation
from tsload.engine.faults import INJECTED_REJECT_REASON, FaultInjector
from tsload.engine.httpd import Handlers, HttpServer, Request, Response, Result
from tsload.engine.paging import DEFAULT_MAX_ROWS, QueryState, ResultCache, new_query_id
from tsload.engine.records import ParsedWrite, parse_write_request
from tsload.engine.store import DB_FILE, RESERVED_DATABASES, Store, StoreConfig
from tsload.engine.tables import Rejection, TableState
from tsload.stats import hdr
from tsload.stats.summary import summarize

log = logging.getLogger(__name__)

JSON_CT = "application/x-amz-json-1.0"
MAX_BODY_BYTES = 8 * 1024 * 1024
TARGET_PREFIX = "Timestream_20181101."
ACCOUNT = "000000000000"
_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+")
_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/")

Handler = Callable[[dict[str, Any], "RequestContext"], Awaitable[dict[str, Any]]]
# A synchronous handler answers at once (a dict), or hands the rest of its work to an awaitable.
SyncHandler = Callable[[dict[str, Any], "RequestContext"], "dict[str, Any] | Awaitable[dict[str, Any]]"]
_OK_HEADERS = (("Content-Type", JSON_CT),)


class RequestContext:
    __slots__ = ("host", "region")

    def __init__(self, host: str, region: str) -> None:
        self.host = host
        self.region = region


class Engine:
    """`async with Engine(config) as engine: engine.url` — the local Timestream-compatible engine."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = Store(
            StoreConfig(
                path=config.data_dir / DB_FILE,
                flush_rows=config.flush_rows,
                flush_interval=config.flush_interval,
                dedupe_capacity=config.dedupe_capacity,
                wal=not config.discard,
            )
        )
        self.faults = FaultInjector(config.faults)
        self.results = ResultCache()
        self.stats: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        # server time of a Query's first page (request handled → answer ready), so benchmarks can
        # tell the client's overhead (wall time − server time) from the engine's
        self.query_server_time = hdr.new_histogram()
        self.url = ""
        self.port = 0
        self._host_port = ""
        self._http: HttpServer | None = None
        self._started = time.monotonic()
        self._running: dict[str, Any] = {}  # QueryId -> DuckDB cursor of a query still executing
        self._cancelled: set[str] = set()
        self._executing: set[str] = set()  # QueryIds whose execution task has not finished
        # Request ids: a random prefix and a counter (uuid4 per request cost ~0.1 ms of urandom here).
        self._rid_prefix = secrets.token_hex(8).upper()
        self._rid_counter = itertools.count(1)
        self._ops: dict[str, Handler] = {
            "DescribeEndpoints": self.describe_endpoints,
            "CreateDatabase": self.create_database,
            "DescribeDatabase": self.describe_database,
            "ListDatabases": self.list_databases,
            "UpdateDatabase": self.update_database,
            "DeleteDatabase": self.delete_database,
            "CreateTable": self.create_table,
            "DescribeTable": self.describe_table,
            "ListTables": self.list_tables,
            "UpdateTable": self.update_table,
            "DeleteTable": self.delete_table,
            "WriteRecords": self.write_records,
            "Query": self.query,
            "CancelQuery": self.cancel_query,
        }
        # Operations answered without a task when they need no I/O (the hot path).
        self._sync_ops: dict[str, SyncHandler] = {
            "WriteRecords": self.write_records_now,
            "DescribeEndpoints": self.describe_endpoints_now,
        }

    # ---- lifecycle --------------------------------------------------------------------------------
    async def __aenter__(self) -> Engine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        # Bind first: a busy port must fail before anything is created on disk.
        sock = _bind(self.config.host, self.config.port)
        try:
            data = self.config.data_dir
            if not data.exists():
                data.mkdir(mode=0o700, parents=True)
                data.chmod(0o700)
            try:
                await self.store.open()
            except Exception as exc:  # duckdb.IOException: locked by another process, unreadable file
                raise ConfigError(f"--data {data}: cannot open the engine database: {exc}") from exc
            with contextlib.suppress(OSError):
                (data / DB_FILE).chmod(0o600)
            self._http = HttpServer(
                Handlers(self.handle, self._bad_http, self._too_large, self._disconnected, self._internal),
                max_body=MAX_BODY_BYTES,
            )
            await self._http.start(sock)
        except BaseException:
            sock.close()
            await self.stop()
            raise
        self.port = int(sock.getsockname()[1])
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        self.url = f"http://{host}:{self.port}"
        self._host_port = f"{host}:{self.port}"
        self._started = time.monotonic()

    async def stop(self) -> None:
        http, self._http = self._http, None
        self._interrupt_queries()
        if http is not None:
            await http.close()
        self._interrupt_queries()
        await self.store.close()

    def _interrupt_queries(self) -> None:
        for cur in list(self._running.values()):
            with contextlib.suppress(Exception):
                cur.interrupt()

    def _request_id(self) -> str:
        return f"{self._rid_prefix}{next(self._rid_counter):016X}"

    # ---- HTTP -------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Result:
        path = request.path.split("?", 1)[0]
        if path == "/":
            if request.method != "POST":
                return self._error(ApiError("UnknownOperationException", "Only POST / is served", status=405))
            return self.handle_api(request)
        if path == "/tsload/stats":
            if request.method not in ("GET", "HEAD"):
                return self._error(
                    ApiError("UnknownOperationException", "Only GET /tsload/stats", status=405)
                )
            return Response(200, (("Content-Type", "application/json"),), orjson.dumps(self.snapshot()))
        return self._error(ApiError("UnknownOperationException", f"No route for {path[:80]!r}", status=404))

    def snapshot(self) -> dict[str, Any]:
        keys = (
            "requests",
            "writes",
            "records_ingested",
            "records_memory_store",
            "records_magnetic_store",
            "records_rejected",
            "injected_throttles",
            "injected_errors",
            "injected_rejected_records",
            "injected_latency_requests",
            "injected_invalid_endpoints",
            "queries",
            "query_pages",
            "cancelled_queries",
            "dedupe_db_lookups",
            "client_disconnects",
        )
        out: dict[str, Any] = {k: self.stats[k] for k in keys}
        out["errors"] = dict(self.errors)
        out["buffered_rows"] = self.store.buffered
        out["rows_flushed"] = self.store.rows_flushed
        out["flushes"] = self.store.flushes
        out["replayed_rows"] = self.store.replayed_rows
        out["open_results"] = len(self.results)
        out["running_queries"] = len(self._running)
        out["discard"] = self.config.discard
        out["uptime_s"] = round(time.monotonic() - self._started, 3)
        s = summarize(self.query_server_time)
        out["query_server_ms"] = None if s is None else {
            "count": s.count, "mean": s.mean * 1e3, "p50": s.p50 * 1e3, "p90": s.p90 * 1e3, "p99": s.p99 * 1e3
        }
        return out

    def handle_api(self, request: Request) -> Result:
        """One AWS JSON 1.0 call: answered at once when its operation can be, else as a task."""
        self.stats["requests"] += 1
        received = time.perf_counter()  # the request has just been read off its socket
        headers = request.headers
        try:
            region = _check_auth(headers.get("authorization"), headers.get("x-amz-date"))
            target = headers.get("x-amz-target", "")
            if not target.startswith(TARGET_PREFIX):
                raise ApiError("UnknownOperationException", f"Unknown target {target!r}")
            name = target[len(TARGET_PREFIX) :]
            op = self._ops.get(name)
            if op is None:
                raise ApiError(
                    "UnknownOperationException",
                    f"Operation {name!r} is not supported by the local engine",
                )
            raw = request.body
            try:
                body = orjson.loads(raw) if raw else {}
            except orjson.JSONDecodeError:
                raise ApiError("SerializationException", "The request body is not valid JSON") from None
            if not isinstance(body, dict):
                raise ApiError("SerializationException", "The request body must be a JSON object")
            ctx = RequestContext(headers.get("host") or self._host_port, region)
            now = self._sync_ops.get(name)
            if now is None:
                first_page = name == "Query" and body.get("NextToken") is None
                return self._finish(op(body, ctx), received if first_page else None)
            result = now(body, ctx)
            if isinstance(result, dict):
                return self._ok(result)
            return self._finish(result)
        except ApiError as exc:
            return self._error(exc)
        except Exception:
            log.exception("internal error")
            return self._internal()

    async def _finish(self, work: Awaitable[dict[str, Any]], received: float | None = None) -> Response:
        try:
            response = self._ok(await work)
            if received is not None:
                # a Query's first page, from its bytes being read to its answer being encoded
                hdr.record_seconds(self.query_server_time, time.perf_counter() - received)
            return response
        except ApiError as exc:
            return self._error(exc)
        except Exception:
            log.exception("internal error")
            return self._internal()

    def _ok(self, result: dict[str, Any]) -> Response:
        return Response(200, (*_OK_HEADERS, ("x-amzn-RequestId", self._request_id())), orjson.dumps(result))

    def _error(self, exc: ApiError) -> Response:
        self.errors[exc.code] += 1
        return Response(
            exc.status,
            (
                ("Content-Type", JSON_CT),
                ("x-amzn-RequestId", self._request_id()),
                ("x-amzn-ErrorType", exc.code),
            ),
            orjson.dumps(exc.body()),
        )

    def _internal(self) -> Response:
        return self._error(
            ApiError("InternalServerException", "Internal error in the local engine (see its log)")
        )

    def _bad_http(self, message: str) -> Response:
        return self._error(ApiError("SerializationException", f"Malformed HTTP request: {message}"))

    def _too_large(self, limit: int) -> Response:
        return self._error(
            ApiError("ValidationException", f"The request body exceeds {limit} bytes", status=413)
        )

    def _disconnected(self) -> None:
        # The client hung up mid-body: nothing to answer, not an engine error.
        self.stats["client_disconnects"] += 1

    async def _inject(self, kind: str) -> None:
        """Latency, throttling, invalid endpoint, server error: one fixed draw order per request."""
        f = self.faults
        if not f.config.active:
            return
        delay = f.latency_s()
        if delay > 0:
            self.stats["injected_latency_requests"] += 1
            await asyncio.sleep(delay)
        if f.throttle():
            self.stats["injected_throttles"] += 1
            raise ApiError("ThrottlingException", f"Rate exceeded ({kind}; injected by --throttle-rate)")
        if f.invalid_endpoint():
            self.stats["injected_invalid_endpoints"] += 1
            raise ApiError(
                "InvalidEndpointException",
                f"The endpoint is not valid for this request ({kind}; injected by --invalid-endpoint-rate)",
            )
        if f.error():
            self.stats["injected_errors"] += 1
            raise ApiError(
                "InternalServerException", f"Internal server error ({kind}; injected by --error-rate)"
            )

    # ---- endpoints and databases --------------------------------------------------------------------
    async def describe_endpoints(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return self.describe_endpoints_now(body, ctx)

    def describe_endpoints_now(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"Endpoints": [{"Address": ctx.host, "CachePeriodInMinutes": 1440}]}

    def _db_arn(self, ctx: RequestContext, db: str) -> str:
        return f"arn:aws:timestream:{ctx.region}:{ACCOUNT}:database/{db}"

    def _describe_db(self, ctx: RequestContext, name: str) -> dict[str, Any]:
        meta = self.store.databases[name]
        return {
            "Arn": self._db_arn(ctx, name),
            "DatabaseName": name,
            "TableCount": sum(1 for db, _ in self.store.tables if db == name),
            "KmsKeyId": meta.kms_key_id or f"arn:aws:kms:{ctx.region}:{ACCOUNT}:key/tsload-local",
            "CreationTime": meta.created,
            "LastUpdatedTime": meta.updated,
        }

    def _db(self, body: dict[str, Any]) -> str:
        name = body.get("DatabaseName")
        if not isinstance(name, str) or not name:
            raise validation("DatabaseName is required")
        if name not in self.store.databases:
            raise not_found(f"The database {name} does not exist.")
        return name

    async def create_database(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = _new_name(body.get("DatabaseName"), "DatabaseName")
        if name.lower() in RESERVED_DATABASES:
            raise validation(f"DatabaseName {name!r} is reserved by the local engine")
        for existing in self.store.databases:
            if existing.lower() == name.lower():
                raise conflict(
                    f"The database {existing} already exists."
                    + ("" if existing == name else " (the local engine compares names case-insensitively)")
                )
        kms = body.get("KmsKeyId") or ""
        if not isinstance(kms, str):
            raise validation("KmsKeyId must be a string")
        await self.store.create_database(name, kms)
        return {"Database": self._describe_db(ctx, name)}

    async def describe_database(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        return {"Database": self._describe_db(ctx, self._db(body))}

    async def update_database(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = self._db(body)
        kms = body.get("KmsKeyId")
        if not isinstance(kms, str) or not kms:
            raise validation("KmsKeyId is required")
        await self.store.update_database(self.store.databases[name], kms)
        return {"Database": self._describe_db(ctx, name)}

    async def list_databases(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        names = sorted(self.store.databases)
        page, token = _paginate(names, body)
        out: dict[str, Any] = {"Databases": [self._describe_db(ctx, n) for n in page]}
        if token:
            out["NextToken"] = token
        return out

    async def delete_database(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        name = self._db(body)
        if any(db == name for db, _ in self.store.tables):
            raise validation(f"The database {name} is not empty: delete its tables first.")
        await self.store.delete_database(name)
        return {}

    # ---- tables -----------------------------------------------------------------------------------
    def _table(self, body: dict[str, Any]) -> TableState:
        db = self._db(body)
        name = body.get("TableName")
        if not isinstance(name, str) or not name:
            raise validation("TableName is required")
        ts = self.store.tables.get((db, name))
        if ts is None:
            raise not_found(f"The table {name} does not exist in database {db}.")
        return ts

    def _table_arn(self, ctx: RequestContext, ts: TableState) -> str:
        return f"{self._db_arn(ctx, ts.database)}/table/{ts.name}"

    async def create_table(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        db = _new_name(body.get("DatabaseName"), "DatabaseName")
        name = _new_name(body.get("TableName"), "TableName")
        if db not in self.store.databases:
            raise not_found(f"The database {db} does not exist.")
        for d, t in self.store.tables:
            if d == db and t.lower() == name.lower():
                raise conflict(f"The table {t} already exists in database {db}.")
        mem, mag = _retention(
            body.get("RetentionProperties"),
            (limits.DEFAULT_MEMORY_RETENTION_HOURS, limits.DEFAULT_MAGNETIC_RETENTION_DAYS),
        )
        writes, location = _magnetic(body.get("MagneticStoreWriteProperties"), (False, None))
        now = time.time()
        ts = TableState(
            database=db,
            name=name,
            memory_hours=mem,
            magnetic_days=mag,
            magnetic_writes=writes,
            magnetic_rejected_location=location,
            schema=_schema(body.get("Schema")),
            created=now,
            updated=now,
            dedupe_capacity=self.config.dedupe_capacity,
        )
        await self.store.create_table(ts)
        return {"Table": ts.describe(self._table_arn(ctx, ts))}

    async def describe_table(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        ts = self._table(body)
        return {"Table": ts.describe(self._table_arn(ctx, ts))}

    async def list_tables(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        db = body.get("DatabaseName")
        if db is not None:
            db = self._db(body)
        states = sorted(
            (ts for (d, _), ts in self.store.tables.items() if db is None or d == db),
            key=lambda s: (s.database, s.name),
        )
        page, token = _paginate(states, body)
        out: dict[str, Any] = {"Tables": [ts.describe(self._table_arn(ctx, ts)) for ts in page]}
        if token:
            out["NextToken"] = token
        return out

    async def update_table(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        ts = self._table(body)
        mem, mag = _retention(body.get("RetentionProperties"), (ts.memory_hours, ts.magnetic_days))
        writes, location = _magnetic(
            body.get("MagneticStoreWriteProperties"), (ts.magnetic_writes, ts.magnetic_rejected_location)
        )
        schema = _schema(body.get("Schema")) if "Schema" in body else ts.schema
        ts.memory_hours, ts.magnetic_days, ts.magnetic_writes = mem, mag, writes
        ts.magnetic_rejected_location, ts.schema = location, schema
        ts.updated = time.time()
        await self.store.save_table(ts)
        return {"Table": ts.describe(self._table_arn(ctx, ts))}

    async def delete_table(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        await self.store.delete_table(self._table(body))
        return {}

    # ---- writes -----------------------------------------------------------------------------------
    async def write_records(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        self.stats["writes"] += 1
        await self._inject("WriteRecords")
        return await self._write(parse_write_request(body))

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
        if not self.config.discard and ts.needs_lookup(parsed.rows, set()):
            return self._write(parsed)
        result = self._apply_write(ts, parsed, set(), None)
        if not self.config.discard and self.store.buffered >= self.store.config.max_buffer_rows:
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

    async def _write(self, parsed: ParsedWrite) -> dict[str, Any]:
        ts = self._write_table(parsed)
        injected = self.faults.rejected(parsed.n)
        store = not self.config.discard
        existing = None
        if store:
            idxs = ts.needs_lookup(parsed.rows, injected)
            if idxs:
                self.stats["dedupe_db_lookups"] += 1
                existing = await self.store.lookup_existing(ts, parsed.rows, idxs)
                if self.store.tables.get((ts.database, ts.name)) is not ts:
                    raise not_found(f"The table {ts.name} does not exist in database {ts.database}.")
        result = self._apply_write(ts, parsed, injected, existing)
        if store:
            await self.store.backpressure()
        return result

    def _apply_write(
        self,
        ts: TableState,
        parsed: ParsedWrite,
        injected: set[int],
        existing: dict[int, tuple[int, int]] | None,
    ) -> dict[str, Any]:
        store = not self.config.discard
        before = len(ts.rows)
        now_ns = time.time_ns()
        n_mem, n_mag, rejected = ts.apply_parsed(parsed, injected, now_ns, store=store, existing=existing)
        if store and len(ts.rows) > before:
            self.store.log_rows(ts, ts.rows[before:], now_ns)
            self.store.queued(len(ts.rows) - before)
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

    # ---- queries ----------------------------------------------------------------------------------
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
            await self._inject("Query")
            query_id = new_query_id()
            task = asyncio.create_task(self._execute(query_id, sql), name=f"query-{query_id}")
            task.add_done_callback(self._query_done)
            self._executing.add(query_id)
            state = QueryState(query_id, sql, [], [], 0, 0, task=task)
        self.stats["query_pages"] += 1
        if state.task is not None:
            # Like Timestream, a query still running after a while answers an empty page with a
            # NextToken (and its QueryId, so that it can be cancelled); the client polls.
            await asyncio.wait([state.task], timeout=self.config.query_wait)
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
            self._running[query_id] = cur
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
            self._running.pop(query_id, None)

    async def cancel_query(self, body: dict[str, Any], ctx: RequestContext) -> dict[str, Any]:
        query_id = body.get("QueryId")
        if not isinstance(query_id, str) or not query_id:
            raise validation("QueryId is required")
        if query_id in self._executing:
            self._cancelled.add(query_id)
            cur = self._running.get(query_id)
            if cur is not None:
                cur.interrupt()
            self.results.cancel(query_id)
        elif not self.results.cancel(query_id):
            return {"CancellationMessage": f"Query {query_id} has already finished; nothing to cancel."}
        self.stats["cancelled_queries"] += 1
        return {"CancellationMessage": f"Query {query_id} has been cancelled."}


class _Cancelled(Exception):
    """Raised in the worker thread when CancelQuery arrived before the query started."""


# ---- helpers ----------------------------------------------------------------------------------------
def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError(f"--host: cannot resolve {host}: {exc}") from exc
    try:
        # SO_REUSEADDR lets a restarted engine take its port over the TIME_WAIT connections of a
        # killed one; on Linux a port another socket *listens* on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ConfigError(f"--port: cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    sock.setblocking(False)
    return sock


def _check_auth(auth: str | None, amz_date: str | None) -> str:
    """The region of a SigV4 Authorization header; refuses requests without one, as AWS does."""
    if not auth:
        raise ApiError("MissingAuthenticationTokenException", "Missing Authentication Token", status=403)
    if (
        not auth.startswith("AWS4-HMAC-SHA256 ")
        or "SignedHeaders=" not in auth
        or "Signature=" not in auth
        or not amz_date
    ):
        raise ApiError(
            "IncompleteSignatureException",
            "Authorization header requires 'Credential', 'Signature', 'SignedHeaders' "
            "and an X-Amz-Date header.",
            status=403,
        )
    m = _CREDENTIAL_RE.search(auth)
    if m is None:
        raise ApiError(
            "IncompleteSignatureException", "Authorization header has a malformed Credential.", status=403
        )
    return m.group(1)


def _new_name(name: Any, what: str) -> str:
    if not isinstance(name, str) or not name:
        raise validation(f"{what} is required")
    n = len(name.encode())
    if not limits.MIN_RESOURCE_NAME_BYTES <= n <= limits.MAX_RESOURCE_NAME_BYTES or not _NAME_RE.fullmatch(
        name
    ):
        raise validation(
            f"{what} {name[:64]!r} must be 3 to 256 characters of letters, digits, '_', '.' and '-'"
        )
    return name


def _retention(props: Any, default: tuple[int, int]) -> tuple[int, int]:
    if props is None:
        return default
    if not isinstance(props, dict):
        raise validation("RetentionProperties must be an object")
    mem = props.get("MemoryStoreRetentionPeriodInHours")
    mag = props.get("MagneticStoreRetentionPeriodInDays")
    if (
        type(mem) is not int
        or not limits.MIN_MEMORY_RETENTION_HOURS <= mem <= limits.MAX_MEMORY_RETENTION_HOURS
    ):
        raise validation(
            f"MemoryStoreRetentionPeriodInHours must be in [{limits.MIN_MEMORY_RETENTION_HOURS}, "
            f"{limits.MAX_MEMORY_RETENTION_HOURS}], got {mem!r}"
        )
    if (
        type(mag) is not int
        or not limits.MIN_MAGNETIC_RETENTION_DAYS <= mag <= limits.MAX_MAGNETIC_RETENTION_DAYS
    ):
        raise validation(
            f"MagneticStoreRetentionPeriodInDays must be in [{limits.MIN_MAGNETIC_RETENTION_DAYS}, "
            f"{limits.MAX_MAGNETIC_RETENTION_DAYS}], got {mag!r}"
        )
    return mem, mag


def _magnetic(props: Any, default: tuple[bool, dict[str, Any] | None]) -> tuple[bool, dict[str, Any] | None]:
    if props is None:
        return default
    if not isinstance(props, dict) or type(props.get("EnableMagneticStoreWrites")) is not bool:
        raise validation("MagneticStoreWriteProperties.EnableMagneticStoreWrites (boolean) is required")
    location = props.get("MagneticStoreRejectedDataLocation")
    if location is not None and not isinstance(location, dict):
        raise validation("MagneticStoreRejectedDataLocation must be an object")
    return props["EnableMagneticStoreWrites"], location


def _schema(schema: Any) -> dict[str, Any] | None:
    if schema is None:
        return None
    if not isinstance(schema, dict):
        raise validation("Schema must be an object")
    return schema


def _paginate(items: list[Any], body: dict[str, Any]) -> tuple[list[Any], str | None]:
    token = body.get("NextToken")
    limit = body.get("MaxResults")
    start = 0
    if token is not None:
        if not isinstance(token, str) or not token.isdigit():
            raise validation("The NextToken is invalid.")
        start = int(token)
    if limit is None:
        return items[start:], None
    if type(limit) is not int or not 1 <= limit <= 20:
        raise validation(f"MaxResults must be in [1, 20], got {limit!r}")
    end = start + limit
    return items[start:end], (str(end) if end < len(items) else None)


def _sql_engine() -> Any:
    """Helper S's SQL module (`tsload.engine.query`, CONTRACTS.md section 3), loaded on first use."""
    try:
        return importlib.import_module("tsload.engine.query")
    except ImportError as exc:
        raise validation(f"Query is not available in this build of the local engine: {exc}") from None


def _tune_gc() -> None:
    """For the `tsload serve` process only (the library never touches the collector).

    Every WriteRecords body decodes into hundreds to thousands of dicts and lists, all freed by
    reference counting (JSON has no cycles). With the default threshold (700) the cyclic
    collector ran several times per request and traversed each request's live objects: about a
    third of orjson's decode time on a 100-record body here. A higher first threshold keeps the
    collector for what it is for, and freezing the start-up objects keeps them out of its scans.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 100)


async def serve(config: EngineConfig, on_ready: Callable[[str], None]) -> None:
    """Run the engine until SIGINT/SIGTERM, then flush, checkpoint and close."""
    import signal

    _tune_gc()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        async with Engine(config) as engine:
            on_ready(engine.url)
            await stop.wait()
            log.info("stopping: flushing %d buffered rows", engine.store.buffered)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
