"""Engines for the tests: in a background thread (same process, so Query can use a stand-in SQL
module) or as a `python -m tsload serve` subprocess. Clients are stock boto3/aioboto3 over real
loopback sockets; SDK retries are off so every error reaches the test as the engine sent it."""

from __future__ import annotations

import asyncio
import json
import threading
import types
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


def standin_sql() -> types.SimpleNamespace:
    """A stand-in for helper S's `tsload.engine.query` (CONTRACTS.md section 3) that runs the SQL on
    DuckDB as is: enough to look at what the engine stored and to exercise paging."""

    class QueryValidationError(Exception):
        pass

    class QueryExecutionError(Exception):
        pass

    def execute_query(cur: Any, sql: str, *, now: Any) -> Any:
        if "unsupported_thing" in sql:
            raise QueryValidationError("unsupported_thing is not supported")
        try:
            cur.execute(sql)
        except Exception as exc:
            raise QueryExecutionError(str(exc)) from exc
        names = [d[0] for d in cur.description]
        rows = [
            {"Data": [{"NullValue": True} if v is None else {"ScalarValue": str(v)} for v in rec]}
            for rec in cur.fetchall()
        ]
        info = [{"Name": n, "Type": {"ScalarType": "VARCHAR"}} for n in names]
        return types.SimpleNamespace(column_info=info, rows=rows, bytes_scanned=123, bytes_metered=10_000_000)

    return types.SimpleNamespace(
        execute_query=execute_query,
        QueryValidationError=QueryValidationError,
        QueryExecutionError=QueryExecutionError,
    )


@pytest.fixture
def standin(monkeypatch: pytest.MonkeyPatch) -> types.SimpleNamespace:
    mod = standin_sql()
    monkeypatch.setattr("tsload.engine.queries._sql_engine", lambda: mod)
    return mod


def scalar_rows(resp: dict[str, Any]) -> list[list[str | None]]:
    return [[d.get("ScalarValue") for d in row["Data"]] for row in resp["Rows"]]
