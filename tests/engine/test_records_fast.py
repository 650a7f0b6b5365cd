"""The vectorised WriteRecords checks against the per-record reference (records.py, tables.py).

The fast path may only accept what the reference accepts, with the same rows; whatever it gives
up on, the reference decides (same error, same message). The strategies build requests of one
shape (every record with the same keys, as SDKs and tsload send them) and then break them in the
ways the rules care about, so both the accepting and the giving-up branches run.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tsload.engine.errors import ApiError
from tsload.engine.records import ParsedWrite, parse_write_request
from tsload.engine.tables import TableState

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW_MS = 1_800_000_000_000

names = st.sampled_from(
    ["cpu", "mem", "disk_io", "host", "Host", "région", "time", "ts_x", "a:b", "x" * 61, ""]
)
dim_values = st.one_of(st.sampled_from(["h1", "h2", "eu-west-1", "ü", "", "x" * 3000]), st.integers(0, 3))
doubles = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(repr),
    st.sampled_from(["1.5", " 2 ", "1_0", "nan", "inf", "-inf", "1e400", "1e308", "", "abc", "0x10"]),
    st.integers(-5, 5),
)
bigints = st.one_of(
    st.integers(-(2**64), 2**64).map(str), st.sampled_from(["1.5", "", "7", " 8"]), st.floats(-1, 1)
)
texts = st.one_of(
    st.sampled_from(["SUCCESS", "ü", "", "x" * 2100, "TRUE", "false", "yes"]), st.integers(0, 2)
)
types = st.sampled_from(["DOUBLE", "DOUBLE", "DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP", "FLOAT"])
units = st.sampled_from(["MILLISECONDS", "MILLISECONDS", "SECONDS", "NANOSECONDS", "FORTNIGHTS"])
times = st.one_of(
    st.integers(-600_000, 60_000).map(lambda d: str(NOW_MS + d)),
    st.sampled_from(["", "1.5", None]),
    st.integers(NOW_MS - 10**6, NOW_MS),
)
versions = st.one_of(st.none(), st.integers(-1, 4), st.sampled_from([True, "2"]))


def value_for(kind: str) -> st.SearchStrategy[Any]:
    return {"BIGINT": bigints, "TIMESTAMP": bigints, "VARCHAR": texts, "BOOLEAN": texts}.get(kind, doubles)


@st.composite
def dimension_list(draw: st.DrawFn, n: int) -> list[dict[str, Any]]:
    out = []
    for i in range(n):
        d: dict[str, Any] = {"Name": draw(names) if draw(st.integers(0, 9)) == 0 else f"d{i}"}
        d["Value"] = draw(dim_values) if draw(st.integers(0, 9)) == 0 else f"v{draw(st.integers(0, 2))}"
        if draw(st.booleans()):
            d["DimensionValueType"] = "VARCHAR" if draw(st.integers(0, 9)) else "BIGINT"
        out.append(d)
    return out


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    """One-shape requests (single or MULTI, dimensions per record or common), then perturbed."""
    n = draw(st.integers(1, 12))
    multi = draw(st.booleans())
    record_dims = draw(st.booleans())
    common: dict[str, Any] = {}
    if not record_dims or draw(st.booleans()):
        common["Dimensions"] = draw(dimension_list(draw(st.integers(0, 3))))
        if record_dims:
            common["Dimensions"] = [{"Name": "c" + d["Name"], "Value": "c"} for d in common["Dimensions"]]
    if draw(st.booleans()):
        common["TimeUnit"] = draw(units)
    if draw(st.booleans()):
        common["Time"] = draw(times)
    if draw(st.booleans()):
        common["MeasureValueType"] = "MULTI" if multi else draw(types)
    if draw(st.integers(0, 4)) == 0:
        common["Version"] = draw(versions)
    kinds = [draw(types) for _ in range(draw(st.integers(1, 3)))]
    measures = [f"m{j}" for j in range(draw(st.integers(1, 5)))]
    n_dims = draw(st.integers(1, 4))
    records = []
    for i in range(n):
        rec: dict[str, Any] = {"MeasureName": "metrics" if multi else measures[i % len(measures)]}
        if record_dims:  # runs of equal lists, as a host's consecutive records have
            same = i > 0 and draw(st.booleans())
            rec["Dimensions"] = records[-1]["Dimensions"] if same else draw(dimension_list(n_dims))
        if "Time" not in common or draw(st.booleans()):
            rec["Time"] = str(NOW_MS - 1000 * (i // 3))
        if multi:
            rec["MeasureValueType"] = "MULTI"
            mvs = []
            for j, m in enumerate(measures):
                kind = kinds[j % len(kinds)]
                mvs.append(
                    {
                        "Name": m,
                        "Value": draw(value_for(kind))
                        if draw(st.integers(0, 7)) == 0
                        else ("true" if kind == "BOOLEAN" else "1"),
                        "Type": kind,
                    }
                )
            rec["MeasureValues"] = mvs
        else:
            kind = kinds[i % len(kinds)]
            rec["MeasureValueType"] = kind
            rec["MeasureValue"] = (
                draw(value_for(kind))
                if draw(st.integers(0, 7)) == 0
                else ("true" if kind == "BOOLEAN" else "1")
            )
        records.append(rec)
    # perturbations: one record (or all) changed in a way a rule looks at
    for _ in range(draw(st.integers(0, 3))):
        i = draw(st.integers(0, n - 1))
        key = draw(
            st.sampled_from(
                [
                    "MeasureName",
                    "Time",
                    "TimeUnit",
                    "Version",
                    "MeasureValue",
                    "MeasureValues",
                    "Dimensions",
                    "MeasureValueType",
                    "extra",
                    "drop",
                ]
            )
        )
        rec = records[i]
        if key == "drop":
            rec.pop(draw(st.sampled_from(sorted(rec))), None)
        elif key == "extra":
            rec["Unknown"] = 1
        elif key == "MeasureName":
            rec[key] = draw(st.one_of(names, st.none(), st.just(["x"])))
        elif key == "Time":
            rec[key] = draw(times)
        elif key == "TimeUnit":
            rec[key] = draw(units)
        elif key == "Version":
            rec[key] = draw(versions)
        elif key == "MeasureValue":
            rec[key] = draw(st.one_of(doubles, texts))
        elif key == "MeasureValueType":
            rec[key] = draw(st.one_of(types, st.just("MULTI"), st.none()))
        elif key == "Dimensions":
            rec[key] = draw(
                st.one_of(dimension_list(draw(st.integers(0, 3))), st.sampled_from([None, [], "x"]))
            )
        elif key == "MeasureValues":
            rec[key] = draw(
                st.one_of(
                    st.just([]), st.just("x"), st.just([{"Name": "m0", "Value": "1", "Type": "DOUBLE"}] * 2)
                )
            )
    body: dict[str, Any] = {"DatabaseName": "db", "TableName": "tbl", "Records": records}
    if common:
        body["CommonAttributes"] = common
    # the engine parses bytes from the wire: go through JSON as it does
    doc: dict[str, Any] = orjson.loads(orjson.dumps(body))
    return doc


def parse(doc: dict[str, Any], *, fast: bool) -> ParsedWrite | ApiError:
    try:
        return parse_write_request(doc, fast=fast)
    except ApiError as exc:
        return exc


@SETTINGS
@given(requests())
def test_fast_parser_agrees_with_the_reference(doc: dict[str, Any]) -> None:
    fast, ref = parse(doc, fast=True), parse(doc, fast=False)
    if isinstance(ref, ApiError):
        assert isinstance(fast, ApiError), "the fast path accepted a request the reference refuses"
        assert (fast.code, fast.message) == (ref.code, ref.message)
        return
    assert isinstance(fast, ParsedWrite), fast
    assert fast.rows == ref.rows
    if fast.summary is not None:
        s = fast.summary
        assert s.tmin == min(r[3] for r in ref.rows) and s.tmax == max(r[3] for r in ref.rows)
        assert s.max_nbytes == max(r[7] for r in ref.rows)
        assert s.measure_names == {r[2] for r in ref.rows}
        assert set(s.dim_names) == {k for r in ref.rows for k, _ in r[0]}


def new_table(**kw: Any) -> TableState:
    return TableState("db", "tbl", 1, 73000, False, None, None, 0.0, 0.0, 1000, **kw)


@SETTINGS
@given(requests(), st.booleans(), st.booleans())
def test_table_checks_agree_with_the_per_record_apply(doc: dict[str, Any], store: bool, warm: bool) -> None:
    ref = parse(doc, fast=False)
    if isinstance(ref, ApiError):
        return
    fast = parse(doc, fast=True)
    assert isinstance(fast, ParsedWrite)
    now_ns = NOW_MS * 1_000_000 + 30_000_000_000
    a, b = new_table(), new_table()
    if warm:  # columns and keys already known: the summary check is what decides
        a.apply(list(ref.rows), set(), now_ns, store=store)
        b.apply(list(ref.rows), set(), now_ns, store=store)
    got = b.apply_parsed(fast, set(), now_ns, store=store)
    want = a.apply(ref.rows, set(), now_ns, store=store)
    assert (got[0], got[1]) == (want[0], want[1])
    assert [(r.index, r.reason, r.existing_version) for r in got[2]] == [
        (r.index, r.reason, r.existing_version) for r in want[2]
    ]
    assert b.columns == a.columns and list(b.columns) == list(a.columns)
    assert b.pending_columns == a.pending_columns and b.measure_names == a.measure_names
    assert b.rows == a.rows and b.series_min == a.series_min and b.series_max == a.series_max


def model_bodies() -> list[tuple[str, bytes]]:
    from tsload.model.encode import EncodeOptions, RequestEncoder
    from tsload.model.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(host_scale=1))
    t0 = int(time.time() * 1000) - 600_000
    ids, ts = np.repeat(np.arange(4), 10), np.tile(np.arange(10) * 60_000 + t0, 4)
    out = []
    for multi in (False, True):
        enc = RequestEncoder(fleet, EncodeOptions(database="d", table="t", multi=multi, add_req_id=True))
        for kind in ("metrics", "events"):
            out.append((f"{kind}-batched-{multi}", enc.batched(kind, ids, ts)[0].body))
            out.append(
                (
                    f"{kind}-series-{multi}",
                    enc.per_series(kind, np.arange(2), np.arange(10) * 60_000 + t0)[0].body,
                )
            )
            out.append(
                (f"{kind}-emission-{multi}", enc.per_emission(kind, np.arange(2), np.full(2, t0))[0].body)
            )
    return out


@pytest.mark.parametrize(("name", "raw"), model_bodies(), ids=[n for n, _ in model_bodies()])
def test_tsloads_own_requests_take_the_fast_path(name: str, raw: bytes) -> None:
    doc = orjson.loads(raw)
    fast = parse_write_request(doc)
    assert fast.summary is not None, f"{name}: the fast path gave up on a request tsload sends"
    assert fast.rows == parse_write_request(doc, fast=False).rows


@pytest.mark.parametrize(
    "text",
    [
        "0",
        "-0",
        "12.5",
        "-0.000001",
        "007",
        "9" * 300,
        "9" * 300 + "." + "9" * 300,
        "9" * 301,
        "1.",
        ".5",
        "-",
        "",
        "1.2.3",
        "1e5",
        "+1",
        " 1",
        "1_0",
        "٣",
        "nan",
        "inf",
        "1-2",
        "--1",
        "1,2",
    ],
)
def test_the_decimal_shortcut_only_takes_finite_doubles(text: str) -> None:
    import math

    from tsload.engine.records_fast import _DECIMALS

    # (a comma inside a value is caught by counting the separators; the request below checks it)
    if "," not in text and _DECIMALS.fullmatch(text) is not None:
        assert math.isfinite(float(text))
    # and whole requests agree with the reference whichever way the shortcut goes
    doc = {
        "DatabaseName": "d",
        "TableName": "t",
        "Records": [{"MeasureName": "m", "MeasureValue": v, "Time": "1"} for v in ("1.5", text, "2")],
    }
    fast, ref = parse(doc, fast=True), parse(doc, fast=False)
    if isinstance(ref, ApiError):
        assert isinstance(fast, ApiError) and fast.message == ref.message
    else:
        assert isinstance(fast, ParsedWrite) and fast.rows == ref.rows


@pytest.mark.parametrize("bad", ["FLOAT", "MULTI", None, ["DOUBLE"]])
def test_multi_with_an_unknown_type_among_known_ones_is_refused(bad: Any) -> None:
    # found by the generated comparison: one type layout per record took a per-position shortcut
    # that skipped the type check
    mvs = [{"Name": "m0", "Value": "1", "Type": "DOUBLE"}, {"Name": "m1", "Value": "1", "Type": bad}]
    doc = {
        "DatabaseName": "d",
        "TableName": "t",
        "Records": [
            {"MeasureName": "metrics", "MeasureValueType": "MULTI", "Time": "1", "MeasureValues": mvs}
        ]
        * 3,
    }
    fast, ref = parse(doc, fast=True), parse(doc, fast=False)
    assert isinstance(ref, ApiError) and isinstance(fast, ApiError) and fast.message == ref.message


def test_records_of_equal_size_but_different_keys() -> None:
    # found by the generated comparison: {Time, ...} vs {Unknown, ...} of the same size, where only
    # the first record's keys were looked up in the others
    doc = {
        "DatabaseName": "d",
        "TableName": "t",
        "CommonAttributes": {"Time": "5"},
        "Records": [
            {"MeasureName": "m", "MeasureValue": "1", "Unknown": 1},
            {"MeasureName": "m", "MeasureValue": "1", "Time": "7"},
        ],
    }
    fast, ref = parse(doc, fast=True), parse(doc, fast=False)
    assert isinstance(fast, ParsedWrite) and isinstance(ref, ParsedWrite)
    assert [r[3] for r in fast.rows] == [r[3] for r in ref.rows] == [5_000_000, 7_000_000]


def test_accepted_records_share_one_str_per_measure_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buffered and indexed records keep their measure names: the fast path hands out one str
    object per distinct name (the decoder makes one per record), and the table of them stays
    bounded."""
    from tsload.engine import records_fast

    def parsed(raw: bytes) -> ParsedWrite:
        body = orjson.loads(raw)
        p = parse_write_request(body)
        assert p.summary is not None  # the fast path took it
        return p

    body = {
        "DatabaseName": "db",
        "TableName": "t",
        "CommonAttributes": {"Dimensions": [{"Name": "host", "Value": "h1"}]},
        "Records": [
            {"MeasureName": f"m{i % 4}", "MeasureValue": "1.5", "Time": str(NOW_MS + i)} for i in range(40)
        ],
    }
    first, second = parsed(orjson.dumps(body)), parsed(orjson.dumps(body))
    assert first.names == [f"m{i % 4}" for i in range(40)]
    assert len({id(n) for n in first.names + second.names}) == 4
    assert all(a is b for a, b in zip(first.names, second.names, strict=True))
    monkeypatch.setattr(records_fast, "_NAMES_MAX", 6)
    body["Records"] = [{**r, "MeasureName": f"n{i % 4}"} for i, r in enumerate(body["Records"])]
    third = parsed(orjson.dumps(body))
    assert third.names == [f"n{i % 4}" for i in range(40)] and len(records_fast._NAMES) == 4
