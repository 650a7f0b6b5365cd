"""WriteRecords semantics: CommonAttributes, limits, retention windows, duplicates and versions."""

from __future__ import annotations

import time
import urllib.error
import urllib.request
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from tests.engine.conftest import Running, scalar_rows

DB = "wdb"
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/timestream/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=" + "0" * 64
)


def raw_call(url: str, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any], dict[str, str]]:
    """A signed-looking request botocore would refuse to send (its client-side validation)."""
    req = urllib.request.Request(
        url + "/",
        data=orjson.dumps(body),
        method="POST",
        headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"Timestream_20181101.{op}",
            "X-Amz-Date": "20260101T000000Z",
            "Authorization": AUTH,
        },
    )
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, orjson.loads(r.read()), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, orjson.loads(e.read()), dict(e.headers)


def now_ms() -> int:
    return int(time.time() * 1000)


@pytest.fixture(scope="module")
def db(tsw: Any) -> str:
    tsw.create_database(DatabaseName=DB)
    return DB


def new_table(tsw: Any, name: str, mem_hours: int = 6, mag_days: int = 73000, magnetic: bool = False) -> str:
    tsw.create_table(
        DatabaseName=DB,
        TableName=name,
        RetentionProperties={
            "MemoryStoreRetentionPeriodInHours": mem_hours,
            "MagneticStoreRetentionPeriodInDays": mag_days,
        },
        MagneticStoreWriteProperties={"EnableMagneticStoreWrites": magnetic},
    )
    return name


HOST = [{"Name": "region", "Value": "eu-west-1"}, {"Name": "host", "Value": "h-1"}]


def stored_versions(engine: Running, db: str, table: str) -> list[int]:
    """The record versions as stored: the engine keeps them in a column its SQL does not expose
    (Timestream has no such column either), so read the DuckDB file's table directly."""
    cur = engine.engine.store._con.cursor()
    try:
        return [v for (v,) in cur.execute(f'SELECT _version FROM "{db}"."{table}"').fetchall()]
    finally:
        cur.close()


def test_common_attributes_merge_and_storage(engine: Running, db: str, tsw: Any, tsq: Any) -> None:
    table = new_table(tsw, "merge")
    t = now_ms()
    resp = tsw.write_records(
        DatabaseName=db,
        TableName=table,
        CommonAttributes={"Dimensions": HOST, "Time": str(t), "MeasureValueType": "DOUBLE"},
        Records=[
            {"MeasureName": "cpu", "MeasureValue": "1.5"},
            {"MeasureName": "mem", "MeasureValue": "42", "MeasureValueType": "BIGINT"},
            {"MeasureName": "cpu", "MeasureValue": "2.5", "Dimensions": [{"Name": "az", "Value": "a"}]},
            {
                "MeasureName": "up",
                "MeasureValue": "TRUE",
                "MeasureValueType": "BOOLEAN",
                "Time": str(t - 1000),
            },
            {"MeasureName": "note", "MeasureValue": "hello", "MeasureValueType": "VARCHAR"},
            {
                "MeasureName": "metrics",
                "MeasureValueType": "MULTI",
                "MeasureValues": [
                    {"Name": "a", "Value": "1.25", "Type": "DOUBLE"},
                    {"Name": "b", "Value": "7", "Type": "BIGINT"},
                    {"Name": "seen", "Value": str(t), "Type": "TIMESTAMP"},
                ],
            },
        ],
    )
    assert resp["RecordsIngested"] == {"Total": 6, "MemoryStore": 6, "MagneticStore": 0}
    got = tsq.query(
        QueryString=f"SELECT region, host, az, measure_name, to_milliseconds(time), "
        f'"measure_value::double", "measure_value::bigint", '
        f'"measure_value::boolean", "measure_value::varchar", '
        f"a, b, to_milliseconds(seen) FROM {db}.{table} ORDER BY measure_name, az NULLS FIRST"
    )
    n = None
    assert scalar_rows(got) == [
        ["eu-west-1", "h-1", n, "cpu", str(t), "1.5", n, n, n, n, n, n],
        ["eu-west-1", "h-1", "a", "cpu", str(t), "2.5", n, n, n, n, n, n],
        ["eu-west-1", "h-1", n, "mem", str(t), n, "42", n, n, n, n, n],
        ["eu-west-1", "h-1", n, "metrics", str(t), n, n, n, n, "1.25", "7", str(t)],
        ["eu-west-1", "h-1", n, "note", str(t), n, n, n, "hello", n, n, n],
        ["eu-west-1", "h-1", n, "up", str(t - 1000), n, n, "true", n, n, n, n],
    ]
    assert stored_versions(engine, db, table) == [1] * 6


