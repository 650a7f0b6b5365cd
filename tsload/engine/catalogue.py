"""The catalogue: DescribeEndpoints, and the database and table operations.

Names, retention and magnetic-store properties are validated as Timestream validates them; the
state itself lives in the `Store` (DuckDB metadata tables plus one `TableState` per table).
"""

from __future__ import annotations

import re
import time
from typing import Any

from tsload.engine import limits
from tsload.engine.api import ACCOUNT, RequestContext
from tsload.engine.errors import conflict, not_found, validation
from tsload.engine.store import RESERVED_DATABASES, Store
from tsload.engine.tables import TableState

_NAME_RE = re.compile(r"[a-zA-Z0-9_.\-]+")


class Catalogue:
    def __init__(self, store: Store) -> None:
        self.store = store

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
        retention = _retention(
            body.get("RetentionProperties"),
            (limits.DEFAULT_MEMORY_RETENTION_HOURS, limits.DEFAULT_MAGNETIC_RETENTION_DAYS),
        )
        magnetic = _magnetic(body.get("MagneticStoreWriteProperties"), (False, None))
        now = time.time()
        ts = self.store.new_table_state(db, name, retention, magnetic, _schema(body.get("Schema")), now, now)
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
    return (
        _int_in_range(
            props,
            "MemoryStoreRetentionPeriodInHours",
            limits.MIN_MEMORY_RETENTION_HOURS,
            limits.MAX_MEMORY_RETENTION_HOURS,
        ),
        _int_in_range(
            props,
            "MagneticStoreRetentionPeriodInDays",
            limits.MIN_MAGNETIC_RETENTION_DAYS,
            limits.MAX_MAGNETIC_RETENTION_DAYS,
        ),
    )


def _int_in_range(props: dict[str, Any], key: str, lo: int, hi: int) -> int:
    value = props.get(key)
    if type(value) is not int or not lo <= value <= hi:
        raise validation(f"{key} must be in [{lo}, {hi}], got {value!r}")
    return value


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
