"""The target interface: what ingest, query and run may know about a database.

Ingest, query and run talk to a database only through the names defined here and the registry in
`tsload.targets` (``open_target``, ``reopen``); they never import a target's package. The shape
is tsbs's ``pkg/targets``: a handful of small calls, optional abilities as separate Protocols.

Where a new target goes
-----------------------
One folder, ``tsload/targets/<name>/``, with a class implementing `Target`, and one line in the
``_FACTORIES`` table of ``tsload/targets/__init__.py`` (the only module that imports target
packages, and only lazily). The Timestream target (``targets/timestream/``) is the worked
example: ``target.py`` is the class, ``writer.py``/``query.py`` the wire, ``admin.py`` the schema.

The life of a target in one run
-------------------------------
1. The parent process opens it from the user's `TargetConfig`::

       async with open_target(cfg.target, ClientOptions(concurrency=32)) as target:
           for line in await target.ensure_schema(schema): say(line)

   Opening resolves where the database is (the Timestream target starts a local engine here when
   it is given neither a region nor an endpoint) and checks nothing else: clients connect lazily.
2. Work in this process calls `Target.write` / `Target.query_page` on it.
3. For ``-p N`` the parent asks for ``await target.handoff()``: a picklable `Handoff` (names,
   URLs, credentials frozen by the parent; never sockets or SDK sessions). Each child process
   calls ``async with reopen(handoff, options) as target:`` and works the same way.
4. ``shared_config()`` is a `TargetConfig` that reaches the same database again (``tsload run``
   opens the target once and gives this to its ingest and query sides, so a local engine is
   started once).
5. Closing the parent's target closes its connections and stops what opening started.

Writes: one encoded request in, one `WriteOutcome` out, never an exception
---------------------------------------------------------------------------
``write(body, records)`` sends one request once and classifies the answer: `WriteKind.OK`,
`REJECTED` (some records refused, by reason; never resent), `RETRY` (throttled, 5xx, connection
error, endpoint moved) or `FATAL` (the service refuses the request as such). Service and transport
errors are outcomes, not exceptions: the caller (``ingest/sender.py``) owns the retry loop, the
counting and the back-off from `RetryPolicy`. Only programming errors raise, and `TargetError`
when no client can be made at all (no credentials): clients are created on the first call.

Encoding: the target owns the bytes
-----------------------------------
Decision: the target supplies the request encoder. ``target.encoder(fleet, options)`` returns a
`RequestEncoder` for that fleet and those settings (``tsload.model.encode.EncodeOptions``:
database, table, single/multi-measure, request ids, data seed, batch size); ingest calls it in each
process and hands the `EncodedRequest` bodies it makes back to ``target.write`` unchanged. The
Timestream target returns ``tsload.model.encode.RequestEncoder`` (WriteRecords JSON with
CommonAttributes); an InfluxDB target returns a line-protocol encoder over the same fleet and
values (``tsload.model.fleet`` and ``tsload.model.values`` are database-neutral). The three calls
of `RequestEncoder` are the three ways ingest groups records (one emission of many hosts, many
timestamps of one host, a mix packed to ``batch_size``); a target whose format has no such
distinction may implement all three with one function. ``records``/``measures`` on each request are
what ingest counts.

Why the target and not the model: the bytes are the target's protocol, and the encoder is where
the protocol's limits live (Timestream's 100 records per request, dimension sizes); keeping the
choice with the target keeps ingest free of any format.

Queries: one call, one page
---------------------------
``query_page(sql, next_token)`` runs one call and returns a `Page` (row count, query id, request
id, next token; the rows themselves only with ``keep_rows``). The caller (``query/executor.py``)
follows ``next_token`` to the last page, measures the latency, applies the timeout and retries. A
failed call raises `CallError` with ``retryable``/``throttled`` decided by the target: the
retryable-error policy is the target's (``retryable_codes``), the back-off is `RetryPolicy`'s.

Optional abilities (check with ``isinstance``; these Protocols are ``runtime_checkable``):
- `CancelsQueries`: ``cancel_query(query_id)`` stops a query that failed or timed out after the
  server gave it an id (Timestream's CancelQuery).
A target whose queries are not Timestream SQL gives its class a ``query_language(cfg)`` class
method returning its `QueryLanguage` (``tsload.targets.query_language`` asks for it before any
target is opened: the query side renders its workload with it). A target that refuses some of
`TargetConfig`'s settings (another target's: InfluxDB has no --region) says so in a
``check_config(cfg)`` static method (``tsload.targets.check_config`` asks, before any open).

Errors: opening or a schema call that cannot succeed raises `TargetError` (or `ConfigError` for a
bad setting) with one line naming what failed; never an SDK's exception type.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

from tsload._errors import QueryError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from tsload.model.encode import EncodeOptions
    from tsload.model.fleet import Fleet

    IntArray = npt.NDArray[np.int64]


# -- what the user chooses --------------------------------------------------------------------


@dataclass(frozen=True)
class TargetConfig:
    """Which database, as the user gave it (the CLI's -r/-e/--profile/--local-data).

    ``kind`` names the target in the registry (``tsload.targets.TARGETS``). For Timestream:
    ``endpoint`` alone is that endpoint (signed for ``region`` or us-east-1); ``region`` alone is
    Amazon Timestream there, with endpoint discovery; neither starts a local engine in a child
    process with its data under ``local_data`` (``local_engine_args`` are extra `tsload serve`
    flags).

    The fields are shared by all targets: a target that needs another setting adds it here with a
    default that changes nothing for the others, and rejects (`ConfigError`) what it cannot use.
    """

    region: str | None = None
    endpoint: str | None = None
    profile: str | None = None
    local_data: Path = Path("./tsload-data")
    local_engine_args: tuple[str, ...] = ()
    kind: str = "timestream"
    # For targets whose requests name the database outside the body (InfluxDB: in the URL); the
    # command configs (IngestConfig, QueryConfig) fill it from their -d when left None.
    database: str | None = None
    # InfluxDB (--target influxdb): API version, organisation (v2), a file holding the token, and
    # gzip request bodies. Credentials themselves never live here: they come from the
    # environment or --token-file when the target is opened.
    influx_api: str = "v1"
    influx_org: str | None = None
    token_file: Path | None = None
    gzip: bool = False

    def defaulting_database(self, database: str) -> TargetConfig:
        """This config, with ``database`` filled from the command's own when it was left None (a
        target that names the database in its URLs, InfluxDB, learns it from -d)."""
        return self if self.database is not None else replace(self, database=database)

    def as_dict(self) -> dict[str, str | None]:
        """Which database, JSON-able, for the run files (session.json, run.json): what a comparison
        of two runs keys on. No credentials (nor the profile: a run file may add it)."""
        return {
            "target": self.kind,
            "influx_api": self.influx_api if self.kind == "influxdb" else None,
            "region": self.region,
            "endpoint": self.endpoint,
        }


@dataclass(frozen=True)
class ClientOptions:
    """How one process talks to the target.

    ``concurrency``: requests this process keeps in flight (sizes connection pools).
    ``client``: ``"auto"`` (the target's choice: tsload's fast path where it can), ``"sdk"`` (the
    vendor's SDK, for comparison: ``--sdk-writes``, ``--sdk-queries``) or ``"fast"`` (the fast
    path, an error where the target cannot use it).
    """

    concurrency: int = 1
    client: str = "auto"


CLIENTS = ("auto", "sdk", "fast")


@dataclass(frozen=True)
class Schema:
    """Where the workload's records go. A target maps what it has (InfluxDB: a database and a
    measurement, retention in hours) and says in ``ensure_schema``'s lines what it ignored."""

    database: str
    table: str
    memory_store_retention_hours: int = 12
    magnetic_store_retention_days: int = 1
    enable_magnetic_writes: bool = False