def test_dimension_in_both_places_is_a_validation_error(db: str, tsw: Any) -> None:
    table = new_table(tsw, "both")
    with pytest.raises(tsw.exceptions.ValidationException, match="both the record and CommonAttributes"):
        tsw.write_records(
            DatabaseName=db,
            TableName=table,
            CommonAttributes={"Dimensions": HOST, "Time": str(now_ms())},
            Records=[
                {"MeasureName": "x", "MeasureValue": "1", "Dimensions": [{"Name": "host", "Value": "h-2"}]}
            ],
        )


def record(**kw: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "Dimensions": HOST,
        "MeasureName": "cpu",
        "MeasureValue": "1.0",
        "Time": str(now_ms()),
    }
    base.update(kw)
    return base


@pytest.mark.parametrize(
    ("rec", "match"),
    [
        (record(Dimensions=[{"Name": "d" * 61, "Value": "v"}]), "maximum length of 60"),
        (record(Dimensions=[{"Name": "time", "Value": "v"}]), "reserved"),
        (record(Dimensions=[{"Name": "ts_x", "Value": "v"}]), "reserved"),
        (record(MeasureName="measure_value::double"), "reserved"),
        (record(MeasureName="m" * 257), "maximum length of 256"),
        (record(MeasureValue="abc"), "not a valid DOUBLE"),
        (record(MeasureValue="NaN"), "not a valid DOUBLE"),
        (record(MeasureValue="1.5", MeasureValueType="BIGINT"), "not a valid BIGINT"),
        (record(MeasureValue="maybe", MeasureValueType="BOOLEAN"), "not a valid BOOLEAN"),
        (record(Version=0), "Version"),
        (record(Time="soon"), "not an integer"),
        (record(TimeUnit="HOURS"), "TimeUnit"),
        (
            record(
                MeasureName="multi",
                MeasureValueType="MULTI",
                MeasureValue=None,
                MeasureValues=[{"Name": f"m{i}", "Value": "1", "Type": "DOUBLE"} for i in range(257)],
            ),
            "maximum per record is 256",
        ),
    ],
)
def test_limits_are_validation_errors(
    engine: Running, db: str, tsw: Any, rec: dict[str, Any], match: str
) -> None:
    if "limits" not in {t["TableName"] for t in tsw.list_tables(DatabaseName=db)["Tables"]}:
        new_table(tsw, "limits")
    rec = {k: v for k, v in rec.items() if v is not None}
    status, body, headers = raw_call(
        engine.url, "WriteRecords", {"DatabaseName": db, "TableName": "limits", "Records": [rec]}
    )
    assert status == 400
    assert body["__type"].endswith("#ValidationException")
    assert headers["x-amzn-ErrorType"] == "ValidationException"
    assert match in body["Message"]


def test_more_than_100_records_is_refused(engine: Running, db: str, tsw: Any) -> None:
    new_table(tsw, "hundred")
    recs = [record(MeasureName=f"m{i}") for i in range(101)]
    status, body, _ = raw_call(
        engine.url, "WriteRecords", {"DatabaseName": db, "TableName": "hundred", "Records": recs}
    )
    assert status == 400 and "less than or equal to 100" in body["Message"]
    ok = tsw.write_records(DatabaseName=db, TableName="hundred", Records=recs[:100])
    assert ok["RecordsIngested"]["Total"] == 100


def test_missing_table_and_database(db: str, tsw: Any) -> None:
    with pytest.raises(tsw.exceptions.ResourceNotFoundException, match="table nope"):
        tsw.write_records(DatabaseName=db, TableName="nope", Records=[record()])
    with pytest.raises(tsw.exceptions.ResourceNotFoundException, match="database nodb"):
        tsw.write_records(DatabaseName="nodb", TableName="nope", Records=[record()])


def test_memory_store_window_and_future_limit(db: str, tsw: Any) -> None:
    table = new_table(tsw, "window", mem_hours=1)
    t = now_ms()
    with pytest.raises(tsw.exceptions.RejectedRecordsException) as err:
        tsw.write_records(
            DatabaseName=db,
            TableName=table,
            Records=[
                record(Time=str(t)),
                record(MeasureName="old", Time=str(t - 2 * 3600_000)),
                record(MeasureName="future", Time=str(t + 20 * 60_000)),
                record(MeasureName="soon", Time=str(t + 10 * 60_000)),
            ],
        )
    rejected = err.value.response["RejectedRecords"]
    assert [r["RecordIndex"] for r in rejected] == [1, 2]
    for r in rejected:
        assert r["Reason"].startswith("The record timestamp is outside the time range [")
        assert r["Reason"].endswith(") of the memory store.")
        assert "ExistingVersion" not in r
    assert err.value.response["Error"]["Message"].startswith("One or more records have been rejected")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 419


