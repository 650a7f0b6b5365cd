"""Timestream's time series functions (create_time_series, interpolate_linear, interpolate_locf,
sequence, UNNEST of a time series): every result checked against numpy over the inserted records."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests.engine_sql.conftest import HOSTS, Data
from tests.engine_sql.test_corpus import END_NS, MODELS, NS, cells, close, col, run, ts
from tsload.engine.query import QueryExecutionError, QueryResult

MIN = 60 * NS
HOST_OF = {h[7]: i for i, h in enumerate(HOSTS)}
H0_NAME = HOSTS[0][7]


def raw(data: Data, host: int, measure: str, seconds: int) -> tuple[np.ndarray, np.ndarray]:
    """(times, values) of one host's measure with `time > ago(seconds)`, sorted by time."""
    m = (data.host == host) & (data.t_ns > END_NS - seconds * NS)
    order = np.argsort(data.t_ns[m], kind="stable")
    return data.t_ns[m][order], data.values[measure][m][order]


def series(res: QueryResult, row: int, column: int) -> list[tuple[str, str | None]]:
    points = res.rows[row]["Data"][column]["TimeSeriesValue"]
    return [(p["Time"], p["Value"].get("ScalarValue")) for p in points]


def assert_series(got: list[tuple[str, str | None]], times: Any, values: Any) -> None:
    assert [g[0] for g in got] == [ts(int(t)) for t in times]
    assert all(close(g[1], float(v)) for g, v in zip(got, values, strict=True))


def ts_type(res: QueryResult, column: int) -> Any:
    return res.column_info[column]["Type"]["TimeSeriesMeasureValueColumnInfo"]["Type"]["ScalarType"]


