"""Unit tests of the request parser: CommonAttributes override rules and canonical values."""

from __future__ import annotations

from typing import Any

import pytest

from tsload.engine.errors import ApiError
from tsload.engine.records import parse_write_request


def body(records: list[dict[str, Any]], common: dict[str, Any] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"DatabaseName": "d", "TableName": "t", "Records": records}
    if common is not None:
        out["CommonAttributes"] = common
    return out


def test_record_fields_override_common_ones() -> None:
    common = {
        "Dimensions": [{"Name": "a", "Value": "1"}],
        "MeasureName": "m",
        "MeasureValueType": "BIGINT",
        "Time": "5",
        "TimeUnit": "SECONDS",
        "Version": 3,
    }
    rows = parse_write_request(
        body(
            [
                {"MeasureValue": "7"},
                {
                    "MeasureValue": "1.5",
                    "MeasureValueType": "DOUBLE",
                    "Time": "6000",
                    "TimeUnit": "MILLISECONDS",
                },
                {
                    "MeasureName": "n",
                    "MeasureValue": "x",
                    "MeasureValueType": "VARCHAR",
                    "Version": 9,
                    "Dimensions": [{"Name": "b", "Value": "2"}],
                },
            ],
            common,
        )
    ).rows
    (d0, h0, mn0, t0, k0, v0, ver0, _), (_d1, h1, _, t1, k1, v1, _, _), (d2, h2, mn2, _, k2, v2, ver2, _) = (
        rows
    )
    assert d0 == (("a", "1"),) and mn0 == "m" and t0 == 5_000_000_000 and (k0, v0, ver0) == ("BIGINT", 7, 3)
    assert t1 == 6_000_000_000 and (k1, v1) == ("DOUBLE", 1.5) and h1 == h0
    assert d2 == (("a", "1"), ("b", "2")) and mn2 == "n" and (k2, v2, ver2) == ("VARCHAR", "x", 9)
    assert h2 != h0


def test_dimension_order_does_not_change_the_series() -> None:
    a = parse_write_request(
        body(
            [
                {
                    "MeasureName": "m",
                    "MeasureValue": "1",
                    "Time": "1",
                    "Dimensions": [{"Name": "x", "Value": "1"}, {"Name": "y", "Value": "2"}],
                }
            ]
        )
    )
    b = parse_write_request(
        body(
            [
                {
                    "MeasureName": "m",
                    "MeasureValue": "1",
                    "Time": "1",
                    "Dimensions": [{"Name": "y", "Value": "2"}, {"Name": "x", "Value": "1"}],
                }
            ]
        )
    )
    assert a.rows[0][1] == b.rows[0][1]


def test_multi_values_are_canonical_and_sorted() -> None:
    rec = {
        "MeasureName": "metrics",
        "MeasureValueType": "MULTI",
        "Time": "2",
        "TimeUnit": "MICROSECONDS",
        "MeasureValues": [
            {"Name": "z", "Value": "TRUE", "Type": "BOOLEAN"},
            {"Name": "a", "Value": "3", "Type": "TIMESTAMP"},
            {"Name": "m", "Value": "-4", "Type": "BIGINT"},
        ],
    }
    (row,) = parse_write_request(body([rec])).rows
    assert row[4] == "MULTI" and row[3] == 2000
    assert row[5] == (("a", "TIMESTAMP", 3000), ("m", "BIGINT", -4), ("z", "BOOLEAN", True))


