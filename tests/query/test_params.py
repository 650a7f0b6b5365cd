"""Filling templates safely, {end}, row_count wrapping, parameters from the model."""

from __future__ import annotations

import random

import duckdb
import pytest
import sqlglot
from hypothesis import given, settings
from hypothesis import strategies as st

from tsload._errors import ConfigError
from tsload.query import params as qp

NASTY = "eu-west-1'); DROP TABLE host_metrics; -- \"x\" {region} \\' ''"


def with_region(value: str) -> qp.QueryParams:
    return qp.QueryParams(**{**qp.FIXED_PARAMS.as_dict(), "region": value})


def test_dimension_value_stays_one_literal() -> None:
    sql = qp.render(
        "SELECT {region} AS v, {cell} AS c FROM {db}.{table}",
        database='my"db',
        table="t'x",
        end="now()",
        params=with_region(NASTY),
    )
    tree = sqlglot.parse_one(sql, read="trino")
    literals = [lit.this for lit in tree.find_all(sqlglot.exp.Literal) if lit.is_string]
    assert literals == [NASTY, qp.FIXED_PARAMS.cell]
    tables = list(tree.find_all(sqlglot.exp.Table))
    assert [(t.db, t.name) for t in tables] == [('my"db', "t'x")]
    assert len(sqlglot.parse(sql, read="trino")) == 1  # no second statement smuggled in


@settings(max_examples=200, deadline=None)
@given(
    st.text(alphabet=st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=40)
)
def test_any_value_round_trips_through_a_real_sql_engine(value: str) -> None:
    sql = qp.render("SELECT {region} AS v", database="d", table="t", end="now()", params=with_region(value))
    assert duckdb.sql(sql).fetchall() == [(value,)]


def test_identifiers_are_quoted() -> None:
    assert qp.sql_identifier('we"ird') == '"we""ird"'
    assert qp.sql_literal("it's") == "'it''s'"
    with pytest.raises(ConfigError):
        qp.sql_literal("a\x00b")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "now()"),
        ("now()", "now()"),
        ("ago(1h)", "ago(1h)"),
        ("now() - 2d", "now() - 2d"),
        ("2026-11-28T05:00:00Z", "from_iso8601_timestamp('2026-11-28T05:00:00Z')"),
        ("2026-11-28T06:00:00+01:00", "from_iso8601_timestamp('2026-11-28T05:00:00Z')"),
        ("2026-11-28 05:00:00.250", "from_iso8601_timestamp('2026-11-28T05:00:00.25Z')"),
    ],
)
def test_end_expression(text: str | None, expected: str) -> None:
    assert qp.end_expression(text) == expected


@pytest.mark.parametrize("text", ["yesterday", "now(); DROP TABLE x", "1h", "2026-13-01"])
def test_bad_end_time(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^query_end_time: an ISO-8601 time"):
        qp.end_expression(text)


def test_row_count_wraps_and_counts_rows() -> None:
    inner = "SELECT * FROM range(17) t(x) ORDER BY x DESC;\n"
    wrapped = qp.row_count(inner)
    assert wrapped == "SELECT COUNT(*)\nFROM (\nSELECT * FROM range(17) t(x) ORDER BY x DESC\n)\n"
    assert duckdb.sql(wrapped).fetchall() == [(17,)]


def test_model_params_are_a_real_host_and_its_event_set() -> None:
    from tsload.model.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(host_scale=1, instance_name_seed=12345))
    rng = random.Random(3)
    seen = set()
    for _ in range(50):
        p = qp.model_params(fleet, rng)
        seen.add(p.instance_name)
        assert p.instance_name.startswith(f"i-zaZswmJk-{p.microservice}-{p.silo}-")
        assert p.silo.startswith(p.cell + "-silo-") and p.cell.startswith(p.region + "-cell-")
        assert p.az.startswith(p.region + "-")
    assert len(seen) > 40  # sessions spread over the fleet


def test_rows_to_params() -> None:
    # a Page's rows: cells as text, None for NULL (tests/targets test the Timestream conversion)
    columns = ("instance_name", "process_name", "jdk_version")
    rows = [("i-1", "server", None)]
    assert qp.rows_as_dicts(columns, rows) == [
        {"instance_name": "i-1", "process_name": "server", "jdk_version": None}
    ]
