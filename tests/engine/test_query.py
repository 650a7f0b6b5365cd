"""Query plumbing around the SQL engine: QueryId, NextToken paging by MaxRows and ~1 MB,
QueryStatus, CancelQuery and error mapping, through the engine's own SQL translation."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import Running, scalar_rows

DB = "qdb"


@pytest.fixture(scope="module")
def filled(tsw: Any) -> str:
    """2,500 rows with values 0..2499 and a 1,500-byte VARCHAR table for the size limit."""
    tsw.create_database(DatabaseName=DB)
    tsw.create_table(DatabaseName=DB, TableName="nums")
    t0 = int(time.time() * 1000) - 60_000
    for start in range(0, 2500, 100):
        tsw.write_records(
            DatabaseName=DB,
            TableName="nums",
            CommonAttributes={"Dimensions": [{"Name": "host", "Value": "h"}], "MeasureValueType": "BIGINT"},
            Records=[
                {"MeasureName": "n", "MeasureValue": str(i), "Time": str(t0 + i)}
                for i in range(start, start + 100)
            ],
        )
    tsw.create_table(DatabaseName=DB, TableName="wide")
    for start in range(0, 1000, 100):
        tsw.write_records(
            DatabaseName=DB,
            TableName="wide",
            CommonAttributes={"Dimensions": [{"Name": "host", "Value": "h"}], "MeasureValueType": "VARCHAR"},
            Records=[
                {"MeasureName": "s", "MeasureValue": f"{i:05d}" + "x" * 1495, "Time": str(t0 + i)}
                for i in range(start, start + 100)
            ],
        )
    return DB


def test_paging_by_max_rows(engine: Running, tsq: Any, filled: str) -> None:
    sql = f'SELECT "measure_value::bigint" FROM {filled}.nums ORDER BY 1'
    first = tsq.query(QueryString=sql)
    assert len(first["Rows"]) == 1000  # MaxRows defaults to 1000
    assert first["ColumnInfo"] == [{"Name": "measure_value::bigint", "Type": {"ScalarType": "BIGINT"}}]
    status = first["QueryStatus"]
    assert status["ProgressPercentage"] == 100.0
    # Timestream meters at least 10 MB per query, and never less than it scanned
    assert 0 < status["CumulativeBytesScanned"] <= status["CumulativeBytesMetered"]
    assert status["CumulativeBytesMetered"] >= 10_000_000
    values: list[int] = []
    pages = 0
    for page in tsq.get_paginator("query").paginate(QueryString=sql, PaginationConfig={"PageSize": 700}):
        assert page["QueryId"] == page["QueryId"].strip() and len(page["Rows"]) <= 700
        values += [int(r[0] or -1) for r in scalar_rows(page)]
        pages += 1
    assert values == list(range(2500))
    assert pages == 4


def test_pages_stop_near_one_megabyte(tsq: Any, filled: str) -> None:
    sql = f'SELECT "measure_value::varchar" FROM {filled}.wide ORDER BY 1'
    sizes = []
    token = None
    seen: list[str] = []
    while True:
        kw = {"QueryString": sql, "MaxRows": 1000}
        if token:
            kw["NextToken"] = token
        page = tsq.query(**kw)
        sizes.append(len(page["Rows"]))
        seen += [r[0][:5] for r in scalar_rows(page)]
        token = page.get("NextToken")
        if not token:
            break
    assert max(sizes) < 1000 and len(sizes) >= 2
    assert seen == [f"{i:05d}" for i in range(1000)]


def test_next_token_rules_and_cancel(tsq: Any, filled: str) -> None:
    sql = f"SELECT * FROM {filled}.nums"
    page = tsq.query(QueryString=sql, MaxRows=10)
    with pytest.raises(tsq.exceptions.ValidationException, match="same as in the request"):
        tsq.query(QueryString=sql + " LIMIT 5", NextToken=page["NextToken"])
    page = tsq.query(QueryString=sql, MaxRows=10)
    msg = tsq.cancel_query(QueryId=page["QueryId"])["CancellationMessage"]
    assert page["QueryId"] in msg and "cancelled" in msg
    with pytest.raises(tsq.exceptions.ValidationException, match="invalid or has expired"):
        tsq.query(QueryString=sql, NextToken=page["NextToken"])
    done = tsq.cancel_query(QueryId=page["QueryId"])["CancellationMessage"]
    assert "already finished" in done


def test_sql_errors_are_validation_exceptions(tsq: Any, filled: str) -> None:
    with pytest.raises(tsq.exceptions.ValidationException, match="unsupported_thing"):
        tsq.query(QueryString="SELECT unsupported_thing()")
    with pytest.raises(tsq.exceptions.ValidationException):
        tsq.query(QueryString=f"SELECT no_such_column FROM {filled}.nums")


def test_query_sees_every_acknowledged_write(tsw: Any, tsq: Any, filled: str) -> None:
    tsw.create_table(DatabaseName=filled, TableName="fresh")
    t = int(time.time() * 1000)
    for i in range(5):
        tsw.write_records(
            DatabaseName=filled,
            TableName="fresh",
            Records=[{"MeasureName": "m", "MeasureValue": str(i), "Time": str(t + i)}],
        )
        count = scalar_rows(tsq.query(QueryString=f"SELECT count(*) FROM {filled}.fresh"))[0][0]
        assert count == str(i + 1)


async def test_aioboto3_clients(engine: Running, filled: str) -> None:
    import aioboto3

    from tests.engine.conftest import CREDS, NO_RETRY

    session = aioboto3.Session(**CREDS)
    async with (
        session.client("timestream-write", endpoint_url=engine.url, config=NO_RETRY) as w,
        session.client("timestream-query", endpoint_url=engine.url, config=NO_RETRY) as q,
    ):
        assert (await w.describe_endpoints())["Endpoints"][0]["Address"] == engine.url.removeprefix("http://")
        assert (await q.describe_endpoints())["Endpoints"][0]["Address"] == engine.url.removeprefix("http://")
        await w.create_table(DatabaseName=filled, TableName="aio")
        resp = await w.write_records(
            DatabaseName=filled,
            TableName="aio",
            CommonAttributes={
                "Dimensions": [{"Name": "host", "Value": "a"}],
                "Time": str(int(time.time() * 1000)),
            },
            Records=[
                {"MeasureName": "x", "MeasureValue": "1.5"},
                {"MeasureName": "y", "MeasureValue": "2.5"},
            ],
        )
        assert resp["RecordsIngested"]["Total"] == 2
        with pytest.raises(w.exceptions.ConflictException):
            await w.create_table(DatabaseName=filled, TableName="aio")
        out = await q.query(QueryString=f'SELECT sum("measure_value::double") FROM {filled}.aio')
        assert scalar_rows(out) == [["4.0"]]
        tables = (await w.list_tables(DatabaseName=filled))["Tables"]
        assert "aio" in {t["TableName"] for t in tables}


def test_long_query_polls_and_cancels(tmp_path: Path) -> None:
    from tests.engine.conftest import engine_in_thread, fill_numbers, make_config, quick_sql, slow_sql

    with engine_in_thread(make_config(tmp_path, query_wait=0.05)) as eng:
        fill_numbers(eng.client("timestream-write"), "ldb", "nums", 2000)
        q = eng.client("timestream-query")
        slow = slow_sql("ldb", "nums")
        first = q.query(QueryString=slow)
        assert first["Rows"] == [] and first["NextToken"]
        assert first["QueryStatus"]["ProgressPercentage"] == 0.0
        assert "cancelled" in q.cancel_query(QueryId=first["QueryId"])["CancellationMessage"]
        with pytest.raises(q.exceptions.ValidationException):
            q.query(QueryString=slow, NextToken=first["NextToken"])
        # a query that outlasts the wait is polled to completion by the stock paginator
        pages = list(q.get_paginator("query").paginate(QueryString=quick_sql("ldb", "nums")))
        assert len(pages) >= 2 and pages[0]["Rows"] == []
        rows = [r for p in pages for r in scalar_rows(p)]
        assert len(rows) == 1 and float(rows[0][0] or 0) == 1_999_000**2 * 190
        assert all(p["QueryId"] == pages[0]["QueryId"] for p in pages)
        deadline = time.monotonic() + 30
        while eng.stats()["running_queries"] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert eng.stats()["running_queries"] == 0


def test_long_query_blocks_neither_writes_nor_queries(tmp_path: Path) -> None:
    from tests.engine.conftest import engine_in_thread, fill_numbers, make_config, slow_sql

    with engine_in_thread(make_config(tmp_path, query_wait=0.05)) as eng:
        w = eng.client("timestream-write")
        q = eng.client("timestream-query")
        fill_numbers(w, "ldb", "nums", 2000)
        w.create_database(DatabaseName="cdb")
        w.create_table(DatabaseName="cdb", TableName="ctab")
        slow = q.query(QueryString=slow_sql("ldb", "nums"))
        deadline = time.monotonic() + 10  # it starts once the flush of the writes above is done
        while eng.stats()["running_queries"] == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert slow["NextToken"] and eng.stats()["running_queries"] == 1
        flushes = eng.stats()["flushes"]
        t = int(time.time() * 1000)
        for i in range(3):
            w.write_records(
                DatabaseName="cdb",
                TableName="ctab",
                Records=[{"MeasureName": "m", "MeasureValue": str(i), "Time": str(t + i)}],
            )
        sql = 'SELECT sum("measure_value::double") FROM cdb.ctab'
        out = q.query(QueryString=sql)
        while not out["Rows"] and out.get("NextToken"):  # not done within query_wait: page on
            out = q.query(QueryString=sql, NextToken=out["NextToken"])
        assert scalar_rows(out) == [["3.0"]]  # flushed and answered while the slow query runs
        stats = eng.stats()
        assert stats["flushes"] > flushes and stats["running_queries"] == 1
        q.cancel_query(QueryId=slow["QueryId"])


def test_stop_interrupts_running_queries(tmp_path: Path) -> None:
    from tests.engine.conftest import engine_in_thread, fill_numbers, make_config, slow_sql

    with engine_in_thread(make_config(tmp_path, query_wait=0.05)) as eng:
        fill_numbers(eng.client("timestream-write"), "ldb", "nums", 2000)
        q = eng.client("timestream-query")
        first = q.query(QueryString=slow_sql("ldb", "nums"))
        assert first["NextToken"] and eng.stats()["running_queries"] == 1
    # leaving the block stopped the engine cleanly (the fixture raises otherwise)
    assert eng.engine.store.running_queries == 0


def test_server_time_of_first_pages_is_in_stats(tmp_path: Path) -> None:
    from tests.engine.conftest import EngineConfig, engine_in_thread

    with engine_in_thread(EngineConfig(data_dir=tmp_path / "data")) as fresh:
        assert fresh.stats()["query_server_ms"] is None
        tsq = fresh.client("timestream-query")
        walls = []
        for _ in range(5):
            started = time.perf_counter()
            pages = list(tsq.get_paginator("query").paginate(
                QueryString="SELECT 1 AS x", PaginationConfig={"PageSize": 1000}))
            walls.append((time.perf_counter() - started) * 1e3)
            assert len(pages) == 1
        got = fresh.stats()["query_server_ms"]
    assert got["count"] == 5  # one per query (later pages of a query are not counted)
    # the server's part of each round trip: positive, and less than what the client waited
    assert 0 < got["p50"] <= got["p99"] < max(walls) and got["mean"] < sum(walls) / len(walls)
