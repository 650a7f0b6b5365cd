"""`InfluxTarget`: InfluxDB 1.x/2.x/3.x and Amazon Timestream for InfluxDB behind the interface of
`tsload.targets.base` (`--target influxdb -e URL`).

Writes are line protocol (`lineproto.py`) over the lean keep-alive HTTP/1.1 client of the
Timestream fast path; queries are InfluxQL (v1, v2) or SQL (v3) over the same client; the wire
details and the classification of answers are in `wire.py`, the query dialects in `dialect.py`.

The database (v1/v3) or bucket (v2) is `-d`: it travels in each request's URL, so the target
takes it from `TargetConfig.database` (set from the command's -d). Timestream's table (-t) and
retention settings have no InfluxDB meaning: `ensure_schema` says so and ignores them.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlencode, urlparse

import orjson

from tsload._errors import ConfigError, TargetError
from tsload.targets.base import (
    CallError,
    ClientOptions,
    Handoff,
    Page,
    QueryLanguage,
    Schema,
    TargetConfig,
    WriteKind,
    WriteOutcome,
)
from tsload.targets.http import HttpClient, HttpError, HttpResponse
from tsload.targets.influxdb.wire import (
    APIS,
    FATAL_HINTS,
    RETRYABLE_CODES,
    THROTTLE_STATUSES,
    Wire,
    classify_write,
    error_message,
    headers,
    query_rows,
    resolve_auth,
    write_path,
)

if TYPE_CHECKING:
    from tsload.model.encode import EncodeOptions
    from tsload.model.fleet import Fleet
    from tsload.targets.base import RequestEncoder

KIND = "influxdb"
_LP = "text/plain; charset=utf-8"
_FORM = "application/x-www-form-urlencoded"
_JSON = "application/json"


def _description(url: str) -> str:
    host = urlparse(url).hostname or "influxdb"
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in host).strip("_") or "influxdb"


def resolve_wire(cfg: TargetConfig) -> Wire:
    """Check the user's settings and resolve the credentials (once, in the parent process)."""
    InfluxTarget.check_config(cfg)
    assert cfg.endpoint is not None  # check_config refuses none
    parsed = urlparse(cfg.endpoint)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError("target.endpoint", "an http(s)://host[:port] URL", got=cfg.endpoint)
    if cfg.influx_api not in APIS:
        raise ConfigError("target.influx_api", "v1, v2 or v3", got=cfg.influx_api)
    org = cfg.influx_org
    if cfg.influx_api == "v2" and not org:
        raise ConfigError(
            "target.influx_org", "the organisation of the bucket, with {target.influx_api} v2", got="none"
        )
    return Wire(
        url=cfg.endpoint.rstrip("/"),
        api=cfg.influx_api,
        database=cfg.database,
        org=org,
        auth_header=resolve_auth(cfg.influx_api, cfg.token_file),
        gzip=cfg.gzip,
        description=_description(cfg.endpoint),
    )


