"""The duplicate index: bounded by its capacity, rebuilt from DuckDB by window after a restart or an
eviction, with Timestream's duplicate/version semantics the same whichever path answers."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.engine.conftest import engine_in_thread, make_config
from tsload.engine import keys
from tsload.engine.dedupe import BUCKET_NS, NO_HORIZON, DedupeIndex
from tsload.engine.store import DB_FILE, Store, StoreConfig
from tsload.engine.tables import SAME_VERSION_REASON


def test_eviction_drops_first_filled_buckets() -> None:
    idx = DedupeIndex(capacity=8)
    assert idx.covers(0) and idx.horizon_ns == NO_HORIZON
    for b in range(4):
        for k in range(3):
            idx.put(b * 100 + k, b * BUCKET_NS + k, fp=k, version=1 + k % 2)
    assert idx.size <= 8 and idx.evicted_buckets >= 1
    assert idx.get(0, 0) is None and not idx.covers(0)  # bucket 0 dropped: no longer complete
    assert idx.covers(3 * BUCKET_NS)
    assert idx.get(301, 3 * BUCKET_NS + 1) == (1, 2)
    assert idx.get(300, 3 * BUCKET_NS) == 0
    idx.drop_older_than(3 * BUCKET_NS)
    assert idx.horizon_ns == 3 * BUCKET_NS and idx.size == 3


def test_size_stays_bounded_whatever_is_written() -> None:
    idx = DedupeIndex(capacity=1000)
    for i in range(50_000):  # 50x the capacity, as when days of data are stored
        idx.put(i, i * BUCKET_NS // 37, fp=i, version=1)
        assert idx.size <= 1000
    assert idx.size == sum(len(b) for b in idx._buckets.values())
    assert not idx.covers(0) and idx.covers(49_999 * BUCKET_NS // 37)


def test_below_the_horizon_only_loaded_buckets_are_complete() -> None:
    idx = DedupeIndex(capacity=100, horizon_ns=10 * BUCKET_NS + 5)  # after a restart
    assert not idx.covers(10 * BUCKET_NS)  # the newest stored bucket is not complete
    assert idx.covers(10 * BUCKET_NS + 5) and idx.covers(11 * BUCKET_NS)
    assert idx.missing([3 * BUCKET_NS, 3 * BUCKET_NS + 1, 4 * BUCKET_NS, 12 * BUCKET_NS]) == [3, 4]
    idx.put(7, 3 * BUCKET_NS, fp=70, version=2)  # written while the scan ran: newer than DuckDB
    idx.install({3: {7: 1, 8: 2}}, range(3, 5))
    assert idx.missing([3 * BUCKET_NS, 4 * BUCKET_NS]) == []
    assert idx.get(7, 3 * BUCKET_NS) == (70, 2) and idx.get(8, 3 * BUCKET_NS + 9) == 2
    assert idx.size == 2


def test_a_loaded_window_is_evicted_last() -> None:
    idx = DedupeIndex(capacity=8, horizon_ns=100 * BUCKET_NS)
    for k in range(6):
        idx.put(k, 100 * BUCKET_NS + k * BUCKET_NS, fp=k, version=1)
    idx.install({5: {1000 + k: k for k in range(4)}}, [5])  # a window re-sent after a restart
    assert idx.size <= 8
    assert idx.covers(5 * BUCKET_NS) and idx.get(1003, 5 * BUCKET_NS) == 3
    assert not idx.covers(100 * BUCKET_NS)  # the first filled bucket went instead


def test_deferred_keys_are_hashed_when_their_bucket_is_looked_into() -> None:
    """A forward-only request's keys are kept as columns; whoever looks into their bucket (a
    get, a bucket for a re-send, a window install) sees them as if they had been put."""
    idx = DedupeIndex(capacity=30)
    dh, names, times, values = 11, ["a", "b", "a"], [5, 5, 6], [1.5, 2.5, 3.5]
    idx.defer(0, (dh, "DOUBLE", names, times, values))
    idx.added(3)
    idx.defer(1, (dh, "DOUBLE", ["a"], [BUCKET_NS], [4.5]))
    idx.added(1)
    assert idx.size == 4 and idx._deferred
    for name, t, v in zip(names, times, values, strict=True):
        assert idx.get(hash((dh, name, t)), t) == hash(("DOUBLE", v))
    assert idx.get(hash((dh, "b", 6)), 6) is None
    assert 0 not in idx._deferred and 1 in idx._deferred  # only the bucket looked into
    assert idx.bucket(1) == {hash((dh, "a", BUCKET_NS)): hash(("DOUBLE", 4.5))}
    idx.defer(2, (dh, "DOUBLE", ["c"], [2 * BUCKET_NS], [9.0]))
    idx.added(1)
    idx.install({2: {hash((dh, "c", 2 * BUCKET_NS)): 0, 77: 7}}, [2])  # what DuckDB held
    assert idx.get(hash((dh, "c", 2 * BUCKET_NS)), 2 * BUCKET_NS) == hash(("DOUBLE", 9.0))  # memory wins
    assert idx.get(77, 2 * BUCKET_NS) == 7
    assert idx.size == sum(len(b) for b in idx._buckets.values()) == 6


def test_deferred_keys_count_towards_the_capacity_and_leave_with_their_bucket() -> None:
    idx = DedupeIndex(capacity=10)
    for bk in range(6):  # 3 keys a bucket, never looked into
        idx.defer(bk, (1, "BIGINT", ["m"] * 3, [bk * BUCKET_NS + k for k in range(3)], [1, 2, 3]))
        idx.added(3)
        assert idx.size <= 10
    kept = sorted(bk for bk in idx._buckets if bk in idx._deferred)
    assert idx.size == 3 * len(kept) and set(idx._deferred) == set(kept)
    assert not idx.covers(0) and idx.covers(5 * BUCKET_NS)  # the first buckets went, whole
    idx.drop_older_than(5 * BUCKET_NS)
    assert idx.size == 3 and list(idx._deferred) == [5]
    assert idx.get(hash((1, "m", 5 * BUCKET_NS + 2)), 5 * BUCKET_NS + 2) == hash(("BIGINT", 3))


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
        assert not eng.engine.store.tables[("ddb", "evict")].index.covers(hours[0] * 1_000_000)
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
        assert table.index.size <= 30 and not table.index.covers(start * 1_000_000)
        assert eng.stats()["dedupe_db_lookups"] == 0 and eng.stats()["dedupe_index_loads"] == 0
        # a retried request (same records) is an idempotent success, found through DuckDB
        assert w.write_records(**requests[0])["RecordsIngested"]["Total"] == 18
        s = eng.stats()
        assert s["dedupe_index_loads"] >= 1 and table.index.size <= 30
        changed = dict(requests[1], Records=[dict(requests[1]["Records"][0], MeasureValue="99")])
        try:
            w.write_records(**changed)
            raise AssertionError("expected a rejection")
        except w.exceptions.RejectedRecordsException as e:
            assert e.response["RejectedRecords"][0]["ExistingVersion"] == 1


def _body(t0: int, value: str = "1.5", version: int | None = None, n_hosts: int = 20) -> list[dict[str, Any]]:
    out = []
    for h in range(n_hosts):
        recs = []
        for k in range(5):
            rec: dict[str, Any] = {"MeasureName": f"m{k}", "MeasureValue": value, "Time": str(t0 + k * 1000)}
            if version is not None:
                rec["Version"] = version
            recs.append(rec)
        out.append(
            {
                "DatabaseName": "rdb",
                "TableName": "restart",
                "CommonAttributes": {"Dimensions": [{"Name": "host", "Value": f"h{h}"}]},
                "Records": recs,
            }
        )
    return out


def _stored(data: Path) -> list[tuple[Any, ...]]:
    con = duckdb.connect(str(data / DB_FILE), read_only=True)
    try:
        return con.execute(
            'SELECT host, measure_name, epoch_ns(time) // 1000000, "measure_value::double", _version'
            " FROM rdb.restart ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("capacity", [2_000_000, 30])
def test_resend_after_restart_dedupes_rejects_and_upserts(tmp_path: Path, capacity: int) -> None:
    """Identical records accepted once, a changed value at the same version rejected with AWS's
    text, a higher version an upsert: after a restart, from the index rebuilt by window (and with
    a tiny index, from the per-request probe that backs it up)."""
    cfg = make_config(tmp_path, dedupe_capacity=capacity)
    t0 = int(time.time() * 1000) - 600_000
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="rdb")
        w.create_table(DatabaseName="rdb", TableName="restart")
        for body in _body(t0):
            w.write_records(**body)
    first = _stored(cfg.data_dir)
    assert len(first) == 100
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        for body in _body(t0):  # the same requests again: idempotent successes
            assert w.write_records(**body)["RecordsIngested"]["Total"] == 5
        s = eng.stats()
        if capacity > 1000:
            assert s["dedupe_index_loads"] >= 1 and s["dedupe_db_lookups"] == 0
        else:
            assert s["dedupe_db_lookups"] >= 1
        changed = _body(t0, value="2.5")[3]
        with pytest.raises(w.exceptions.RejectedRecordsException) as e:
            w.write_records(**changed)
        rejected = e.value.response["RejectedRecords"]
        assert [r["RecordIndex"] for r in rejected] == [0, 1, 2, 3, 4]
        assert {r["Reason"] for r in rejected} == {SAME_VERSION_REASON}
        assert {r["ExistingVersion"] for r in rejected} == {1}
        upsert = _body(t0, value="3.5", version=2)[4]
        assert w.write_records(**upsert)["RecordsIngested"]["Total"] == 5
    after = _stored(cfg.data_dir)
    assert len(after) == 100  # nothing stored twice
    assert sorted(r for r in after if r[0] == "h4") == [
        ("h4", f"m{k}", t0 + k * 1000, 3.5, 2) for k in range(5)
    ]
    assert [r for r in after if r[0] != "h4"] == [r for r in first if r[0] != "h4"]


def test_one_series_requests_mix_with_per_record_ones(tmp_path: Path) -> None:
    """Requests of one series are checked and stored as columns; mixed in one flush with
    per-record requests, a key repeated inside a request, and re-sends, every row lands once
    with its own dimensions (NULL where a series has none)."""
    cfg = make_config(tmp_path, flush_interval=3600, flush_idle=3600)
    t0 = int(time.time() * 1000) - 60_000
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="rdb")
        w.create_table(DatabaseName="rdb", TableName="restart")
        one = _body(t0, n_hosts=1)[0]
        assert w.write_records(**one)["RecordsIngested"]["Total"] == 5
        assert w.write_records(**one)["RecordsIngested"]["Total"] == 5  # idempotent, not stored
        w.write_records(  # per-record dimensions, another dimension name
            DatabaseName="rdb",
            TableName="restart",
            Records=[
                {
                    "Dimensions": [{"Name": "az", "Value": "z1"}],
                    "MeasureName": "m0",
                    "MeasureValue": "9.5",
                    "Time": str(t0),
                }
            ],
        )
        twice = dict(one, Records=[dict(r, Time=str(t0 + 50_000)) for r in one["Records"][:2]] * 2)
        assert w.write_records(**twice)["RecordsIngested"]["Total"] == 4  # a key twice: stored once
        changed = dict(twice, Records=[twice["Records"][0], dict(twice["Records"][0], MeasureValue="7.5")])
        with pytest.raises(w.exceptions.RejectedRecordsException) as e:
            w.write_records(**changed)
        assert [(r["RecordIndex"], r["Reason"]) for r in e.value.response["RejectedRecords"]] == [
            (1, SAME_VERSION_REASON)
        ]
        assert eng.stats()["buffered_rows"] == 8  # nothing flushed yet: one flush for all at stop
    con = duckdb.connect(str(cfg.data_dir / DB_FILE), read_only=True)
    try:
        got = con.execute(
            'SELECT host, az, measure_name, epoch_ns(time) // 1000000, "measure_value::double", _version'
            " FROM rdb.restart ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    expected = (
        [("h0", None, f"m{k}", t0 + k * 1000, 1.5, 1) for k in range(5)]
        + [(None, "z1", "m0", t0, 9.5, 1)]
        + [("h0", None, f"m{k}", t0 + 50_000, 1.5, 1) for k in range(2)]
    )
    assert sorted(got, key=repr) == sorted(expected, key=repr)
    # The window scan (grouped by series in DuckDB) finds what the per-row reading finds.
    store = Store(StoreConfig(path=cfg.data_dir / DB_FILE, wal=False))
    asyncio.run(_compare_scans(store, t0))


async def _compare_scans(store: Store, t0: int) -> None:
    await store.open()
    try:
        ts = store.tables[("rdb", "restart")]
        lo, hi = (t0 - 10_000) * 1_000_000, (t0 + 60_000) * 1_000_000
        cur = store._con.cursor()
        fast, n = keys.scan_window(cur, ts, lo, hi)
        dim_cols, value_cols, select = keys._columns(ts)
        cur.execute(f'SELECT {select} FROM "rdb"."restart"')
        slow: dict[int, dict[int, Any]] = {}
        for t, key, fp, _ in keys._entries(cur.fetchall(), dim_cols, value_cols):
            slow.setdefault(t // BUCKET_NS, {})[key] = fp
        assert n == 8 and fast == slow
    finally:
        await store.close()


def test_multi_measure_resend_after_restart(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    t0 = int(time.time() * 1000) - 120_000

    def body(x: str) -> dict[str, Any]:
        return {
            "DatabaseName": "mdb",
            "TableName": "multi",
            "CommonAttributes": {
                "Dimensions": [{"Name": "host", "Value": "h1"}],
                "MeasureValueType": "MULTI",
            },
            "Records": [
                {
                    "MeasureName": "cpu",
                    "Time": str(t0 + k * 1000),
                    "MeasureValues": [
                        {"Name": "user", "Value": x, "Type": "DOUBLE"},
                        {"Name": "state", "Value": f"s{k}", "Type": "VARCHAR"},
                    ],
                }
                for k in range(10)
            ],
        }

    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="mdb")
        w.create_table(DatabaseName="mdb", TableName="multi")
        w.write_records(**body("1.5"))
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        assert w.write_records(**body("1.5"))["RecordsIngested"]["Total"] == 10
        with pytest.raises(w.exceptions.RejectedRecordsException) as e:
            w.write_records(**body("2.5"))
        assert len(e.value.response["RejectedRecords"]) == 10
        s = eng.stats()
        assert (s["dedupe_index_loads"], s["dedupe_db_lookups"], s["records_ingested"]) == (1, 0, 10)
    con = duckdb.connect(str(cfg.data_dir / DB_FILE), read_only=True)
    try:
        assert con.execute("SELECT count(*), sum(user) FROM mdb.multi").fetchall() == [(10, 15.0)]
    finally:
        con.close()


def test_one_series_request_over_several_buckets(tmp_path: Path) -> None:
    """tsload's backfill requests: one host, several timestamps 5 s apart (several 10 s buckets)."""
    cfg = make_config(tmp_path, flush_interval=3600, flush_idle=3600)
    t0 = (int(time.time() * 1000) - 300_000) // 10_000 * 10_000 + 3_000  # 3 s into a bucket

    def body(times: list[int], value: str = "1.5") -> dict[str, Any]:
        return {
            "DatabaseName": "bdb",
            "TableName": "bkt",
            "CommonAttributes": {"Dimensions": [{"Name": "host", "Value": "h1"}]},
            "Records": [
                {"MeasureName": f"m{k}", "MeasureValue": value, "Time": str(t)}
                for t in times
                for k in range(4)
            ],
        }

    times = [t0 + 5_000 * i for i in range(6)]  # 25 s: 4 buckets
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        w.create_database(DatabaseName="bdb")
        w.create_table(DatabaseName="bdb", TableName="bkt")
        table = eng.engine.store.tables[("bdb", "bkt")]
        w.write_records(**body([t0 - 60_000]))  # the first write adds the columns (per-record path)
        assert len(table.rows) == 4
        assert w.write_records(**body(times))["RecordsIngested"]["Total"] == 24
        assert len(table.segments) == 1 and len(table.rows) == 4  # the column-wise path took it
        assert w.write_records(**body(times))["RecordsIngested"]["Total"] == 24  # idempotent
        assert w.write_records(**body(times[::-1]))["RecordsIngested"]["Total"] == 24  # unsorted
        later = [t + 30_000 for t in times[::-1]]  # unsorted and new: the per-record path stores it
        assert w.write_records(**body(later))["RecordsIngested"]["Total"] == 24
        with pytest.raises(w.exceptions.RejectedRecordsException) as e:
            w.write_records(**body(times[2:4], value="2.5"))
        assert [r["Reason"] for r in e.value.response["RejectedRecords"]] == [SAME_VERSION_REASON] * 8
        assert eng.stats()["buffered_rows"] == 52
    with engine_in_thread(cfg) as eng:
        w = eng.client("timestream-write")
        assert w.write_records(**body(times))["RecordsIngested"]["Total"] == 24
        assert eng.stats()["dedupe_db_lookups"] == 0
    con = duckdb.connect(str(cfg.data_dir / DB_FILE), read_only=True)
    try:
        got = con.execute("SELECT count(*), count(DISTINCT (measure_name, time)) FROM bdb.bkt").fetchall()
        assert got == [(52, 52)]
    finally:
        con.close()