@dataclass(frozen=True)
class Handoff:
    """A resolved target, picklable for a child process (`tsload.targets.reopen`).

    ``kind`` is the registry name; ``state`` is the target's own frozen, picklable description
    (endpoints, region, credentials already resolved by the parent).
    """

    kind: str
    state: Any


# -- retries ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to wait before repeating a call the target called retryable.

    ``max_retries`` repeats after the first try (ingest: ``IngestConfig.max_attempts`` minus one; queries:
    ``retries`` of the workload's config.ini). The wait before retry ``n`` (1-based) is
    exponential back-off with full jitter: uniform(0, min(cap_s, base_s * 2**(n-1))).
    """

    max_retries: int = 0
    base_s: float = 0.05
    cap_s: float = 5.0

    def backoff_s(self, retry: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2.0 ** max(retry - 1, 0))))


# -- writes -----------------------------------------------------------------------------------


class WriteKind(enum.Enum):
    OK = "ok"
    REJECTED = "rejected"
    RETRY = "retry"
    FATAL = "fatal"


@dataclass(frozen=True, slots=True)
class WriteOutcome:
    """What one write attempt came to (see the module docstring for the four kinds)."""

    kind: WriteKind
    ingested: int = 0
    rejected_reasons: tuple[str, ...] = ()  # one normalised reason per rejected record
    throttled: bool = False
    rediscover: bool = False  # RETRY because the endpoint moved (the target already re-resolved it)
    code: str = ""
    message: str = ""  # FATAL: a complete one-line explanation, shown to the user as it is
    request_id: str | None = None


class EncodedRequest(Protocol):
    """One request body ready for `Target.write`, and what ingest counts for it."""

    @property
    def body(self) -> bytes: ...
    @property
    def records(self) -> int: ...
    @property
    def measures(self) -> int: ...
    @property
    def kind(self) -> str: ...  # "metrics" or "events"


class RequestEncoder(Protocol):
    """Encodes emissions of the fleet (ids of hosts or event sets, epoch-ms times) into requests."""

    def per_emission(self, kind: str, ids: IntArray, times_ms: IntArray) -> Sequence[EncodedRequest]: ...
    def per_series(self, kind: str, ids: IntArray, times_ms: IntArray) -> Sequence[EncodedRequest]: ...
    def batched(self, kind: str, ids: IntArray, times_ms: IntArray) -> Sequence[EncodedRequest]: ...


# -- queries ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Page:
    """One answer of a query call. ``columns``/``values`` are filled only with ``keep_rows``
    (cells as text, None for NULL): the load path counts rows and never converts them."""

    rows: int
    query_id: str | None = None
    request_id: str | None = None
    next_token: str | None = None
    columns: tuple[str, ...] = ()
    values: tuple[tuple[str | None, ...], ...] = ()


class CallError(QueryError):
    """One failed query call: code, message, HTTP status and ids when known.

    ``retryable`` and ``throttled`` are decided by the target that raises it (its
    ``retryable_codes``), so the caller's retry loop needs no knowledge of the database.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        query_id: str | None = None,
        retryable: bool = False,
        throttled: bool = False,
    ) -> None:
        super().__init__(f"{code}: {message}", code=code, request_id=request_id)
        self.code: str = code
        self.message = message
        self.status = status
        self.query_id = query_id
        self.retryable = retryable
        self.throttled = throttled