def test_magnetic_store_writes(db: str, tsw: Any) -> None:
    table = new_table(tsw, "magnetic", mem_hours=1, mag_days=2, magnetic=True)
    t = now_ms()
    resp = tsw.write_records(
        DatabaseName=db,
        TableName=table,
        Records=[record(Time=str(t)), record(Time=str(t - 5 * 3600_000)), record(Time=str(t - 86400_000))],
    )
    assert resp["RecordsIngested"] == {"Total": 3, "MemoryStore": 1, "MagneticStore": 2}
    with pytest.raises(tsw.exceptions.RejectedRecordsException) as err:
        tsw.write_records(DatabaseName=db, TableName=table, Records=[record(Time=str(t - 3 * 86400_000))])
    reason = err.value.response["RejectedRecords"][0]["Reason"]
    assert reason.endswith("of the magnetic store.")


def test_duplicates_and_versions(engine: Running, db: str, tsw: Any, tsq: Any) -> None:
    table = new_table(tsw, "versions")
    t = str(now_ms())

    def write(value: str, version: int | None = None) -> dict[str, Any]:
        rec = record(Time=t, MeasureValue=value)
        if version is not None:
            rec["Version"] = version
        try:
            return dict(tsw.write_records(DatabaseName=db, TableName=table, Records=[rec]))
        except tsw.exceptions.RejectedRecordsException as e:
            return {"rejected": e.response["RejectedRecords"]}

    assert write("1.0")["RecordsIngested"]["Total"] == 1
    assert write("1.0")["RecordsIngested"]["Total"] == 1  # identical duplicate: idempotent
    same_version = write("2.0")["rejected"][0]
    assert same_version["ExistingVersion"] == 1
    assert "same time, dimensions, measure name, and record version" in same_version["Reason"]
    assert write("2.0", version=5)["RecordsIngested"]["Total"] == 1  # upsert
    lower = write("3.0", version=4)["rejected"][0]
    assert lower["ExistingVersion"] == 5
    assert lower["Reason"] == (
        "The record version 4 is lower than the existing version 5. "
        "A higher version is required to update the measure value."
    )
    rows = scalar_rows(tsq.query(QueryString=f'SELECT "measure_value::double" FROM {db}.{table}'))
    assert rows == [["2.0"]]
    assert stored_versions(engine, db, table) == [5]
    # duplicates inside one request
    with pytest.raises(tsw.exceptions.RejectedRecordsException) as err:
        tsw.write_records(
            DatabaseName=db,
            TableName=table,
            Records=[
                record(MeasureName="z", Time=t, MeasureValue="1"),
                record(MeasureName="z", Time=t, MeasureValue="9"),
            ],
        )
    assert [r["RecordIndex"] for r in err.value.response["RejectedRecords"]] == [1]


def test_multi_measure_type_conflict_is_rejected(db: str, tsw: Any) -> None:
    table = new_table(tsw, "multitype")
    t = now_ms()

    def multi(typ: str, value: str, time_ms: int) -> dict[str, Any]:
        return {
            "Dimensions": HOST,
            "MeasureName": "m",
            "MeasureValueType": "MULTI",
            "Time": str(time_ms),
            "MeasureValues": [{"Name": "x", "Value": value, "Type": typ}],
        }

    tsw.write_records(DatabaseName=db, TableName=table, Records=[multi("DOUBLE", "1.5", t)])
    with pytest.raises(tsw.exceptions.RejectedRecordsException) as err:
        tsw.write_records(DatabaseName=db, TableName=table, Records=[multi("VARCHAR", "a", t + 1)])
    assert "already stores it as DOUBLE" in err.value.response["RejectedRecords"][0]["Reason"]


def test_error_shapes_are_the_modeled_classes(db: str, tsw: Any) -> None:
    with pytest.raises(ClientError) as err:
        tsw.create_database(DatabaseName=db)
    assert type(err.value) is tsw.exceptions.ConflictException
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 409
    assert err.value.response["ResponseMetadata"]["RequestId"]
