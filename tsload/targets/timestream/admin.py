"""Database and table lifecycle through aioboto3 (control plane: rare calls, the SDK is right here)."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from tsload._errors import TargetError
from tsload.targets.base import Schema

log = logging.getLogger(__name__)


def _client(session: Any, region: str, endpoint_url: str | None) -> Any:
    from botocore.config import Config

    return session.client(
        "timestream-write",
        region_name=region,
        endpoint_url=endpoint_url,
        # control-plane calls: an unreachable endpoint must fail in seconds, not minutes
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, connect_timeout=5, read_timeout=60),
    )


@contextlib.asynccontextmanager
async def _reachable(region: str, endpoint_url: str | None) -> AsyncIterator[None]:
    """Connection-level failures (refused, DNS, timeouts, no credentials) become one clear TargetError."""
    import botocore.exceptions

    where = endpoint_url or f"Amazon Timestream in {region}"
    try:
        yield
    except botocore.exceptions.NoCredentialsError as exc:
        raise TargetError(
            f"no AWS credentials for {where}"
            " (a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or a role)"
        ) from exc
    except (botocore.exceptions.BotoCoreError, OSError) as exc:
        raise TargetError(f"cannot reach {where}: {exc}") from exc


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code", ""))


def _fail(what: str, exc: Exception) -> TargetError:
    response = getattr(exc, "response", None) or {}
    err = response.get("Error", {})
    code = err.get("Code", type(exc).__name__)
    return TargetError(f"{what}: {code}: {err.get('Message', exc)}", code=_code(exc))


async def ensure_schema(session: Any, region: str, endpoint_url: str | None, schema: Schema) -> list[str]:
    """Create the database and table when missing; an existing table is kept as it is.

    Returns one human line per decision (the caller shows them).
    """
    import botocore.exceptions

    database, table = schema.database, schema.table
    messages: list[str] = []
    async with _reachable(region, endpoint_url), _client(session, region, endpoint_url) as client:
        # Describe first: a role allowed to write into an existing table need not be allowed to create.
        try:
            existing = (await client.describe_table(DatabaseName=database, TableName=table)).get("Table", {})
        except botocore.exceptions.ClientError as exc:
            if _code(exc) not in ("ResourceNotFoundException", "AccessDeniedException"):
                raise _fail(f"cannot describe table {database}.{table}", exc) from exc
        else:
            messages.append(f"table {database}.{table} exists: kept as it is ({_describe(existing)})")
            return messages
        try:
            await client.create_database(DatabaseName=database)
            messages.append(f"created database {database}")
        except botocore.exceptions.ClientError as exc:
            if _code(exc) != "ConflictException":
                raise _fail(f"cannot create database {database}", exc) from exc
        table_args: dict[str, Any] = {
            "DatabaseName": database,
            "TableName": table,
            "RetentionProperties": {
                "MemoryStoreRetentionPeriodInHours": schema.memory_store_retention_hours,
                "MagneticStoreRetentionPeriodInDays": schema.magnetic_store_retention_days,
            },
        }
        if schema.enable_magnetic_writes:
            table_args["MagneticStoreWriteProperties"] = {"EnableMagneticStoreWrites": True}
        try:
            await client.create_table(**table_args)
            messages.append(
                f"created table {database}.{table} (memory store {schema.memory_store_retention_hours} h, "
                f"magnetic store {schema.magnetic_store_retention_days} d"
                + (", magnetic-store writes on)" if schema.enable_magnetic_writes else ")")
            )
        except botocore.exceptions.ClientError as exc:
            if _code(exc) != "ConflictException":
                raise _fail(f"cannot create table {database}.{table}", exc) from exc
            messages.append(f"table {database}.{table} exists: kept as it is (retention unchanged)")
        except botocore.exceptions.BotoCoreError as exc:
            raise TargetError(f"cannot create table {database}.{table}: {exc}") from exc
    return messages


def _describe(table: dict[str, Any]) -> str:
    retention = table.get("RetentionProperties", {})
    magnetic_writes = table.get("MagneticStoreWriteProperties", {}).get("EnableMagneticStoreWrites", False)
    return (
        f"memory store {retention.get('MemoryStoreRetentionPeriodInHours', '?')} h, magnetic store "
        f"{retention.get('MagneticStoreRetentionPeriodInDays', '?')} d, magnetic-store writes "
        + ("on" if magnetic_writes else "off")
    )


async def delete_schema(session: Any, region: str, endpoint_url: str | None, schema: Schema) -> list[str]:
    """Delete the table, then the database (what is already gone is reported, not an error)."""
    import botocore.exceptions

    database, table = schema.database, schema.table
    messages: list[str] = []
    async with _reachable(region, endpoint_url), _client(session, region, endpoint_url) as client:
        try:
            await client.delete_table(DatabaseName=database, TableName=table)
            messages.append(f"deleted table {database}.{table}")
        except botocore.exceptions.ClientError as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise _fail(f"cannot delete table {database}.{table}", exc) from exc
            messages.append(f"table {database}.{table} does not exist")
        try:
            await client.delete_database(DatabaseName=database)
            messages.append(f"deleted database {database}")
        except botocore.exceptions.ClientError as exc:
            code = _code(exc)
            if code == "ResourceNotFoundException":
                messages.append(f"database {database} does not exist")
            elif code in ("ValidationException", "ConflictException"):
                messages.append(f"database {database} kept: it still holds other tables")
            else:
                raise _fail(f"cannot delete database {database}", exc) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise TargetError(f"cannot delete database {database}: {exc}") from exc
    return messages
