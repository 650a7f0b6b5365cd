"""The operator/aggregate sweep of test_functions.py through `tsload serve`'s engine over HTTP with
stock boto3: multi-measure records carrying a BIGINT, DOUBLE, VARCHAR, BOOLEAN and TIMESTAMP measure,
the ColumnInfo types and ScalarValue strings as a boto3 user parses them."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import Running, engine_in_thread, make_config
from tests.engine_sql.test_functions import AGG, PER_ROW, Row

ROWS: list[Row] = [
    (7, 1.5, "abc", True, dt.datetime(2026, 1, 1, 0, 0, 0, 123000)),
    (-45, 2.25, "xyz", False, dt.datetime(2026, 1, 1, 0, 1, 0)),
    (10, -0.5, "Abd", True, dt.datetime(2025, 12, 31, 23, 59, 59, 999000)),
]


def _ms(t: dt.datetime) -> str:
    return str((t - dt.datetime(1970, 1, 1)) // dt.timedelta(milliseconds=1))


@pytest.fixture(scope="module")
def tsq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with engine_in_thread(make_config(Path(tmp_path_factory.mktemp("wire")))) as eng:
        _fill(eng)
        yield eng.client("timestream-query")


def _fill(eng: Running) -> None:
    w = eng.client("timestream-write")
    w.create_database(DatabaseName="typesdb")
    w.create_table(DatabaseName="typesdb", TableName="typed")
    now = int(time.time() * 1000)
    records = []
    for i, (b, d, s, f, ts) in enumerate(ROWS):
        measures = [
            ("b", str(b), "BIGINT"),
            ("d", repr(d), "DOUBLE"),
            ("s", s, "VARCHAR"),
            ("f", "true" if f else "false", "BOOLEAN"),
            ("ts", _ms(ts), "TIMESTAMP"),
        ]
        records.append(
            {
                "Dimensions": [{"Name": "host", "Value": f"h{i}"}],
                "MeasureName": "m",
                "MeasureValueType": "MULTI",
                "MeasureValues": [{"Name": n, "Value": v, "Type": t} for n, v, t in measures],
                "Time": str(now - i * 1000),
            }
        )
    w.write_records(DatabaseName="typesdb", TableName="typed", Records=records)


def _type(col: dict[str, Any]) -> str:
    return str(col["Type"]["ScalarType"])


def _value(d: dict[str, Any]) -> str:
    return str(d.get("ScalarValue", ""))


@pytest.mark.parametrize(("expr", "typ", "want"), PER_ROW, ids=[e for e, _, _ in PER_ROW])
def test_operator_over_the_wire(tsq: Any, expr: str, typ: str, want: Any) -> None:
    out = tsq.query(QueryString=f'SELECT {expr} AS v FROM "typesdb"."typed" ORDER BY b')
    assert _type(out["ColumnInfo"][0]) == typ
    assert [_value(r["Data"][0]) for r in out["Rows"]] == [want(x) for x in sorted(ROWS)]


@pytest.mark.parametrize(("expr", "typ", "want"), AGG, ids=[e for e, _, _ in AGG])
def test_aggregate_over_the_wire(tsq: Any, expr: str, typ: str, want: Any) -> None:
    out = tsq.query(QueryString=f'SELECT {expr} AS v FROM "typesdb"."typed"')
    assert _type(out["ColumnInfo"][0]) == typ
    assert _value(out["Rows"][0]["Data"][0]) == want(ROWS)
