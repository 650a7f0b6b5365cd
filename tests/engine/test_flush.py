"""When buffered rows reach DuckDB without a query asking: a full batch, a pause in the writes."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.engine.conftest import Running, engine_in_thread, make_config


def _write_some(eng: Running, t0: int) -> None:
    w = eng.client("timestream-write")
    w.create_database(DatabaseName="fdb")
    w.create_table(DatabaseName="fdb", TableName="flushed")
    for i in range(3):
        w.write_records(
            DatabaseName="fdb",
            TableName="flushed",
            CommonAttributes={"Dimensions": [{"Name": "host", "Value": "h1"}]},
            Records=[{"MeasureName": "cpu", "MeasureValue": "1.5", "Time": str(t0 + i * 1000)}],
        )


def _flushed_within(eng: Running, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if eng.stats()["rows_flushed"] == 3:
            return True
        time.sleep(0.05)
    return False


@pytest.mark.parametrize("idle", [0.05, 3600.0])
def test_a_pause_in_the_writes_flushes_without_waiting_for_the_interval(tmp_path: Path, idle: float) -> None:
    """With the interval and the batch size out of reach, only the pause rule can flush: rows
    written and then left alone reach DuckDB (and stay buffered when that rule is off too)."""
    cfg = make_config(tmp_path, flush_interval=3600, flush_idle=idle, flush_rows=10**9)
    with engine_in_thread(cfg) as eng:
        _write_some(eng, int(time.time() * 1000) - 60_000)
        if idle < 1:
            assert _flushed_within(eng, 30)
            assert eng.stats()["buffered_rows"] == 0
        else:
            assert not _flushed_within(eng, 1.0)
            assert eng.stats()["buffered_rows"] == 3
