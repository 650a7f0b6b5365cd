"""The InfluxDB target end to end against a real influxd 1.6: backfills counted and read back,
the query workload, bad credentials, a missing database, partial writes."""

from __future__ import annotations

import asyncio
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.influxdb.server import InfluxServer
from tsload._errors import ConfigError, TargetError
from tsload.ingest import IngestConfig, ingest
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import METRIC_NAMES
from tsload.model.values import ValueModel
from tsload.query.config import QueryConfig
from tsload.query.runner import run_query_workload
from tsload.targets import ClientOptions, Schema, TargetConfig, WriteKind, open_target


@pytest.fixture
def no_influx_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for key in ("INFLUX_TOKEN", "INFLUX_USERNAME", "INFLUX_PASSWORD", "INFLUX_ORG"):
        monkeypatch.delenv(key, raising=False)
    yield


def _cfg(server: InfluxServer, db: str, **kw: object) -> IngestConfig:
    base: dict[str, object] = dict(
        target=TargetConfig(endpoint=server.url, kind="influxdb"),
        database=db,
        host_scale=1,
        interval_millis=60_000,
        backfill_s=30 * 60,
        duration_s=0,
        concurrency=4,
        batch_size=5000,
        stats_interval_s=1.0,
    )
    base.update(kw)
    return IngestConfig(**base)  # type: ignore[arg-type]


def _rows(log_line: str) -> int:
    """The row count a query log line ends with (whatever the line's layout)."""
    m = re.search(r"(\d+)\s*$", log_line)
    assert m, log_line
    return int(m.group(1))


def _count(server: InfluxServer, db: str, measurement: str, field: str) -> int:
    res = server.query(f"SELECT count({field}) FROM {measurement}", db)["results"][0]
    return int(res["series"][0]["values"][0][1]) if "series" in res else 0


async def test_backfill_point_counts_and_values_match_the_model(
    influxd: InfluxServer, no_influx_env: None
) -> None:
    db = "backfill_counts"
    summary = await ingest(_cfg(influxd, db, processes=2, seed=4))
    assert summary.balanced and summary.failed == 0 and summary.rejected == 0
    metrics, events = _count(influxd, db, "metrics", "cpu_user"), _count(influxd, db, "events", "gc_pause")
    # 30 minutes at 60 s: 30 emissions of each of 1,000 hosts and 1,200 event sets
    assert (metrics, events) == (30 * 1000, 30 * 1200)
    assert summary.generated == summary.ingested == metrics + events
    assert summary.ingested_measures == metrics * 20 + events * 5
    # values read back equal the model's, for sampled (host, time) pairs
    fleet = Fleet(FleetConfig(host_scale=1))
    model = ValueModel(4, 12345)
    rows = influxd.query(
        f"SELECT {', '.join(METRIC_NAMES)}, instance_name FROM metrics WHERE instance_name =~ /0000000[02]/ "
        "LIMIT 400",
        db,
    )["results"][0]["series"][0]["values"]
    names = {dict(fleet.metric_dimensions(h))["instance_name"]: h for h in range(fleet.n_hosts)}
    assert len(rows) == 400
    for row in rows:
        host = names[row[-1]]
        assert row[1:-1] == model.metric_values([host], [row[0]])[0].tolist()


async def test_query_workload_runs_the_influxql_mix(
    influxd: InfluxServer, no_influx_env: None, tmp_path: Path
) -> None:
    db = "query_mix"
    await ingest(_cfg(influxd, db, backfill_s=20 * 60))
    cfg = QueryConfig(
        target=TargetConfig(endpoint=influxd.url, kind="influxdb"),
        database=db,
        log_dir=tmp_path / "logs",
        concurrency=3,
        repetitions=12,
        think_time_ms=0,
        params="table",
        seed=3,
    )
    result = await run_query_workload(cfg)
    assert result.queries, "no query ran"
    total = sum(q.total for q in result.queries.values())
    assert total == 36
    assert all(q.failed == 0 and q.successful == q.total for q in result.queries.values())
    (session,) = [d for d in (tmp_path / "logs").iterdir() if d.name.endswith("-1-1")]
    begin = (session / "numDatapoints-begin.log").read_text()
    assert _rows(begin) == 2, begin  # one count per measurement
    counts = (session / "numDatapoints-begin-result.txt").read_text()
    m, e = (int(line.split()[-1]) for line in counts.splitlines()[1:])
    # about 15 minutes of 1,000 hosts and of 1,200 event sets (hosts have phases within the minute)
    assert 14_000 <= m <= 16_000 and 16_800 <= e <= 19_200, counts
    logs = [p.read_text().splitlines() for p in session.glob("do-q*.log")]
    assert logs and all(_rows(line) > 0 for lines in logs for line in lines)


async def test_missing_database_is_fatal_with_the_reason(influxd: InfluxServer, no_influx_env: None) -> None:
    with pytest.raises(TargetError, match=r"HTTP 404.*database not found.*does not exist"):
        await ingest(_cfg(influxd, "never_created", create_schema=False, backfill_s=120))


