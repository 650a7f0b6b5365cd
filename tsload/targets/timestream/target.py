"""`TimestreamTarget`: Amazon Timestream, or any endpoint speaking its JSON protocol (the local
engine, moto), behind the interface of `tsload.targets.base`.

Where the database is (`TargetConfig`):
- ``endpoint``          that endpoint for writes and queries, signed for ``region`` or us-east-1;
- ``region`` alone      Amazon Timestream in that region, with the SDK's endpoint discovery;
- neither               a local engine (`tsload serve`, `tsload.targets.local`) started in a
                        child process on a free loopback port for as long as the target is open.

How requests go (`ClientOptions.client`):
- writes: the fast path (pre-encoded body, own SigV4, lean HTTP/1.1; endpoint discovery against
  AWS) unless ``"sdk"`` (aioboto3 ``write_records``, ``--sdk-writes``);
- queries: the fast path for a fixed endpoint, aioboto3's ``timestream-query`` client against AWS
  (it discovers the cell endpoint) or with ``"sdk"`` (``--sdk-queries``).
Both are created on first use, so opening the target for its schema needs no write credentials.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from dataclasses import dataclass, replace
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import urlparse

from tsload._errors import ConfigError, TargetError
from tsload.targets.base import (
    CLIENTS,
    ClientOptions,
    Handoff,
    Page,
    Schema,
    TargetConfig,
    WriteOutcome,
)
from tsload.targets.timestream.outcome import RETRYABLE_CODES

if TYPE_CHECKING:
    from tsload.model.encode import EncodeOptions, RequestEncoder
    from tsload.model.fleet import Fleet
    from tsload.targets.local import LocalEngine
    from tsload.targets.timestream.query import QueryTransport
    from tsload.targets.timestream.writer import RecordWriter

KIND = "timestream"
LOCAL_REGION = "us-east-1"
# Any keys are accepted by the local engine and by moto; real ones are never needed there.
_DUMMY_KEY = "tsload-local"
_NO_CREDENTIALS = (
    "no AWS credentials found (a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role)"
)


@dataclass(frozen=True)
class Wire:
    """A resolved Timestream target, picklable (the `Handoff.state` of this target)."""

    region: str
    endpoint: str | None  # None: AWS with endpoint discovery
    profile: str | None
    static_keys: tuple[str, str, str | None] | None  # explicit keys (local engine, -e with env keys)
    description: str


def _check_endpoint(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError("target.endpoint", "an http(s)://host[:port] URL", got=url)


def _safe_description(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("_") or "target"


def make_session(
    region: str,
    *,
    profile: str | None = None,
    static_keys: tuple[str, str, str | None] | None = None,
    allow_dummy: bool = False,
) -> Any:
    """The one aioboto3 session builder: explicit keys, a profile, or the default chain (with
    dummy keys for a local endpoint when the environment has none)."""
    import aioboto3

    if static_keys is not None:
        ak, sk, token = static_keys
        return aioboto3.Session(
            aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token, region_name=region
        )
    if profile is not None:
        import botocore.exceptions

        try:
            return aioboto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as exc:
            raise ConfigError("target.profile", "a profile of the AWS config", got=profile) from exc
    has_env_keys = bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
    if allow_dummy and not has_env_keys:
        return aioboto3.Session(
            aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=region
        )
    return aioboto3.Session(region_name=region)


class TimestreamTarget:
    """See the module docstring. ``async with TimestreamTarget(cfg, options) as target: ...``"""

    kind = KIND
    retryable_codes = RETRYABLE_CODES

    def __init__(self, cfg: TargetConfig, options: ClientOptions, *, wire: Wire | None = None) -> None:
        if options.client not in CLIENTS:
            raise ConfigError("client", f"one of {', '.join(CLIENTS)}", got=options.client)
        self.cfg = cfg
        self.options = options
        self.description = wire.description if wire is not None else "target"
        self.is_local = False
        self.region = LOCAL_REGION
        self.endpoint: str | None = None
        self.session: Any = None
        self._wire = wire
        self._engine: LocalEngine | None = None
        self._writer: RecordWriter | None = None
        self._queries: QueryTransport | None = None
        self._lock = asyncio.Lock()

    @staticmethod
    def check_config(cfg: TargetConfig) -> None:
        """Refuse InfluxDB's settings (`tsload.targets.check_config` asks)."""
        for field, given in (
            ("influx_api", cfg.influx_api != "v1"),
            ("influx_org", cfg.influx_org is not None),
            ("token_file", cfg.token_file is not None),
            ("gzip", cfg.gzip),
        ):
            if given:
                raise ConfigError(f"target.{field}", "only with {target.kind} influxdb")

    @classmethod
    def reopen(cls, handoff: Handoff, options: ClientOptions) -> TimestreamTarget:
        wire = handoff.state
        if not isinstance(wire, Wire):
            raise TypeError(f"not a Timestream handoff: {type(wire).__name__}")
        return cls(
            TargetConfig(region=wire.region, endpoint=wire.endpoint, profile=wire.profile), options, wire=wire
        )

    # -- open / close ---------------------------------------------------------------------------
    async def __aenter__(self) -> Self:
        if self._wire is not None:
            w = self._wire
            self.region, self.endpoint = w.region, w.endpoint
            self.session = make_session(w.region, profile=w.profile, static_keys=w.static_keys)
            return self
        cfg = self.cfg
        if cfg.endpoint is not None:
            _check_endpoint(cfg.endpoint)
            host = urlparse(cfg.endpoint).hostname or "endpoint"
            self.region = cfg.region or LOCAL_REGION
            self.endpoint = cfg.endpoint
            self.description = _safe_description(host)
            local_host = host in ("127.0.0.1", "localhost", "::1")
            self.session = make_session(self.region, profile=cfg.profile, allow_dummy=local_host)
        elif cfg.region is not None:
            self.region = cfg.region
            self.description = _safe_description(cfg.region)
            self.session = make_session(self.region, profile=cfg.profile)
        else:
            from tsload.targets.local import LocalEngine

            engine = LocalEngine(cfg.local_data, extra_args=cfg.local_engine_args)
            await engine.__aenter__()
            self._engine = engine
            self.region, self.endpoint = LOCAL_REGION, engine.endpoint_url
            self.description, self.is_local = "local", True
            try:
                self.session = make_session(self.region, profile=cfg.profile, allow_dummy=True)
            except BaseException:
                await self._close()
                raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._close()

    async def _close(self) -> None:
        writer, self._writer = self._writer, None
        queries, self._queries = self._queries, None
        engine, self._engine = self._engine, None
        try:
            for client in (writer, queries):
                if client is not None:
                    with contextlib.suppress(Exception):
                        await client.aclose()
        finally:
            if engine is not None:
                await engine.__aexit__(None, None, None)

    # -- schema ---------------------------------------------------------------------------------
    async def ensure_schema(self, schema: Schema) -> list[str]:
        from tsload.targets.timestream.admin import ensure_schema

        return await ensure_schema(self.session, self.region, self.endpoint, schema)

    async def drop_schema(self, schema: Schema) -> list[str]:
        from tsload.targets.timestream.admin import delete_schema

        return await delete_schema(self.session, self.region, self.endpoint, schema)

    # -- writes ---------------------------------------------------------------------------------
    def encoder(self, fleet: Fleet, options: EncodeOptions) -> RequestEncoder:
        from tsload.model.encode import RequestEncoder

        return RequestEncoder(fleet, options)

    async def _credentials(self) -> Any:
        credentials = await self.session.get_credentials()
        if credentials is None:
            raise TargetError(_NO_CREDENTIALS)
        return credentials

    async def _open_writer(self) -> RecordWriter:
        async with self._lock:
            if self._writer is None:
                from tsload.targets.timestream.writer import FastWriter, SdkWriter

                if self.options.client == "sdk":
                    self._writer = SdkWriter(
                        self.session, self.region, self.endpoint, max_pool=max(10, self.options.concurrency)
                    )
                elif self.endpoint is not None:
                    self._writer = FastWriter(
                        await self._credentials(), self.region, endpoint_url=self.endpoint
                    )
                else:
                    from tsload.targets.timestream.discovery import EndpointDiscovery

                    self._writer = FastWriter(
                        await self._credentials(),
                        self.region,
                        discovery=EndpointDiscovery(self.session, self.region),
                    )
            return self._writer

    async def open_writes(self) -> None:
        """Create the write client now (credentials checked here, not on the first request)."""
        await self._open_writer()

    async def write(self, body: bytes, records: int) -> WriteOutcome:
        writer = self._writer or await self._open_writer()
        return await writer.attempt(body, records)

    # -- queries --------------------------------------------------------------------------------
    async def _open_queries(self) -> QueryTransport:
        async with self._lock:
            if self._queries is None:
                from tsload.targets.timestream.query import FastTransport, SdkTransport

                client = self.options.client
                if client == "sdk" or (client == "auto" and self.endpoint is None):
                    self._queries = SdkTransport(
                        self.session, self.region, self.endpoint, max_pool=max(10, self.options.concurrency)
                    )
                elif self.endpoint is None:
                    raise TargetError(
                        "the fast query path needs a fixed endpoint (-e or the local engine); use the SDK"
                    )
                else:
                    self._queries = FastTransport(await self._credentials(), self.region, self.endpoint)
            return self._queries

    async def open_queries(self) -> None:
        """Create the query client now (credentials checked here, not on the first query)."""
        await self._open_queries()

    async def query_page(self, sql: str, next_token: str | None = None, *, keep_rows: bool = False) -> Page:
        from tsload.targets.timestream.query import to_page

        transport = self._queries or await self._open_queries()
        params = {"QueryString": sql} if next_token is None else {"QueryString": sql, "NextToken": next_token}
        return to_page(await transport.query(params), keep_rows=keep_rows)

    async def cancel_query(self, query_id: str) -> None:
        transport = self._queries or await self._open_queries()
        await transport.cancel(query_id)

    # -- other processes ------------------------------------------------------------------------
    async def handoff(self) -> Handoff:
        static: tuple[str, str, str | None] | None = None
        credentials = await self.session.get_credentials()
        if credentials is not None and getattr(credentials, "method", "") == "explicit":
            frozen = await credentials.get_frozen_credentials()
            static = (frozen.access_key, frozen.secret_key, frozen.token)
        wire = Wire(
            region=self.region,
            endpoint=self.endpoint,
            # the profile flag, not the session's resolved name ("default" even without a config file)
            profile=self.cfg.profile if static is None else None,
            static_keys=static,
            description=self.description,
        )
        return Handoff(KIND, wire)

    def shared_config(self) -> TargetConfig:
        if not self.is_local:
            return self.cfg
        return replace(self.cfg, endpoint=self.endpoint, region=self.region)


if TYPE_CHECKING:
    from tsload.targets.base import Target

    # mypy checks the class against the interface here, not only at the registry's lazy import
    _CONFORMS: type[Target] = TimestreamTarget
