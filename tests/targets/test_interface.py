"""The target interface (tsload.targets.base): layering, the registry, the one retry policy, and the
Timestream target through the interface only, against the local engine (`tsload serve`) over HTTP."""

from __future__ import annotations

import ast
import pickle
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import tsload
from tsload._errors import ConfigError, QueryError, TargetError
from tsload.targets import (
    CallError,
    CancelsQueries,
    ClientOptions,
    Handoff,
    RetryPolicy,
    Schema,
    TargetConfig,
    WriteKind,
    open_target,
    reopen,
)

PACKAGE = Path(tsload.__file__).parent
LOAD_SIDE = ("ingest", "query", "experiment")


def _imports(path: Path) -> set[str]:
    """Every module a file imports (absolute names; `from a import b` counts as a and a.b)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out.update(f"{node.module}.{alias.name}" for alias in node.names)
    return out


def test_ingest_query_and_run_never_import_a_target_package() -> None:
    offenders = []
    for room in LOAD_SIDE:
        for path in sorted((PACKAGE / room).rglob("*.py")):
            for name in _imports(path):
                if name == "tsload.targets.timestream" or name.startswith("tsload.targets.timestream."):
                    offenders.append(f"{path.relative_to(PACKAGE.parent)}: {name}")
    assert not offenders, offenders
    # the check itself can fail: the Timestream target's own modules do import each other
    assert any(
        n.startswith("tsload.targets.timestream.")
        for n in _imports(PACKAGE / "targets" / "timestream" / "target.py")
    )


def test_only_the_registry_imports_target_packages() -> None:
    importers = {
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if "targets" not in path.relative_to(PACKAGE).parts[:1]
        and any(n.startswith("tsload.targets.timestream") for n in _imports(path))
    }
    assert importers == set(), importers


def test_a_target_package_imports_no_other_target_package() -> None:
    """One folder per target: what two targets share lives in tsload/targets/ itself (http.py)."""
    packages = sorted(p.name for p in (PACKAGE / "targets").iterdir() if (p / "__init__.py").is_file())
    assert "timestream" in packages
    offenders = []
    for package in packages:
        others = tuple(f"tsload.targets.{o}" for o in packages if o != package)
        for path in sorted((PACKAGE / "targets" / package).rglob("*.py")):
            bad = [n for n in _imports(path) if n in others or n.startswith(tuple(o + "." for o in others))]
            offenders += [f"{path.relative_to(PACKAGE.parent)}: {n}" for n in bad]
    assert not offenders, offenders


def test_the_interface_loads_no_sdk() -> None:
    code = (
        "import sys, tsload.targets\n"
        "tsload.targets.TargetConfig(endpoint='http://127.0.0.1:1')\n"
        "heavy = ('aioboto3', 'botocore', 'numpy', 'tsload.targets.timestream')\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""


def test_registry_names_the_known_targets() -> None:
    with pytest.raises(ConfigError, match=r"^target.kind: one of (\w+, )*timestream(, \w+)*, got nosuchdb$"):
        open_target(TargetConfig(kind="nosuchdb"))
    with pytest.raises(ConfigError, match=r"^handoff: one of .*, got nosuchdb$"):
        reopen(Handoff("nosuchdb", None))
    with pytest.raises(ConfigError, match="client: one of auto, sdk, fast"):
        open_target(TargetConfig(), ClientOptions(client="telepathy"))


def test_one_retry_policy_full_jitter() -> None:
    policy = RetryPolicy(max_retries=3, base_s=0.1, cap_s=0.3)
    rng = random.Random(5)
    for retry, bound in ((1, 0.1), (2, 0.2), (3, 0.3), (9, 0.3)):
        waits = [policy.backoff_s(retry, rng) for _ in range(200)]
        assert all(0.0 <= w <= bound for w in waits)
        assert max(waits) > bound * 0.8  # jitter spans the range, not a fixed delay


def test_timestream_retryable_codes_are_one_list_for_writes_and_queries() -> None:
    from tsload.targets.timestream.outcome import RETRYABLE_CODES, classify_error
    from tsload.targets.timestream.query import call_error
    from tsload.targets.timestream.target import TimestreamTarget

    assert TimestreamTarget.retryable_codes is RETRYABLE_CODES
    assert {"ThrottlingException", "RequestTimeoutException", "ConnectionError"} <= RETRYABLE_CODES
    for code in sorted(RETRYABLE_CODES):
        assert classify_error(400, code, "m", {}, 3, None).kind is WriteKind.RETRY, code
        assert call_error(code, "m", status=400).retryable, code
    for code in ("ValidationException", "AccessDeniedException", "ResourceNotFoundException"):
        assert classify_error(400, code, "m", {}, 3, None).kind is WriteKind.FATAL
        assert not call_error(code, "m", status=400).retryable
    # any 5xx retries, whatever its code; throttling is marked as such
    assert classify_error(503, "Odd", "m", {}, 3, None).kind is WriteKind.RETRY
    assert call_error("Odd", "m", status=503).retryable
    throttled = call_error("ThrottlingException", "slow down", status=400, request_id="R")
    assert throttled.throttled and isinstance(throttled, QueryError) and isinstance(throttled, TargetError)
    assert isinstance(throttled, CallError) and throttled.request_id == "R"


@pytest.fixture(scope="module")
def engine_url(tmp_path_factory: pytest.TempPathFactory) -> object:
    import asyncio

    from tsload.targets.local import LocalEngine

    engine = LocalEngine(tmp_path_factory.mktemp("engine"))
    loop = asyncio.new_event_loop()
    loop.run_until_complete(engine.__aenter__())
    try:
        yield engine.endpoint_url
    finally:
        loop.run_until_complete(engine.__aexit__(None, None, None))
        loop.close()


async def test_timestream_target_through_the_interface(engine_url: str) -> None:
    from tsload.model.encode import EncodeOptions
    from tsload.model.fleet import Fleet, FleetConfig

    schema = Schema("iface", "tbl1")
    async with open_target(TargetConfig(endpoint=engine_url), ClientOptions(concurrency=4)) as target:
        assert target.kind == "timestream" and target.description == "127.0.0.1" and not target.is_local
        assert any("created table iface.tbl1" in line for line in await target.ensure_schema(schema))
        assert any("exists: kept" in line for line in await target.ensure_schema(schema))

        fleet = Fleet(FleetConfig(host_scale=1))
        encoder = target.encoder(fleet, EncodeOptions(database="iface", table="tbl1", data_seed=1))
        now_ms = 1_000 * int(__import__("time").time())
        requests = encoder.per_emission("metrics", np.arange(3, dtype=np.int64), np.full(3, now_ms))
        outcomes = [await target.write(r.body, r.records) for r in requests]
        assert [o.kind for o in outcomes] == [WriteKind.OK] * len(requests)
        written = sum(r.records for r in requests)
        assert sum(o.ingested for o in outcomes) == written

        page = await target.query_page("SELECT count(*) AS n FROM iface.tbl1", keep_rows=True)
        assert page.rows == 1 and page.columns == ("n",) and page.values == ((str(written),),)
        assert page.query_id and page.next_token is None

        with pytest.raises(CallError) as failed:
            await target.query_page("SELECT nonsense FROM iface.no_such_table")
        assert not failed.value.retryable and failed.value.code
        assert isinstance(target, CancelsQueries)

        # another process's view of the same target: picklable, and it reaches the same table
        handoff = pickle.loads(pickle.dumps(await target.handoff()))
        async with reopen(handoff) as again:
            assert (await again.query_page("SELECT count(*) FROM iface.tbl1")).rows == 1
        assert target.shared_config() == TargetConfig(endpoint=engine_url)

        # a bad body is the service's answer, never an exception
        bad = await target.write(b'{"DatabaseName": "iface", "TableName": "tbl1", "Records": 3}', 1)
        assert bad.kind in (WriteKind.FATAL, WriteKind.REJECTED) and bad.code
        if bad.kind is WriteKind.FATAL:  # the target's complete explanation, shown to the user as it is
            assert bad.message.startswith(f"WriteRecords failed: {bad.code}: ")

        lines = await target.drop_schema(schema)
        assert lines == ["deleted table iface.tbl1", "deleted database iface"]
        assert await target.drop_schema(schema) == [
            "table iface.tbl1 does not exist",
            "database iface does not exist",
        ]


async def test_local_target_starts_and_stops_an_engine(tmp_path: Path) -> None:
    async with open_target(TargetConfig(local_data=tmp_path / "data")) as target:
        assert target.is_local and target.description == "local"
        shared = target.shared_config()
        assert shared.endpoint is not None and shared.endpoint.startswith("http://127.0.0.1:")
        # the shared config reaches the running engine without starting another one
        async with open_target(shared) as same:
            assert not same.is_local
            assert (await same.query_page("SELECT 1")).rows == 1
    async with open_target(shared) as gone:
        with pytest.raises(CallError) as refused:
            await gone.query_page("SELECT 1")
        assert refused.value.code == "ConnectionError" and refused.value.retryable


async def test_executor_cancels_only_through_the_optional_ability() -> None:
    """A target without `CancelsQueries` (say a database with no cancel call): a timed-out query is
    counted and nothing is called that the target does not have."""
    import asyncio

    from tsload.query.executor import QueryExecutor
    from tsload.targets import Page

    class Hangs:
        async def query_page(
            self, sql: str, next_token: str | None = None, *, keep_rows: bool = False
        ) -> Page:
            if next_token is None:
                return Page(rows=2, query_id="Q1", next_token="more")
            await asyncio.Event().wait()
            raise AssertionError  # pragma: no cover

    class HangsAndCancels(Hangs):
        def __init__(self) -> None:
            self.cancelled: list[str] = []

        async def cancel_query(self, query_id: str) -> None:
            self.cancelled.append(query_id)

    plain = await QueryExecutor(Hangs(), RetryPolicy(), timeout_s=0.05).run("SELECT 1")
    assert plain.timed_out and plain.rows == 2 and plain.query_id == "Q1" and not plain.cancelled
    assert not isinstance(Hangs(), CancelsQueries)

    target = HangsAndCancels()
    out = await QueryExecutor(target, RetryPolicy(), timeout_s=0.05).run("SELECT 1")
    assert out.timed_out and out.cancelled and target.cancelled == ["Q1"]


def test_run_files_describe_the_target_one_way() -> None:
    """session.json (QueryConfig) and run.json (RunConfig) say which database from one method, and
    hold no credentials; run.json adds only the profile name."""
    from tsload.experiment.config import RunConfig, run_ingest_defaults, run_query_defaults
    from tsload.query.config import QueryConfig

    influx = TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:9", influx_api="v2", profile="p",
                          token_file=Path("/secret/token"))
    assert influx.as_dict() == {
        "target": "influxdb", "influx_api": "v2", "region": None, "endpoint": "http://127.0.0.1:9"
    }
    assert TargetConfig(region="eu-west-1", influx_api="v2").as_dict()["influx_api"] is None
    session = QueryConfig(target=influx).as_dict()
    run = RunConfig(ingest=run_ingest_defaults(target=influx), query=run_query_defaults(),
                    out_dir=Path("o")).as_dict()
    for d in (session, run):
        assert {k: d[k] for k in influx.as_dict()} == influx.as_dict()
        assert "/secret/token" not in str(d)
    assert run["profile"] == "p" and "profile" not in session