async def test_bad_credentials_are_fatal_and_good_ones_write(
    influxd_auth: InfluxServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INFLUX_TOKEN", raising=False)
    monkeypatch.setenv("INFLUX_USERNAME", "tsload")
    monkeypatch.setenv("INFLUX_PASSWORD", "wrong-password")
    with pytest.raises(TargetError, match=r"HTTP 401.*credentials were refused"):
        await ingest(_cfg(influxd_auth, "authdb", backfill_s=120))  # creating the database
    with pytest.raises(TargetError, match=r"write failed: HTTP 401.*credentials were refused"):
        await ingest(_cfg(influxd_auth, "authdb", backfill_s=120, create_schema=False))  # the writes
    monkeypatch.setenv("INFLUX_PASSWORD", "tsload-secret")
    summary = await ingest(_cfg(influxd_auth, "authdb", backfill_s=120))
    assert summary.balanced and summary.ingested == 2 * 2200
    monkeypatch.delenv("INFLUX_USERNAME")
    monkeypatch.delenv("INFLUX_PASSWORD")
    with pytest.raises(TargetError, match="HTTP 401"):
        await ingest(_cfg(influxd_auth, "authdb", backfill_s=120))


async def test_partial_writes_count_as_rejected_with_their_reason(
    influxd: InfluxServer, no_influx_env: None
) -> None:
    db = "partial"
    # a string cpu_user already in the shard: every later float cpu_user conflicts
    # one shard group for ~10 years, so the planted point and the backfill never straddle a boundary
    influxd.query(f"CREATE DATABASE {db} WITH SHARD DURATION 520w")
    now_ms = time.time_ns() // 1_000_000
    status, body = influxd.write(db, f'metrics,seed=x cpu_user="text" {now_ms - 600_000}\n'.encode())
    assert status == 204, body
    summary = await ingest(_cfg(influxd, db, backfill_s=5 * 60))
    assert summary.balanced
    assert summary.rejected == 5 * 1000  # every metrics line
    assert summary.ingested == 5 * 1200  # every events line
    (reason,) = summary.rejected_by_reason
    assert "field type conflict" in reason

    # an unparsable line among good ones: only it is rejected
    async with open_target(TargetConfig(endpoint=influxd.url, kind="influxdb", database=db)) as target:
        out = await target.write(
            b"x,h=a v=1 1600000000000\nx,h=a v= 1600000000001\nx,h=b v=2 1600000000002\n", 3
        )
    assert out.kind is WriteKind.REJECTED and out.ingested == 2
    assert out.rejected_reasons == ("unable to parse: missing field value",)


async def test_schema_created_kept_and_dropped(influxd: InfluxServer, no_influx_env: None) -> None:
    async with open_target(TargetConfig(endpoint=influxd.url, kind="influxdb")) as target:
        first = await target.ensure_schema(Schema("schema_db", "host_metrics"))
        again = await target.ensure_schema(Schema("schema_db", "host_metrics"))
        assert first[0] == "database schema_db created" and again[0] == "database schema_db exists: kept"
        assert "schema_db" in str(influxd.query("SHOW DATABASES"))
        assert (await target.drop_schema(Schema("schema_db", "x")))[0].startswith(
            "database schema_db dropped"
        )
    assert "schema_db" not in str(influxd.query("SHOW DATABASES"))


def test_settings_refused_with_the_flag(no_influx_env: None, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^target.endpoint: an InfluxDB URL"):
        asyncio.run(_open(TargetConfig(kind="influxdb")))
    with pytest.raises(ConfigError, match=r"^target.influx_org: "):
        asyncio.run(_open(TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:1", influx_api="v2")))
    with pytest.raises(ConfigError, match=r"^target.influx_api: v1, v2 or v3, got"):
        asyncio.run(_open(TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:1", influx_api="v9")))
    with pytest.raises(ConfigError, match="--token-file"):
        asyncio.run(
            _open(TargetConfig(kind="influxdb", endpoint="http://127.0.0.1:1", token_file=tmp_path / "nope"))
        )
    with pytest.raises(ConfigError, match=r"batch_size: 1..10,000 lines"):
        IngestConfig(target=TargetConfig(kind="influxdb", endpoint="http://x"), batch_size=10_001).validate()
    with pytest.raises(ConfigError, match="multi: off with --target influxdb"):
        IngestConfig(target=TargetConfig(kind="influxdb", endpoint="http://x"), multi=True).validate()
    os.environ.pop("INFLUX_TOKEN", None)


async def _open(cfg: TargetConfig) -> None:
    async with open_target(cfg, ClientOptions()):
        pass


async def test_open_model_arrival_runs_unchanged(
    influxd: InfluxServer, no_influx_env: None, tmp_path: Path
) -> None:
    db = "open_model"
    await ingest(_cfg(influxd, db, backfill_s=10 * 60))
    cfg = QueryConfig(
        target=TargetConfig(endpoint=influxd.url, kind="influxdb"),
        database=db,
        log_dir=tmp_path / "logs",
        concurrency=4,
        params="model",
        host_scale=1,
        arrival_rate=20.0,
        duration_s=2.0,
        seed=5,
    )
    result = await run_query_workload(cfg)
    ok = sum(q.successful for q in result.queries.values())
    assert ok >= 20 and all(q.failed == 0 for q in result.queries.values())
