"""Real Timestream SQL through helper S's `tsload.engine.query` (no stand-in), end to end over
the wire: the engine stores what boto3 wrote, S's module translates and runs the SQL, the engine
pages the result. Expected values are computed here from the records written."""

from __future__ import annotations

import statistics
import time
from typing import Any

import pytest

from tests.engine.conftest import Running, scalar_rows

pytest.importorskip("tsload.engine.query", reason="helper S's SQL module is not in this checkout yet")

DB = "sqldb"


@pytest.fixture(scope="module")
def data(tsw: Any) -> dict[str, list[float]]:
    tsw.create_database(DatabaseName=DB)
    tsw.create_table(DatabaseName=DB, TableName="cpu")
    now = int(time.time() * 1000)
    values: dict[str, list[float]] = {"eu-west-1": [], "us-east-1": []}
    for r, region in enumerate(values):
        for host in range(5):
            recs = []
            for k in range(20):
                v = round((r * 100 + host * 10 + k) * 0.5, 2)
                values[region].append(v)
                t = str(now - k * 60_000)
                recs.append({"MeasureName": "cpu_user", "MeasureValue": str(v), "Time": t})
            tsw.write_records(
                DatabaseName=DB,
                TableName="cpu",
                CommonAttributes={
                    "Dimensions": [
                        {"Name": "region", "Value": region},
                        {"Name": "host", "Value": f"h{host}"},
                    ],
                    "MeasureValueType": "DOUBLE",
                },
                Records=recs,
            )
    return values


def test_aggregate_matches_python(engine: Running, tsq: Any, data: dict[str, list[float]]) -> None:
    sql = (
        f'SELECT region, avg(measure_value::double) AS a, count(*) AS n FROM "{DB}"."cpu" '
        "WHERE measure_name = 'cpu_user' AND time BETWEEN ago(1h) AND now() GROUP BY region ORDER BY region"
    )
    out = tsq.query(QueryString=sql)
    assert [c["Name"] for c in out["ColumnInfo"]] == ["region", "a", "n"]
    rows = scalar_rows(out)
    assert [r[0] for r in rows] == sorted(data)
    for row in rows:
        vals = data[str(row[0])]
        assert float(str(row[1])) == pytest.approx(statistics.fmean(vals))
        assert int(str(row[2])) == len(vals)


def test_real_sql_pages_and_hides_version(tsq: Any, data: dict[str, list[float]]) -> None:
    sql = f"SELECT * FROM {DB}.cpu ORDER BY time, host, region"
    pages = list(tsq.get_paginator("query").paginate(QueryString=sql, PaginationConfig={"PageSize": 60}))
    assert sum(len(p["Rows"]) for p in pages) == sum(len(v) for v in data.values())
    assert len(pages) >= 4
    names = [c["Name"] for c in pages[0]["ColumnInfo"]]
    assert "_version" not in names and "time" in names and "measure_value::double" in names


def test_unsupported_sql_is_a_validation_error(tsq: Any, data: dict[str, list[float]]) -> None:
    with pytest.raises(tsq.exceptions.ValidationException):
        tsq.query(QueryString=f"SELECT no_such_column FROM {DB}.cpu")
