"""The HTTP side: AWS JSON 1.0 for timestream-write and timestream-query on one port.

Requests look exactly like botocore's: `POST /`, `X-Amz-Target: Timestream_20181101.<Operation>`,
`Content-Type: application/x-amz-json-1.0`, SigV4 `Authorization` (any credentials are accepted,
but an unsigned request is refused as AWS refuses it). Errors carry `__type` and
`x-amzn-ErrorType` so botocore raises its modeled exception classes.

This module is the engine's lifecycle (bind, open the store, serve, stop) and dispatch (auth,
operation name → handler, AWS-shaped answers). The operations themselves live by job in
`catalogue`, `writes` and `queries`.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
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
from tsload.engine.api import Handler, RequestContext, SyncHandler
from tsload.engine.catalogue import Catalogue
from tsload.engine.config import EngineConfig
from tsload.engine.errors import ApiError
from tsload.engine.faults import FaultInjector
from tsload.engine.httpd import Handlers, HttpServer, Request, Response, Result
from tsload.engine.paging import ResultCache
from tsload.engine.queries import Queries
from tsload.engine.store import DB_FILE, Store, StoreConfig
from tsload.engine.writes import Writes
from tsload.stats import hdr
from tsload.stats.summary import summarize

log = logging.getLogger(__name__)

JSON_CT = "application/x-amz-json-1.0"
MAX_BODY_BYTES = 8 * 1024 * 1024
TARGET_PREFIX = "Timestream_20181101."
_CREDENTIAL_RE = re.compile(r"Credential=[^/,\s]+/\d{8}/([^/,\s]+)/")

_OK_HEADERS = (("Content-Type", JSON_CT),)


class Engine:
    """`async with Engine(config) as engine: engine.url` — the local Timestream-compatible engine."""

    def __init__(self, config: EngineConfig) -> None:
        self.config = config
        self.store = Store(
            StoreConfig(
                path=config.data_dir / DB_FILE,
                flush_rows=config.flush_rows,
                flush_interval=config.flush_interval,
                flush_idle=config.flush_idle,
                dedupe_capacity=config.dedupe_capacity,
                memory_limit=config.duckdb_memory_limit,
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
        # Request ids: a random prefix and a counter (uuid4 per request cost ~0.1 ms of urandom here).
        self._rid_prefix = secrets.token_hex(8).upper()
        self._rid_counter = itertools.count(1)
        self.catalogue = Catalogue(self.store)
        self.writes = Writes(self.store, self.faults, self.stats, discard=config.discard)
        self.queries = Queries(
            self.store, self.faults, self.stats, self.results, query_wait=config.query_wait
        )
        cat = self.catalogue
        self._ops: dict[str, Handler] = {
            "DescribeEndpoints": cat.describe_endpoints,
            "CreateDatabase": cat.create_database,
            "DescribeDatabase": cat.describe_database,
            "ListDatabases": cat.list_databases,
            "UpdateDatabase": cat.update_database,
            "DeleteDatabase": cat.delete_database,
            "CreateTable": cat.create_table,
            "DescribeTable": cat.describe_table,
            "ListTables": cat.list_tables,
            "UpdateTable": cat.update_table,
            "DeleteTable": cat.delete_table,
            "WriteRecords": self.writes.write_records,
            "Query": self.queries.query,
            "CancelQuery": self.queries.cancel_query,
        }
        # Operations answered without a task when they need no I/O (the hot path).
        self._sync_ops: dict[str, SyncHandler] = {
            "WriteRecords": self.writes.write_records_now,
            "DescribeEndpoints": cat.describe_endpoints_now,
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
                allowed = f"a directory whose engine database can be opened ({exc})"
                raise ConfigError("data_dir", allowed, got=data) from exc
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
        self.queries.interrupt_all()
        if http is not None:
            await http.close()
        self.queries.interrupt_all()
        await self.store.close()

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
        out["dedupe_index_loads"] = self.store.index_loads
        out["dedupe_keys_loaded"] = self.store.keys_loaded
        out["dedupe_index_keys"] = sum(ts.index.size for ts in self.store.tables.values())
        out["open_results"] = len(self.results)
        out["running_queries"] = len(self.queries.running)
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
            ctx = RequestContext(headers.get("host") or self._host_port, region, raw)
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



# ---- helpers ----------------------------------------------------------------------------------------
def _bind(host: str, port: int) -> socket.socket:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        family, _, _, _, addr = infos[0]
        sock = socket.socket(family, socket.SOCK_STREAM)
    except OSError as exc:
        raise ConfigError("host", f"a name or address that resolves ({exc})", got=host) from exc
    try:
        # SO_REUSEADDR lets a restarted engine take its port over the TIME_WAIT connections of a
        # killed one; on Linux a port another socket *listens* on is still refused.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
        sock.listen(1024)
    except OSError as exc:
        sock.close()
        raise ConfigError("port", f"a port {host} can listen on ({exc.strerror or exc})", got=port) from exc
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


def _tune_allocators() -> None:
    """For the `tsload serve` process only, like `_tune_gc`: keep freed memory for reuse.

    Every flush allocates and frees Arrow, numpy and DuckDB buffers of tens of MB. glibc's and
    Arrow's allocators give such blocks back to the kernel at once, and the next flush faults
    them in again; on a virtual machine a page touched for the first time can cost 14 µs (the
    development machine: 100 MB took 355 ms to touch the first time, 19 ms the second). Blocks
    up to 32 MB now come from the heap, which keeps up to 256 MB free before it is trimmed, and
    Arrow allocates through it too: the flush thread's page faults per 1.2 M records went from
    35-52k to 22-33k (scripts/bench-engine, docs/engine.md)."""
    import ctypes
    import ctypes.util

    libc_name = ctypes.util.find_library("c")
    if libc_name is not None:
        with contextlib.suppress(OSError, AttributeError):  # not glibc: its defaults stay
            libc = ctypes.CDLL(libc_name)
            libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD
            libc.mallopt(-1, 256 * 1024 * 1024)  # M_TRIM_THRESHOLD
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


async def serve(config: EngineConfig, on_ready: Callable[[str], None]) -> None:
    """Run the engine until SIGINT/SIGTERM, then flush, checkpoint and close."""
    import signal

    _tune_gc()
    _tune_allocators()
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
