"""Encoded bodies against botocore's own WriteRecords serializer, determinism across encodings, limits."""

from __future__ import annotations

import json
from typing import Any

import botocore.session
import numpy as np
import pytest
from botocore.serialize import create_serializer

from tsload._errors import ConfigError, LimitError
from tsload.model import limits
from tsload.model.encode import EncodeOptions, RequestEncoder
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import EVENT_NAMES, EVENT_TYPES, METRIC_NAMES, TASK_END_STATES
from tsload.model.values import ValueModel

T0 = 1_764_300_000_000
FLEET = Fleet(FleetConfig(host_scale=2, instance_name_seed=56789))
OPERATION = (
    botocore.session.get_session().get_service_model("timestream-write").operation_model("WriteRecords")
)
SERIALIZER = create_serializer("json", include_validation=True)


def botocore_body(params: dict[str, Any]) -> Any:
    return json.loads(SERIALIZER.serialize_to_request(params, OPERATION)["body"])


def dec(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    return f"{sign}{abs(micros) // 10**6}.{abs(micros) % 10**6:06d}"


class Reference:
    """Builds the sample-shaped dict records for the same (id, time) the encoder gets."""

    def __init__(self, opts: EncodeOptions) -> None:
        self.o = opts
        self.vm = ValueModel(opts.data_seed, FLEET.config.instance_name_seed)
        self.req = opts.add_req_id or opts.req_id_dim

    def dims(self, kind: str, i: int) -> list[dict[str, str]]:
        pairs = FLEET.metric_dimensions(i) if kind == "metrics" else FLEET.event_dimensions(i)
        return [{"Name": n, "Value": v, "DimensionValueType": "VARCHAR"} for n, v in pairs]

    def req_dim(self, kind: str, i: int, t: int) -> list[dict[str, str]]:
        if not self.o.req_id_dim:
            return []
        rq = self.vm.request_ids(kind, [i], [t])[0]
        return [{"Name": "request_id", "Value": rq, "DimensionValueType": "VARCHAR"}]

    def measures(self, kind: str, i: int, t: int) -> list[tuple[str, str, str]]:
        if kind == "metrics":
            m = self.vm.metric_micros([i], [t])[0]
            out = [(n, dec(int(v)), "DOUBLE") for n, v in zip(METRIC_NAMES, m, strict=True)]
        else:
            ev = self.vm.event_values([i], [t])
            vals = [str(int(ev.task_completed[0])), TASK_END_STATES[int(ev.task_end_state[0])]]
            vals += [dec(int(v)) for v in ev.doubles_micros[0]]
            out = list(zip(EVENT_NAMES, vals, EVENT_TYPES, strict=True))
        if self.req and not self.o.req_id_dim:
            out.append(("request_id", self.vm.request_ids(kind, [i], [t])[0], "VARCHAR"))
        return out

    def records(self, kind: str, i: int, t: int, *, time: bool, dims: str) -> list[dict[str, Any]]:
        extra: dict[str, Any] = {}
        if dims == "all":
            extra["Dimensions"] = self.dims(kind, i) + self.req_dim(kind, i, t)
        elif dims == "req" and self.o.req_id_dim:
            extra["Dimensions"] = self.req_dim(kind, i, t)
        if time:
            extra["Time"] = str(t)
        ms = self.measures(kind, i, t)
        if self.o.multi:
            values = [{"Name": n, "Value": v, "Type": ty} for n, v, ty in ms]
            return [{**extra, "MeasureName": kind, "MeasureValueType": "MULTI", "MeasureValues": values}]
        return [{**extra, "MeasureName": n, "MeasureValue": v, "MeasureValueType": ty} for n, v, ty in ms]

    def request(self, common: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
        return {
            "DatabaseName": self.o.database,
            "TableName": self.o.table,
            "CommonAttributes": common,
            "Records": records,
        }


OPTION_SETS = [
    EncodeOptions("perf", "devops"),
    EncodeOptions("perf", "devops", multi=True),
    EncodeOptions("perf", "devops", add_req_id=True, batch_size=37),
    EncodeOptions("perf", "devops", multi=True, add_req_id=True, req_id_dim=True, batch_size=7, data_seed=9),
    EncodeOptions("perf", "devops", add_req_id=True, req_id_dim=True, batch_size=1),
]
IDS = {"metrics": [0, 1, 999, 1999], "events": [0, 4, 1234, 2399]}


@pytest.mark.parametrize(
    "opts", OPTION_SETS, ids=lambda o: f"multi={o.multi},req={o.add_req_id},dim={o.req_id_dim}"
)
@pytest.mark.parametrize("kind", ["metrics", "events"])
def test_bodies_equal_botocore_serialisation(opts: EncodeOptions, kind: str) -> None:
    enc = RequestEncoder(FLEET, opts)
    ref = Reference(opts)
    ids = IDS[kind]
    times = [T0 + 1000 * k for k in range(len(ids))]

    got = enc.per_emission(kind, np.array(ids), np.array(times))
    assert len(got) == len(ids)
    for r, i, t in zip(got, ids, times, strict=True):
        common = {
            "Dimensions": ref.dims(kind, i) + ref.req_dim(kind, i, t),
            "Time": str(t),
            "TimeUnit": "MILLISECONDS",
        }
        expected = ref.request(common, ref.records(kind, i, t, time=False, dims="none"))
        limits.check_request(expected)
        assert json.loads(r.body) == botocore_body(expected)
        assert r.records == len(expected["Records"]) and r.kind == kind

    series_times = [T0 + 60_000 * k for k in range(5)]
    got = enc.per_series(kind, np.array(ids[:2]), np.array(series_times))
    rpe = enc.records_per_emission(kind)
    k = max(1, opts.batch_size // rpe)
    expected_bodies = []
    for i in ids[:2]:
        for a in range(0, 5, k):
            recs = [
                x for t in series_times[a : a + k] for x in ref.records(kind, i, t, time=True, dims="req")
            ]
            expected_bodies.append(
                ref.request({"Dimensions": ref.dims(kind, i), "TimeUnit": "MILLISECONDS"}, recs)
            )
    assert [json.loads(r.body) for r in got] == [botocore_body(e) for e in expected_bodies]

    got = enc.batched(kind, np.array(ids), np.array(times))
    flat = [
        x for i, t in zip(ids, times, strict=True) for x in ref.records(kind, i, t, time=True, dims="all")
    ]
    chunks = [flat[a : a + opts.batch_size] for a in range(0, len(flat), opts.batch_size)]
    assert [json.loads(r.body) for r in got] == [
        botocore_body(ref.request({"TimeUnit": "MILLISECONDS"}, c)) for c in chunks
    ]
    assert all(r.records <= opts.batch_size for r in got)
    per = enc.measures_per_emission(kind) if opts.multi else 1
    assert all(r.measures == r.records * per for r in got)


def values_by_key(bodies: list[bytes], kind: str) -> dict[tuple[str, str, str], str]:
    """(instance/process, time, measure) → value string, whatever the request layout."""
    out: dict[tuple[str, str, str], str] = {}
    for b in bodies:
        req = json.loads(b)
        common = req.get("CommonAttributes", {})
        for rec in req["Records"]:
            dims = {d["Name"]: d["Value"] for d in common.get("Dimensions", []) + rec.get("Dimensions", [])}
            who = dims["instance_name"] + dims.get("process_name", "")
            t = rec.get("Time", common.get("Time"))
            if rec.get("MeasureValueType") == "MULTI":
                for mv in rec["MeasureValues"]:
                    out[(who, t, mv["Name"])] = mv["Value"]
            else:
                out[(who, t, rec["MeasureName"])] = rec["MeasureValue"]
    return out


@pytest.mark.parametrize("multi", [False, True])
@pytest.mark.parametrize("kind", ["metrics", "events"])
def test_same_values_whatever_the_grouping(kind: str, multi: bool) -> None:
    opts = EncodeOptions("perf", "devops", multi=multi, add_req_id=True, batch_size=30, data_seed=5)
    enc = RequestEncoder(FLEET, opts)
    ids = np.arange(40, 70)
    times = T0 + 30_000 * np.arange(4)
    em_ids, em_t = np.repeat(ids, 4), np.tile(times, 30)
    a = values_by_key([r.body for r in enc.per_emission(kind, em_ids, em_t)], kind)
    b = values_by_key([r.body for r in enc.per_series(kind, ids, times)], kind)
    # a different process split: two halves, time-major order
    order = np.lexsort((em_ids, em_t))
    c: dict[tuple[str, str, str], str] = {}
    for part in np.array_split(order, 2):
        c.update(
            values_by_key(
                [r.body for r in RequestEncoder(FLEET, opts).batched(kind, em_ids[part], em_t[part])], kind
            )
        )
    assert len(a) == 120 * enc.measures_per_emission(kind)
    assert a == b == c


def test_metric_strings_keep_the_cpu_idle_identity() -> None:
    enc = RequestEncoder(FLEET, EncodeOptions("perf", "devops", multi=True))
    for r in enc.per_emission("metrics", np.arange(0, 2000, 13), np.full(154, T0)):
        vals = {mv["Name"]: mv["Value"] for mv in json.loads(r.body)["Records"][0]["MeasureValues"]}
        micros = {k: round(float(v) * 10**6) for k, v in vals.items()}
        six = ("cpu_system", "cpu_steal", "cpu_iowait", "cpu_nice", "cpu_hi", "cpu_si")
        assert micros["cpu_idle"] == 100 * 10**6 - micros["cpu_user"] - sum(micros[k] for k in six)


def test_batch_size_is_checked() -> None:
    for bad in (0, 101):
        with pytest.raises(ConfigError, match=r"^batch_size: 1..100, got"):
            RequestEncoder(FLEET, EncodeOptions("perf", "devops", batch_size=bad))


def test_overlong_names_raise_limit_error() -> None:
    with pytest.raises(LimitError, match="table"):
        RequestEncoder(FLEET, EncodeOptions("perf", "t" * 257))
    with pytest.raises(LimitError, match="database"):
        RequestEncoder(FLEET, EncodeOptions("", "devops"))


def test_negative_time_is_refused() -> None:
    enc = RequestEncoder(FLEET, EncodeOptions("perf", "devops"))
    with pytest.raises(LimitError, match="timestamp"):
        enc.per_emission("metrics", np.array([1]), np.array([-5]))


def test_limit_checks() -> None:
    with pytest.raises(LimitError):
        limits.check_records_per_request(101)
    limits.check_records_per_request(100)
    with pytest.raises(LimitError):
        limits.check_dimension("d" * 61, "v")
    with pytest.raises(LimitError):
        limits.check_dimension("measure_name", "v")
    with pytest.raises(LimitError):
        limits.check_dimension("a:b", "v")
    with pytest.raises(LimitError):
        limits.check_dimension("ok", "v" * 2049)
    with pytest.raises(LimitError):
        limits.check_measure_name("m" * 257)
    with pytest.raises(LimitError):
        limits.check_measure_value("m", "x" * 2049, "VARCHAR")
    with pytest.raises(LimitError):
        limits.check_measure_value("m", "1", "FLOAT")
    with pytest.raises(LimitError):
        limits.check_multi_measure_count(257)
    big = {
        "MeasureName": "m",
        "MeasureValueType": "MULTI",
        "MeasureValues": [{"Name": f"v{i}", "Value": "x" * 20, "Type": "VARCHAR"} for i in range(100)],
    }
    with pytest.raises(LimitError, match="bytes"):
        limits.check_record(big)
    ok = {
        "MeasureName": "cpu",
        "MeasureValue": "1.5",
        "MeasureValueType": "DOUBLE",
        "Dimensions": [{"Name": "region", "Value": "us-east-1"}],
    }
    limits.check_record(ok)
    assert limits.record_write_size(ok) == 8 + len("region") + len("us-east-1") + 3 + 8
