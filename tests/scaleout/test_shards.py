"""Scale-out end to end: 3 shards as separate local processes against one local engine equal one run.

One `tsload serve` engine; `tsload ingest --shard k/3` (k = 0, 1, 2) run side by side into table
`shards` and one unsharded run with the same flags into table `single`. Then 3 query shards
(`--shard k/3 --params model -c 1`, one shared log dir) and one unsharded query run with `-c 3`
and the same `--seed`. Checked:

- ingest: the shards' table holds exactly the single run's hosts with exactly its per-host row
  counts (and the model's arithmetic ones): every host is covered; `tsload report dir0 dir1 dir2`
  counts (generated, ingested, rejected, failed) equal the single run's report and the model's
  total, and each shard generated exactly the rows of its own hosts: no host was written by two
  shards (the engine deduplicates identical records, so the table alone could not show that; the
  generated counts do, as a doubly written host would be generated twice);
- query: the merged report's per-query counts equal the single run's, session by session
  (shard k's session is the single run's session k+1: same global index and seed), and every
  shard drew its host from its own part of the fleet.

Determinism without sleeping: the backfill window is [now - B, now) and every emitter emits on a
fixed epoch grid (tsload.ingest.schedule), so with B a whole number of intervals each emitter emits
exactly B / interval times whatever "now" is; the runs may start seconds apart and still generate
the same per-host counts.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pytest

from tsload.model.fleet import Fleet, FleetConfig
from tsload.model.shard import shard_range
from tsload.query.pacing import session_seed

N = 3
HOST_SCALE = 1
INTERVAL_MS = 30_000
EMISSIONS = 2  # --backfill = EMISSIONS intervals
SEED = 5
REPETITIONS = 12
ENV = {**os.environ, "PYTHONUNBUFFERED": "1", "COLUMNS": "200"}
LISTENING = re.compile(r"tsload engine listening on (http://127\.0\.0\.1:\d+)")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data = tmp_path_factory.mktemp("engine") / "data"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "serve", "--data", str(data), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        text=True,
        env=ENV,
        start_new_session=True,
    )
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:  # keeps the pipe drained for the engine's whole life
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.put(line)
        lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        while True:
            line = lines.get(timeout=60)
            assert line, f"the engine exited with status {proc.wait()} before listening"
            m = LISTENING.search(line)
            if m:
                break
        yield m.group(1)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def tsload(*args: str) -> list[str]:
    return [sys.executable, "-m", "tsload", *args]


def run_all(commands: list[list[str]], cwd: Path) -> list[subprocess.CompletedProcess[str]]:
    """Run the commands side by side (separate processes, as separate machines would)."""
    procs = [
        subprocess.Popen(c, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV)
        for c in commands
    ]
    done = []
    try:
        for p, c in zip(procs, commands, strict=True):
            out, err = p.communicate(timeout=120)
            done.append(subprocess.CompletedProcess(c, p.returncode, out, err))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    for d in done:
        assert d.returncode == 0, (d.args, d.stderr)
    return done


def report(*dirs: Path) -> dict[str, Any]:
    proc = subprocess.run(
        tsload("report", *map(str, dirs), "--format", "json"),
        capture_output=True,
        text=True,
        env=ENV,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = orjson.loads(proc.stdout)
    return data


def rows_per_host(url: str, table: str) -> Counter[str]:
    import boto3

    client = boto3.client(
        "timestream-query",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    sql = f'SELECT instance_name, count(*) AS n FROM "devops"."{table}" GROUP BY instance_name'
    out: Counter[str] = Counter()
    kw: dict[str, str] = {}
    while True:
        page = client.query(QueryString=sql, **kw)
        for row in page["Rows"]:
            name, n = (d["ScalarValue"] for d in row["Data"])
            assert name not in out
            out[name] = int(n)
        if not page.get("NextToken"):
            return out
        kw = {"NextToken": page["NextToken"]}


def counts(rep: dict[str, Any]) -> dict[str, tuple[int, int, int, int]]:
    return {q["query"]: (q["total"], q["successful"], q["failed"], q["timed_out"]) for q in rep["queries"]}


@pytest.fixture(scope="module")
def fleet() -> Fleet:
    return Fleet(FleetConfig(host_scale=HOST_SCALE))


def test_ingest_shards_cover_the_fleet_once(engine: str, tmp_path: Path, fleet: Fleet) -> None:
    common = [
        "ingest", "-e", engine, "--host-scale", str(HOST_SCALE), "--interval-millis", str(INTERVAL_MS),
        "--backfill", f"{EMISSIONS * INTERVAL_MS // 1000}s", "--duration", "0",
        "--stats-interval", "5",
    ]  # fmt: skip
    run_all(
        [tsload(*common, "-t", "shards", "--shard", f"{k}/{N}", "--out", f"dir{k}") for k in range(N)]
        + [tsload(*common, "-t", "single", "--out", "single")],
        tmp_path,
    )
    summaries = [orjson.loads((tmp_path / f"dir{k}" / "ingest-summary.json").read_bytes()) for k in range(N)]
    assert [s["config"]["shard"] for s in summaries] == [[k, N] for k in range(N)]

    # what the engine holds: the same hosts, the same rows per host, and the model's own count
    shards, single = rows_per_host(engine, "shards"), rows_per_host(engine, "single")
    names = [fleet.instance_name(int(h.silo[0]), int(h.microservice[0]), int(h.instance[0]))
             for h in (fleet.hosts([i]) for i in range(fleet.n_hosts))]  # fmt: skip
    event_sets = np.bincount(
        fleet.host_of_event_set(np.arange(fleet.n_event_sets, dtype=np.int64)), minlength=fleet.n_hosts
    )
    expected = {name: EMISSIONS * (20 + 5 * int(e)) for name, e in zip(names, event_sets, strict=True)}
    assert len(expected) == fleet.n_hosts == 1000 * HOST_SCALE
    assert shards == single == expected

    # the merged report of the shard directories counts what the single run counts
    merged, one = report(*(tmp_path / f"dir{k}" for k in range(N))), report(tmp_path / "single")
    assert merged["ingest"]["runs"] == N and one["ingest"]["runs"] == 1
    for key in ("generated", "ingested", "rejected", "failed", "dropped", "ingested_measures"):
        assert merged["ingest"][key] == one["ingest"][key], key
    assert one["ingest"]["generated"] == sum(expected.values()) == one["ingest"]["ingested"]
    # each shard generated exactly its own hosts' rows: with every host in the table and the totals
    # equal, no host can have been generated by two shards
    for k in range(N):
        mine = sum(expected[names[h]] for h in shard_range(fleet.n_hosts, k, N))
        assert summaries[k]["generated"] == mine > 0, k


def test_query_shards_equal_one_run(engine: str, tmp_path: Path, fleet: Fleet) -> None:
    # some data for the queries to read (the ingest test's tables may not be there if run alone)
    run_all(
        [tsload("ingest", "-e", engine, "-t", "q_data", "--host-scale", str(HOST_SCALE),
                "--interval-millis", str(INTERVAL_MS), "--backfill", "60s", "--duration", "0")],
        tmp_path,
    )  # fmt: skip
    common = [
        "query", "-e", engine, "-t", "q_data", "--params", "model", "--host-scale", str(HOST_SCALE),
        "--seed", str(SEED), "--repetitions", str(REPETITIONS), "--think-time-milliseconds", "0",
        "--no-datapoint-counts", "--stats-interval", "5",
    ]  # fmt: skip
    shared = tmp_path / "shared"  # every shard writes into one log dir, as on shared storage
    run_all(
        [tsload(*common, "--shard", f"{k}/{N}", "-c", "1", "-l", str(shared)) for k in range(N)]
        + [tsload(*common, "-c", str(N), "-l", str(tmp_path / "one"))],
        tmp_path,
    )
    shard_dirs = sorted(shared.iterdir())
    one_dirs = sorted((tmp_path / "one").iterdir())
    assert len(shard_dirs) == len(one_dirs) == N
    one_meta = {m["global_session_index"]: m for m in (orjson.loads((d / "session.json").read_bytes())
                                                       for d in one_dirs)}  # fmt: skip
    instance_of = {fleet.instance_name(int(h.silo[0]), int(h.microservice[0]), int(h.instance[0])): i
                   for i in range(fleet.n_hosts) for h in [fleet.hosts([i])]}  # fmt: skip
    for d in shard_dirs:
        meta = orjson.loads((d / "session.json").read_bytes())
        k = int(meta["shard"].split("/")[0])
        assert meta["shard"] == f"{k}/{N}" and f"-shard{k}of{N}-" in d.name
        assert meta["global_session_index"] == k
        twin = one_meta[k]  # the single run's session k+1 (process 1, session k+1)
        assert twin["session"] == f"1-{k + 1}"
        assert meta["session_seed"] == twin["session_seed"] == session_seed(SEED, k)
        assert meta["queries"] == twin["queries"]  # the same queries, whatever host each drew
        host = instance_of[meta["params"]["instance_name"]]
        assert host in shard_range(fleet.n_hosts, k, N)

    merged, one = report(shared), report(tmp_path / "one")
    assert merged["query_sessions"] == one["query_sessions"] == N
    assert counts(merged) == counts(one)
    c = counts(one)
    assert sum(t for t, *_ in c.values()) == N * REPETITIONS
    assert all(ok == t and failed == 0 and to == 0 for t, ok, failed, to in c.values()), c


def test_k8s_manifest_shards_every_job() -> None:
    """The Indexed Jobs pass `--shard ${JOB_COMPLETION_INDEX}/N` with N = completions, and use only
    flags the commands have."""
    text = (Path(__file__).resolve().parents[2] / "scripts/k8s/ingest-indexed-job.yaml").read_text()
    jobs = [d for d in text.split("\n---\n") if "kind: Job" in d]
    assert len(jobs) == 2
    for job in jobs:
        (completions,) = re.findall(r"^\s+completions:\s*(\d+)", job, re.MULTILINE)
        command = re.search(r"^\s+tsload (ingest|query) ((?:.*\\\n)*.*)", job, re.MULTILINE)
        assert command is not None, job
        args = command.group(2)
        assert f'--shard "${{JOB_COMPLETION_INDEX}}/{completions}"' in args
        help_text = subprocess.run(
            tsload(command.group(1), "--help"), capture_output=True, text=True, env=ENV, timeout=60
        ).stdout
        for flag in set(re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", args)):
            assert flag in help_text, (command.group(1), flag)
