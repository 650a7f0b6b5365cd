"""Encoder output written to a real influxd (1.6.x) and read back with InfluxQL."""

from __future__ import annotations

import numpy as np

from tests.influxdb.server import InfluxServer
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import EVENT_NAMES, METRIC_NAMES, TASK_END_STATES
from tsload.model.values import ValueModel
from tsload.targets.influxdb.lineproto import LineOptions, LineProtocolEncoder

T0 = 1_700_000_000_000
INTERVAL = 60_000


def test_written_points_count_and_values_match_the_model(influxd: InfluxServer) -> None:
    db = "roundtrip"
    influxd.query(f"CREATE DATABASE {db}")
    fleet = Fleet(FleetConfig(host_scale=1))
    enc = LineProtocolEncoder(fleet, LineOptions(data_seed=11, batch_size=2000))
    times = T0 + INTERVAL * np.arange(5)
    generated = {}
    for kind, n in (("metrics", fleet.n_hosts), ("events", fleet.n_event_sets)):
        reqs = enc.per_series(kind, np.arange(n), times)
        for r in reqs:
            status, body = influxd.write(db, r.body)
            assert status == 204, body
        generated[kind] = sum(r.records for r in reqs)
    assert generated == {"metrics": 1000 * 5, "events": 1200 * 5}

    for kind, field in (("metrics", "cpu_user"), ("events", "gc_pause")):
        res = influxd.query(f"SELECT count({field}) FROM {kind}", db)
        assert res["results"][0]["series"][0]["values"][0][1] == generated[kind]

    model = ValueModel(11, 12345)
    rng = np.random.default_rng(5)
    for host in rng.choice(fleet.n_hosts, 8, replace=False).tolist():
        t = int(times[rng.integers(0, 5)])
        dims = dict(fleet.metric_dimensions(host))
        q = (
            f"SELECT {', '.join(METRIC_NAMES)} FROM metrics "
            f"WHERE instance_name = '{dims['instance_name']}' AND time = {t}ms"
        )
        (series,) = influxd.query(q, db)["results"][0]["series"]
        (row,) = series["values"]
        assert row[0] == t
        assert row[1:] == model.metric_values([host], [t])[0].tolist()
    for ev_id in rng.choice(fleet.n_event_sets, 8, replace=False).tolist():
        t = int(times[rng.integers(0, 5)])
        dims = dict(fleet.event_dimensions(ev_id))
        q = (
            f"SELECT {', '.join(EVENT_NAMES)} FROM events WHERE instance_name = '{dims['instance_name']}'"
            f" AND process_name = '{dims['process_name']}' AND time = {t}ms"
        )
        (row,) = influxd.query(q, db)["results"][0]["series"][0]["values"]
        ev = model.event_values([ev_id], [t])
        assert row[1] == int(ev.task_completed[0])
        assert row[2] == TASK_END_STATES[int(ev.task_end_state[0])]
        assert row[3:] == (ev.doubles_micros[0] / 1e6).tolist()
    tags = influxd.query("SHOW TAG KEYS FROM metrics", db)["results"][0]["series"][0]["values"]
    assert sorted(t[0] for t in tags) == sorted(dict(fleet.metric_dimensions(0)))
