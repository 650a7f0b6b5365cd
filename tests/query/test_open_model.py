"""The open model against `tsload serve --latency-ms 100`: a rate the pool can serve and one it
cannot, with the numbers checked against the schedule (what each session could at best have done
given the engine's 100 ms floor), not against wall time."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import orjson
import pytest

from tests.query.test_wire import tiny_workload
from tsload.query import QueryConfig, run_query_workload
from tsload.query.arrival import arrivals
from tsload.report import load_report
from tsload.stats import hdr
from tsload.targets import TargetConfig

WEIGHTS = (("a", 1.0), ("b", 3.0))
WEIGHTS_AB = (("a", 1.0), ("b", 2.0))  # tiny_workload's weights for queries a, b
FLOOR_S = 0.100  # the engine's injected latency: no execution is shorter


@pytest.mark.parametrize("kind", ["constant", "poisson"])
def test_split_is_exact(kind: str) -> None:
    """However the stream is split over G processes, their union is the one-process schedule."""
    whole = list(itertools.islice(arrivals(50.0, kind, 9, WEIGHTS), 3000))
    parts = [list(itertools.islice(arrivals(50.0, kind, 9, WEIGHTS, part=g, parts=3), 1000))
             for g in range(3)]
    union = sorted((a for p in parts for a in p), key=lambda a: a.index)
    assert union == whole
    assert [a.index for a in parts[1][:3]] == [1, 4, 7]
    gaps = np.diff([a.offset_s for a in whole])
    if kind == "constant":
        assert np.allclose(gaps, 1 / 50.0)
    else:
        assert abs(gaps.mean() - 1 / 50.0) < 0.1 / 50.0 and gaps.std() > 0.5 / 50.0  # exponential: sd ≈ mean
    share_b = sum(a.query == "b" for a in whole) / len(whole)
    assert abs(share_b - 0.75) < 0.04


def _cfg(tmp_path: Path, rate: float, sessions: int, reps: int, **kw: object) -> QueryConfig:
    wl = tiny_workload(tmp_path / "wl", {"a": "SELECT {region} AS r", "b": "SELECT {cell} AS c"})
    return QueryConfig(
        target=TargetConfig(local_data=tmp_path / "data", local_engine_args=("--latency-ms", "100")),
        workload_dir=wl, params="fixed", log_dir=tmp_path / "logs", seed=3, repetitions=reps,
        concurrency=sessions, count_datapoints=False, arrival_rate=rate, **kw,  # type: ignore[arg-type]
    )


async def test_both_regimes_against_a_100ms_engine(tmp_path: Path) -> None:
    # A: 20/s needs 2 queries in flight; the pool has 15 (room for a loaded machine's slow
    # answers, seen at 0.5 s): latency ≈ service time, rate kept.
    ok = await run_query_workload(_cfg(tmp_path / "a", 20.0, 15, 2))  # 30 arrivals over 1.5 s
    arr = ok.arrival
    assert arr is not None and arr.scheduled == arr.started == 30 and arr.dropped == 0
    assert sum(q.total for q in ok.queries.values()) == 30
    assert arr.kept_up and arr.achieved_per_s == pytest.approx(20.0, rel=0.02)
    for q in ok.queries.values():
        assert q.latency and q.service_time and q.service_time.min >= FLOOR_S * 0.99
        assert q.latency.p50 - q.service_time.p50 < FLOOR_S / 2  # (B: seconds)
    assert arr.late < arr.started // 4  # the schedule asks for none; a busy machine starts a few late

    # B: 100/s against 2 sessions of >= 100 ms each: at most 20/s can start.
    n, c, rate = 80, 2, 100.0
    slow = await run_query_workload(_cfg(tmp_path / "b", rate, c, n // c))
    arr = slow.arrival
    assert arr is not None and arr.scheduled == arr.started == n and arr.dropped == 0  # queue 1000
    assert not arr.kept_up and arr.achieved_per_s is not None and arr.achieved_per_s <= c / FLOOR_S * 1.02
    assert "DID NOT KEEP UP" in arr.verdict()
    # The k-th start (0-based) cannot come before floor(k/c) * 100 ms while it was due at k/rate:
    # every k >= 2 is more than 10 ms late, and the last waits at least this long before its send.
    assert arr.late >= n - c
    last_wait = (n - 2) // c * FLOOR_S - (n - 2) / rate
    lat = slow.queries
    p99 = hdr.merge(q.histogram for q in lat.values()).get_value_at_percentile(99) / 1e6
    service = hdr.merge(q.service_histogram for q in lat.values())
    # 80 values: p99 is the 2nd largest, >= that of arrival 78 (due at 0.78 s, sent at >= 3.9 s)
    assert p99 >= last_wait + FLOOR_S * 0.99
    # many times the service time: p99 over p90, since on a loaded machine a single slow answer
    # (we have seen 0.7 s for a 0.1 s engine) is the service p99 of 80 executions
    assert p99 >= 5 * service.get_value_at_percentile(90) / 1e6
    assert p99 > service.get_value_at_percentile(99) / 1e6
    for q in lat.values():
        assert q.latency and q.service_time and q.latency.p50 > q.service_time.p50

    # What the sessions wrote merges to the same figures (report.json's keys).
    report, _ = load_report([tmp_path / "b" / "logs"])
    assert report.arrival is not None and report.arrival.started == n and report.arrival.late == arr.late
    assert report.arrival.achieved_per_s == pytest.approx(arr.achieved_per_s, rel=1e-6)
    data = orjson.loads(orjson.dumps(report.as_dict()))
    row = data["queries"][0]
    assert set(row["latency"]) == set(row["service_time"]) and row["late"] >= 0 and row["dropped"] == 0
    assert row["latency"]["max_s"] > row["service_time"]["max_s"]


async def test_a_full_queue_drops_and_counts(tmp_path: Path) -> None:
    # 100/s for 0.2 s against one session and a queue of 5 waiting starts: by the last arrival
    # (0.19 s) the session has taken at most 2 (at 0 and >= 0.1 s), so at most 2 + 5 + 1 were
    # admitted (one slot freed by the second take); every other arrival is dropped, and counted.
    res = await run_query_workload(_cfg(tmp_path, 100.0, 1, 20, arrival_queue=5))
    arr = res.arrival
    assert arr is not None and arr.scheduled == 20 and arr.started + arr.dropped == 20
    assert arr.dropped >= 20 - 8
    assert sum(q.dropped for q in res.queries.values()) == arr.dropped
    assert sum(q.total for q in res.queries.values()) == arr.started
    (d,) = (tmp_path / "logs").iterdir()
    meta = orjson.loads((d / "session.json").read_bytes())
    assert meta["arrival"]["dropped"] == arr.dropped
    assert sum(q["dropped"] for q in meta["queries"].values()) == arr.dropped


async def test_closed_model_latency_equals_service_time(tmp_path: Path) -> None:
    wl = tiny_workload(tmp_path / "wl", {"a": "SELECT {region} AS r"})
    cfg = QueryConfig(
        target=TargetConfig(local_data=tmp_path / "data"), workload_dir=wl, params="fixed",
        log_dir=tmp_path / "logs", seed=3, repetitions=5, think_time_ms=0, count_datapoints=False,
    )
    res = await run_query_workload(cfg)
    q = res.queries["a"]
    assert res.arrival is None and q.late == 0 and q.dropped == 0
    assert q.latency == q.service_time and q.latency is not None and q.latency.count == 5
    (d,) = (tmp_path / "logs").iterdir()
    assert (d / "a.hdr").read_text() == (d / "a.service-time.hdr").read_text()


def _cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from tsload.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


def test_query_cli_abort_on_fail(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A breach on the running totals stops a 60 s run as Ctrl-C would: files written, exit 3."""
    wl = tiny_workload(tmp_path / "wl", {"a": "SELECT {region} AS r", "b": "SELECT {cell} AS c"})
    logs = tmp_path / "logs"
    code, out, err = _cli([
        "query", "--local-data", str(tmp_path / "data"), "--workload", str(wl), "--fixed-params",
        "--no-datapoint-counts", "-l", str(logs), "--arrival-rate", "20", "-c", "4", "--duration", "60",
        "--stats-interval", "0.2", "--slo", "queries.p99<0.001ms", "--slo", "queries.failed<=0",
        "--abort-on-fail", "--slo-grace", "1s", "--seed", "2",
    ], capsys)
    assert code == 3, err
    assert "--abort-on-fail: SLO failed: queries.p99<0.001ms" in err
    assert err.strip().splitlines()[-1].startswith("SLO failed: queries.p99<0.001ms (measured ")
    assert "(stopped early)" in out and "arrival rate: requested 20.00/s (constant)" in out
    assert "SLO: 1 of 2 FAILED" in out and "pass  queries.failed<=0" in out
    dirs = sorted(logs.iterdir())
    assert len(dirs) == 4 and all((d / "session.json").is_file() for d in dirs)
    first = orjson.loads((dirs[0] / "session.json").read_bytes())
    assert first["arrival"]["started"] > 0 and first["config"]["arrival_rate"] == 20.0


