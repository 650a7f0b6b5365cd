"""The function reference (tsload/engine/sql/functions.py) and Trino's result types.

Every supported function's example gives the type and value Timestream documents for it; every
refused function is refused by name; docs/engine-sql.md's coverage table lists exactly the rows of
the code's list; operators and aggregates over BIGINT, DOUBLE, VARCHAR, BOOLEAN and TIMESTAMP
columns give Trino's types and the values computed here in Python."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tsload.engine.query import QueryValidationError, execute_query
from tsload.engine.sql.functions import FUNCTIONS, Fn, _fn, _rows

NOW = dt.datetime(2026, 1, 1, 1)
DOC = Path(__file__).resolve().parents[2] / "docs" / "engine-sql.md"


def _type(col: dict[str, Any]) -> str:
    t = col["Type"]
    if "ScalarType" in t:
        return str(t["ScalarType"])
    return "ARRAY(" + _type({"Type": t["ArrayColumnInfo"]["Type"]}) + ")"


def _value(d: dict[str, Any]) -> str:
    if "ArrayValue" in d:
        return ",".join(_value(x) for x in d["ArrayValue"])
    return str(d.get("ScalarValue", ""))


def _query(fn: Fn) -> str:
    rows = "(VALUES (1), (2), (2), (3)) AS v(x)"
    if fn.category == "aggregate":
        return f"SELECT {fn.example} FROM {rows}"
    if fn.category == "window":  # the row with x = 3
        return f"SELECT w FROM (SELECT x, {fn.example} AS w FROM {rows}) ORDER BY x DESC LIMIT 1"
    return f"SELECT {fn.example}"


@pytest.mark.parametrize("fn", [f for f in FUNCTIONS if f.example], ids=lambda f: f.name)
def test_supported_function_gives_timestream_type_and_value(fn: Fn) -> None:
    r = execute_query(duckdb.connect().cursor(), _query(fn), now=NOW)
    assert _type(r.column_info[0]) == fn.type
    got = _value(r.rows[0]["Data"][0])
    if fn.type == "DOUBLE" and fn.value not in ("Infinity", "NaN"):
        assert math.isclose(float(got), float(fn.value), rel_tol=1e-12, abs_tol=1e-12), got
    else:
        assert got == fn.value


@pytest.mark.parametrize("fn", [f for f in FUNCTIONS if not f.supported], ids=lambda f: f.name)
def test_refused_function_is_refused_by_name(fn: Fn) -> None:
    with pytest.raises(
        QueryValidationError, match=rf"Function {fn.name} is not supported by the local engine"
    ):
        execute_query(duckdb.connect().cursor(), f"SELECT {fn.name.upper()}(1, 2)", now=NOW)


def test_doc_coverage_table_is_the_code_list() -> None:
    text = DOC.read_text()
    rows = re.findall(r"^\| (\S[^|]*?) \| `([a-z_0-9]+)` \| (supported|\*\*refused\*\*) \|", text, re.M)
    in_doc = {(cat, name, status == "supported") for cat, name, status in rows}
    in_code = {(f.category, f.name, f.supported) for f in FUNCTIONS}
    assert in_doc == in_code
    assert len(rows) == len(FUNCTIONS)


def test_table_rows_parse_to_functions_and_a_malformed_row_is_refused() -> None:
    table = """
[string]
ltrim | ltrim('  ab ') | VARCHAR | 'ab '
[date/time]
hour  | hour($TS) | BIGINT
      | 6 | a note
now   | refused | not here
[time series]
unnest | -
"""
    assert [_fn(c, f) for c, f in _rows(table)] == [
        Fn("string", "ltrim", "ltrim('  ab ')", "VARCHAR", "ab "),
        Fn("date/time", "hour", "hour(TIMESTAMP '2024-03-05 06:07:08.123456789')", "BIGINT", "6", "a note"),
        Fn("date/time", "now", None, note="not here"),
        Fn("time series", "unnest", ""),
    ]
    for bad in ("chr | chr(65) | VARCHAR", "chr", "shuffle | refused | a | b", "x | a | b | c | d | e"):
        with pytest.raises(ValueError, match="malformed row"):
            _fn("string", [f.strip() for f in bad.split("|")])


# -- operators and aggregates over the five measure types ------------------------------------------

ROWS = [
    (7, 1.5, "abc", True, dt.datetime(2026, 1, 1, 0, 0, 0, 123456)),
    (-45, 2.25, "xyz", False, dt.datetime(2026, 1, 1, 0, 1, 0)),
    (10, -0.5, "Abd", True, dt.datetime(2025, 12, 31, 23, 59, 59, 999999)),
]


def _d(x: float) -> str:
    return repr(float(x))


def _b(x: bool) -> str:
    return "true" if x else "false"


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S.%f") + "000"


def _tdiv(a: int, b: int) -> int:  # Trino: truncating integer division, remainder with the dividend's sign
    q = abs(a) // abs(b)
    return q if (a >= 0) == (b > 0) else -q


def _tmod(a: int, b: int) -> int:
    return a - b * _tdiv(a, b)


def _mysql_format(t: dt.datetime) -> str:
    """Trino's date_format specifiers (MySQL's), computed with Python's strftime and by hand."""
    h12 = t.hour % 12 or 12
    return "|".join(
        [
            t.strftime("%Y|%y|%m"),
            str(t.month),
            t.strftime("%d"),
            str(t.day),
            t.strftime("%H"),
            str(t.hour),
            f"{h12:02d}",
            str(h12),
            t.strftime("%M|%S"),
            f"{t.microsecond:06d}",
            t.strftime("%p|%b|%B|%a|%A|%j"),
            t.strftime("%H:%M:%S"),
        ]
    )


