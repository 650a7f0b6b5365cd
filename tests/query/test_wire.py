"""Over real loopback sockets: moto's server as an independent wire peer (both transports), and
the engine (in a thread, with its own SQL translation) for paging, timeouts and CancelQuery."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.engine.conftest import slow_sql
from tests.sample_format import check_log_line
from tsload.query import QueryConfig
from tsload.query.runner import run_query_workload
from tsload.targets import TargetConfig


def tiny_workload(root: Path, queries: dict[str, str]) -> Path:
    for model in ("single", "multi"):
        d = root / "queries" / model
        d.mkdir(parents=True, exist_ok=True)
        for name, sql in queries.items():
            (d / f"{name}.sql").write_text(sql)
    (root / "config.ini").write_text(
        "[default]\nrepetitions = 6\nretries = 2\n[query_distribution]\n"
        + "".join(f"{n} = {i + 1}\n" for i, n in enumerate(queries))
    )
    return root


@pytest.mark.parametrize("transport", ["sdk", "fast"])
async def test_moto_wire(tmp_path: Path, moto_url: str, transport: str) -> None:
    wl = tiny_workload(
        tmp_path / "wl", {"q-a": "SELECT {region} AS region, 1.5 AS v", "q-b": "SELECT {cell}"}
    )
    cfg = QueryConfig(
        target=TargetConfig(endpoint=moto_url),
        workload_dir=wl,
        params="fixed",
        think_time_ms=0,
        concurrency=2,
        log_dir=tmp_path / "logs",
        seed=5,
        transport=transport,
        stats_interval_s=0.2,
    )
    result = await run_query_workload(cfg)
    assert sum(q.total for q in result.queries.values()) == 12
    assert all(q.successful == q.total and q.failed == 0 for q in result.queries.values())
    dirs = sorted((tmp_path / "logs").iterdir())
    assert [d.name.rsplit("-", 2)[1:] for d in dirs] == [["1", "1"], ["1", "2"]]
    assert all(d.name.startswith("127.0.0.1-") for d in dirs)  # the run prefix defaults to the host
    for d in dirs:
        assert all(e.stat().st_size == 0 for e in d.glob("*.err"))
        for log in d.glob("q-*.log"):
            for line in log.read_text().splitlines():
                assert check_log_line(line)[4] == 2, line
        assert (d / "numDatapoints-begin.log").exists() and (d / "numDatapoints-end-result.txt").exists()


# -- the engine in a thread -----------------------------------------------------------------------


@pytest.fixture
def engine_url(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    from tests.engine.conftest import engine_in_thread, fill_numbers
    from tsload.engine import EngineConfig

    with engine_in_thread(EngineConfig(data_dir=tmp_path / "data", query_wait=0.05)) as running:
        fill_numbers(running.client("timestream-write"), "wdb", "nums", 2345)
        # the first query imports the SQL translation (~0.3 s): not inside the timeouts below
        running.client("timestream-query").query(QueryString="SELECT 1 AS x")
        yield running.url, running


def stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url + "/tsload/stats") as r:
        data: dict[str, Any] = json.load(r)
        return data


@pytest.mark.parametrize("transport", ["sdk", "fast"])
async def test_engine_paging_timeout_and_cancel(
    tmp_path: Path, engine_url: tuple[str, Any], transport: str
) -> None:
    url, _ = engine_url
    wl = tiny_workload(
        tmp_path / "wl",
        {
            "pages": 'SELECT "measure_value::bigint" AS x, {region} AS r FROM wdb.nums',
            # long enough to outlast the timeout; the engine interrupts it on CancelQuery
            "slow": slow_sql("wdb", "nums"),
        },
    )
    cfg = QueryConfig(
        target=TargetConfig(endpoint=url),
        workload_dir=wl,
        params="fixed",
        think_time_ms=0,
        concurrency=1,
        log_dir=tmp_path / "logs",
        seed=11,
        transport=transport,
        timeout_s=1.0,  # the first answer (translation + query_wait) comes well before it
        count_datapoints=False,
        repetitions=4,
    )
    before = stats(url)
    result = await run_query_workload(cfg)
    pages, slow = result.queries.get("pages"), result.queries["slow"]
    assert slow.timed_out == slow.total > 0 and slow.successful == 0 and slow.cancelled == slow.total
    if pages is not None:
        assert pages.successful == pages.total
    (d,) = (tmp_path / "logs").iterdir()
    for line in (d / "pages.log").read_text().splitlines() if pages else ():
        assert check_log_line(line)[4] == 2345  # every page read to the last row
    err = (d / "slow.err").read_text()
    assert err.count("timed out after") == slow.total and "cancelled" in err
    meta = orjson.loads((d / "session.json").read_bytes())
    assert meta["queries"]["slow"]["timed_out"] == slow.total
    for _ in range(50):
        after = stats(url)
        if after.get("cancelled_queries", 0) - before.get("cancelled_queries", 0) >= slow.total:
            break
        await asyncio.sleep(0.1)
    assert after["cancelled_queries"] - before.get("cancelled_queries", 0) >= slow.total


async def test_throttling_retries_counted(tmp_path: Path) -> None:
    from tests.engine.conftest import engine_in_thread
    from tsload.engine import EngineConfig
    from tsload.engine.config import FaultConfig

    faults = FaultConfig(throttle_rate=0.3, seed=4)
    with engine_in_thread(EngineConfig(data_dir=tmp_path / "data", faults=faults)) as running:
        wl = tiny_workload(tmp_path / "wl", {"one": "SELECT {region} AS r"})
        (wl / "config.ini").write_text("[default]\nretries = 20\n[query_distribution]\none = 1\n")
        cfg = QueryConfig(
            target=TargetConfig(endpoint=running.url),
            workload_dir=wl,
            params="fixed",
            think_time_ms=0,
            log_dir=tmp_path / "logs",
            seed=1,
            repetitions=40,
            count_datapoints=False,
        )
        result = await run_query_workload(cfg)
        injected = running.stats()["injected_throttles"]
    q = result.queries["one"]
    assert q.successful == 40 and q.retries == injected > 0 and q.throttled == injected


async def test_local_engine_latency_fault_times_out(tmp_path: Path) -> None:
    # `tsload serve` started by open_target (no -r/-e) with --latency-ms: every Query waits 600 ms
    # before the engine even assigns a QueryId, so a 0.15 s timeout fires with nothing to cancel.
    wl = tiny_workload(tmp_path / "wl", {"one": "SELECT {region} AS r"})
    cfg = QueryConfig(
        target=TargetConfig(local_data=tmp_path / "data", local_engine_args=("--latency-ms", "600")),
        workload_dir=wl,
        params="fixed",
        think_time_ms=0,
        log_dir=tmp_path / "logs",
        seed=1,
        repetitions=3,
        timeout_s=0.15,
        count_datapoints=False,
    )
    result = await run_query_workload(cfg)
    q = result.queries["one"]
    assert q.total == 3 and q.timed_out == 3 and q.cancelled == 0
    (d,) = (tmp_path / "logs").iterdir()
    assert d.name.startswith("local-")
    err = (d / "one.err").read_text()
    # no answer came: no "<time> QueryId: … RequestId: …" line (the sample writes it only for a
    # service error), the traceback-style lines say what happened
    assert err.count("timed out after") == 3 and "RequestId" not in err
    lines = (d / "one.log").read_text().splitlines()
    assert [check_log_line(x)[2::2] for x in lines] == [(None, None)] * 3  # QueryId: None, Rows: None
