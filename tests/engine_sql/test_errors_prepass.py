"""Unsupported or invalid SQL is a QueryValidationError naming the construct; the pre-pass rules."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.engine_sql.conftest import NOW, Data
from tsload.engine.query import QueryExecutionError, QueryValidationError, execute_query
from tsload.engine.sql.prepass import prepass

_TS = (
    "SELECT instance_name AS i, create_time_series(time, measure_value::double) AS cpu"
    " FROM devops.single GROUP BY 1"
)


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT frobnicate(1) FROM devops.single", "frobnicate"),
        ("SELECT * FROM devops.nosuch", "devops.nosuch"),
        ("SELECT * FROM nodb.single", "nodb.single"),
        ("SELECT nosuch_column FROM devops.single", "nosuch_column"),
        ("SELECT _version FROM devops.single", "_version"),
        ("SELECT create_time_series(time) FROM devops.single", "create_time_series"),
        (
            "SELECT cardinality(create_time_series(time, measure_value::double)) FROM devops.single",
            "TIMESERIES",
        ),
        (f"SELECT i FROM ({_TS}) WHERE cpu IS NOT NULL", "cpu"),
        (f"SELECT i FROM ({_TS}) ORDER BY cpu", "cpu"),
        (f"SELECT filter(cpu, x -> x > 1) FROM ({_TS})", "cpu"),
        (f"SELECT i FROM ({_TS}) GROUP BY i, cpu", "cpu"),
        (f"SELECT (SELECT cardinality(cpu)) FROM ({_TS})", "cpu"),
        (f"{_TS} ORDER BY cpu", "cpu"),
        (f"{_TS} HAVING cpu IS NOT NULL", "cpu"),
        (f"SELECT * FROM ({_TS}) CROSS JOIN UNNEST(cpu) WITH ORDINALITY AS t (a, b, n)", "ORDINALITY"),
        (f"SELECT * FROM ({_TS}) CROSS JOIN UNNEST(cpu) AS t (a, b, c)", "UNNEST"),
        (f"SELECT unnest(cpu) FROM ({_TS})", "UNNEST"),
        ("SELECT interpolate_linear(x, y) FROM devops.single", "interpolate_linear"),
        (
            f"SELECT interpolate_linear(interpolate_locf(cpu, ARRAY[now()]), ARRAY[now()]) FROM ({_TS})",
            "interpolate",
        ),
        (f"SELECT interpolate_spline_cubic(cpu, ARRAY[now()]) FROM ({_TS})", "interpolate_spline_cubic"),
        (
            "SELECT interpolate_spline_cubic(create_time_series(time, measure_value::double), now())"
            " FROM devops.single",
            "interpolate_spline_cubic",
        ),
        ("SELECT * FROM UNNEST(ARRAY[1, 2])", "UNNEST"),
        ("INSERT INTO devops.single (cell) VALUES ('x')", "INSERT"),
        ("DROP TABLE devops.single", "DROP"),
        ("SELECT * FROM read_csv('/etc/passwd')", "read_csv"),
        ("SELECT * FROM _tsload.columns", "_tsload.columns"),
        ("SELECT * FROM single", "single"),
        ("SELECT 1; SELECT 2", "one SQL statement"),
        ("SELECT 'unterminated FROM devops.single", "Unterminated"),
        ("SELECT bin(time) FROM devops.single", "bin"),
        ("SELECT 1500ns", "1500ns"),
        ("SHOW TABLES FROM nodb", "nodb"),
        ("DESCRIBE devops.nosuch", "devops.nosuch"),
    ],
)
def test_refused_with_name(data: Data, sql: str, named: str) -> None:
    with pytest.raises(QueryValidationError) as info:
        execute_query(data.con.cursor(), sql, now=NOW)
    assert named.lower() in str(info.value).lower()


def test_runtime_failure_is_execution_error(data: Data) -> None:
    with pytest.raises((QueryExecutionError, QueryValidationError)):
        execute_query(data.con.cursor(), "SELECT CAST('abc' AS BIGINT) FROM devops.single", now=NOW)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("time > ago(15m)", "time > ago(INTERVAL '15' MINUTE)"),
        (
            "x - 1h + 3d - 10s - 100ms - 5us - 2000ns",
            "x - INTERVAL '1' HOUR + INTERVAL '3' DAY - INTERVAL '10' SECOND - INTERVAL '100' MILLISECOND"
            " - INTERVAL '5' MICROSECOND - INTERVAL '2' MICROSECOND",
        ),
        ("avg(measure_value::double)", 'avg("measure_value::double")'),
        ("MEASURE_VALUE::BIGINT", '"measure_value::bigint"'),
        ("'1h' AND \"a 1h\" AND 1h", "'1h' AND \"a 1h\" AND INTERVAL '1' HOUR"),
        ("'measure_value::double'", "'measure_value::double'"),
        ("cell1h + x1m + 1.5", "cell1h + x1m + 1.5"),
        ("from_iso8601_timestamp('2026-01-01T00:00:00Z')", "__tsload_iso8601('2026-01-01T00:00:00Z')"),
        ("'it''s 1h'", "'it''s 1h'"),
    ],
)
def test_prepass(text: str, expected: str) -> None:
    assert prepass(text) == expected


_ALPHABET = st.sampled_from(
    [
        "SELECT ",
        "FROM ",
        "devops.single",
        '"devops"."multi"',
        "WHERE ",
        "time",
        " > ",
        "ago(",
        "15m",
        "1h",
        ")",
        "(",
        "'",
        '"',
        ",",
        "measure_value::double",
        "bin(time, 1m)",
        "now()",
        "count(*)",
        "create_time_series(time, measure_value::double)",
        "interpolate_linear(",
        "interpolate_locf(",
        "sequence(",
        "min(time)",
        "CROSS JOIN UNNEST(",
        " AS t (time, value)",
        "ARRAY[",
        " AND ",
        "approx_percentile(",
        "0.5",
        "GROUP BY ",
        "1",
        "x",
        "`",
        "/*",
        "\\",
        ";",
        "--",
        "::",
        "1ns",
        "CASE WHEN ",
        " END",
        "*",
    ]
)


@settings(max_examples=150, deadline=None)
@given(st.lists(_ALPHABET, max_size=14))
def test_fuzz_only_query_errors(data: Data, parts: list[str]) -> None:
    sql = "".join(parts)
    with contextlib.suppress(QueryValidationError, QueryExecutionError):
        execute_query(data.con.cursor(), sql, now=NOW)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_fuzz_prepass_text(text: str) -> None:
    with contextlib.suppress(QueryValidationError):
        prepass(text)


def test_integer_division_is_integer_as_in_timestream(data: Data) -> None:
    # Timestream (Trino semantics): BIGINT / BIGINT truncates; a double operand divides exactly
    got = execute_query(
        data.con.cursor(),
        "SELECT 7 / 2 AS a, -7 / 2 AS b, 7.0 / 2 AS c, count(*) / 2 AS d FROM devops.single",
        now=NOW,
    )
    (n,) = data.con.execute("SELECT count(*) FROM devops.single").fetchone() or (0,)
    assert [c["Type"]["ScalarType"] for c in got.column_info][:2] == ["BIGINT", "BIGINT"]
    row = [d.get("ScalarValue") for d in got.rows[0]["Data"]]
    assert row[0] == "3" and row[1] == "-3" and float(row[2] or 0) == 3.5
    assert row[3] == str(int(n) // 2)
    # the engine's own SQL on other cursors keeps DuckDB's float division
    assert data.con.execute("SELECT 7 / 2").fetchone() == (3.5,)