def _human(n: int) -> str:
    parts = []
    for size, unit in ((604800, "week"), (86400, "day"), (3600, "hour"), (60, "minute"), (1, "second")):
        v, n = divmod(n, size)
        if v:
            parts.append(f"{v} {unit}{'' if v == 1 else 's'}")
    return ", ".join(parts) or "0 seconds"


Row = tuple[int, float, str, bool, dt.datetime]
PER_ROW: list[tuple[str, str, Callable[[Row], str]]] = [
    ("b + 3", "BIGINT", lambda r: str(r[0] + 3)),
    ("b - 100", "BIGINT", lambda r: str(r[0] - 100)),
    ("b * b", "BIGINT", lambda r: str(r[0] * r[0])),
    ("b / 4", "BIGINT", lambda r: str(_tdiv(r[0], 4))),
    ("b % 4", "BIGINT", lambda r: str(_tmod(r[0], 4))),
    ("-b", "BIGINT", lambda r: str(-r[0])),
    ("abs(b)", "BIGINT", lambda r: str(abs(r[0]))),
    ("b > 5", "BOOLEAN", lambda r: _b(r[0] > 5)),
    ("b + d", "DOUBLE", lambda r: _d(r[0] + r[1])),
    ("d * 2", "DOUBLE", lambda r: _d(r[1] * 2)),
    ("d / 4", "DOUBLE", lambda r: _d(r[1] / 4)),
    ("b / 2.0E0", "DOUBLE", lambda r: _d(r[0] / 2.0)),
    ("-d", "DOUBLE", lambda r: _d(-r[1])),
    ("d >= 1.5", "BOOLEAN", lambda r: _b(r[1] >= 1.5)),
    ("CAST(b AS DOUBLE)", "DOUBLE", lambda r: _d(float(r[0]))),
    ("CAST(d AS BIGINT)", "BIGINT", lambda r: str(round(r[1]))),
    ("s || '!'", "VARCHAR", lambda r: r[2] + "!"),
    ("upper(s)", "VARCHAR", lambda r: r[2].upper()),
    ("length(s)", "BIGINT", lambda r: str(len(r[2]))),
    ("from_base(s, 36)", "BIGINT", lambda r: str(int(r[2], 36))),
    (
        "human_readable_seconds(abs(b) * 3601 + d)",
        "VARCHAR",
        lambda r: _human(math.floor(abs(abs(r[0]) * 3601 + r[1]) + 0.5)),
    ),
    ("s < 'b'", "BOOLEAN", lambda r: _b(r[2] < "b")),
    ("s LIKE 'a%'", "BOOLEAN", lambda r: _b(r[2].startswith("a"))),
    ("regexp_like(s, '^[aA]b')", "BOOLEAN", lambda r: _b(re.search("^[aA]b", r[2]) is not None)),
    ("f AND b > 0", "BOOLEAN", lambda r: _b(r[3] and r[0] > 0)),
    ("f OR b > 0", "BOOLEAN", lambda r: _b(r[3] or r[0] > 0)),
    ("NOT f", "BOOLEAN", lambda r: _b(not r[3])),
    ("CASE WHEN f THEN 1 ELSE 0 END", "BIGINT", lambda r: str(int(r[3]))),
    ("if(f, d, 0.0E0)", "DOUBLE", lambda r: _d(r[1] if r[3] else 0.0)),
    ("ts", "TIMESTAMP", lambda r: _ts(r[4])),
    ("ts + 1h", "TIMESTAMP", lambda r: _ts(r[4] + dt.timedelta(hours=1))),
    ("bin(ts, 1m)", "TIMESTAMP", lambda r: _ts(r[4].replace(second=0, microsecond=0))),
    ("date_trunc('hour', ts)", "TIMESTAMP", lambda r: _ts(r[4].replace(minute=0, second=0, microsecond=0))),
    ("hour(ts)", "BIGINT", lambda r: str(r[4].hour)),
    (
        "to_milliseconds(ts)",
        "BIGINT",
        lambda r: str((r[4] - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1)),
    ),
    ("to_iso8601(ts)", "VARCHAR", lambda r: r[4].strftime("%Y-%m-%dT%H:%M:%S.%f") + "000Z"),
    ("ts > TIMESTAMP '2026-01-01 00:00:00'", "BOOLEAN", lambda r: _b(r[4] > dt.datetime(2026, 1, 1))),
    ("date_format(ts, '%Y/%m/%d %H:%i')", "VARCHAR", lambda r: r[4].strftime("%Y/%m/%d %H:%M")),
    (
        "date_format(ts, '%Y|%y|%m|%c|%d|%e|%H|%k|%h|%l|%i|%s|%f|%p|%b|%M|%a|%W|%j|%T')",
        "VARCHAR",
        lambda r: _mysql_format(r[4]),
    ),
    (
        "date_parse(date_format(ts, '%Y-%m-%d %H:%i:%s'), '%Y-%m-%d %H:%i:%s')",
        "TIMESTAMP",
        lambda r: _ts(r[4].replace(microsecond=0)),
    ),
]
AGG: list[tuple[str, str, Callable[[list[Row]], str]]] = [
    ("sum(b)", "BIGINT", lambda rs: str(sum(r[0] for r in rs))),
    ("sum(b) / 4", "BIGINT", lambda rs: str(_tdiv(sum(r[0] for r in rs), 4))),
    ("min(b)", "BIGINT", lambda rs: str(min(r[0] for r in rs))),
    ("max(b)", "BIGINT", lambda rs: str(max(r[0] for r in rs))),
    ("avg(b)", "DOUBLE", lambda rs: _d(sum(r[0] for r in rs) / len(rs))),
    ("count(*)", "BIGINT", lambda rs: str(len(rs))),
    ("count_if(b > 0)", "BIGINT", lambda rs: str(sum(1 for r in rs if r[0] > 0))),
    ("sum(CASE WHEN b > 0 THEN 1 ELSE 0 END)", "BIGINT", lambda rs: str(sum(1 for r in rs if r[0] > 0))),
    ("sum(d)", "DOUBLE", lambda rs: _d(sum(r[1] for r in rs))),
    ("avg(d)", "DOUBLE", lambda rs: _d(sum(r[1] for r in rs) / len(rs))),
    ("max(d)", "DOUBLE", lambda rs: _d(max(r[1] for r in rs))),
    ("min(s)", "VARCHAR", lambda rs: min(r[2] for r in rs)),
    ("max(s)", "VARCHAR", lambda rs: max(r[2] for r in rs)),
    ("approx_distinct(s)", "BIGINT", lambda rs: str(len({r[2] for r in rs}))),
    ("bool_and(f)", "BOOLEAN", lambda rs: _b(all(r[3] for r in rs))),
    ("bool_or(f)", "BOOLEAN", lambda rs: _b(any(r[3] for r in rs))),
    ("min(ts)", "TIMESTAMP", lambda rs: _ts(min(r[4] for r in rs))),
    ("max(ts)", "TIMESTAMP", lambda rs: _ts(max(r[4] for r in rs))),
]


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    c = duckdb.connect()
    c.execute("CREATE SCHEMA db")
    c.execute("CREATE TABLE db.t (b BIGINT, d DOUBLE, s VARCHAR, f BOOLEAN, ts TIMESTAMP_NS)")
    c.executemany("INSERT INTO db.t VALUES (?, ?, ?, ?, ?)", ROWS)
    return c


@pytest.mark.parametrize(("expr", "typ", "want"), PER_ROW, ids=[e for e, _, _ in PER_ROW])
def test_operator_types_and_values(con: duckdb.DuckDBPyConnection, expr: str, typ: str, want: Any) -> None:
    r = execute_query(con.cursor(), f"SELECT {expr} AS v FROM db.t ORDER BY b", now=NOW)
    assert _type(r.column_info[0]) == typ
    assert [_value(row["Data"][0]) for row in r.rows] == [want(x) for x in sorted(ROWS)]


@pytest.mark.parametrize(("expr", "typ", "want"), AGG, ids=[e for e, _, _ in AGG])
def test_aggregate_types_and_values(con: duckdb.DuckDBPyConnection, expr: str, typ: str, want: Any) -> None:
    r = execute_query(con.cursor(), f"SELECT {expr} AS v FROM db.t", now=NOW)
    assert _type(r.column_info[0]) == typ
    assert _value(r.rows[0]["Data"][0]) == want(ROWS)
