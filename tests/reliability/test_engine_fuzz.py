"""Hypothesis fuzz of the engine's request parsing and validation, in-process: whatever the decoded
JSON body, the functions raise nothing but the engine's `ApiError` (answered as an AWS-shaped 4xx),
and option parsers raise nothing but `ConfigError`."""

from __future__ import annotations

import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsload._errors import ConfigError
from tsload.engine import server
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
        lambda: server._new_name(name, "TableName"),
        lambda: server._retention(retention, (6, 73000)),
        lambda: server._magnetic(magnetic, (False, None)),
        lambda: server._schema(retention),
        lambda: server._paginate(list(range(30)), page),
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
        assert "--latency-ms" in str(exc)
        return
    assert out is None or (0 <= out[0] <= out[1] and math.isfinite(out[1]))