# -- the target ---------------------------------------------------------------------------------


class Target(Protocol):
    """A database reached from one process; ``async with`` opens and closes it."""

    #: the registry name ("timestream")
    kind: str
    #: short, file-name safe: the run prefix of query logs ("local", "us-east-1", "127.0.0.1")
    description: str
    #: the target is a local engine this process started (and will stop)
    is_local: bool
    #: error codes a retry can cure; the target applies them to its outcomes and CallErrors
    retryable_codes: frozenset[str]

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...

    async def ensure_schema(self, schema: Schema) -> list[str]:
        """Create what is missing, keep what exists; one human line per decision."""
        ...

    async def drop_schema(self, schema: Schema) -> list[str]:
        """Delete the table, then the database; what is already gone is a line, not an error."""
        ...

    def encoder(self, fleet: Fleet, options: EncodeOptions) -> RequestEncoder:
        """The request encoder for this target's write protocol (see "Encoding" above)."""
        ...

    async def write(self, body: bytes, records: int) -> WriteOutcome:
        """Send one encoded request once; classify the answer. Never raises for the service's or
        the network's errors."""
        ...

    async def query_page(self, sql: str, next_token: str | None = None, *, keep_rows: bool = False) -> Page:
        """One query call (the first page, or the page after ``next_token``); `CallError` on failure."""
        ...

    async def handoff(self) -> Handoff:
        """A picklable description another process can `reopen` (credentials resolved here)."""
        ...

    def shared_config(self) -> TargetConfig:
        """A `TargetConfig` that reaches this same database without starting anything again."""
        ...


class QueryLanguage(Protocol):
    """A target's query dialect, for targets that do not speak Timestream SQL (`query_language`).

    The query side renders the workload's templates from ``folder`` with it; its objects are
    picklable (sent to query processes)."""

    @property
    def folder(self) -> str: ...  # the workload's query folder: queries/<folder>/*.sql

    def end_expression(self, query_end_time: str | None) -> str: ...
    def render(
        self, template: str, *, database: str, table: str, end: str, params: Mapping[str, str]
    ) -> str: ...
    def row_count(self, sql: str) -> str: ...
    def datapoints(self, database: str, table: str, end: str) -> str: ...
    def event_rows(self, database: str, table: str, end: str) -> str: ...
    def metric_row(self, database: str, table: str, end: str, instance_name: str) -> str: ...


@runtime_checkable
class CancelsQueries(Protocol):
    async def cancel_query(self, query_id: str) -> None:
        """Stop a running query; `CallError` if the target refuses."""
        ...