@pytest.mark.parametrize(("slo", "needle"), [
    ("a.p99<5", "latency.p99 is a latency: give the threshold in ms or s"),
    ("do-q9.p99<5s", "no query 'do-q9' in the workload (queries: a)"),
    ("ingest.lag.p99<5s", "this command does not ingest"),
    ("queries.p99 = 5s", "not of the form"),
])
def test_query_cli_bad_slo_before_any_work(tmp_path: Path, capsys: pytest.CaptureFixture[str], slo: str,
                                           needle: str) -> None:
    wl = tiny_workload(tmp_path / "wl", {"a": "SELECT {region} AS r"})
    code, out, err = _cli(["query", "--local-data", str(tmp_path / "data"), "--workload", str(wl),
                           "-l", str(tmp_path / "logs"), "--slo", slo], capsys)
    assert code == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("tsload: error: --slo: ") and needle in line
    assert not (tmp_path / "logs").exists() and not (tmp_path / "data").exists()


@pytest.mark.parametrize("transport", ["sdk", "fast"])
async def test_open_model_over_moto(tmp_path: Path, moto_url: str, transport: str) -> None:
    """The AWS wire (SigV4, the Query JSON protocol, both clients) against moto's server: the
    schedule is kept exactly in counts, poisson arrivals split over 2 processes."""
    wl = tiny_workload(tmp_path / "wl", {"a": "SELECT {region} AS r", "b": "SELECT {cell} AS c"})
    cfg = QueryConfig(
        target=TargetConfig(endpoint=moto_url), workload_dir=wl, params="fixed", log_dir=tmp_path / "logs",
        seed=4, repetitions=3, concurrency=2, processes=2, count_datapoints=False, transport=transport,
        arrival_rate=10.0, arrival="poisson",
    )
    res = await run_query_workload(cfg)
    arr = res.arrival
    assert arr is not None and arr.scheduled == 2 * 2 * 3 and arr.started + arr.dropped == arr.scheduled
    assert sum(q.successful for q in res.queries.values()) == arr.started
    # the query of each arrival comes from the run's one stream, whatever the split
    expected = [a.query for a in itertools.islice(arrivals(10.0, "poisson", 4, WEIGHTS_AB), 12)]
    got = {name: q.total + q.dropped for name, q in res.queries.items()}
    assert got == {n: expected.count(n) for n in set(expected)}
    report, _ = load_report([tmp_path / "logs"])
    assert report.arrival is not None and report.arrival.started == arr.started
    for row in report.queries:
        assert row.service_time is not None and row.latency is not None
        assert row.latency.max >= row.service_time.max * 0.999
