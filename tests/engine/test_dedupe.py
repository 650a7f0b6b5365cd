"""The duplicate index: eviction by hour and the DuckDB fallback below its horizon."""

from __future__ import annotations

import time
from pathlib import Path

from tests.engine.conftest import engine_in_thread, make_config
from tsload.engine.dedupe import BUCKET_NS, NO_HORIZON, DedupeIndex


def test_eviction_raises_the_horizon() -> None:
    idx = DedupeIndex(capacity=8)
    assert idx.covers(0) and idx.horizon_ns == NO_HORIZON
    for hour in range(4):
        for k in range(3):
            idx.put(hour * 100 + k, hour * BUCKET_NS + k, fp=k, version=1 + k % 2)
    assert idx.size <= 8
    assert idx.get(0, 0) is None and not idx.covers(0)  # hour 0 dropped
    assert idx.get(301, 3 * BUCKET_NS + 1) == (1, 2)
    assert idx.get(300, 3 * BUCKET_NS) == 0
    idx.drop_older_than(3 * BUCKET_NS)
    assert idx.horizon_ns == 3 * BUCKET_NS and idx.size == 3


def test_duplicates_found_in_duckdb_after_eviction(tmp_path: Path) -> None:
    with engine_in_thread(make_config(tmp_path, dedupe_capacity=40)) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="ddb")
        w.create_table(DatabaseName="ddb", TableName="evict")
        now = int(time.time() * 1000)
        hours = [now - h * 3600_000 for h in (5, 4, 3, 2, 1, 0)]
        for t in hours:
            recs = [{"MeasureName": f"m{i}", "MeasureValue": str(i), "Time": str(t)} for i in range(20)]
            w.write_records(
                DatabaseName="ddb",
                TableName="evict",
                CommonAttributes={"Dimensions": [{"Name": "host", "Value": "a"}]},
                Records=recs,
            )
        assert eng.engine.store.tables[("ddb", "evict")].index.horizon_ns > hours[0] * 1_000_000
        dup = [
            {"MeasureName": "m3", "MeasureValue": "3", "Time": str(hours[0])},  # same value: accepted
            {"MeasureName": "m4", "MeasureValue": "400", "Time": str(hours[0])},  # different: rejected
            {
                "MeasureName": "m5",
                "MeasureValue": "5",
                "Time": str(hours[0]),
                "Dimensions": [{"Name": "az", "Value": "x"}],
            },
        ]
        try:
            w.write_records(
                DatabaseName="ddb",
                TableName="evict",
                CommonAttributes={"Dimensions": [{"Name": "host", "Value": "a"}]},
                Records=dup,
            )
            raise AssertionError("expected a rejection")
        except w.exceptions.RejectedRecordsException as e:
            assert [(r["RecordIndex"], r.get("ExistingVersion")) for r in e.response["RejectedRecords"]] == [
                (1, 1)
            ]
        assert eng.stats()["records_ingested"] == 6 * 20 + 2


def test_backfill_after_eviction_needs_no_lookups(tmp_path: Path) -> None:
    with engine_in_thread(make_config(tmp_path, dedupe_capacity=30)) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="bfdb")
        w.create_table(DatabaseName="bfdb", TableName="backfill")
        start = int(time.time() * 1000) - 3 * 3600_000
        requests = []
        for host in range(8):  # per-series backfill: each host over the same 3 hours
            recs = [
                {"MeasureName": "m", "MeasureValue": str(k), "Time": str(start + k * 600_000)}
                for k in range(18)
            ]
            body = {
                "DatabaseName": "bfdb",
                "TableName": "backfill",
                "CommonAttributes": {"Dimensions": [{"Name": "host", "Value": f"h{host}"}]},
                "Records": recs,
            }
            requests.append(body)
            assert w.write_records(**body)["RecordsIngested"]["Total"] == 18
        table = eng.engine.store.tables[("bfdb", "backfill")]
        assert table.index.size <= 30 and table.index.horizon_ns > start * 1_000_000
        assert eng.stats()["dedupe_db_lookups"] == 0
        # a retried request (same records) is an idempotent success, found through DuckDB
        assert w.write_records(**requests[0])["RecordsIngested"]["Total"] == 18
        assert eng.stats()["dedupe_db_lookups"] == 1
        changed = dict(requests[1], Records=[dict(requests[1]["Records"][0], MeasureValue="99")])
        try:
            w.write_records(**changed)
            raise AssertionError("expected a rejection")
        except w.exceptions.RejectedRecordsException as e:
            assert e.response["RejectedRecords"][0]["ExistingVersion"] == 1