class InfluxTarget:
    """See the module docstring. ``async with InfluxTarget(cfg, options) as target: ...``"""

    kind = KIND
    is_local = False
    retryable_codes = RETRYABLE_CODES

    def __init__(self, cfg: TargetConfig, options: ClientOptions, *, wire: Wire | None = None) -> None:
        if options.client == "sdk":
            raise ConfigError(
                "target.kind", "timestream for the SDK client (the InfluxDB target has none)", got=cfg.kind
            )
        self.cfg = cfg
        self.options = options
        self._wire = wire
        self.description = wire.description if wire is not None else "influxdb"
        self._http: HttpClient | None = None
        self._database = wire.database if wire is not None else cfg.database

    @staticmethod
    def check_config(cfg: TargetConfig) -> None:
        """Refuse Timestream's settings and a missing URL (`tsload.targets.check_config` asks)."""
        for field, value in (("region", cfg.region), ("profile", cfg.profile)):
            if value is not None:
                raise ConfigError(
                    f"target.{field}", "a Timestream setting, not used with {target.kind} influxdb", got=value
                )
        if not cfg.endpoint:
            raise ConfigError(
                "target.endpoint",
                "an InfluxDB URL with {target.kind} influxdb (e.g. http://127.0.0.1:8086)",
                got="none",
            )

    @classmethod
    def query_language(cls, cfg: TargetConfig) -> QueryLanguage:
        """InfluxQL or InfluxDB SQL by API version (`tsload.targets.query_language` asks for it)."""
        from tsload.targets.influxdb.dialect import dialect_for_api

        return dialect_for_api(cfg.influx_api)

    @classmethod
    def reopen(cls, handoff: Handoff, options: ClientOptions) -> InfluxTarget:
        wire = handoff.state
        if not isinstance(wire, Wire):
            raise TypeError(f"not an InfluxDB handoff: {type(wire).__name__}")
        return cls(TargetConfig(endpoint=wire.url, kind=KIND), options, wire=wire)

    @property
    def wire(self) -> Wire:
        if self._wire is None:
            raise RuntimeError("InfluxTarget used before `async with`")
        return self._wire

    # -- open / close ---------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        if self._wire is None:
            self._wire = resolve_wire(self.cfg)
            self.description = self._wire.description
        self._http = HttpClient(self._wire.url, connect_timeout=20.0, read_timeout=335.0)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        http, self._http = self._http, None
        if http is not None:
            with contextlib.suppress(Exception):
                await http.aclose()

    def _client(self) -> HttpClient:
        if self._http is None:
            raise RuntimeError("InfluxTarget used before `async with`")
        return self._http

    def _db(self) -> str:
        if not self._database:
            raise ConfigError("-d/--database-name: the InfluxDB database (v1, v3) or bucket (v2) is required")
        return self._database

    async def _call(
        self, method: str, path: str, body: bytes = b"", content_type: str = _JSON
    ) -> HttpResponse:
        try:
            return await self._client().request(
                method, path, headers(self.wire, content_type=content_type), body
            )
        except HttpError as exc:
            raise TargetError(f"InfluxDB {self.wire.url}: {exc}") from None

    def _admin_error(self, what: str, response: HttpResponse) -> TargetError:
        hint = FATAL_HINTS.get(response.status, "")
        return TargetError(
            f"InfluxDB {what}: HTTP {response.status}: {error_message(response.body)}"
            + (f" ({hint})" if hint else ""),
            code=f"HTTP{response.status}",
        )

    # -- schema ---------------------------------------------------------------------------------
    async def _influxql_admin(self, q: str) -> dict[str, Any]:
        response = await self._call("POST", "/query", urlencode({"q": q}).encode(), _FORM)
        if response.status != 200:
            raise self._admin_error(q.split(" ", 2)[0].lower() + " " + q.split(" ", 2)[1].lower(), response)
        parsed: dict[str, Any] = orjson.loads(response.body)
        for st in parsed.get("results", []):
            if "error" in st:
                raise TargetError(f"InfluxDB: {q}: {st['error']}")
        return parsed

    async def _v2_ids(self, bucket: str) -> tuple[str, str | None]:
        """(org id, bucket id or None)."""
        org = self.wire.org or ""
        r = await self._call("GET", "/api/v2/orgs?" + urlencode({"org": org}))
        if r.status != 200:
            raise self._admin_error(f"organisation {org!r}", r)
        orgs = orjson.loads(r.body).get("orgs", [])
        if not orgs:
            raise TargetError(f"InfluxDB: organisation {org!r} not found (--influx-org)")
        org_id = str(orgs[0]["id"])
        r = await self._call("GET", "/api/v2/buckets?" + urlencode({"orgID": org_id, "name": bucket}))
        if r.status != 200:
            raise self._admin_error(f"bucket {bucket!r}", r)
        buckets = orjson.loads(r.body).get("buckets", [])
        return org_id, (str(buckets[0]["id"]) if buckets else None)

    async def ensure_schema(self, schema: Schema) -> list[str]:
        db = schema.database
        self._database = db
        api = self.wire.api
        lines: list[str] = []
        if api == "v1":
            shown = await self._influxql_admin("SHOW DATABASES")
            names = {
                row[0]
                for st in shown.get("results", [])
                for s in st.get("series", [])
                for row in s.get("values", [])
            }
            if db in names:
                lines.append(f"database {db} exists: kept")
            else:
                await self._influxql_admin(f"CREATE DATABASE {_ident(db)}")
                lines.append(f"database {db} created")
        elif api == "v2":
            org_id, bucket_id = await self._v2_ids(db)
            if bucket_id is not None:
                lines.append(f"bucket {db} exists: kept")
            else:
                r = await self._call(
                    "POST",
                    "/api/v2/buckets",
                    orjson.dumps({"orgID": org_id, "name": db, "retentionRules": []}),
                )
                if r.status not in (200, 201):
                    raise self._admin_error(f"create bucket {db!r}", r)
                bucket_id = str(orjson.loads(r.body)["id"])
                # InfluxQL through /query finds a bucket by a DBRP mapping only
                mapping = {
                    "orgID": org_id,
                    "bucketID": bucket_id,
                    "database": db,
                    "retention_policy": "autogen",
                    "default": True,
                }
                r = await self._call("POST", "/api/v2/dbrps", orjson.dumps(mapping))
                if r.status not in (200, 201):
                    raise self._admin_error(f"DBRP mapping of bucket {db!r}", r)
                lines.append(f"bucket {db} created (with a DBRP mapping {db}/autogen for InfluxQL)")
        else:
            r = await self._call("POST", "/api/v3/configure/database", orjson.dumps({"db": db}))
            if r.status == 409:
                lines.append(f"database {db} exists: kept")
            elif 200 <= r.status < 300:
                lines.append(f"database {db} created")
            else:
                raise self._admin_error(f"create database {db!r}", r)
        lines.append(
            f"measurements metrics and events (table {schema.table} and the memory/magnetic retention "
            "settings are Timestream's: not used; retention is the database's own)"
        )
        return lines

    async def drop_schema(self, schema: Schema) -> list[str]:
        db = schema.database
        api = self.wire.api
        if api == "v1":
            await self._influxql_admin(f"DROP DATABASE {_ident(db)}")  # no error when it is absent
            return [f"database {db} dropped (or was absent)"]
        if api == "v2":
            _, bucket_id = await self._v2_ids(db)
            if bucket_id is None:
                return [f"bucket {db} does not exist"]
            r = await self._call("DELETE", f"/api/v2/buckets/{bucket_id}")
            if r.status not in (200, 204):
                raise self._admin_error(f"delete bucket {db!r}", r)
            return [f"bucket {db} deleted"]
        r = await self._call("DELETE", "/api/v3/configure/database?" + urlencode({"db": db}))
        if r.status == 404:
            return [f"database {db} does not exist"]
        if not 200 <= r.status < 300:
            raise self._admin_error(f"delete database {db!r}", r)
        return [f"database {db} deleted"]

    # -- writes ---------------------------------------------------------------------------------
    def encoder(self, fleet: Fleet, options: EncodeOptions) -> RequestEncoder:
        from tsload.targets.influxdb.lineproto import LineOptions, LineProtocolEncoder

        if options.multi:
            raise ConfigError(
                "--multi: a Timestream record shape; InfluxDB points always carry all of an emission's "
                "fields (one line per emission, like multi-measure records): drop the flag"
            )
        if not self._database:
            self._database = options.database
        return LineProtocolEncoder(
            fleet,
            LineOptions(
                data_seed=options.data_seed,
                batch_size=options.batch_size,
                gzip=self.wire.gzip,
                add_req_id=options.add_req_id,
                req_id_dim=options.req_id_dim,
                request_id_nonce=options.request_id_nonce,
            ),
        )

    async def write(self, body: bytes, records: int) -> WriteOutcome:
        wire = self.wire
        path = write_path(wire, self._db())
        try:
            response = await self._client().post(path, headers(wire, content_type=_LP, gzip=wire.gzip), body)
        except HttpError as exc:
            return WriteOutcome(WriteKind.RETRY, code="ConnectionError", message=str(exc))
        outcome = classify_write(response.status, response.body, records)
        if outcome.kind is WriteKind.FATAL:
            # the sender raises this message as the run's one-line error
            hint = FATAL_HINTS.get(response.status, "not retried")
            message = f"InfluxDB write failed: HTTP {response.status}: {outcome.message} ({hint})"
            outcome = replace(outcome, message=message)
        return outcome

    # -- queries --------------------------------------------------------------------------------
    async def query_page(self, sql: str, next_token: str | None = None, *, keep_rows: bool = False) -> Page:
        wire = self.wire
        db = self._db()
        if wire.api == "v3":
            path, ctype = "/api/v3/query_sql", _JSON
            body = orjson.dumps({"db": db, "q": sql, "format": "json"})
        else:
            path, ctype = "/query", _FORM
            body = urlencode({"db": db, "q": sql, "epoch": "ms"}).encode()
        try:
            response = await self._client().post(path, headers(wire, content_type=ctype), body)
        except HttpError as exc:
            raise CallError("ConnectionError", str(exc), retryable=True) from None
        request_id = response.headers.get("request-id") or response.headers.get("x-request-id")
        if response.status != 200:
            code = f"HTTP{response.status}"
            hint = FATAL_HINTS.get(response.status)
            message = error_message(response.body) + (f" ({hint})" if hint else "")
            raise CallError(
                code,
                message,
                status=response.status,
                request_id=request_id,
                retryable=code in RETRYABLE_CODES,
                throttled=response.status in THROTTLE_STATUSES,
            )
        try:
            rows, columns, values, error = query_rows(wire.api, response.body, keep_rows)
        except orjson.JSONDecodeError as exc:
            raise CallError("BadResponse", f"not JSON: {exc}", status=200, request_id=request_id) from None
        if error is not None:
            raise CallError("QueryError", error, status=200, request_id=request_id)
        return Page(
            rows=rows,
            request_id=request_id,
            columns=columns,
            values=tuple(values),
        )

    # -- other processes ------------------------------------------------------------------------
    async def handoff(self) -> Handoff:
        return Handoff(KIND, replace(self.wire, database=self._database))

    def shared_config(self) -> TargetConfig:
        return self.cfg


def _ident(name: str) -> str:
    """An InfluxQL identifier, double-quoted."""
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


if TYPE_CHECKING:
    from tsload.targets.base import Target

    # mypy checks the class against the interface here, not only at the registry's lazy import
    _CONFORMS: type[Target] = InfluxTarget
