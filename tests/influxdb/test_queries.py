"""The DevOps queries in InfluxQL against a real influxd, in InfluxDB 3 SQL on DataFusion (the
engine InfluxDB 3 runs SQL with), and the dialects' literals and end times."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.influxdb.server import InfluxServer
from tsload._errors import ConfigError
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.schema import EVENT_NAMES, METRIC_NAMES, TASK_END_STATES
from tsload.model.values import ValueModel
from tsload.query.workload import load_templates, parse_config
from tsload.targets.influxdb.dialect import INFLUXDB_SQL, INFLUXQL, dialect_for_api, parse_end_time
from tsload.targets.influxdb.lineproto import LineOptions, LineProtocolEncoder

WORKLOAD = Path(__file__).resolve().parents[2] / "workloads" / "devops"
INTERVAL_MS = 120_000
HISTORY = 40  # emissions per host: 80 minutes


def _host_params(fleet: Fleet) -> dict[str, str]:
    d, e = dict(fleet.metric_dimensions(0)), dict(fleet.event_dimensions(0))
    return {
        "region": d["region"],
        "cell": d["cell"],
        "silo": d["silo"],
        "az": d["availability_zone"],
        "microservice": d["microservice_name"],
        "instance_type": d["instance_type"],
        "os_version": d["os_version"],
        "instance_name": d["instance_name"],
        "process_name": e["process_name"],
        "jdk_version": e["jdk_version"],
    }


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(FleetConfig(host_scale=1))


@pytest.fixture(scope="module")
def times() -> np.ndarray:
    now = int(time.time() * 1000) // INTERVAL_MS * INTERVAL_MS
    return now - INTERVAL_MS * np.arange(HISTORY)[::-1]


@pytest.fixture(scope="module")
def loaded(influxd: InfluxServer, fleet: Fleet, times: np.ndarray) -> str:
    db = "devops_q"
    influxd.query(f"CREATE DATABASE {db}")
    enc = LineProtocolEncoder(fleet, LineOptions(batch_size=5000))
    for kind, n in (("metrics", fleet.n_hosts), ("events", fleet.n_event_sets)):
        for r in enc.per_series(kind, np.arange(n), times):
            status, body = influxd.write(db, r.body)
            assert status == 204, body
    return db


def test_the_mix_config_names_every_dialects_files() -> None:
    cfg = parse_config(WORKLOAD / "config.ini")
    for folder in ("single", "multi", "influxql", "influxdb-sql"):
        assert set(load_templates(WORKLOAD / "queries" / folder)) == set(cfg.names), folder


@pytest.mark.parametrize("name", [f"do-q{i}" for i in range(1, 7)])
def test_influxql_queries_return_rows_for_a_model_host(
    influxd: InfluxServer, loaded: str, fleet: Fleet, name: str
) -> None:
    template = load_templates(WORKLOAD / "queries" / "influxql")[name]
    q = INFLUXQL.render(
        template, database=loaded, end=INFLUXQL.end_expression(None), params=_host_params(fleet)
    )
    results = influxd.query(q, loaded)["results"]
    code = [line for line in q.splitlines() if not line.lstrip().startswith("--")]
    assert len(results) == "\n".join(code).count(";") + 1
    for st in results:
        assert "error" not in st, st
        assert st.get("series"), f"{name} statement {st['statement_id']} returned no rows"
        assert all(s["values"] for s in st["series"])


def test_influxql_q2_is_the_models_mean(
    influxd: InfluxServer, loaded: str, fleet: Fleet, times: np.ndarray
) -> None:
    """do-q2 at a fixed end: each 1-minute bin's averages equal the model's values (one host per
    (silo, az, microservice, type, os) at host scale 1, one emission per bin)."""
    end = int(times[-1])
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end / 1000))
    template = load_templates(WORKLOAD / "queries" / "influxql")["do-q2"]
    q = INFLUXQL.render(
        template, database=loaded, end=INFLUXQL.end_expression(iso), params=_host_params(fleet)
    )
    (series,) = influxd.query(q, loaded)["results"][0]["series"]
    rows = series["values"]
    assert [r[0] for r in rows] == sorted((int(t) for t in times if t >= end - 3_600_000), reverse=True)
    values = ValueModel(0, 12345).metric_values(np.zeros(len(rows), dtype=np.int64), [r[0] for r in rows])
    assert [r[1:] for r in rows] == values[:, :2].tolist()


def test_influxql_literals_keep_injection_inert(influxd: InfluxServer, loaded: str) -> None:
    hostile = "x' OR region =~ /.*/ OR region = 'y\\"
    q = f"SELECT count(cpu_user) FROM metrics WHERE region = {INFLUXQL.literal(hostile)}"
    (st,) = influxd.query(q, loaded)["results"]
    assert "error" not in st and "series" not in st


def test_influxql_datapoints_count_both_measurements(
    influxd: InfluxServer, loaded: str, times: np.ndarray
) -> None:
    end = int(times[-1])
    iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(end / 1000))
    results = influxd.query(INFLUXQL.datapoints(loaded, "metrics", INFLUXQL.end_expression(iso)), loaded)[
        "results"
    ]
    counts = [st["series"][0]["values"][0][1] for st in results]
    in_window = int(np.count_nonzero(times >= end - 15 * 60_000))
    assert counts == [1000 * in_window, 1200 * in_window]


# -- InfluxDB 3 SQL on DataFusion -------------------------------------------------------------


def _arrow_tables(fleet: Fleet, times: np.ndarray) -> dict[str, object]:
    pa = pytest.importorskip("pyarrow")
    model = ValueModel(0, 12345)
    out = {}
    for kind in ("metrics", "events"):
        n = fleet.n_hosts if kind == "metrics" else fleet.n_event_sets
        ids = np.repeat(np.arange(n), len(times))
        ts = np.tile(times, n)
        dims = [
            dict(fleet.metric_dimensions(i) if kind == "metrics" else fleet.event_dimensions(i))
            for i in range(n)
        ]
        cols = {k: pa.array([d[k] for d in dims]).take(pa.array(ids)) for k in dims[0]}
        if kind == "metrics":
            v = model.metric_values(ids, ts)
            cols.update({name: pa.array(v[:, j]) for j, name in enumerate(METRIC_NAMES)})
        else:
            ev = model.event_values(ids, ts)
            cols["task_completed"] = pa.array(ev.task_completed)
            cols["task_end_state"] = pa.array(np.asarray(TASK_END_STATES)[ev.task_end_state])
            cols.update(
                {name: pa.array(ev.doubles_micros[:, j] / 1e6) for j, name in enumerate(EVENT_NAMES[2:])}
            )
        cols["time"] = pa.array(ts * 1_000_000, type=pa.timestamp("ns"))
        out[kind] = pa.table(cols)
    return out


@pytest.mark.parametrize("end_text", [None, "ago(0m)", "ISO"])
def test_influxdb_sql_queries_run_on_datafusion(
    fleet: Fleet, times: np.ndarray, end_text: str | None
) -> None:
    datafusion = pytest.importorskip("datafusion", reason="pip install datafusion (in the test extra)")
    ctx = datafusion.SessionContext()
    tables = _arrow_tables(fleet, times)
    for name, table in tables.items():
        ctx.register_record_batches(name, [table.to_batches()])  # type: ignore[attr-defined]
    if end_text == "ISO":
        end_text = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(times[-1]) / 1000))
    end = INFLUXDB_SQL.end_expression(end_text)
    for name, template in sorted(load_templates(WORKLOAD / "queries" / "influxdb-sql").items()):
        sql = INFLUXDB_SQL.render(template, database="devops", end=end, params=_host_params(fleet))
        rows = ctx.sql(sql).to_arrow_table().num_rows
        if name != "do-q3":
            assert rows > 0, name
        elif end.startswith("TIMESTAMP"):
            # do-q3 keeps only instances 20% above their cell's average: how many depends on the
            # data, so it is checked against the same computation in Python (at a fixed end time)
            assert rows == _q3_expected(tables["metrics"], _host_params(fleet), int(times[-1])), name
    # --params table: a recent event point, then a metrics point of its instance
    events = ctx.sql(INFLUXDB_SQL.event_rows("devops", "metrics", end)).to_arrow_table()
    assert events.num_rows == 50 and events.column_names == ["instance_name", "process_name", "jdk_version"]
    name = events.column("instance_name")[0].as_py()
    metric = ctx.sql(INFLUXDB_SQL.metric_row("devops", "metrics", end, name)).to_arrow_table()
    assert metric.num_rows == 1 and "availability_zone" in metric.column_names
    end_ms = int(times[-1]) if end.startswith("TIMESTAMP") else time.time() * 1000
    (count,) = (
        ctx.sql(INFLUXDB_SQL.datapoints("devops", "metrics", end)).to_arrow_table().column(0).to_pylist()
    )
    assert count == 2200 * int(np.count_nonzero(times >= end_ms - 15 * 60_000))
    wrapped = INFLUXDB_SQL.row_count(
        INFLUXDB_SQL.render(
            load_templates(WORKLOAD / "queries" / "influxdb-sql")["do-q2"],
            database="d",
            end=end,
            params=_host_params(fleet),
        )
    )
    assert ctx.sql(wrapped).to_arrow_table().column(0).to_pylist()[0] > 0


def _q3_expected(metrics: Any, params: dict[str, str], end_ms: int) -> int:
    cols = {
        k: metrics.column(k).to_pylist() for k in ("region", "microservice_name", "cell", "instance_name")
    }
    disk = metrics.column("disk_used").to_pylist()
    ts = metrics.column("time").cast("int64").to_pylist()
    lo, hi = (end_ms - 3_600_000) * 1_000_000, end_ms * 1_000_000
    per_instance: dict[tuple[str, str], list[float]] = {}
    per_cell: dict[str, list[float]] = {}
    for i, t in enumerate(ts):
        if cols["region"][i] != params["region"] or cols["microservice_name"][i] != params["microservice"]:
            continue
        if lo <= t <= hi:
            per_instance.setdefault((cols["cell"][i], cols["instance_name"][i]), []).append(disk[i])
            per_cell.setdefault(cols["cell"][i], []).append(disk[i])
    cell_avg = {c: sum(v) / len(v) for c, v in per_cell.items()}
    return sum(1 for (c, _), v in per_instance.items() if sum(v) / len(v) > 1.2 * cell_avg[c])


# -- dialect units ----------------------------------------------------------------------------


def test_end_expressions() -> None:
    assert INFLUXQL.end(parse_end_time(None)) == "now()"
    assert INFLUXQL.end(parse_end_time("ago(1h)")) == "now() - 1h"
    assert INFLUXQL.end(parse_end_time("now() - 30m")) == "now() - 30m"
    assert INFLUXQL.end(parse_end_time("2026-11-28T05:00:00+01:00")) == "'2026-11-28T04:00:00Z'"
    assert (
        INFLUXDB_SQL.end(parse_end_time("ago(2h) + 5m"))
        == "now() - INTERVAL '2 hours' + INTERVAL '5 minutes'"
    )
    assert INFLUXDB_SQL.end(parse_end_time("2026-11-28T05:00:00.5Z")) == "TIMESTAMP '2026-11-28T05:00:00.5'"
    with pytest.raises(ConfigError, match=r"^query_end_time: "):
        parse_end_time("yesterday")


def test_literals_and_api_mapping() -> None:
    assert INFLUXQL.literal("a'b\\c") == "'a\\'b\\\\c'"
    assert INFLUXDB_SQL.literal("a'b") == "'a''b'"
    assert dialect_for_api("v1") is INFLUXQL and dialect_for_api("v2") is INFLUXQL
    assert dialect_for_api("v3") is INFLUXDB_SQL
    with pytest.raises(ConfigError, match=r"^target.influx_api: v1, v2 or v3, got"):
        dialect_for_api("v4")
