"""Timestream SQL corpus: every result checked against numpy/pure Python over the inserted records."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from tests.engine_sql.conftest import DIMS, HOSTS, NOW, Data
from tsload.engine.query import QueryResult, execute_query

NS = 10**9
END_NS = int((NOW - dt.datetime(1970, 1, 1)).total_seconds()) * NS
QUERIES = Path(__file__).resolve().parents[2] / "workloads" / "devops" / "queries"
H0 = HOSTS[0]


def run(data: Data, sql: str) -> QueryResult:
    return execute_query(data.con.cursor(), sql, now=NOW)


def cells(res: QueryResult) -> list[list[str | None]]:
    return [[d.get("ScalarValue") for d in r["Data"]] for r in res.rows]


def ts(ns: int) -> str:
    sec, frac = divmod(int(ns), NS)
    return f"{dt.datetime(1970, 1, 1) + dt.timedelta(seconds=sec):%Y-%m-%d %H:%M:%S}.{frac:09d}"


def window(data: Data, seconds: int) -> np.ndarray:
    return (data.t_ns >= END_NS - seconds * NS) & (data.t_ns <= END_NS)


def where(data: Data, **dims: str) -> np.ndarray:
    mask = np.ones(len(data.host), bool)
    for name, value in dims.items():
        k = DIMS.index(name)
        ok = np.array([h[k] == value for h in HOSTS])
        mask &= ok[data.host]
    return mask


def close(a: str | None, b: float, tol: float = 1e-9) -> bool:
    return a is not None and math.isclose(float(a), b, rel_tol=tol, abs_tol=tol)


def fill(model: str, q: int, **extra: str) -> str:
    params = dict(
        db='"devops"',
        table=f'"{model}"',
        region=f"'{H0[0]}'",
        cell=f"'{H0[1]}'",
        silo=f"'{H0[2]}'",
        az=f"'{H0[3]}'",
        microservice=f"'{H0[4]}'",
        instance_type=f"'{H0[5]}'",
        os_version=f"'{H0[6]}'",
        end="now()",
    )
    params.update(extra)
    return (QUERIES / model / f"do-q{q}.sql").read_text().format(**params)


def col(model: str, measure: str) -> tuple[str, str]:
    """(value expression, measure_name filter) in each model."""
    if model == "single":
        return "measure_value::double", f"measure_name = '{measure}'"
    return measure, "measure_name = " + ("'events'" if measure == "gc_pause" else "'metrics'")


MODELS = ["single", "multi"]


# ---- simple aggregates, both models ------------------------------------------------------------


@pytest.mark.parametrize("model", MODELS)
def test_count_all(data: Data, model: str) -> None:
    _v, f = col(model, "cpu_user")
    got = cells(run(data, f"SELECT count(*) FROM devops.{model} WHERE {f}"))
    assert got == [[str(len(data.host))]]


@pytest.mark.parametrize("model", MODELS)
def test_avg_last_hour_ago(data: Data, model: str) -> None:
    v, f = col(model, "cpu_user")
    got = cells(run(data, f'SELECT avg({v}) FROM "devops"."{model}" WHERE {f} AND time >= ago(1h)'))
    m = data.t_ns >= END_NS - 3600 * NS
    assert close(got[0][0], float(data.values["cpu_user"][m].mean()))


@pytest.mark.parametrize("model", MODELS)
def test_min_max_between_now(data: Data, model: str) -> None:
    v, f = col(model, "memory_used")
    sql = f"SELECT min({v}), max({v}) FROM devops.{model} WHERE {f} AND time BETWEEN now() - 15m AND now()"
    got = cells(run(data, sql))
    x = data.values["memory_used"][window(data, 900)]
    assert close(got[0][0], float(x.min())) and close(got[0][1], float(x.max()))


@pytest.mark.parametrize("model", MODELS)
def test_round_avg_group_order(data: Data, model: str) -> None:
    v, f = col(model, "disk_used")
    sql = (
        f"SELECT microservice_name, round(avg({v}), 2) AS a FROM devops.{model} WHERE {f}"
        " GROUP BY microservice_name ORDER BY microservice_name"
    )
    got = cells(run(data, sql))
    ms = np.array([h[4] for h in HOSTS])[data.host]
    exp = [[m, round(float(data.values["disk_used"][ms == m].mean()), 2)] for m in sorted(set(ms))]
    assert [g[0] for g in got] == [e[0] for e in exp]
    assert all(close(g[1], float(e[1]), 1e-12) for g, e in zip(got, exp, strict=True))


@pytest.mark.parametrize("model", MODELS)
def test_stddev_per_cell(data: Data, model: str) -> None:
    v, f = col(model, "disk_used")
    got = cells(
        run(data, f"SELECT cell, stddev({v}) FROM devops.{model} WHERE {f} GROUP BY cell ORDER BY cell")
    )
    cell = np.array([h[1] for h in HOSTS])[data.host]
    for g in got:
        assert close(g[1], float(np.std(data.values["disk_used"][cell == g[0]], ddof=1)), 1e-9)
    assert len(got) == 2


def test_count_distinct_instances(data: Data) -> None:
    got = cells(
        run(
            data,
            "SELECT count(DISTINCT instance_name) FROM devops.single WHERE cell IN "
            "('eu-west-1-cell-1') AND measure_name = 'cpu_user'",
        )
    )
    assert got == [[str(sum(1 for h in HOSTS if h[1] == "eu-west-1-cell-1"))]]


def test_hour_of_day_counts(data: Data) -> None:
    got = cells(
        run(
            data,
            "SELECT hour(time) AS h, count(*) FROM devops.multi WHERE measure_name = 'metrics'"
            " GROUP BY hour(time) ORDER BY h",
        )
    )
    hours = (data.t_ns // (3600 * NS)) % 24
    assert got == [[str(h), str(int((hours == h).sum()))] for h in range(24)]


@pytest.mark.parametrize("fn", ["bin(time, 1h)", "date_trunc('hour', time)"])
def test_hourly_bins(data: Data, fn: str) -> None:
    sql = (
        f"SELECT {fn} AS b, count(*) FROM devops.single WHERE measure_name = 'cpu_user'"
        " AND time BETWEEN now() - 3h AND now() GROUP BY 1 ORDER BY b DESC"
    )
    got = cells(run(data, sql))
    t = data.t_ns[window(data, 3 * 3600)]
    b = t // (3600 * NS) * 3600 * NS
    exp = [[ts(k), str(int((b == k).sum()))] for k in sorted(set(b.tolist()), reverse=True)]
    assert got == exp


def test_approx_percentile_rank_bounds(data: Data) -> None:
    got = cells(
        run(
            data,
            "SELECT approx_percentile(measure_value::double, 0.9) FROM devops.single"
            " WHERE measure_name = 'memory_used'",
        )
    )
    x = np.sort(data.values["memory_used"])
    rank = int(np.searchsorted(x, float(got[0][0] or "nan"), side="right"))
    # within 1% of rank of the exact 0.9 quantile (Timestream documents a rank-error bound)
    assert abs(rank - 0.9 * len(x)) <= 0.01 * len(x)


def test_case_pivot(data: Data) -> None:
    sql = (
        "SELECT avg(CASE WHEN measure_name = 'cpu_user' THEN measure_value::double END),"
        " avg(CASE WHEN measure_name = 'cpu_system' THEN measure_value::double ELSE NULL END)"
        " FROM devops.single WHERE measure_name IN ('cpu_user', 'cpu_system')"
    )
    got = cells(run(data, sql))
    assert close(got[0][0], float(data.values["cpu_user"].mean()))
    assert close(got[0][1], float(data.values["cpu_system"].mean()))


def test_from_iso8601_between(data: Data) -> None:
    sql = (
        "SELECT count(*) FROM devops.multi WHERE measure_name = 'metrics' AND time BETWEEN "
        "from_iso8601_timestamp('2026-11-28T05:00:00Z') - 1h"
        " AND from_iso8601_timestamp('2026-11-28T05:00:00Z')"
    )
    end = END_NS - 3600 * NS
    exp = int(((data.t_ns >= end - 3600 * NS) & (data.t_ns <= end)).sum())
    assert cells(run(data, sql)) == [[str(exp)]]


def test_to_and_from_milliseconds(data: Data) -> None:
    got = cells(
        run(data, "SELECT to_milliseconds(max(time)), from_milliseconds(1700000000123) FROM devops.single")
    )
    assert got[0][0] == str(int(data.t_ns.max()) // 10**6)
    assert got[0][1] == ts(1700000000123 * 10**6)


def test_timestamp_format_and_interval(data: Data) -> None:
    res = run(data, "SELECT max(time), 15m, 1d + 2s FROM devops.single")
    assert cells(res)[0] == [ts(int(data.t_ns.max())), "0 00:15:00.000000000", "1 00:00:02.000000000"]
    assert [c["Type"]["ScalarType"] for c in res.column_info] == [
        "TIMESTAMP",
        "INTERVAL_DAY_TO_SECOND",
    ] * 1 + ["INTERVAL_DAY_TO_SECOND"]


def test_cte_join_dense_rank(data: Data) -> None:
    sql = """WITH a AS (SELECT microservice_name, cell, avg(cpu_user) AS v FROM devops.multi
               WHERE measure_name = 'metrics' GROUP BY microservice_name, cell),
             r AS (SELECT cell, microservice_name, v,
               dense_rank() OVER (PARTITION BY cell ORDER BY v DESC) AS rk FROM a)
             SELECT r.cell, r.microservice_name FROM r JOIN a ON r.cell = a.cell
               AND r.microservice_name = a.microservice_name WHERE rk = 1 ORDER BY r.cell"""
    got = cells(run(data, sql))
    cell = np.array([h[1] for h in HOSTS])[data.host]
    ms = np.array([h[4] for h in HOSTS])[data.host]
    exp = []
    for c in sorted(set(cell)):
        avgs = {m: data.values["cpu_user"][(cell == c) & (ms == m)].mean() for m in set(ms)}
        exp.append([c, max(avgs, key=lambda k: avgs[k])])
    assert got == exp


def test_select_star_hides_underscore_columns(data: Data) -> None:
    res = run(data, "SELECT * FROM devops.multi LIMIT 1")
    names = [c["Name"] for c in res.column_info]
    assert "_version" not in names and {"cpu_user", "gc_pause", "time", "measure_name"} <= set(names)


def test_quoted_and_unquoted_table_agree(data: Data) -> None:
    a = cells(run(data, 'SELECT count(*) FROM "devops"."single"'))
    b = cells(run(data, "SELECT count(*) FROM devops.single"))
    assert a == b == [[str(len(data.host) * 5)]]


# ---- metadata -----------------------------------------------------------------------------------


def test_show_databases_and_tables(data: Data) -> None:
    assert cells(run(data, "SHOW DATABASES")) == [["devops"]]
    assert cells(run(data, "SHOW TABLES FROM devops")) == [["multi"], ["single"]]


def test_describe(data: Data) -> None:
    got = cells(run(data, "DESCRIBE devops.single"))
    assert [g[0] for g in got] == [*DIMS, "measure_name", "time", "measure_value::double"]
    assert [g[2] for g in got][-3:] == ["MEASURE_NAME", "TIMESTAMP", "MEASURE_VALUE"]


@pytest.mark.parametrize(
    ("model", "names"),
    [
        ("single", ["cpu_system", "cpu_user", "disk_used", "gc_pause", "memory_used"]),
        ("multi", ["events", "metrics"]),
    ],
)
def test_show_measures(data: Data, model: str, names: list[str]) -> None:
    res = run(data, f"SHOW MEASURES FROM devops.{model}")
    assert [c["Name"] for c in res.column_info] == ["measure_name", "data_type", "dimensions"]
    got = cells(res)
    assert [g[0] for g in got] == names
    assert {g[1] for g in got} == ({"double"} if model == "single" else {"multi"})


# ---- the workload's six queries in both models -------------------------------------------------


def _host_mask(data: Data, *keys: int) -> np.ndarray:
    return where(data, **{DIMS[k]: H0[k] for k in keys})


@pytest.mark.parametrize("model", MODELS)
def test_do_q1(data: Data, model: str) -> None:
    got = cells(run(data, fill(model, 1)))
    m = _host_mask(data, 0, 1, 2, 3, 4) & window(data, 3600)
    bins = data.t_ns[m] // (60 * NS) * 60 * NS
    x = data.values["memory_used"][m]
    hosts = data.host[m]
    assert len(got) == len(set(bins.tolist())) > 0
    for row in got:
        sel = bins == next(b for b in set(bins.tolist()) if ts(b) == row[0])
        assert row[1] == str(len(set(hosts[sel].tolist())))
        assert close(row[2], round(float(x[sel].mean()), 2))
    assert [float(r[5] or 0) for r in got] == sorted((float(r[5] or 0) for r in got), reverse=True)


@pytest.mark.parametrize("model", MODELS)
def test_do_q2(data: Data, model: str) -> None:
    got = cells(run(data, fill(model, 2)))
    m = _host_mask(data, 0, 1, 2, 3, 4, 5, 6) & window(data, 3600)
    bins = data.t_ns[m] // (60 * NS) * 60 * NS
    keys = sorted(set(bins.tolist()), reverse=True)
    assert [r[0] for r in got] == [ts(k) for k in keys]
    for row, k in zip(got, keys, strict=True):
        assert close(row[1], float(data.values["cpu_user"][m][bins == k].mean()))
        assert close(row[2], float(data.values["cpu_system"][m][bins == k].mean()))


@pytest.mark.parametrize("model", MODELS)
def test_do_q3(data: Data, model: str) -> None:
    got = cells(run(data, fill(model, 3)))
    m = _host_mask(data, 0, 4) & window(data, 3600)
    x = data.values["disk_used"][m]
    host = data.host[m]
    exp = []
    for h in sorted(set(host.tolist())):
        c = HOSTS[h][1]
        cell_avg = x[np.array([HOSTS[k][1] == c for k in host])].mean()
        inst = x[host == h].mean()
        if inst > 1.2 * cell_avg:
            exp.append((HOSTS[h][7], float(inst), float(cell_avg)))
    exp.sort(key=lambda e: -e[1])
    assert [r[2] for r in got] == [e[0] for e in exp]
    assert all(close(r[3], e[1]) and close(r[4], e[2]) for r, e in zip(got, exp, strict=True))


@pytest.mark.parametrize("model", MODELS)
def test_do_q4(data: Data, model: str) -> None:
    got = cells(run(data, fill(model, 4)))
    m = _host_mask(data, 4) & window(data, 3 * 3600)
    groups: dict[tuple[str, str, str, int], list[int]] = defaultdict(list)
    for i in np.flatnonzero(m):
        h = HOSTS[data.host[i]]
        groups[(h[0], h[2], h[1], int(data.t_ns[i]) // (3600 * NS) * 3600 * NS)].append(int(i))
    keys = sorted(groups, key=lambda k: (k[0], k[1], k[2], -k[3]))
    assert [(r[0], r[1], r[2], r[4]) for r in got] == [(k[0], k[1], k[2], ts(k[3])) for k in keys]
    per = 2 if model == "single" else 1
    for row, k in zip(got, keys, strict=True):
        idx = groups[k]
        assert row[5] == str(per * len(idx))
        assert close(row[6], round(float(data.values["cpu_user"][idx].mean()), 2))
        assert close(row[9], round(float(data.values["memory_used"][idx].max()), 2))


def test_do_q5_models_agree_and_gc_stats(data: Data) -> None:
    single, multi = cells(run(data, fill("single", 5))), cells(run(data, fill("multi", 5)))
    assert single == multi and len(single) >= 1
    for row in single:
        h = next(i for i, hh in enumerate(HOSTS) if hh[7] == row[2])
        m = (data.host == h) & window(data, 86400)
        g = data.values["gc_pause"][m]
        assert close(row[4], round(float(g.min()), 2)) and close(row[5], round(float(g.mean()), 2))
        assert close(row[6], round(float(np.std(g, ddof=1)), 2))


def test_do_q6_models_agree_and_ranks(data: Data) -> None:
    single, multi = cells(run(data, fill("single", 6))), cells(run(data, fill("multi", 6)))
    assert single == multi and len(single) > 0
    assert all(r[4] in {"1", "2", "3"} for r in single)
    assert {r[0] for r in single} == {h[4] for h in HOSTS if h[1] == H0[1]}


@pytest.mark.parametrize("q", range(1, 7))
def test_row_count_wrapper(data: Data, q: int) -> None:
    base = cells(run(data, fill("multi", q)))
    wrapped = cells(run(data, f"SELECT COUNT(*) FROM ({fill('multi', q)})"))
    assert wrapped == [[str(len(base))]]


def test_fixed_end_time(data: Data) -> None:
    end = "from_iso8601_timestamp('2026-11-28T05:00:00Z')"
    got = cells(run(data, fill("multi", 2, end=end)))
    assert got and all(r[0] is not None and r[0] < "2026-11-28 05:00:01" for r in got)


def test_nested_rewrites_and_ago_precedence(data: Data) -> None:
    # functions inside rewritten functions are rewritten too; ago(1h - 30m) is now() - 30m
    sql = (
        "SELECT count(*), bin(from_milliseconds(to_milliseconds(max(time))), 1h) FROM devops.single"
        " WHERE measure_name = 'cpu_user' AND time >= ago(1h - 30m)"
    )
    res = run(data, sql)
    m = data.t_ns >= END_NS - 1800 * NS
    hour = 3600 * NS
    assert cells(res) == [[str(int(m.sum())), ts(int(data.t_ns.max()) // hour * hour)]]
    # unaliased expressions are named by position, as Trino names them
    assert [c["Name"] for c in res.column_info] == ["_col0", "_col1"]
