"""Databases, tables, endpoints and protocol errors through stock boto3 clients."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.engine.conftest import Running, engine_in_thread, make_config


def test_describe_endpoints_returns_the_engine_itself(engine: Running, tsw: Any, tsq: Any) -> None:
    host_port = engine.url.removeprefix("http://")
    for client in (tsw, tsq):
        eps = client.describe_endpoints()["Endpoints"]
        assert eps == [{"Address": host_port, "CachePeriodInMinutes": 1440}]


def test_database_lifecycle(tsw: Any) -> None:
    db = tsw.create_database(DatabaseName="cat_db1")["Database"]
    assert db["DatabaseName"] == "cat_db1"
    assert db["Arn"] == "arn:aws:timestream:us-east-1:000000000000:database/cat_db1"
    assert db["TableCount"] == 0
    assert db["CreationTime"] == db["LastUpdatedTime"]
    with pytest.raises(tsw.exceptions.ConflictException):
        tsw.create_database(DatabaseName="cat_db1")
    tsw.create_database(DatabaseName="cat_db2")
    updated = tsw.update_database(DatabaseName="cat_db2", KmsKeyId="my-key")["Database"]
    assert updated["KmsKeyId"] == "my-key"
    assert tsw.describe_database(DatabaseName="cat_db2")["Database"]["KmsKeyId"] == "my-key"

    names: list[str] = []
    kw: dict[str, Any] = {"MaxResults": 1}
    while True:
        page = tsw.list_databases(**kw)
        assert len(page["Databases"]) <= 1
        names += [d["DatabaseName"] for d in page["Databases"]]
        if "NextToken" not in page:
            break
        kw["NextToken"] = page["NextToken"]
    assert {"cat_db1", "cat_db2"} <= set(names)
    assert names == sorted(names)

    tsw.delete_database(DatabaseName="cat_db2")
    with pytest.raises(tsw.exceptions.ResourceNotFoundException):
        tsw.describe_database(DatabaseName="cat_db2")
    with pytest.raises(tsw.exceptions.ResourceNotFoundException):
        tsw.delete_database(DatabaseName="cat_db2")


@pytest.mark.parametrize("name", ["ab", "has space", "_tsload", "main", "x" * 257])
def test_invalid_database_names(tsw: Any, name: str) -> None:
    with pytest.raises(tsw.exceptions.ValidationException):
        tsw.create_database(DatabaseName=name)


def test_table_lifecycle(tsw: Any) -> None:
    tsw.create_database(DatabaseName="cat_tables")
    with pytest.raises(tsw.exceptions.ResourceNotFoundException):
        tsw.create_table(DatabaseName="no_such_db", TableName="tbl")
    t = tsw.create_table(
        DatabaseName="cat_tables",
        TableName="tbl_a",
        RetentionProperties={
            "MemoryStoreRetentionPeriodInHours": 2,
            "MagneticStoreRetentionPeriodInDays": 365,
        },
        MagneticStoreWriteProperties={"EnableMagneticStoreWrites": True},
    )["Table"]
    assert t["Arn"].endswith(":database/cat_tables/table/tbl_a")
    assert t["TableStatus"] == "ACTIVE"
    assert t["RetentionProperties"] == {
        "MemoryStoreRetentionPeriodInHours": 2,
        "MagneticStoreRetentionPeriodInDays": 365,
    }
    assert t["MagneticStoreWriteProperties"]["EnableMagneticStoreWrites"] is True
    default = tsw.create_table(DatabaseName="cat_tables", TableName="tbl_b")["Table"]
    assert default["RetentionProperties"] == {
        "MemoryStoreRetentionPeriodInHours": 6,
        "MagneticStoreRetentionPeriodInDays": 73000,
    }
    assert default["MagneticStoreWriteProperties"] == {"EnableMagneticStoreWrites": False}
    with pytest.raises(tsw.exceptions.ConflictException):
        tsw.create_table(DatabaseName="cat_tables", TableName="tbl_a")
    with pytest.raises(tsw.exceptions.ValidationException, match="MemoryStoreRetentionPeriodInHours"):
        tsw.create_table(
            DatabaseName="cat_tables",
            TableName="tbl_c",
            RetentionProperties={
                "MemoryStoreRetentionPeriodInHours": 9000,
                "MagneticStoreRetentionPeriodInDays": 1,
            },
        )

    up = tsw.update_table(
        DatabaseName="cat_tables",
        TableName="tbl_b",
        RetentionProperties={
            "MemoryStoreRetentionPeriodInHours": 12,
            "MagneticStoreRetentionPeriodInDays": 30,
        },
    )["Table"]
    assert up["RetentionProperties"]["MemoryStoreRetentionPeriodInHours"] == 12
    assert up["LastUpdatedTime"] >= up["CreationTime"]
    described = tsw.describe_table(DatabaseName="cat_tables", TableName="tbl_b")["Table"]
    assert described["RetentionProperties"]["MagneticStoreRetentionPeriodInDays"] == 30

    first = tsw.list_tables(DatabaseName="cat_tables", MaxResults=1)
    second = tsw.list_tables(DatabaseName="cat_tables", MaxResults=1, NextToken=first["NextToken"])
    assert [t["TableName"] for t in first["Tables"] + second["Tables"]] == ["tbl_a", "tbl_b"]
    assert "NextToken" not in second
    assert tsw.describe_database(DatabaseName="cat_tables")["Database"]["TableCount"] == 2

    with pytest.raises(tsw.exceptions.ValidationException, match="delete its tables"):
        tsw.delete_database(DatabaseName="cat_tables")
    tsw.delete_table(DatabaseName="cat_tables", TableName="tbl_a")
    tsw.delete_table(DatabaseName="cat_tables", TableName="tbl_b")
    with pytest.raises(tsw.exceptions.ResourceNotFoundException):
        tsw.describe_table(DatabaseName="cat_tables", TableName="tbl_a")
    with pytest.raises(tsw.exceptions.ResourceNotFoundException):
        tsw.delete_table(DatabaseName="cat_tables", TableName="tbl_a")
    tsw.delete_database(DatabaseName="cat_tables")


def test_unsigned_request_is_refused(engine: Running) -> None:
    unsigned = engine.client("timestream-write", config=Config(signature_version=UNSIGNED))
    with pytest.raises(ClientError) as err:
        unsigned.list_databases()
    assert err.value.response["Error"]["Code"] == "MissingAuthenticationTokenException"
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_operation(engine: Running) -> None:
    tsq = engine.client("timestream-query")
    with pytest.raises(ClientError) as err:
        tsq.describe_account_settings()
    assert err.value.response["Error"]["Code"] == "UnknownOperationException"


@pytest.mark.parametrize(
    ("memory", "magnetic", "message"),
    [
        (0, 1, "MemoryStoreRetentionPeriodInHours must be in [1, 8766], got 0"),
        (8767, 1, "MemoryStoreRetentionPeriodInHours must be in [1, 8766], got 8767"),
        (1, 73001, "MagneticStoreRetentionPeriodInDays must be in [1, 73000], got 73001"),
        (1, 0, "MagneticStoreRetentionPeriodInDays must be in [1, 73000], got 0"),
    ],
)
def test_retention_out_of_range_is_refused_with_the_range(
    engine: Running, memory: int, magnetic: int, message: str
) -> None:
    # botocore checks the minimum itself: switch that off so the engine's own check is what answers
    tsw = engine.client(
        "timestream-write", config=Config(parameter_validation=False, retries={"max_attempts": 1})
    )
    tsw.create_database(DatabaseName="cat_retention")
    try:
        for call in (tsw.create_table, tsw.update_table):
            if call == tsw.update_table:
                tsw.create_table(DatabaseName="cat_retention", TableName="tbl")
            with pytest.raises(ClientError) as info:
                call(
                    DatabaseName="cat_retention",
                    TableName="tbl",
                    RetentionProperties={
                        "MemoryStoreRetentionPeriodInHours": memory,
                        "MagneticStoreRetentionPeriodInDays": magnetic,
                    },
                )
            assert info.value.response["Error"]["Code"] == "ValidationException"
            assert info.value.response["Error"]["Message"] == message
    finally:
        for t in tsw.list_tables(DatabaseName="cat_retention")["Tables"]:
            tsw.delete_table(DatabaseName="cat_retention", TableName=t["TableName"])
        tsw.delete_database(DatabaseName="cat_retention")


def test_table_properties_and_the_dedupe_capacity_survive_a_restart(tmp_path: Path) -> None:
    cfg = make_config(tmp_path, dedupe_capacity=1234)
    props: dict[str, Any] = {
        "RetentionProperties": {
            "MemoryStoreRetentionPeriodInHours": 3,
            "MagneticStoreRetentionPeriodInDays": 40,
        },
        "MagneticStoreWriteProperties": {
            "EnableMagneticStoreWrites": True,
            "MagneticStoreRejectedDataLocation": {"S3Configuration": {"BucketName": "rejects"}},
        },
        "Schema": {
            "CompositePartitionKey": [
                {"Type": "DIMENSION", "Name": "host", "EnforcementInRecord": "REQUIRED"}
            ]
        },
    }
    with engine_in_thread(cfg) as eng:
        tsw = eng.client("timestream-write")
        tsw.create_database(DatabaseName="cat_restart")
        created = tsw.create_table(DatabaseName="cat_restart", TableName="tbl", **props)["Table"]
        plain = tsw.create_table(DatabaseName="cat_restart", TableName="plain")["Table"]
        assert eng.engine.store.tables[("cat_restart", "tbl")].index.capacity == 1234
    with engine_in_thread(cfg) as eng:
        tsw = eng.client("timestream-write")
        assert tsw.describe_table(DatabaseName="cat_restart", TableName="tbl")["Table"] == created
        assert tsw.describe_table(DatabaseName="cat_restart", TableName="plain")["Table"] == plain
        assert created["MagneticStoreWriteProperties"] == props["MagneticStoreWriteProperties"]
        assert created["Schema"] == props["Schema"]
        assert eng.engine.store.tables[("cat_restart", "tbl")].index.capacity == 1234