def locf(times: np.ndarray, values: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    idx = np.searchsorted(times, grid, side="right") - 1
    keep = idx >= 0
    return grid[keep], values[idx[keep]]


@pytest.mark.parametrize("model", MODELS)
def test_create_time_series_per_instance(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    res = run(
        data,
        f"SELECT instance_name, create_time_series(time, {v}) AS cpu FROM devops.{model}"
        f" WHERE {f} AND time > ago(1h) GROUP BY instance_name ORDER BY instance_name",
    )
    assert res.column_info[1] == {
        "Name": "cpu",
        "Type": {"TimeSeriesMeasureValueColumnInfo": {"Type": {"ScalarType": "DOUBLE"}}},
    }
    names = [r["Data"][0]["ScalarValue"] for r in res.rows]
    assert names == sorted(h[7] for h in HOSTS)
    for i, name in enumerate(names):
        times, values = raw(data, HOST_OF[name], "cpu_user", 3600)
        assert len(times) == 12
        assert_series(series(res, i, 1), times, values)


@pytest.mark.parametrize("model", MODELS)
def test_interpolate_linear_over_sequence(data: Data, model: str) -> None:
    v, f = col(model, "memory_used")
    res = run(
        data,
        f"SELECT instance_name, interpolate_linear(create_time_series(time, {v}),"
        f" sequence(min(time), max(time), 1m)) AS mem FROM devops.{model}"
        f" WHERE {f} AND time > ago(2h) GROUP BY instance_name ORDER BY instance_name",
    )
    assert ts_type(res, 1) == "DOUBLE" and len(res.rows) == len(HOSTS)
    for i, row in enumerate(res.rows):
        times, values = raw(data, HOST_OF[row["Data"][0]["ScalarValue"]], "memory_used", 7200)
        grid = np.arange(times[0], times[-1] + 1, MIN)
        assert len(grid) == 5 * (len(times) - 1) + 1
        assert_series(series(res, i, 1), grid, np.interp(grid, times, values))


def test_interpolation_outside_the_series(data: Data) -> None:
    # linear: no value (no point) before the first or after the last point; locf: none before the
    # first point, the last value carried forward after the last one
    grid_sql = "sequence(min(time) - 2m, max(time) + 3m, 1m)"
    res = run(
        data,
        f"SELECT interpolate_linear(create_time_series(time, measure_value::double), {grid_sql}) AS lin,"
        f" interpolate_locf(create_time_series(time, measure_value::double), {grid_sql}) AS carried"
        " FROM devops.single WHERE measure_name = 'disk_used' AND time > ago(30m)"
        f" AND instance_name = '{H0_NAME}'",
    )
    times, values = raw(data, 0, "disk_used", 1800)
    grid = np.arange(times[0] - 2 * MIN, times[-1] + 3 * MIN + 1, MIN)
    inside = grid[(grid >= times[0]) & (grid <= times[-1])]
    assert_series(series(res, 0, 0), inside, np.interp(inside, times, values))
    assert_series(series(res, 0, 1), *locf(times, values, grid))
    assert series(res, 0, 1)[-1][0] == ts(int(grid[-1]))


@pytest.mark.parametrize("model", MODELS)
def test_interpolate_locf_over_sequence(data: Data, model: str) -> None:
    v, f = col(model, "cpu_system")
    res = run(
        data,
        f"SELECT cell, instance_name, interpolate_locf(create_time_series(time, {v}),"
        f" sequence(min(time), max(time), 2m)) FROM devops.{model}"
        f" WHERE {f} AND time > ago(1h) AND cell = 'eu-west-1-cell-2' GROUP BY cell, instance_name"
        " ORDER BY instance_name",
    )
    assert [c["Name"] for c in res.column_info] == ["cell", "instance_name", "_col2"]
    assert ts_type(res, 2) == "DOUBLE"
    assert len(res.rows) == sum(1 for h in HOSTS if h[1] == "eu-west-1-cell-2")
    for i, row in enumerate(res.rows):
        times, values = raw(data, HOST_OF[row["Data"][1]["ScalarValue"]], "cpu_system", 3600)
        assert_series(series(res, i, 2), *locf(times, values, np.arange(times[0], times[-1] + 1, 2 * MIN)))


def test_interpolate_array_of_timestamps(data: Data) -> None:
    sql = (
        "SELECT interpolate_linear(create_time_series(time, measure_value::double),"
        " ARRAY[TIMESTAMP '2026-11-28 05:57:00', TIMESTAMP '2026-11-28 05:40:30']) FROM devops.single"
        f" WHERE measure_name = 'cpu_user' AND instance_name = '{H0_NAME}' AND time > ago(1h)"
    )
    times, values = raw(data, 0, "cpu_user", 3600)
    at = np.array([END_NS - 19 * MIN - 30 * NS, END_NS - 3 * MIN])  # sorted, as a series is
    assert_series(series(run(data, sql), 0, 0), at, np.interp(at, times, values))


@pytest.mark.parametrize("model", MODELS)
def test_unnest_turns_a_series_back_into_rows(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    sql = (
        "SELECT s.instance_name, t.time, t.value FROM"
        f" (SELECT instance_name, create_time_series(time, {v}) AS cpu FROM devops.{model}"
        f" WHERE {f} AND time > ago(30m) GROUP BY instance_name) s"
        " CROSS JOIN UNNEST(cpu) AS t (time, value) ORDER BY s.instance_name, t.time"
    )
    res = run(data, sql)
    assert [c["Type"]["ScalarType"] for c in res.column_info] == ["VARCHAR", "TIMESTAMP", "DOUBLE"]
    expected: list[tuple[str, str, float]] = []
    for name in sorted(HOST_OF):
        times, values = raw(data, HOST_OF[name], "cpu_user", 1800)
        expected += [(name, ts(int(t)), float(x)) for t, x in zip(times, values, strict=True)]
    got = cells(res)
    assert [(g[0], g[1]) for g in got] == [(e[0], e[1]) for e in expected]
    assert all(close(g[2], e[2]) for g, e in zip(got, expected, strict=True))


def test_docs_pattern_binned_interpolated_unnested(data: Data) -> None:
    # the shape of Timestream's documented example: bin + avg, interpolate the bins on a finer
    # sequence, then UNNEST without an alias (columns `time` and `value`); no round() here, as
    # DuckDB and numpy break ties differently
    sql = f"""WITH binned_timeseries AS (
        SELECT instance_name, bin(time, 10m) AS binned_timestamp, avg(measure_value::double) AS avg_cpu
        FROM "devops"."single" WHERE measure_name = 'cpu_user' AND instance_name = '{H0_NAME}'
            AND time > ago(2h)
        GROUP BY instance_name, bin(time, 10m)
    ), interpolated_timeseries AS (
        SELECT instance_name, interpolate_linear(create_time_series(binned_timestamp, avg_cpu),
            sequence(min(binned_timestamp), max(binned_timestamp), 5m)) AS interpolated_avg_cpu
        FROM binned_timeseries GROUP BY instance_name
    )
    SELECT time, value AS interpolated_cpu FROM interpolated_timeseries
    CROSS JOIN UNNEST(interpolated_avg_cpu) ORDER BY time"""
    times, values = raw(data, 0, "cpu_user", 7200)
    bins = times // (10 * MIN) * (10 * MIN)
    keys = np.unique(bins)
    avgs = np.array([float(values[bins == k].mean()) for k in keys])
    grid = np.arange(keys[0], keys[-1] + 1, 5 * MIN)
    expected = np.interp(grid, keys, avgs)
    got = cells(run(data, sql))
    assert [g[0] for g in got] == [ts(int(t)) for t in grid]
    assert all(close(g[1], float(e)) for g, e in zip(got, expected, strict=True))


@pytest.mark.parametrize("model", MODELS)
def test_scalar_interpolation_at_a_timestamp(data: Data, model: str) -> None:
    v, f = col(model, "disk_used")
    res = run(
        data,
        f"SELECT instance_name, interpolate_linear(create_time_series(time, {v}), ago(150s)) AS lin,"
        f" interpolate_locf(create_time_series(time, {v}), ago(150s)) AS carried,"
        f" interpolate_linear(create_time_series(time, {v}), ago(2h)) AS early FROM devops.{model}"
        f" WHERE {f} AND time > ago(1h) GROUP BY instance_name ORDER BY instance_name",
    )
    assert [c["Type"]["ScalarType"] for c in res.column_info[1:3]] == ["DOUBLE", "DOUBLE"]
    at = END_NS - 150 * NS
    for row in cells(res):
        times, values = raw(data, HOST_OF[str(row[0])], "disk_used", 3600)
        assert close(row[1], float(np.interp(at, times, values)))
        assert close(row[2], float(values[np.searchsorted(times, at, side="right") - 1]))
        assert row[3] is None
    assert res.rows[0]["Data"][3] == {"NullValue": True}


def test_comma_unnest_aggregated(data: Data) -> None:
    sql = """WITH s AS (
        SELECT instance_name, interpolate_locf(create_time_series(time, gc_pause),
            sequence(min(time), max(time), 1m)) AS gc
        FROM devops.multi WHERE measure_name = 'events' AND time > ago(1h) AND cell = 'eu-west-1-cell-1'
        GROUP BY instance_name)
    SELECT instance_name, count(*) AS n, avg(v) AS a FROM s, UNNEST(gc) AS u (t, v)
    GROUP BY instance_name ORDER BY instance_name"""
    got = cells(run(data, sql))
    names = sorted(h[7] for h in HOSTS if h[1] == "eu-west-1-cell-1")
    assert [g[0] for g in got] == names
    for g in got:
        times, values = raw(data, HOST_OF[str(g[0])], "gc_pause", 3600)
        _, carried = locf(times, values, np.arange(times[0], times[-1] + 1, MIN))
        assert g[1] == str(len(carried)) and close(g[2], float(carried.mean()))


def test_bigint_series_and_linear_is_double(data: Data) -> None:
    sql = (
        "SELECT create_time_series(time, CAST(floor(measure_value::double) AS BIGINT)) AS whole,"
        " interpolate_linear(create_time_series(time, CAST(floor(measure_value::double) AS BIGINT)),"
        " sequence(min(time), max(time), 150s)) AS lin FROM devops.single"
        f" WHERE measure_name = 'memory_used' AND instance_name = '{H0_NAME}' AND time > ago(30m)"
    )
    res = run(data, sql)
    assert (ts_type(res, 0), ts_type(res, 1)) == ("BIGINT", "DOUBLE")
    times, values = raw(data, 0, "memory_used", 1800)
    whole = np.floor(values)
    got = series(res, 0, 0)
    assert [g[0] for g in got] == [ts(int(t)) for t in times]
    assert [g[1] for g in got] == [str(int(w)) for w in whole]
    grid = np.arange(times[0], times[-1] + 1, 150 * NS)
    assert_series(series(res, 0, 1), grid, np.interp(grid, times, whole))


def test_sequence_of_intervals_is_inclusive(data: Data) -> None:
    res = run(data, "SELECT sequence(now() - 1h, now(), 30m) AS s, sequence(1, 5, 2) AS i")
    assert res.column_info[0]["Type"] == {"ArrayColumnInfo": {"Type": {"ScalarType": "TIMESTAMP"}}}
    got = res.rows[0]["Data"]
    assert [d["ScalarValue"] for d in got[0]["ArrayValue"]] == [ts(END_NS - k * 30 * MIN) for k in (2, 1, 0)]
    assert [d["ScalarValue"] for d in got[1]["ArrayValue"]] == ["1", "3", "5"]


@pytest.mark.parametrize(
    ("sql", "named"),
    [
        ("SELECT create_time_series(time, cpu_user) FROM devops.multi", "must not be NULL"),
        (
            "SELECT interpolate_linear(create_time_series(time, cell), sequence(min(time), max(time), 1h))"
            " FROM devops.single",
            "interpolate_linear",
        ),
        ("SELECT cardinality(sequence(1, 10001))", "sequence"),
    ],
)
def test_runtime_refusals_name_the_function(data: Data, sql: str, named: str) -> None:
    # QueryExecutionError is answered with ValidationException by the engine, as QueryValidationError
    with pytest.raises(QueryExecutionError, match=named):
        run(data, sql)


def test_locf_keeps_a_varchar_series(data: Data) -> None:
    res = run(
        data,
        "SELECT interpolate_locf(create_time_series(time, instance_type), sequence(min(time), max(time), 7m))"
        " FROM devops.multi WHERE measure_name = 'metrics'"
        f" AND instance_name = '{H0_NAME}' AND time > ago(1h)",
    )
    assert ts_type(res, 0) == "VARCHAR"
    times, _ = raw(data, 0, "cpu_user", 3600)
    grid = np.arange(times[0], times[-1] + 1, 7 * MIN)
    assert series(res, 0, 0) == [(ts(int(t)), HOSTS[0][5]) for t in grid]


def test_series_alias_may_reuse_a_column_name(data: Data) -> None:
    # `cpu` is a DOUBLE column in `binned` and a series in `series`; `cpu_user` both a stored column
    # and the alias of its series; SELECT * passes a series through
    sql = f"""WITH binned AS (
        SELECT instance_name, bin(time, 5m) AS t, avg(cpu_user) AS cpu FROM devops.multi
        WHERE measure_name = 'metrics' AND time > ago(1h) AND instance_name = '{H0_NAME}'
        GROUP BY instance_name, bin(time, 5m)
    ), series AS (
        SELECT instance_name,
            interpolate_locf(create_time_series(t, cpu), sequence(min(t), max(t), 1m)) AS cpu
        FROM binned GROUP BY instance_name
    ), raw AS (
        SELECT instance_name, create_time_series(time, cpu_user) AS cpu_user FROM devops.multi
        WHERE measure_name = 'metrics' AND time > ago(1h) AND instance_name = '{H0_NAME}'
        GROUP BY instance_name
    )
    SELECT x.instance_name, u.t, u.v, r.cpu_user FROM (SELECT * FROM series) x
    CROSS JOIN UNNEST(x.cpu) AS u (t, v) JOIN raw r ON r.instance_name = x.instance_name ORDER BY u.t"""
    res = run(data, sql)
    times, values = raw(data, 0, "cpu_user", 3600)
    bins = times // (5 * MIN) * (5 * MIN)  # one point per 5-minute bin here
    grid = np.arange(bins[0], bins[-1] + 1, MIN)
    exp_t, exp_v = locf(bins, values, grid)
    got = cells(res)
    assert [g[1] for g in got] == [ts(int(t)) for t in exp_t]
    assert all(close(g[2], float(v)) for g, v in zip(got, exp_v, strict=True))
    assert_series(series(res, 0, 3), times, values)


@pytest.mark.parametrize("model", MODELS)
def test_derivative_and_integral_match_numpy(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    res = run(
        data,
        f"SELECT derivative_linear(create_time_series(time, {v}), 1m) AS d,"
        f" non_negative_derivative_linear(create_time_series(time, {v}), 1m) AS nn,"
        f" integral_trapezoidal(create_time_series(time, {v}), 1h) AS i,"
        f" integral_trapezoidal(create_time_series(time, {v})) AS i_s"
        f" FROM devops.{model} WHERE {f} AND time > ago(2h) AND instance_name = '{H0_NAME}'",
    )
    t, x = raw(data, 0, "cpu_user", 2 * 3600)
    rate = np.diff(x) / (np.diff(t) / MIN)
    assert ts_type(res, 0) == "DOUBLE" and ts_type(res, 1) == "DOUBLE"
    assert_series(series(res, 0, 0), t[1:], rate)
    assert_series(series(res, 0, 1), t[1:][rate >= 0], rate[rate >= 0])
    assert (rate < 0).any() and (rate >= 0).any()  # both branches of non_negative exercised
    area = float(np.sum((x[1:] + x[:-1]) / 2 * np.diff(t)))
    cells_ = res.rows[0]["Data"]
    assert res.column_info[2]["Type"] == {"ScalarType": "DOUBLE"}
    assert close(cells_[2]["ScalarValue"], area / (3600 * NS))
    assert close(cells_[3]["ScalarValue"], area / NS)


def test_derivative_of_a_non_series_is_refused(data: Data) -> None:
    from tsload.engine.query import QueryValidationError

    with pytest.raises(QueryValidationError, match="derivative_linear: the first argument"):
        run(data, "SELECT derivative_linear(cpu_user, 1m) FROM devops.multi")


@pytest.mark.parametrize("model", MODELS)
def test_interpolate_fill_matches_numpy(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    # a 1-minute grid over 5-minute points: the points' own times keep their values, the rest -1
    res = run(
        data,
        f"SELECT interpolate_fill(create_time_series(time, {v}),"
        " sequence(min(time), max(time), 1m), -1.0E0) AS s,"
        f" interpolate_fill(create_time_series(time, {v}), min(time), -1.0E0) AS at_first,"
        f" interpolate_fill(create_time_series(time, {v}), min(time) + 1m, -1.0E0) AS between"
        f" FROM devops.{model} WHERE {f} AND time > ago(1h) AND instance_name = '{H0_NAME}'",
    )
    t, x = raw(data, 0, "cpu_user", 3600)
    grid = np.arange(t[0], t[-1] + 1, MIN)
    idx = np.searchsorted(t, grid)
    hit = (idx < len(t)) & (t[np.minimum(idx, len(t) - 1)] == grid)
    want = np.where(hit, x[np.minimum(idx, len(t) - 1)], -1.0)
    assert hit.sum() == len(t) and (~hit).any()
    assert_series(series(res, 0, 0), grid, want)
    assert close(res.rows[0]["Data"][1]["ScalarValue"], float(x[0]))
    assert close(res.rows[0]["Data"][2]["ScalarValue"], -1.0)


@pytest.mark.parametrize("model", MODELS)
def test_correlate_pearson_matches_numpy(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    w, g = col(model, "cpu_system")
    where = f"time > ago(2h) AND instance_name = '{H0_NAME}'"
    res = run(
        data,
        f"WITH a AS (SELECT create_time_series(time, {v}) AS s FROM devops.{model} WHERE {f} AND {where}),"
        f" b AS (SELECT create_time_series(time, {w}) AS s FROM devops.{model} WHERE {g} AND {where})"
        " SELECT correlate_pearson(a.s, b.s) AS r, correlate_pearson(a.s, a.s) AS one,"
        " correlate_spearman(a.s, b.s) AS rho FROM a CROSS JOIN b",
    )
    _, x = raw(data, 0, "cpu_user", 2 * 3600)
    _, y = raw(data, 0, "cpu_system", 2 * 3600)
    assert res.column_info[0]["Type"] == {"ScalarType": "DOUBLE"}
    assert close(res.rows[0]["Data"][0]["ScalarValue"], float(np.corrcoef(x, y)[0, 1]))
    assert close(res.rows[0]["Data"][1]["ScalarValue"], 1.0)
    assert close(
        res.rows[0]["Data"][2]["ScalarValue"], float(np.corrcoef(_avg_ranks(x), _avg_ranks(y))[0, 1])
    )


def _avg_ranks(v: np.ndarray) -> np.ndarray:
    return np.array([(v < e).sum() + ((v == e).sum() + 1) / 2 for e in v])


def test_correlate_pearson_needs_the_same_times(data: Data) -> None:
    v, f = col("single", "cpu_user")
    with pytest.raises(QueryExecutionError, match="same times"):
        run(
            data,
            f"WITH a AS (SELECT create_time_series(time, {v}) AS s FROM devops.single WHERE {f}"
            f" AND time > ago(2h) AND instance_name = '{H0_NAME}'),"
            f" b AS (SELECT create_time_series(time, {v}) AS s FROM devops.single WHERE {f}"
            f" AND time > ago(1h) AND instance_name = '{H0_NAME}')"
            " SELECT correlate_pearson(a.s, b.s) FROM a CROSS JOIN b",
        )
