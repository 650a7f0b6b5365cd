"""Engines for the tests: in a background thread (same process, so a test can look at the engine's
state) or as a `python -m tsload serve` subprocess. Clients are stock boto3/aioboto3 over real
loopback sockets; SDK retries are off so every error reaches the test as the engine sent it."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tsload.engine import Engine, EngineConfig

NO_RETRY = Config(retries={"total_max_attempts": 1}, connect_timeout=5, read_timeout=60)
CREDS = {"region_name": "us-east-1", "aws_access_key_id": "AKIDTEST", "aws_secret_access_key": "secret"}


@dataclass
class Running:
    engine: Engine
    url: str

    def client(self, service: str, **kw: Any) -> Any:
        return boto3.client(service, endpoint_url=self.url, config=kw.pop("config", NO_RETRY), **CREDS, **kw)

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/tsload/stats") as r:
            data: dict[str, Any] = json.load(r)
            return data


@contextmanager
def engine_in_thread(config: EngineConfig) -> Iterator[Running]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="test-engine", daemon=True)
    thread.start()
    engine = Engine(config)
    try:
        asyncio.run_coroutine_threadsafe(engine.start(), loop).result(30)
        yield Running(engine, engine.url)
    finally:
        asyncio.run_coroutine_threadsafe(engine.stop(), loop).result(30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    with engine_in_thread(EngineConfig(data_dir=tmp_path_factory.mktemp("engine") / "data")) as running:
        yield running


@pytest.fixture(scope="module")
def tsw(engine: Running) -> Any:
    return engine.client("timestream-write")


@pytest.fixture(scope="module")
def tsq(engine: Running) -> Any:
    return engine.client("timestream-query")


def make_config(tmp: Path, **kw: Any) -> EngineConfig:
    return replace(EngineConfig(data_dir=tmp / "data"), **kw)


V = '"measure_value::bigint"'


def fill_numbers(tsw: Any, db: str, table: str, n: int) -> None:
    """Table `db.table` with the BIGINT values 0..n-1 (one host, one record per millisecond)."""
    tsw.create_database(DatabaseName=db)
    tsw.create_table(DatabaseName=db, TableName=table)
    t0 = int(time.time() * 1000) - 60_000
    for start in range(0, n, 100):
        tsw.write_records(
            DatabaseName=db,
            TableName=table,
            CommonAttributes={"Dimensions": [{"Name": "host", "Value": "h"}], "MeasureValueType": "BIGINT"},
            Records=[
                {"MeasureName": "n", "MeasureValue": str(i), "Time": str(t0 + i)}
                for i in range(start, min(start + 100, n))
            ],
        )


def slow_sql(db: str, table: str) -> str:
    """Timestream SQL that runs for minutes over `fill_numbers(..., 2000)`: a three-way cross join
    of 8e9 rows (the tests cancel it or stop the engine under it)."""
    t = f"{db}.{table}"
    return f"SELECT sum(a.{V} * b.{V} * c.{V}) AS s FROM {t} a CROSS JOIN {t} b CROSS JOIN {t} c"


def quick_sql(db: str, table: str) -> str:
    """About a second over `fill_numbers(..., 2000)`, longer than a 50 ms query_wait: a sum over
    2000 x 2000 x 20 = 80,000,000 rows, equal to 1,999,000² x 190."""
    t = f"{db}.{table}"
    return (f"SELECT sum(a.{V} * b.{V} * c.{V}) AS s FROM {t} a CROSS JOIN {t} b "
            f"CROSS JOIN (SELECT {V} FROM {t} WHERE {V} < 20) c")


def scalar_rows(resp: dict[str, Any]) -> list[list[str | None]]:
    return [[d.get("ScalarValue") for d in row["Data"]] for row in resp["Rows"]]
