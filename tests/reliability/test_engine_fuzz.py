"""Hypothesis fuzz of the engine's request parsing and validation, in-process: whatever the decoded
JSON body, the functions raise nothing but the engine's `ApiError` (answered as an AWS-shaped 4xx),
and option parsers raise nothing but `ConfigError`."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsload._errors import ConfigError
from tsload.engine import catalogue, server
from tsload.engine.config import parse_latency
from tsload.engine.errors import ApiError
from tsload.engine.records import parse_write_request

SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)
# Lists/objects in name positions used to raise TypeError in the parser's name cache (finding F5).
names = st.one_of(
    st.sampled_from(["cpu", "host", "region", "time", "measure_value::double", "_version"]), json_values
)
types = st.one_of(
    st.sampled_from(["DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "MULTI"]), json_values
)
units = st.one_of(st.sampled_from(["MILLISECONDS", "SECONDS", "MICROSECONDS", "NANOSECONDS"]), json_values)
numbers_as_text = st.one_of(
    st.integers(min_value=-(2**64), max_value=2**64).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(["true", "false", "1e400", "", " 1", "0x10", "1_000", "९"]),
    json_values,
)

dimension = st.fixed_dictionaries(
    {"Name": names, "Value": st.one_of(st.text(max_size=30), json_values)},
    optional={"DimensionValueType": st.one_of(st.just("VARCHAR"), json_values)},
)
dimensions = st.one_of(st.lists(dimension, max_size=5), json_values)
measure_values = st.one_of(
    st.lists(
        st.fixed_dictionaries({"Name": names, "Value": numbers_as_text, "Type": types}), max_size=4
    ),
    json_values,
)
record = st.fixed_dictionaries(
    {},
    optional={
        "Dimensions": dimensions,
        "MeasureName": names,
        "MeasureValue": numbers_as_text,
        "MeasureValueType": types,
        "MeasureValues": measure_values,
        "Time": numbers_as_text,
        "TimeUnit": units,
        "Version": st.one_of(st.integers(min_value=-3, max_value=2**65), json_values),
    },
)
body = st.fixed_dictionaries(
    {},
    optional={
        "DatabaseName": st.one_of(st.just("db"), json_values),
        "TableName": st.one_of(st.just("tbl"), json_values),
        "Records": st.one_of(st.lists(st.one_of(record, json_values), min_size=0, max_size=6), json_values),
        "CommonAttributes": st.one_of(record, json_values),
    },
)


@SETTINGS
@given(body)
def test_parse_write_request_raises_only_api_errors(doc: dict[str, Any]) -> None:
    try:
        parsed = parse_write_request(doc)
    except ApiError as exc:
        assert 400 <= exc.status < 500 and exc.message
        return
    assert parsed.database == doc["DatabaseName"] and parsed.table == doc["TableName"]
    assert len(parsed.rows) == len(doc["Records"])


@SETTINGS
@given(json_values)
def test_parse_write_request_on_any_json(doc: Any) -> None:
    try:
        parse_write_request(doc)
    except ApiError as exc:
        assert 400 <= exc.status < 500


@SETTINGS
@given(st.one_of(st.none(), st.text(max_size=200)), st.one_of(st.none(), st.text(max_size=20)))
def test_auth_check_raises_only_api_errors(auth: str | None, date: str | None) -> None:
    try:
        region = server._check_auth(auth, date)
    except ApiError as exc:
        assert exc.status == 403
        return
    assert isinstance(region, str) and region


@SETTINGS
@given(
    json_values,
    json_values,
    json_values,
    st.dictionaries(st.sampled_from(["NextToken", "MaxResults"]), json_values),
)
def test_control_plane_validators_raise_only_api_errors(
    name: Any, retention: Any, magnetic: Any, page: dict[str, Any]
) -> None:
    for call in (
        lambda: catalogue._new_name(name, "TableName"),
        lambda: catalogue._retention(retention, (6, 73000)),
        lambda: catalogue._magnetic(magnetic, (False, None)),
        lambda: catalogue._schema(retention),
        lambda: catalogue._paginate(list(range(30)), page),
    ):
        try:
            call()
        except ApiError as exc:
            assert 400 <= exc.status < 500


# `nan`/`inf` used to be accepted (finding F11, fixed): hypothesis finds them quickly with this mix.
latency_texts = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.lists(
        st.sampled_from(["nan", "inf", "-inf", "1e400", "5", "-1", "0", "2.5", "", " "]), max_size=3
    ).map(":".join),
)


@SETTINGS
@given(latency_texts)
def test_latency_flag_raises_only_config_errors(text: str | None) -> None:
    try:
        out = parse_latency(text)
    except ConfigError as exc:
        assert str(exc).startswith("faults.latency_ms: ")  # the CLI shows it as --latency-ms
        return
    assert out is None or (0 <= out[0] <= out[1] and math.isfinite(out[1]))


# -- Query: Timestream-flavoured SQL through the engine's translation ------------------------------------
# Token soup in the style of the workload's queries. Whatever the engine's SQL layer
# (`tsload.engine.query` / `tsload.engine.sql`, the pre-pass for durations, `measure_value::double`,
# `"db"."table"`) makes of it, the answer must be a result or a ValidationException, never a 5xx.
SQL_TOKENS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "GROUP BY", "ORDER BY", "LIMIT", "WITH", "AS", "(", ")",
    ",", "*", "=", "<", ">", "BETWEEN", "CASE", "WHEN", "THEN", "END", "IN", "DISTINCT", "UNNEST", "JOIN",
    "ON", '"fuzzdb"."fuzztable"', "fuzzdb.fuzztable", '"fuzzdb".fuzztable', "time", "measure_name",
    "measure_value::double", "measure_value::bigint", "measure_value::", "::", "region", "host",
    "ago(15m)", "ago(", "now()", "bin(time, 1m)", "bin(", "15m", "1h", "3d", "1.5h", "0ms", "99999999999d",
    "from_milliseconds(0)", "to_milliseconds(time)", "from_iso8601_timestamp('2026-11-28T05:00:00Z')",
    "approx_percentile(measure_value::double, 0.9)", "count(*)", "count(DISTINCT host)", "avg(", "round(",
    "stddev(", "hour(time)", "dense_rank() OVER (ORDER BY time)",
    "create_time_series(time, measure_value::double)",
    "interpolate_linear(", "SHOW DATABASES", "SHOW TABLES FROM fuzzdb", "SHOW MEASURES FROM fuzzdb.fuzztable",
    "DESCRIBE fuzzdb.fuzztable", "'it''s'", "'", '"', "''", "--", "/*", "*/", ";", "1", "-1", "1e308",
    "NULL", "TRUE", "é", "\u2028", "{region}", "%s", "\\", "`", "$1", "DROP TABLE x", "ATTACH 'x'", "COPY",
    "PRAGMA", "INSTALL httpfs", "read_csv('/etc/passwd')",
]
sql_soup = st.lists(st.sampled_from(SQL_TOKENS), min_size=1, max_size=14).map(" ".join)


@pytest.fixture(scope="module")
def query_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.engine.conftest import engine_in_thread
    from tsload.engine import EngineConfig

    data = tmp_path_factory.mktemp("sql-fuzz") / "data"
    with engine_in_thread(EngineConfig(data_dir=data, query_wait=2.0)) as running:
        write = running.client("timestream-write")
        write.create_database(DatabaseName="fuzzdb")
        write.create_table(DatabaseName="fuzzdb", TableName="fuzztable")
        now_ms = int(time.time() * 1000)
        write.write_records(DatabaseName="fuzzdb", TableName="fuzztable", Records=[
            {"Dimensions": [{"Name": "region", "Value": "eu-west-1"}, {"Name": "host", "Value": f"h{i % 3}"}],
             "MeasureName": "cpu", "MeasureValue": str(i * 1.5), "Time": str(now_ms - 1000 * i)}
            for i in range(20)
        ])
        yield running


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(sql_soup)
def test_query_sql_never_crashes_the_engine(query_engine: Any, sql: str) -> None:
    status, doc = _query(query_engine.url, sql)
    if status == 200:
        assert "QueryId" in doc and isinstance(doc.get("Rows"), list)
        assert "root:" not in str(doc["Rows"]), f"the engine read a local file: {sql}"
        if doc.get("NextToken"):  # a still-running query: cancel it, it must not linger
            _cancel(query_engine.url, doc["QueryId"])
    else:
        assert 400 <= status < 500, (status, doc, sql)
        assert doc["__type"].rsplit("#", 1)[-1] == "ValidationException", (doc, sql)


def test_query_fuzz_left_no_internal_errors(query_engine: Any) -> None:
    stats = query_engine.stats()
    assert stats["errors"].get("InternalServerException", 0) == 0, stats["errors"]
    assert stats["queries"] > 0


def _query(url: str, sql: str) -> tuple[int, dict[str, Any]]:
    return _post(url, "Query", {"QueryString": sql})


def _cancel(url: str, query_id: str) -> None:
    _post(url, "CancelQuery", {"QueryId": query_id})


def _post(url: str, op: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    import http.client
    import json

    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("POST", "/", body=json.dumps(body).encode(), headers={
            "Content-Type": "application/x-amz-json-1.0",
            "X-Amz-Target": f"Timestream_20181101.{op}",
            "X-Amz-Date": "20261128T050000Z",
            "Authorization": "AWS4-HMAC-SHA256 Credential=AKIDFUZZ/20261128/us-east-1/timestream/"
                             "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
        })
        resp = conn.getresponse()
        raw = resp.read()
        doc: dict[str, Any] = json.loads(raw) if raw else {}
        return resp.status, doc
    finally:
        conn.close()