@pytest.mark.parametrize(
    "rec",
    [
        {"MeasureName": "m", "MeasureValue": "1"},  # no time
        {"MeasureValue": "1", "Time": "1"},  # no measure name
        {"MeasureName": "m", "MeasureValue": "1", "Time": "1", "MeasureValues": []},
        {"MeasureName": "m", "MeasureValueType": "MULTI", "MeasureValue": "1", "Time": "1"},
        {
            "MeasureName": "m",
            "MeasureValue": "9223372036854775808",
            "MeasureValueType": "BIGINT",
            "Time": "1",
        },
        {"MeasureName": "m", "MeasureValue": "1", "MeasureValueType": "FLOAT", "Time": "1"},
        {
            "MeasureName": "m",
            "MeasureValue": "1",
            "Time": "1",
            "Dimensions": [{"Name": "a", "Value": "1"}, {"Name": "a", "Value": "2"}],
        },
        {"MeasureName": "m", "MeasureValue": "1", "Time": "1", "Version": True},
        {"MeasureName": "_version", "MeasureValue": "1", "Time": "1"},
    ],
)
def test_malformed_records(rec: dict[str, Any]) -> None:
    with pytest.raises(ApiError) as err:
        parse_write_request(body([rec]))
    assert err.value.code == "ValidationException"


MULTI = {"MeasureName": "m", "MeasureValueType": "MULTI", "Time": "1"}


@pytest.mark.parametrize(
    ("rec", "common", "message"),
    [
        ({**MULTI, "Dimensions": ["a"]}, None, "Records[0].Dimensions entries must be objects"),
        ({**MULTI}, {"Dimensions": [1]}, "CommonAttributes.Dimensions entries must be objects"),
        ({**MULTI, "MeasureValues": ["x"]}, None, "Records[0]: MeasureValues entries must be objects"),
        (
            {**MULTI, "Dimensions": [{"Name": "", "Value": "v"}]},
            None,
            "Dimension name must be a non-empty string",
        ),
        (
            {**MULTI, "MeasureValues": [{"Name": "a:b", "Type": "BIGINT", "Value": "1"}]},
            None,
            "Measure name 'a:b' is reserved or contains ':'",
        ),
        (
            {**MULTI, "Dimensions": [{"Name": "h", "Value": "1"}, {"Name": "h", "Value": 2}]},
            None,
            "Dimension 'h' must have a string Value",
        ),
        (
            {
                **MULTI,
                "MeasureValues": [
                    {"Name": "a", "Type": "BIGINT", "Value": "1"},
                    {"Name": "a", "Type": "NOPE", "Value": "1"},
                ],
            },
            None,
            "Records[0]: measure 'a' appears more than once",
        ),
    ],
)
def test_dimension_and_measure_value_entries_are_refused_with_aws_like_texts(
    rec: dict[str, Any], common: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(ApiError) as err:
        parse_write_request(body([rec], common))
    assert (err.value.code, err.value.message) == ("ValidationException", message)


@pytest.mark.parametrize(
    "dims",
    [
        [{"Name": "region", "Value": 1}],  # equal to a valid list but for the type of a value
        [{"Name": "region", "Value": "x"}, {"Name": "region", "Value": "y"}],
        [{"Name": "measure_name", "Value": "x"}],
        [{"Name": "region", "Value": "x", "DimensionValueType": "BIGINT"}],
        [{"Name": "region", "Value": ["x"]}],
        "region",
    ],
)
def test_common_dimensions_seen_before_do_not_let_an_invalid_list_pass(dims: Any) -> None:
    """Valid CommonAttributes dimensions are remembered; an invalid list is refused every time,
    with the text the reference parser gives."""
    valid = [{"Name": "region", "Value": "1"}]
    rec = [{"MeasureName": "m", "MeasureValue": "1", "Time": "1"}]
    for _ in range(2):
        first = parse_write_request(body(rec, {"Dimensions": valid}))
        assert first.rows[0][0] == (("region", "1"),)
        texts = []
        for fast in (True, False):
            with pytest.raises(ApiError) as err:
                parse_write_request(body(rec, {"Dimensions": dims}), fast=fast)
            texts.append(err.value.message)
        assert texts[0] == texts[1]
    again = parse_write_request(body(rec, {"Dimensions": [{"Value": "1", "Name": "region"}]}))
    assert again.rows[0][:2] == first.rows[0][:2]
