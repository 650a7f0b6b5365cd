"""`tsload query --shard K/N`: validation, global session numbering and seeds, hosts drawn from the
shard's part of the model fleet, shard-tagged directory names and session.json."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import subprocess
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.query.test_cli import ENV, tsload
from tests.query.test_wire import tiny_workload
from tsload._errors import ConfigError
from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.shard import shard_range
from tsload.query import QueryConfig
from tsload.query.logfiles import run_prefix
from tsload.query.pacing import QueryChooser, global_session_index, session_seed
from tsload.query.runner import run_query_workload
from tsload.query.session import Session, SessionSpec
from tsload.query.worker import ProcessPlan, session_specs
from tsload.query.workload import load_workload
from tsload.targets import TargetConfig

STARTED = dt.datetime(2026, 11, 28, 5, 0, 0, tzinfo=dt.UTC)


def specs(cfg: QueryConfig, fleet: Any = None) -> list[SessionSpec]:
    """Every session spec of a run (all its processes), as the processes would build them."""
    wl = load_workload(None)
    out: list[SessionSpec] = []
    for p in range(1, cfg.processes + 1):
        out += session_specs(ProcessPlan(cfg, p, wl, None, STARTED, "run", "now()", 42), fleet)
    return out


@pytest.mark.parametrize("shard", [(3, 3), (-1, 2), (0, 0), (5, 2)])
def test_bad_shard_is_a_config_error(shard: tuple[int, int]) -> None:
    with pytest.raises(ConfigError, match=r"^shard: K/N with 0 <= K < N, got -?\d/\d$"):
        QueryConfig(shard=shard).validate()


def test_empty_model_shard_is_refused() -> None:
    # 1,000 hosts at host scale 1: shard 1500 of 2000 holds none
    msg = (r"^shard: a shard holding hosts of the host_scale 1 fleet \(1,000 hosts\); use fewer shards, "
           r"got 1500/2000$")
    with pytest.raises(ConfigError, match=msg):
        QueryConfig(shard=(1500, 2000), params="model", host_scale=1).validate()
    QueryConfig(shard=(1500, 2000), params="fixed", host_scale=1).validate()  # no hosts needed


@pytest.mark.parametrize("value", ["3/3", "1/2/3"])
def test_bad_shard_flag_exits_2(tmp_path: Path, value: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region}"})
    proc = subprocess.run(
        tsload("--workload", str(wl), "--shard", value, "-l", str(tmp_path / "logs")),
        capture_output=True,
        text=True,
        timeout=60,
        env=ENV,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsload: error:") and "--shard" in lines[0], proc.stderr
    assert not (tmp_path / "logs").exists()


def test_global_index_formula() -> None:
    assert [global_session_index(1, 2, 3, p, s) for p in (1, 2) for s in (1, 2, 3)] == list(range(6, 12))
    assert session_seed(7, 0) != session_seed(7, 1) and session_seed(7, 1) != session_seed(8, 1)
    assert 0 <= session_seed(2**40, 10**6) < 2**63


@pytest.mark.parametrize(("processes", "concurrency"), [(1, 1), (1, 3), (2, 2)])
def test_shards_number_and_seed_sessions_as_one_bigger_run(processes: int, concurrency: int) -> None:
    n = 3
    base = QueryConfig(processes=processes, concurrency=concurrency, think_time_ms=1000, seed=42)
    sharded = [s for k in range(n) for s in specs(replace(base, shard=(k, n)))]
    # one run N times larger: N*P processes of C sessions (with P = 1 also 1 process of N*C sessions)
    bigger = [replace(base, processes=n * processes)]
    if processes == 1:
        bigger.append(replace(base, concurrency=n * concurrency))
    for big in bigger:
        single = specs(big)
        assert [s.global_index for s in sharded] == [s.global_index for s in single]
        assert [s.global_index for s in single] == list(range(len(single)))
        assert [s.session_seed for s in sharded] == [s.session_seed for s in single]
    # -p N*P: the same start stagger too (seeded by the global process number)
    assert [s.start_offset_ms for s in sharded] == [s.start_offset_ms for s in specs(bigger[0])]
    assert len({s.session_seed for s in sharded}) == len(sharded)


def test_model_hosts_stay_in_the_shard_and_queries_do_not_change() -> None:
    fleet = Fleet(FleetConfig(host_scale=1))
    n, sessions = 4, 40
    host_ids = {
        m[7][1]: h for h in range(fleet.n_hosts) for m in [fleet.metric_dimensions(h)]
    }  # instance name -> host id
    single = specs(QueryConfig(params="model", host_scale=1, concurrency=n * sessions, seed=42), fleet)
    drawn: set[int] = set()
    for k in range(n):
        mine = shard_range(fleet.n_hosts, k, n)
        cfg = QueryConfig(params="model", host_scale=1, concurrency=sessions, seed=42, shard=(k, n))
        for spec in specs(cfg, fleet):
            s = Session(spec, executor=None, fleet=fleet)  # type: ignore[arg-type]
            params = asyncio.run(s.resolve_params())
            host = host_ids[params.instance_name]
            assert host in mine, (k, host)
            drawn.add(host)
            # the query sequence is the unsharded session's, whatever host the shard drew
            twin = Session(single[spec.global_index], executor=None, fleet=fleet)  # type: ignore[arg-type]
            asyncio.run(twin.resolve_params())
            a, b = QueryChooser(spec.weights, s.rng), QueryChooser(spec.weights, twin.rng)
            assert [a.next() for _ in range(30)] == [b.next() for _ in range(30)]
    assert len(drawn) > n * sessions // 2  # spread over the fleet, not one host per shard


def test_unsharded_model_draw_covers_the_fleet() -> None:
    fleet = Fleet(FleetConfig(host_scale=1))
    spec = specs(QueryConfig(params="model", host_scale=1, seed=1), fleet)[0]
    assert spec.model_events is None
    rng = random.Random(0)
    from tsload.query.params import model_params

    names = {model_params(fleet, rng).instance_name for _ in range(3000)}
    assert len(names) > 900  # of 1,000 hosts


def test_run_prefix_names_the_shard() -> None:
    assert run_prefix("local", None) == "local"
    assert run_prefix("http://x/y", (2, 8)) == "http_x_y-shard2of8"


async def test_shard_dirs_and_session_json(tmp_path: Path, moto_url: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"q-a": "SELECT {region} AS region, 1.5 AS v"})
    logs = tmp_path / "logs"
    results = []
    for k in range(2):
        cfg = QueryConfig(
            target=TargetConfig(endpoint=moto_url),
            workload_dir=wl,
            params="fixed",
            think_time_ms=0,
            concurrency=2,
            log_dir=logs,
            run_prefix="exp1",
            seed=9,
            shard=(k, 2),
            stats_interval_s=0.2,
        )
        results.append(await run_query_workload(cfg))
    dirs = sorted(logs.iterdir())
    assert len(dirs) == 4  # same prefix, possibly the same second: no collision
    seen = []
    for d in dirs:
        k = 0 if "-shard0of2-" in d.name else 1
        assert d.name.startswith(f"exp1-shard{k}of2-") and d.name.rsplit("-", 2)[1] == "1"
        meta = orjson.loads((d / "session.json").read_bytes())
        assert meta["shard"] == meta["config"]["shard"] == f"{k}/2"
        assert meta["global_session_index"] == 2 * k + meta["session_index"] - 1
        assert meta["session_seed"] == session_seed(9, meta["global_session_index"])
        seen.append(meta["global_session_index"])
    assert sorted(seen) == [0, 1, 2, 3]
