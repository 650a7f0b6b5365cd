"""v1/v2/v3 request shapes (paths, auth headers, precision, org/bucket, gzip) over loopback HTTP
against a recorder, and the write outcomes (throttles retried, v3 partial writes) end to end."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest

from tests.influxdb.lp_parse import parse_body
from tests.influxdb.recorder import Recorded, Recorder, default_reply
from tsload.ingest import IngestConfig, ingest
from tsload.targets import Schema, TargetConfig, open_target

TOKEN = "tsload-test-token-1234"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in ("INFLUX_TOKEN", "INFLUX_USERNAME", "INFLUX_PASSWORD", "INFLUX_ORG"):
        monkeypatch.delenv(key, raising=False)


def _ingest_cfg(url: str, **target: object) -> IngestConfig:
    return IngestConfig(
        target=TargetConfig(endpoint=url, kind="influxdb", **target),  # type: ignore[arg-type]
        database="devops",
        host_scale=1,
        interval_millis=60_000,
        backfill_s=120,
        duration_s=0,
        concurrency=2,
        batch_size=1000,
        create_schema=False,
        max_attempts=6,
        backoff_base_s=0.001,
        backoff_cap_s=0.01,
    )


def _writes(rec: Recorder) -> list[Recorded]:
    return [r for r in rec.requests if "write" in r.path]


@pytest.mark.parametrize(
    ("api", "path", "query", "auth"),
    [
        ("v1", "/write", {"db": "devops", "precision": "ms"}, f"Token {TOKEN}"),
        ("v2", "/api/v2/write", {"org": "acme", "bucket": "devops", "precision": "ms"}, f"Token {TOKEN}"),
        (
            "v3",
            "/api/v3/write_lp",
            {"db": "devops", "precision": "millisecond", "accept_partial": "true"},
            f"Bearer {TOKEN}",
        ),
    ],
)
async def test_write_shapes(
    monkeypatch: pytest.MonkeyPatch, api: str, path: str, query: dict[str, str], auth: str
) -> None:
    monkeypatch.setenv("INFLUX_TOKEN", TOKEN)
    async with Recorder() as rec:
        summary = await ingest(
            _ingest_cfg(rec.url, influx_api=api, influx_org="acme" if api == "v2" else None)
        )
    writes = _writes(rec)
    assert summary.balanced and summary.ingested == summary.generated == 2 * 2200
    assert {(r.method, r.path) for r in writes} == {("POST", path)}
    assert all(r.query == query for r in writes)
    assert all(r.headers["Authorization"] == auth for r in writes)
    assert all(r.headers["Content-Type"].startswith("text/plain") for r in writes)
    assert "Content-Encoding" not in writes[0].headers
    lines = [p for r in writes for p in parse_body(r.body)]
    assert len(lines) == 4400 and max(len(parse_body(r.body)) for r in writes) <= 1000
    assert {p.measurement for p in lines} == {"metrics", "events"}
    assert all(p.time is not None and 10**12 < p.time < 10**13 for p in lines)  # epoch milliseconds


async def test_gzip_bodies_and_basic_auth(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_USERNAME", "alice")
    monkeypatch.setenv("INFLUX_PASSWORD", "s3cret")
    async with Recorder() as rec:
        summary = await ingest(_ingest_cfg(rec.url, gzip=True))
    writes = _writes(rec)
    assert summary.ingested == 4400
    assert all(r.headers["Content-Encoding"] == "gzip" for r in writes)
    assert sum(len(parse_body(r.body)) for r in writes) == 4400
    expected = "Basic " + base64.b64encode(b"alice:s3cret").decode()
    assert all(r.headers["Authorization"] == expected for r in writes)


async def test_token_file_wins_and_no_credentials_sends_no_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    token_file = tmp_path / "token"
    token_file.write_text("from-the-file\n")
    monkeypatch.setenv("INFLUX_TOKEN", "from-the-env")
    async with Recorder() as rec:
        await ingest(_ingest_cfg(rec.url, token_file=token_file))
        monkeypatch.delenv("INFLUX_TOKEN")
        n = len(rec.requests)
        await ingest(_ingest_cfg(rec.url))
    assert {r.headers["Authorization"] for r in rec.requests[:n]} == {"Token from-the-file"}
    assert all("Authorization" not in r.headers for r in rec.requests[n:])


async def test_throttles_are_retried_with_backoff() -> None:
    def reply(req: Recorded, n: int) -> tuple[int, bytes, str]:
        if n <= 2:
            return 503, b'{"error":"busy"}', "application/json"
        if n == 3:
            return 429, b'{"error":"slow down"}', "application/json"
        return default_reply(req, n)

    async with Recorder(reply=reply) as rec:
        summary = await ingest(_ingest_cfg(rec.url))
    assert summary.balanced and summary.ingested == summary.generated == 4400
    assert summary.throttled == 3 and summary.retries == 3
    assert summary.errors_by_code == {"HTTP503": 2, "HTTP429": 1}


async def test_v3_partial_writes_are_rejected_by_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_TOKEN", TOKEN)

    def reply(req: Recorded, n: int) -> tuple[int, bytes, str]:
        if req.path == "/api/v3/write_lp":
            body = {
                "error": "partial write of line protocol occurred",
                "data": [
                    {
                        "original_line": "x",
                        "line_number": 2,
                        "error_message": "invalid column type for column 'cpu_user'",
                    },
                    {
                        "original_line": "y",
                        "line_number": 7,
                        "error_message": "invalid column type for column 'cpu_user'",
                    },
                ],
            }
            return 400, orjson.dumps(body), "application/json"
        return default_reply(req, n)

    async with Recorder(reply=reply) as rec:
        summary = await ingest(_ingest_cfg(rec.url, influx_api="v3"))
    requests = len(_writes(rec))
    assert summary.balanced and summary.failed == 0
    assert summary.rejected == 2 * requests and summary.ingested == 4400 - 2 * requests
    assert summary.rejected_by_reason == {"invalid column type for column '…'": 2 * requests}


async def test_query_shapes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_TOKEN", TOKEN)
    async with Recorder() as rec:
        for api in ("v1", "v2", "v3"):
            cfg = TargetConfig(
                endpoint=rec.url, kind="influxdb", influx_api=api, influx_org="acme", database="db1"
            )
            async with open_target(cfg) as target:
                page = await target.query_page("SELECT 1", keep_rows=True)
                assert page.rows == (2 if api == "v3" else 1)
    v1, v2, v3 = rec.requests
    for r in (v1, v2):
        assert (r.method, r.path) == ("POST", "/query")
        assert r.headers["Content-Type"] == "application/x-www-form-urlencoded"
        assert dict(x.split("=", 1) for x in r.body.decode().split("&")) == {
            "db": "db1",
            "q": "SELECT+1",
            "epoch": "ms",
        }
        assert r.headers["Authorization"] == f"Token {TOKEN}"
    assert (v3.method, v3.path, v3.headers["Authorization"]) == (
        "POST",
        "/api/v3/query_sql",
        f"Bearer {TOKEN}",
    )
    assert orjson.loads(v3.body) == {"db": "db1", "q": "SELECT 1", "format": "json"}


async def test_v2_and_v3_schema_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INFLUX_TOKEN", TOKEN)

    def reply(req: Recorded, n: int) -> tuple[int, bytes, str]:
        if req.path == "/api/v2/orgs":
            return 200, b'{"orgs":[{"id":"org01","name":"acme"}]}', "application/json"
        if req.path == "/api/v2/buckets" and req.method == "GET":
            return 200, b'{"buckets":[]}', "application/json"
        if req.path == "/api/v2/buckets" and req.method == "POST":
            return 201, b'{"id":"bkt01","name":"devops"}', "application/json"
        if req.path == "/api/v2/dbrps":
            return 201, b'{"content":{}}', "application/json"
        if req.path == "/api/v3/configure/database":
            return 409, b'{"error":"exists"}', "application/json"
        return default_reply(req, n)

    async with Recorder(reply=reply) as rec:
        for api in ("v2", "v3"):
            cfg = TargetConfig(endpoint=rec.url, kind="influxdb", influx_api=api, influx_org="acme")
            async with open_target(cfg) as target:
                lines = await target.ensure_schema(Schema("devops", "host_metrics"))
                assert lines[0].startswith(
                    "bucket devops created" if api == "v2" else "database devops exists"
                )
    calls = [(r.method, r.path) for r in rec.requests]
    assert calls == [
        ("GET", "/api/v2/orgs"),
        ("GET", "/api/v2/buckets"),
        ("POST", "/api/v2/buckets"),
        ("POST", "/api/v2/dbrps"),
        ("POST", "/api/v3/configure/database"),
    ]
    assert rec.requests[1].query == {"orgID": "org01", "name": "devops"}
    assert orjson.loads(rec.requests[2].body) == {"orgID": "org01", "name": "devops", "retentionRules": []}
    assert orjson.loads(rec.requests[3].body) == {
        "orgID": "org01",
        "bucketID": "bkt01",
        "database": "devops",
        "retention_policy": "autogen",
        "default": True,
    }
    assert orjson.loads(rec.requests[4].body) == {"db": "devops"}
    assert all(r.headers["Authorization"] in (f"Token {TOKEN}", f"Bearer {TOKEN}") for r in rec.requests)
