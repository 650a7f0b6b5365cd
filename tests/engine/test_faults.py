"""Injected faults and the /tsload/stats counters that reconcile them."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.engine.conftest import engine_in_thread, make_config
from tsload._errors import ConfigError
from tsload.engine import FaultConfig, parse_latency
from tsload.engine.faults import INJECTED_REJECT_REASON


def _setup(w: Any) -> None:
    w.create_database(DatabaseName="fdb")
    w.create_table(DatabaseName="fdb", TableName="ftab")


def _records(start: int, n: int) -> list[dict[str, Any]]:
    t = int(time.time() * 1000)
    return [
        {
            "Dimensions": [{"Name": "host", "Value": f"h{i}"}],
            "MeasureName": "m",
            "MeasureValue": "1",
            "Time": str(t),
        }
        for i in range(start, start + n)
    ]


def test_throttle_and_error_injection(tmp_path: Path) -> None:
    faults = FaultConfig(throttle_rate=1.0)
    with engine_in_thread(make_config(tmp_path / "a", faults=faults)) as eng:
        w = eng.client("timestream-write")
        _setup(w)  # control-plane calls are never faulted
        with pytest.raises(w.exceptions.ThrottlingException) as err:
            w.write_records(DatabaseName="fdb", TableName="ftab", Records=_records(0, 3))
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
        s = eng.stats()
        assert s["injected_throttles"] == 1 and s["records_ingested"] == 0
    with engine_in_thread(make_config(tmp_path / "b", faults=FaultConfig(error_rate=1.0))) as eng:
        w = eng.client("timestream-write")
        q = eng.client("timestream-query")
        _setup(w)
        with pytest.raises(w.exceptions.InternalServerException) as err:
            w.write_records(DatabaseName="fdb", TableName="ftab", Records=_records(0, 3))
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        with pytest.raises(q.exceptions.InternalServerException):
            q.query(QueryString="SELECT 1")
        assert eng.stats()["injected_errors"] == 2


def test_invalid_endpoint_injection(tmp_path: Path) -> None:
    with engine_in_thread(make_config(tmp_path, faults=FaultConfig(invalid_endpoint_rate=1.0))) as eng:
        w = eng.client("timestream-write")
        _setup(w)
        with pytest.raises(w.exceptions.InvalidEndpointException) as err:
            w.write_records(DatabaseName="fdb", TableName="ftab", Records=_records(0, 1))
        assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 421
        assert eng.stats()["injected_invalid_endpoints"] == 1


def test_reject_injection_reconciles(tmp_path: Path) -> None:
    faults = FaultConfig(reject_rate=0.3, seed=42, latency_ms=(1.0, 2.0))
    with engine_in_thread(make_config(tmp_path, faults=faults)) as eng:
        w = eng.client("timestream-write")
        _setup(w)
        sent = ingested = rejected = failed_requests = 0
        for k in range(20):
            recs = _records(k * 50, 50)
            sent += len(recs)
            try:
                ingested += w.write_records(DatabaseName="fdb", TableName="ftab", Records=recs)[
                    "RecordsIngested"
                ]["Total"]
            except w.exceptions.RejectedRecordsException as e:
                rr = e.response["RejectedRecords"]
                assert all(r["Reason"] == INJECTED_REJECT_REASON for r in rr)
                idx = [r["RecordIndex"] for r in rr]
                assert idx == sorted(set(idx)) and all(0 <= i < 50 for i in idx)
                rejected += len(rr)
                failed_requests += 1
                ingested += len(recs) - len(rr)
        s = eng.stats()
        assert 0 < rejected < sent
        assert s["injected_rejected_records"] == rejected == s["records_rejected"]
        assert s["records_ingested"] == ingested == sent - rejected
        assert s["injected_latency_requests"] == 20
        assert s["writes"] == 20 and s["requests"] >= 22
        assert s["errors"] == {"RejectedRecordsException": failed_requests}


def test_same_seed_same_faults(tmp_path: Path) -> None:
    def run(sub: str) -> list[int]:
        with engine_in_thread(
            make_config(tmp_path / sub, faults=FaultConfig(reject_rate=0.5, seed=7))
        ) as eng:
            w = eng.client("timestream-write")
            _setup(w)
            try:
                w.write_records(DatabaseName="fdb", TableName="ftab", Records=_records(0, 40))
            except w.exceptions.RejectedRecordsException as e:
                return [r["RecordIndex"] for r in e.response["RejectedRecords"]]
            return []

    first = run("one")
    assert first and first == run("two")


def test_fault_flags_are_checked() -> None:
    with pytest.raises(ConfigError, match=r"^faults\.reject_rate: "):
        FaultConfig(reject_rate=1.5)
    with pytest.raises(ConfigError, match=r"^faults\.error_rate: "):
        FaultConfig(error_rate=-0.1)
    assert parse_latency("5") == (5.0, 5.0)
    assert parse_latency("5:20") == (5.0, 20.0)
    for bad in ("x", "20:5", "-1", "1:2:3", "inf", "nan", "1:inf"):
        with pytest.raises(ConfigError, match=r"^faults\.latency_ms: "):
            parse_latency(bad)
