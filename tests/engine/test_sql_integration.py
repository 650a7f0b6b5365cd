"""Real Timestream SQL through the engine's `tsload.engine.query`, end to end over the wire: the
engine stores what boto3 wrote, its SQL module translates and runs the SQL, the engine pages the
result. Expected values are computed here from the records written."""

from __future__ import annotations

import datetime
import statistics
import time
from typing import Any

import pytest

from tests.engine.conftest import Running, scalar_rows

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


def _ms(text: str) -> float:
    """Epoch milliseconds of a Timestream TIMESTAMP string (UTC)."""
    day = datetime.datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S").replace(tzinfo=datetime.UTC)
    return day.timestamp() * 1000 + int(text[20:]) / 1e6


def test_time_series_over_the_wire(tsq: Any, data: dict[str, list[float]]) -> None:
    # stock boto3 parses TimeSeriesMeasureValueColumnInfo / TimeSeriesValue; the series holds what
    # was written (value of host h, k minutes ago: (r*100 + h*10 + k) * 0.5), sorted by time
    sql = (
        "SELECT region, host, create_time_series(time, measure_value::double) AS cpu,"
        " interpolate_linear(create_time_series(time, measure_value::double),"
        " sequence(min(time), max(time), 30s)) AS fine"
        f" FROM {DB}.cpu WHERE measure_name = 'cpu_user' GROUP BY region, host ORDER BY region, host"
    )
    out = tsq.query(QueryString=sql)
    series_type = {"TimeSeriesMeasureValueColumnInfo": {"Type": {"ScalarType": "DOUBLE"}}}
    assert [c["Type"] for c in out["ColumnInfo"][2:]] == [series_type, series_type]
    assert len(out["Rows"]) == 10
    for row in out["Rows"]:
        region, host = (d["ScalarValue"] for d in row["Data"][:2])
        r, h = sorted(data).index(region), int(host[1:])
        points = row["Data"][2]["TimeSeriesValue"]
        assert [float(p["Value"]["ScalarValue"]) for p in points] == [
            round((r * 100 + h * 10 + k) * 0.5, 2) for k in range(19, -1, -1)
        ]
        times = [_ms(p["Time"]) for p in points]
        assert times == sorted(times) and times[-1] - times[0] == 19 * 60_000
        fine = row["Data"][3]["TimeSeriesValue"]
        assert len(fine) == 39
        for p in fine:  # the written values are linear in time: half a step per minute, falling
            k = (times[-1] - _ms(p["Time"])) / 60_000
            assert float(p["Value"]["ScalarValue"]) == pytest.approx((r * 100 + h * 10 + k) * 0.5)


def test_unnest_of_a_series_over_the_wire(tsq: Any, data: dict[str, list[float]]) -> None:
    sql = (
        f"WITH s AS (SELECT region, create_time_series(time, measure_value::double) AS cpu FROM {DB}.cpu"
        " WHERE measure_name = 'cpu_user' GROUP BY region, host)"
        " SELECT region, count(*) AS n, sum(t.value) AS total"
        " FROM s CROSS JOIN UNNEST(cpu) AS t (time, value) GROUP BY region ORDER BY region"
    )
    rows = scalar_rows(tsq.query(QueryString=sql))
    assert [r[0] for r in rows] == sorted(data)
    for row in rows:
        vals = data[str(row[0])]
        assert int(str(row[1])) == len(vals) and float(str(row[2])) == pytest.approx(sum(vals))
