"""Target selection shared by every command: `-e URL`, `-r REGION`, or the embedded local engine.

- `-e URL`            that endpoint (write and query), signed for `-r` or us-east-1.
- `-r REGION` alone   Amazon Timestream in that region, with the SDK's endpoint discovery.
- neither             a local engine in a child process on a free loopback port.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import aioboto3

from tsload._errors import ConfigError

LOCAL_REGION = "us-east-1"
# Any keys are accepted by the local engine and by moto; real ones are never needed there.
_DUMMY_KEY = "tsload-local"


@dataclass(frozen=True)
class TargetConfig:
    region: str | None = None
    endpoint: str | None = None
    profile: str | None = None
    local_data: Path = Path("./tsload-data")
    local_engine_args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedTarget:
    session: aioboto3.Session
    region: str
    write_endpoint: str | None
    query_endpoint: str | None
    is_local: bool
    description: str


def _check_endpoint(url: str) -> None:
    parsed = urlparse(url)
    if parsed.scheme not in ("http", "https") or not parsed.hostname:
        raise ConfigError(f"-e/--endpoint: expected an http(s)://host[:port] URL, got {url!r}")


def _session(profile: str | None, region: str, *, allow_dummy: bool) -> aioboto3.Session:
    if profile is not None:
        import botocore.exceptions

        try:
            return aioboto3.Session(profile_name=profile, region_name=region)
        except botocore.exceptions.ProfileNotFound as exc:
            raise ConfigError(f"--profile: profile {profile!r} not found in the AWS config") from exc
    has_env_keys = bool(os.environ.get("AWS_ACCESS_KEY_ID") and os.environ.get("AWS_SECRET_ACCESS_KEY"))
    if allow_dummy and not has_env_keys:
        return aioboto3.Session(
            aws_access_key_id=_DUMMY_KEY, aws_secret_access_key=_DUMMY_KEY, region_name=region
        )
    return aioboto3.Session(region_name=region)


def _safe_description(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip("_") or "target"


@asynccontextmanager
async def open_target(cfg: TargetConfig) -> AsyncIterator[ResolvedTarget]:
    """Resolve the target; start (and finally stop) a local engine when neither -r nor -e is given."""
    if cfg.endpoint is not None:
        _check_endpoint(cfg.endpoint)
        region = cfg.region or LOCAL_REGION
        host = urlparse(cfg.endpoint).hostname or "endpoint"
        local_host = host in ("127.0.0.1", "localhost", "::1")
        yield ResolvedTarget(
            session=_session(cfg.profile, region, allow_dummy=local_host),
            region=region,
            write_endpoint=cfg.endpoint,
            query_endpoint=cfg.endpoint,
            is_local=False,
            description=_safe_description(host),
        )
        return
    if cfg.region is not None:
        yield ResolvedTarget(
            session=_session(cfg.profile, cfg.region, allow_dummy=False),
            region=cfg.region,
            write_endpoint=None,
            query_endpoint=None,
            is_local=False,
            description=_safe_description(cfg.region),
        )
        return
    from tsload.targets.local import LocalEngine

    async with LocalEngine(cfg.local_data, extra_args=cfg.local_engine_args) as engine:
        yield ResolvedTarget(
            session=_session(cfg.profile, LOCAL_REGION, allow_dummy=True),
            region=LOCAL_REGION,
            write_endpoint=engine.endpoint_url,
            query_endpoint=engine.endpoint_url,
            is_local=True,
            description="local",
        )
