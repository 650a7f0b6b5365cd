"""Query execution for the local engine (docs/engine-sql.md).

Timestream SQL is translated to DuckDB SQL (`tsload.engine.sql`), run on the caller's cursor, and
the Arrow result is rendered in Timestream's ColumnInfo/Row JSON shape.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from tsload.engine.sql.errors import QueryExecutionError, QueryValidationError
from tsload.engine.sql.timeseries import TS_TIME, TS_VALUE
from tsload.engine.sql.translate import translate
from tsload.engine.tables import qi

__all__ = ["QueryExecutionError", "QueryResult", "QueryValidationError", "execute_query"]

_META = "_tsload"
_SYSTEM = {"information_schema", "pg_catalog", "main", _META}


@dataclass(frozen=True)
class QueryResult:
    column_info: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    bytes_scanned: int
    bytes_metered: int


def _user_tables(cur: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], list[tuple[str, str]]]:
    # duckdb_columns() rather than information_schema.columns: the same rows in half the time, and
    # this runs before every query
    rows = cur.execute(
        "SELECT schema_name, table_name, column_name, data_type FROM duckdb_columns()"
        " WHERE database_name = current_database() AND NOT internal"
        " ORDER BY schema_name, table_name, column_index"
    ).fetchall()
    out: dict[tuple[str, str], list[tuple[str, str]]] = {}
    for schema, table, col, typ in rows:
        if schema in _SYSTEM or schema.startswith("_") or col.startswith("_"):
            continue
        out.setdefault((schema, table), []).append((col, typ))
    return out


def _roles(cur: duckdb.DuckDBPyConnection, db: str, table: str) -> dict[str, str]:
    try:
        got = cur.execute(f"SELECT name, role FROM {_META}.columns WHERE db = ? AND tbl = ?", [db, table])
        return {str(n): str(r) for n, r in got.fetchall()}
    except duckdb.Error:
        return {}


def _java_double(x: float) -> str:
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    if x == 0 or 1e-3 <= abs(x) < 1e7:
        return repr(float(x))
    mant, exp_ = f"{x:.16e}".split("e")
    digits = repr(float(mant)) if "." in repr(float(mant)) else mant
    return f"{float(digits)!r}E{int(exp_)}"


def _fmt_ts_ns(ns: int) -> str:
    sec, frac = divmod(ns, 1_000_000_000)
    base = dt.datetime(1970, 1, 1) + dt.timedelta(seconds=sec)
    return f"{base:%Y-%m-%d %H:%M:%S}.{frac:09d}"


def _series_value_type(t: pa.DataType) -> pa.DataType | None:
    """The measure type of a TIMESERIES (list of struct(__ts_time, __ts_value)), else None."""
    if not (pa.types.is_list(t) or pa.types.is_large_list(t)) or not pa.types.is_struct(t.value_type):
        return None
    point = t.value_type
    if [point.field(i).name for i in range(point.num_fields)] != [TS_TIME, TS_VALUE]:
        return None
    vt: pa.DataType = point.field(TS_VALUE).type
    return vt


def _integral(t: pa.DataType) -> bool:
    """Integer types, and DECIMAL(p, 0): DuckDB's SUM / COUNT_IF of integers give HUGEINT, which
    Arrow carries as decimal128(38, 0); Trino keeps BIGINT for those (SUM(bigint) is BIGINT '45')."""
    return bool(pa.types.is_integer(t) or (pa.types.is_decimal(t) and t.scale == 0))


def _ts_type(t: pa.DataType) -> dict[str, Any]:
    series = _series_value_type(t)
    if series is not None:
        return {"TimeSeriesMeasureValueColumnInfo": {"Type": _ts_type(series)}}
    if _integral(t):
        return {"ScalarType": "BIGINT"}
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return {"ScalarType": "DOUBLE"}
    if pa.types.is_boolean(t):
        return {"ScalarType": "BOOLEAN"}
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return {"ScalarType": "VARCHAR"}
    if pa.types.is_timestamp(t):
        return {"ScalarType": "TIMESTAMP"}
    if pa.types.is_date(t):
        return {"ScalarType": "DATE"}
    if pa.types.is_interval(t) or pa.types.is_duration(t):
        return {"ScalarType": "INTERVAL_DAY_TO_SECOND"}
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"ArrayColumnInfo": {"Type": _ts_type(t.value_type)}}
    if pa.types.is_struct(t):
        return {"RowColumnInfo": [{"Name": f.name, "Type": _ts_type(f.type)} for f in t]}
    raise QueryValidationError(f"Result type {t} is not supported by the local engine")


def _datum(value: Any, t: pa.DataType) -> dict[str, Any]:
    if value is None:
        return {"NullValue": True}
    if _integral(t):
        return {"ScalarValue": str(int(value))}
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return {"ScalarValue": _java_double(float(value))}
    if pa.types.is_boolean(t):
        return {"ScalarValue": "true" if value else "false"}
    if pa.types.is_timestamp(t):
        return {"ScalarValue": _fmt_ts_ns(int(value))}
    if pa.types.is_date(t):
        return {"ScalarValue": value.isoformat()}
    if pa.types.is_interval(t):
        months, days, nanos = value.months, value.days, value.nanoseconds
        days += months * 30
        return {"ScalarValue": _fmt_interval(days, nanos)}
    if pa.types.is_duration(t):
        return {"ScalarValue": _fmt_interval(0, int(value))}
    series = _series_value_type(t)
    if series is not None:
        return {
            "TimeSeriesValue": [
                {"Time": _fmt_ts_ns(int(p[TS_TIME])), "Value": _datum(p[TS_VALUE], series)} for p in value
            ]
        }
    if pa.types.is_list(t) or pa.types.is_large_list(t):
        return {"ArrayValue": [_datum(v, t.value_type) for v in value]}
    if pa.types.is_struct(t):
        return {"RowValue": {"Data": [_datum(value[f.name], f.type) for f in t]}}
    return {"ScalarValue": str(value)}


def _fmt_interval(days: int, nanos: int) -> str:
    days += nanos // 86_400_000_000_000
    nanos %= 86_400_000_000_000
    h, rest = divmod(nanos, 3_600_000_000_000)
    m, rest = divmod(rest, 60_000_000_000)
    s, frac = divmod(rest, 1_000_000_000)
    return f"{days} {h:02d}:{m:02d}:{s:02d}.{frac:09d}"


def _map_type(t: pa.DataType, leaf: Callable[[pa.DataType], pa.DataType]) -> pa.DataType:
    """`t` with every timestamp/duration (also inside lists and structs) replaced by `leaf(t)`."""
    if pa.types.is_timestamp(t) or pa.types.is_duration(t):
        return leaf(t)
    if pa.types.is_list(t):
        return pa.list_(_map_type(t.value_type, leaf))
    if pa.types.is_large_list(t):
        return pa.large_list(_map_type(t.value_type, leaf))
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _map_type(f.type, leaf)) for f in t])
    return t


def _as_ns(t: pa.DataType) -> pa.DataType:
    return pa.timestamp("ns") if pa.types.is_timestamp(t) else pa.duration("ns")


def _as_int(_t: pa.DataType) -> pa.DataType:
    return pa.int64()


def _render(table: pa.Table, scanned: int) -> QueryResult:
    types = [f.type for f in table.schema]
    info = [{"Name": f.name, "Type": _ts_type(f.type)} for f in table.schema]
    columns: list[list[Any]] = []
    for col, t in zip(table.columns, types, strict=True):
        # Timestamps and durations, also nested ones (a TIMESERIES' times), become integer
        # nanoseconds: Python datetimes would drop the nanoseconds.
        ints = _map_type(t, _as_int)
        if ints != t:
            col = col.cast(_map_type(t, _as_ns)).cast(ints)
        columns.append(col.to_pylist())
    rows = [
        {"Data": [_datum(columns[j][i], types[j]) for j in range(len(types))]} for i in range(table.num_rows)
    ]
    metered = max(scanned, 10 * 1024 * 1024) if scanned else 0
    return QueryResult(info, rows, scanned, metered)


def _vc(rows: Sequence[Sequence[str | None]], names: list[str]) -> QueryResult:
    schema = pa.schema([(n, pa.string()) for n in names])
    return _render(pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows], schema=schema), 0)


_SHOW_DBS = re.compile(r"^\s*SHOW\s+DATABASES\s*;?\s*$", re.I)
_SHOW_TABLES = re.compile(
    r"^\s*SHOW\s+TABLES(?:\s+(?:FROM|IN)\s+(?P<db>\"(?:[^\"]|\"\")+\"|[\w-]+))?\s*;?\s*$", re.I
)
_IDENT = r"(\"(?:[^\"]|\"\")+\"|[\w-]+)"
_SHOW_MEASURES = re.compile(rf"^\s*SHOW\s+MEASURES\s+(?:FROM|IN)\s+{_IDENT}\s*\.\s*{_IDENT}\s*;?\s*$", re.I)
_DESCRIBE = re.compile(rf"^\s*DESCRIBE\s+{_IDENT}\s*\.\s*{_IDENT}\s*;?\s*$", re.I)


def _unq(ident: str) -> str:
    return ident[1:-1].replace('""', '"') if ident.startswith('"') else ident


def _table_key(tables: dict[tuple[str, str], list[tuple[str, str]]], db: str, table: str) -> tuple[str, str]:
    for key in tables:
        if key[0].lower() == db.lower() and key[1].lower() == table.lower():
            return key
    raise QueryValidationError(f"The table {db}.{table} does not exist")


_TS_OF = {
    "DOUBLE": "double",
    "BIGINT": "bigint",
    "VARCHAR": "varchar",
    "BOOLEAN": "boolean",
    "TIMESTAMP_NS": "timestamp",
    "TIMESTAMP": "timestamp",
}


def _attribute(name: str, role: str | None, typ: str) -> str:
    if name == "measure_name":
        return "MEASURE_NAME"
    if name == "time":
        return "TIMESTAMP"
    if name.startswith("measure_value::") or role == "single":
        return "MEASURE_VALUE"
    if role == "multi" or (role is None and typ != "VARCHAR"):
        return "MULTI"
    return "DIMENSION"


def _metadata(cur: duckdb.DuckDBPyConnection, sql: str) -> QueryResult | None:
    if _SHOW_DBS.match(sql):
        names = sorted({d for d, _ in _user_tables(cur)} | _schemas(cur))
        return _vc([[n] for n in names], ["Database"])
    if m := _SHOW_TABLES.match(sql):
        tables = _user_tables(cur)
        if m.group("db") is None:
            raise QueryValidationError("SHOW TABLES needs FROM <database> in the local engine")
        db = _unq(m.group("db"))
        if db.lower() not in {s.lower() for s in _schemas(cur)}:
            raise QueryValidationError(f"The database {db} does not exist")
        return _vc([[t] for d, t in sorted(tables) if d.lower() == db.lower()], ["Table"])
    if m := _DESCRIBE.match(sql):
        tables = _user_tables(cur)
        key = _table_key(tables, _unq(m.group(1)), _unq(m.group(2)))
        roles = _roles(cur, *key)
        rows = [[c, _TS_OF.get(t, t.lower()), _attribute(c, roles.get(c), t)] for c, t in tables[key]]
        return _vc(rows, ["Column", "Type", "Timestream attribute type"])
    if m := _SHOW_MEASURES.match(sql):
        tables = _user_tables(cur)
        key = _table_key(tables, _unq(m.group(1)), _unq(m.group(2)))
        return _show_measures(cur, key, tables[key], _roles(cur, *key))
    return None


def _schemas(cur: duckdb.DuckDBPyConnection) -> set[str]:
    got = cur.execute(
        "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = current_database()"
    ).fetchall()
    return {s for (s,) in got if s not in _SYSTEM and not s.startswith("_")}


def _show_measures(
    cur: duckdb.DuckDBPyConnection, key: tuple[str, str], cols: list[tuple[str, str]], roles: dict[str, str]
) -> QueryResult:
    dims = [c for c, t in cols if _attribute(c, roles.get(c), t) == "DIMENSION"]
    singles = [c for c, t in cols if c.startswith("measure_value::")]
    multi = [c for c, t in cols if _attribute(c, roles.get(c), t) == "MULTI"]
    sel = ["measure_name"]
    sel += [f"bool_or({qi(c)} IS NOT NULL)" for c in dims + singles + multi]
    q = f"SELECT {', '.join(sel)} FROM {qi(key[0])}.{qi(key[1])}"
    q += " GROUP BY measure_name ORDER BY measure_name"
    out: list[dict[str, Any]] = []
    for row in cur.execute(q).fetchall():
        flags = row[1:]
        present_dims = [d for d, f in zip(dims, flags[: len(dims)], strict=True) if f]
        present_single = [
            c for c, f in zip(singles, flags[len(dims) : len(dims) + len(singles)], strict=True) if f
        ]
        present_multi = any(flags[len(dims) + len(singles) :])
        dtype = (
            "multi" if present_multi else (present_single[0].split("::")[1] if present_single else "unknown")
        )
        out.append(
            {
                "measure_name": row[0],
                "data_type": dtype,
                "dimensions": [{"dimension_name": d, "data_type": "varchar"} for d in present_dims],
            }
        )
    schema = pa.schema(
        [
            ("measure_name", pa.string()),
            ("data_type", pa.string()),
            (
                "dimensions",
                pa.list_(pa.struct([("dimension_name", pa.string()), ("data_type", pa.string())])),
            ),
        ]
    )
    return _render(pa.Table.from_pylist(out, schema=schema), 0)


def execute_query(cursor: duckdb.DuckDBPyConnection, sql: str, *, now: dt.datetime) -> QueryResult:
    """Run one Timestream SQL statement; `now` is the query start (naive UTC)."""
    if not isinstance(sql, str) or not sql.strip():
        raise QueryValidationError("QueryString must not be empty")
    meta = _metadata(cursor, sql)
    if meta is not None:
        return meta
    tables = _user_tables(cursor)
    visible = {k: [c for c, _ in v] for k, v in tables.items()}
    duck_sql, touched = translate(sql, now=now, visible=visible)
    try:
        # Timestream (like Trino) divides integers as integers: 7 / 2 = 3. The setting is local to
        # this cursor, so the engine's own SQL keeps DuckDB's float division.
        cursor.execute("SET integer_division = true")
        result = cursor.sql(duck_sql).to_arrow_table()
    except (duckdb.BinderException, duckdb.CatalogException, duckdb.ParserException) as exc:
        raise QueryValidationError(_clean(str(exc))) from None
    except duckdb.Error as exc:
        raise QueryExecutionError(_clean(str(exc))) from None
    scanned = 0
    for key in set(touched):
        (n,) = cursor.execute(f"SELECT count(*) FROM {qi(key[0])}.{qi(key[1])}").fetchone() or (0,)
        width = sum(8 if t != "VARCHAR" else 24 for _, t in tables[key])
        scanned += int(n) * width
    return _render(result, scanned)


def _clean(message: str) -> str:
    return message.replace("\n", " ").strip()
