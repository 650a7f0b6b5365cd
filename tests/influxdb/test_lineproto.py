"""The line-protocol encoder against an independent parser and the model's own values."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from tests.influxdb.lp_parse import parse_body, parse_line
from tsload._errors import ConfigError
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import EVENT_NAMES, METRIC_NAMES, TASK_END_STATES
from tsload.model.values import ValueModel
from tsload.targets.influxdb.lineproto import (
    LineOptions,
    LineProtocolEncoder,
    escape_measurement,
    escape_string_field,
    escape_tag,
    float6_columns,
)

T0 = 1_700_000_000_000


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(FleetConfig(host_scale=2, instance_name_seed=12345))


def _decimal(micros: int) -> str:
    sign = "-" if micros < 0 else ""
    ip, fp = divmod(abs(micros), 1_000_000)
    return f"{sign}{ip}.{fp:06d}"


def test_metrics_lines_are_the_models_dimensions_and_values(fleet: Fleet) -> None:
    enc = LineProtocolEncoder(fleet, LineOptions(data_seed=7))
    rng = np.random.default_rng(1)
    ids = rng.choice(fleet.n_hosts, 300, replace=False)
    times = T0 + rng.integers(0, 10**9, 300)
    (req,) = enc.batched("metrics", ids, times)
    points = parse_body(req.body)
    assert req.records == 300 and req.measures == 300 * 20 and req.kind == "metrics"
    micros = ValueModel(7, 12345).metric_micros(ids, times)
    for p, host, t, row in zip(points, ids, times, micros, strict=True):
        assert p.measurement == "metrics"
        assert dict(p.tags) == dict(fleet.metric_dimensions(int(host)))
        assert [k for k, _ in p.tags] == sorted(k for k, _ in p.tags)
        assert [k for k, _ in p.fields_raw] == list(METRIC_NAMES)
        assert [v for _, v in p.fields_raw] == [_decimal(int(m)) for m in row]
        assert p.time == int(t)


def test_events_lines_types_and_values(fleet: Fleet) -> None:
    enc = LineProtocolEncoder(fleet, LineOptions(data_seed=3))
    ids = np.arange(fleet.n_event_sets)
    times = np.full(ids.shape, T0)
    points = [p for r in enc.batched("events", ids, times) for p in parse_body(r.body)]
    ev = ValueModel(3, 12345).event_values(ids, times)
    assert len(points) == fleet.n_event_sets
    for i, p in enumerate(points):
        assert p.measurement == "events"
        assert dict(p.tags) == dict(fleet.event_dimensions(i))
        assert [k for k, _ in p.fields] == list(EVENT_NAMES)
        f = dict(p.fields)
        assert f["task_completed"] == int(ev.task_completed[i])
        assert dict(p.fields_raw)["task_completed"].endswith("i")
        assert f["task_end_state"] == TASK_END_STATES[int(ev.task_end_state[i])]
        raw = dict(p.fields_raw)
        assert [raw[k] for k in ("gc_reclaimed", "gc_pause", "memory_free")] == [
            _decimal(int(m)) for m in ev.doubles_micros[i]
        ]


def test_values_are_independent_of_grouping(fleet: Fleet) -> None:
    """per_series, batched and per_emission, in any batch size, carry the same lines."""
    ids = np.arange(0, 40, 3)
    times = T0 + 60_000 * np.arange(7)
    a = LineProtocolEncoder(fleet, LineOptions(batch_size=13))
    b = LineProtocolEncoder(fleet, LineOptions(batch_size=5000))
    series = b"".join(r.body for r in a.per_series("metrics", ids, times))
    em_ids, em_t = np.repeat(ids, 7), np.tile(times, len(ids))
    assert series == b"".join(r.body for r in b.batched("metrics", em_ids, em_t))
    assert series == b"".join(r.body for r in b.per_emission("metrics", em_ids, em_t))


def test_batches_cut_whole_lines(fleet: Fleet) -> None:
    enc = LineProtocolEncoder(fleet, LineOptions(batch_size=7))
    reqs = enc.batched("events", np.arange(30), np.full(30, T0))
    assert [r.records for r in reqs] == [7, 7, 7, 7, 2]
    assert [len(parse_body(r.body)) for r in reqs] == [7, 7, 7, 7, 2]
    assert sum(r.measures for r in reqs) == 30 * 5


def test_gzip_bodies_decompress_to_the_plain_ones(fleet: Fleet) -> None:
    plain = LineProtocolEncoder(fleet, LineOptions(batch_size=100))
    packed = LineProtocolEncoder(fleet, LineOptions(batch_size=100, gzip=True))
    ids, times = np.arange(250), np.full(250, T0)
    p, g = plain.batched("metrics", ids, times), packed.batched("metrics", ids, times)
    assert [gzip.decompress(r.body) for r in g] == [r.body for r in p]
    assert sum(len(r.body) for r in g) * 3 < sum(len(r.body) for r in p)


def test_request_id_as_field_or_tag(fleet: Fleet) -> None:
    ids, times = np.arange(5), np.full(5, T0)
    field = LineProtocolEncoder(fleet, LineOptions(add_req_id=True, request_id_nonce=9))
    tag = LineProtocolEncoder(fleet, LineOptions(add_req_id=True, req_id_dim=True, request_id_nonce=9))
    expect = ValueModel(0, 12345, 9).request_ids("metrics", ids, times)
    pf = parse_body(field.batched("metrics", ids, times)[0].body)
    pt = parse_body(tag.batched("metrics", ids, times)[0].body)
    assert [dict(p.fields)["request_id"] for p in pf] == expect
    assert field.measures_per_emission("metrics") == 21
    assert [dict(p.tags)["request_id"] for p in pt] == expect
    assert all("request_id" not in dict(p.fields) for p in pt)
    assert [k for k, _ in pt[0].tags] == sorted(k for k, _ in pt[0].tags)


def test_float_columns_cover_signs_and_widths() -> None:
    micros = np.asarray([0, 1, -1, 999_999, -500_000, -99_999_999, 100_000_000, 999_999_999, 12_345_678])
    got = [bytes(r).replace(b"\0", b"").decode() for r in float6_columns(micros)]
    assert got == [_decimal(int(m)) for m in micros]
    assert [float(g) for g in got] == [m / 1e6 for m in micros]


def test_escaping_rules() -> None:
    assert escape_tag("a b,c=d\\") == "a\\ b\\,c\\=d\\\\"
    assert escape_measurement("m 1,x=y") == "m\\ 1\\,x=y"
    assert escape_string_field('say "hi" \\') == 'say \\"hi\\" \\\\'
    quoted = escape_string_field('q"')
    line = f'{escape_measurement("m x")},{escape_tag("k=1")}={escape_tag("v, w")} s="{quoted}" 5'
    p = parse_line(line)
    assert (p.measurement, p.tags, p.fields, p.time) == ("m x", (("k=1", "v, w"),), (("s", 'q"'),), 5)


def test_batch_size_bounds(fleet: Fleet) -> None:
    for bad in (0, 10_001, True):
        with pytest.raises(ConfigError, match=r"^batch_size: 1\.\."):
            LineProtocolEncoder(fleet, LineOptions(batch_size=bad))
    LineProtocolEncoder(fleet, LineOptions(batch_size=10_000))
