"""The body of scripts/bench-ingest (see that file). Prints figures; compares within the same run."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable
CORES = sorted(os.sched_getaffinity(0))
CLIENT_CORE = {CORES[0]}
ENGINE_CORE = {CORES[-1]} if len(CORES) > 1 else {CORES[0]}


ENGINE_PID = 0


def engine_cpu_s() -> float:
    """CPU seconds the engine process has used so far (user + system, all threads)."""
    try:
        fields = Path(f"/proc/{ENGINE_PID}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def discard_engine() -> Iterator[str]:
    global ENGINE_PID
    data = tempfile.mkdtemp(prefix="tsload-bench-")
    proc = subprocess.Popen(
        [PY, "-m", "tsload", "serve", "--data", data, "--port", "0", "--discard"],
        stdout=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        m = re.search(r"(http://127\.0\.0\.1:\d+)", line)
        if not m:
            raise SystemExit(f"engine did not start: {line!r}")
        with contextlib.suppress(OSError):
            os.sched_setaffinity(proc.pid, ENGINE_CORE)
        ENGINE_PID = proc.pid
        yield m.group(1)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()


NULL_PEER = r"""
import asyncio, sys
import uvloop
REPLY = (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}")
class P(asyncio.Protocol):
    def connection_made(self, t): self.t = t; self.buf = b""
    def data_received(self, d):
        self.buf += d
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0: return
            head = self.buf[:end].lower()
            i = head.find(b"content-length:")
            j = head.find(b"\r\n", i)
            n = int(head[i + 15 : j if j > 0 else None]) if i >= 0 else 0
            if len(self.buf) < end + 4 + n: return
            self.buf = self.buf[end + 4 + n:]
            self.t.write(REPLY)
async def main():
    srv = await asyncio.get_running_loop().create_server(P, "127.0.0.1", 0)
    print(f"http://127.0.0.1:{srv.sockets[0].getsockname()[1]}", flush=True)
    await asyncio.Event().wait()
uvloop.run(main())
"""


@contextlib.contextmanager
def null_peer() -> Iterator[str]:
    """An HTTP peer that reads each request and answers 200 at once: what the client alone can do."""
    proc = subprocess.Popen([PY, "-c", NULL_PEER], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        with contextlib.suppress(OSError):
            os.sched_setaffinity(proc.pid, ENGINE_CORE)
        yield url
    finally:
        proc.kill()
        proc.wait()


def sample_records(n: int, t0: int) -> list[dict[str, Any]]:
    """The sample's record shape: all 8 dimensions repeated in every record, one measure each."""
    from tsload.model.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(host_scale=1))
    names = [
        "cpu_user",
        "cpu_system",
        "cpu_steal",
        "cpu_iowait",
        "cpu_nice",
        "cpu_hi",
        "cpu_si",
        "cpu_idle",
        "memory_free",
        "memory_used",
        "memory_cached",
        "disk_io_reads",
        "disk_io_writes",
        "latency_per_read",
        "latency_per_write",
        "network_bytes_in",
        "network_bytes_out",
        "disk_used",
        "disk_free",
        "file_descriptors_in_use",
    ]
    out = []
    for i in range(n):
        dims = [{"Name": k, "Value": v} for k, v in fleet.metric_dimensions(i // 20)]
        out.append(
            {
                "Dimensions": dims,
                "MeasureName": names[i % 20],
                "MeasureValue": f"{(i * 7919) % 10000 / 100:.2f}",
                "MeasureValueType": "DOUBLE",
                "Time": str(t0 + i // 20),
                "TimeUnit": "MILLISECONDS",
            }
        )
    return out


def baseline(url: str, seconds: float) -> dict[str, float]:
    """(a) the sample: sync boto3 write_records, 100 records with full dimensions, one thread."""
    import boto3
    from botocore.config import Config

    client = boto3.client(
        "timestream-write",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
        config=Config(retries={"max_attempts": 10}),
    )
    records = sample_records(100, int(time.time() * 1000) - 60_000)
    n = 0
    cpu0, t0 = time.process_time(), time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        client.write_records(DatabaseName="devops", TableName="host_metrics", Records=records)
        n += 100
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"records_per_s": n / wall, "records_per_cpu_s": n / cpu, "cpu_ms_per_100": cpu / (n / 100) * 1000}


def run_tsload(
    url: str,
    *,
    sdk: bool,
    multi: bool,
    host_scale: int,
    backfill: str,
    concurrency: int,
    batch_writes: bool = False,
    extra: tuple[str, ...] = (),
) -> dict[str, float]:
    """(b)/(c): the tsload CLI in a child process pinned to the client core; backfill as fast as accepted."""
    out = Path(tempfile.mkdtemp(prefix="tsload-bench-run-"))
    args = [
        PY,
        "-m",
        "tsload",
        "ingest",
        "-e",
        url,
        "--host-scale",
        str(host_scale),
        "--interval-millis",
        "60000",
        "--backfill",
        backfill,
        "--duration",
        "0",
        "-c",
        str(concurrency),
        "--out",
        str(out),
        "--stats-interval",
        "60",
    ]
    if sdk:
        args.append("--sdk-writes")
    if multi:
        args.append("--multi")
    if batch_writes:
        args.append("--batch-writes")
    args.extend(extra)
    t0 = time.perf_counter()
    e0 = engine_cpu_s()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with contextlib.suppress(OSError):
        os.sched_setaffinity(proc.pid, CLIENT_CORE)
    ru0 = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    engine_cpu = engine_cpu_s() - e0
    _, stderr = proc.communicate()
    if ru0[1] != 0:
        raise SystemExit(f"tsload ingest failed: {stderr.strip()[-500:]}")
    import json

    summary = json.loads((out / "ingest-summary.json").read_text())
    cpu = ru0[2].ru_utime + ru0[2].ru_stime
    return {
        "records_per_s": summary["records_per_s"],
        "measures_per_s": summary["measures_per_s"],
        "records": summary["ingested"],
        "records_per_cpu_s": summary["ingested"] / cpu if cpu else 0.0,
        "records_per_loop_cpu_s": summary["ingested"] / summary["client_cpu_s"]
        if summary["client_cpu_s"]
        else 0.0,
        "wall_s": wall,
        "elapsed_s": summary["elapsed_s"],
        "requests": summary["requests"],
        # the engine's CPU per request over the whole run (startup and catalog calls included)
        "engine_us_per_req": engine_cpu / summary["requests"] * 1e6 if summary["requests"] else 0.0,
        "client_us_per_req": summary["client_cpu_s"] / summary["requests"] * 1e6
        if summary["requests"]
        else 0.0,
    }


async def _transport_round(url: str, kind: str, seconds: float, concurrency: int) -> dict[str, float]:
    import aioboto3
    import aiohttp
    import numpy as np

    from tsload.model.encode import EncodeOptions, RequestEncoder
    from tsload.model.fleet import Fleet, FleetConfig
    from tsload.targets.http import HttpClient
    from tsload.targets.timestream.sigv4 import SigV4Signer

    fleet = Fleet(FleetConfig(host_scale=1))
    enc = RequestEncoder(fleet, EncodeOptions(database="devops", table="host_metrics"))
    t0 = int(time.time() * 1000) - 600_000
    bodies = [r.body for r in enc.per_series("metrics", np.arange(50), np.arange(5) * 60_000 + t0)]
    session = aioboto3.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="us-east-1"
    )
    signer = SigV4Signer(await session.get_credentials(), "us-east-1")
    lean = HttpClient(url)
    target = "Timestream_20181101.WriteRecords"
    sent = 0
    stop_at = time.perf_counter() + seconds
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as http:

        async def one(i: int) -> None:
            nonlocal sent
            while time.perf_counter() < stop_at:
                body = bodies[i % len(bodies)]
                keys = await signer.keys()
                headers = signer.sign(keys, lean.host_header, target, body)
                if kind == "lean":
                    r = await lean.post("/", headers, body)
                    assert r.status == 200, r.body
                else:
                    async with http.post(url + "/", data=body, headers=dict(headers)) as resp:
                        await resp.read()
                        assert resp.status == 200
                sent += 1
                i += 1

        cpu0, w0 = time.process_time(), time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(concurrency)))
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - w0
    await lean.aclose()
    return {
        "req_per_s": sent / wall,
        "cpu_us_per_req": cpu / sent * 1e6,
        "records_per_cpu_s": sent * 100 / cpu,
    }


def transports(url: str, seconds: float) -> dict[str, dict[str, float]]:
    import uvloop

    with contextlib.suppress(OSError):
        os.sched_setaffinity(0, CLIENT_CORE)
    return {k: uvloop.run(_transport_round(url, k, seconds, 32)) for k in ("aiohttp", "lean")}


def tree_rss_mb(pid: int) -> float:
    total = 0
    pids = [pid]
    with contextlib.suppress(OSError):
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out]
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
    return total / 1024


def memory(url: str, seconds: float) -> float:
    """Peak RSS of `tsload ingest --host-scale 4000 -p 2` (parent + children), live at the Large interval."""
    proc = subprocess.Popen(
        [
            PY,
            "-m",
            "tsload",
            "ingest",
            "-e",
            url,
            "--host-scale",
            "4000",
            "-p",
            "2",
            "-c",
            "64",
            "--interval-millis",
            "120000",
            "--duration",
            str(int(seconds)),
            "--stats-interval",
            "5",
            "--drain-timeout",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0.0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_mb(proc.pid))
            time.sleep(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        proc.wait(seconds + 120)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    stop.set()
    th.join()
    return peak


def bench_influxdb(a: argparse.Namespace) -> None:
    """--target influxdb: line protocol against a null HTTP peer (the client alone, one core), beside
    the Timestream multi-measure fast path against the same peer in the same run; then against a
    real influxd (Debian's 1.6) pinned to the other core: the rate it sustains and tsload's CPU per
    record (line)."""
    global ENGINE_PID
    influx = ("--target", "influxdb", "--batch-size", str(a.influx_batch))
    with null_peer() as peer:
        common = dict(sdk=False, host_scale=a.host_scale, backfill=a.backfill)
        ts = run_tsload(peer, multi=True, concurrency=32, **common)  # type: ignore[arg-type]
        lp = run_tsload(peer, multi=False, concurrency=8, extra=influx, **common)  # type: ignore[arg-type]
    print(
        f"null HTTP peer, one client core: timestream multi {ts['measures_per_s']:>11,.0f} measures/s |"
        f" influxdb line protocol {lp['measures_per_s']:>11,.0f} field values/s"
        f" ({lp['records_per_s']:,.0f} lines/s, {lp['requests']:,} requests of <= {a.influx_batch:,} lines)"
        f" | goal >= 1,500,000 field values/s: {'met' if lp['measures_per_s'] >= 1_500_000 else 'NOT met'}"
    )
    sys.path.insert(0, str(ROOT))
    from tests.influxdb.server import InfluxServer, influxd_path

    if influxd_path() is None:
        print("real influxd: not installed (apt-get install influxdb): skipped")
        return
    with InfluxServer() as server:
        assert server.proc is not None
        ENGINE_PID = server.proc.pid
        with contextlib.suppress(OSError):
            os.sched_setaffinity(server.proc.pid, ENGINE_CORE)
            for task in Path(f"/proc/{server.proc.pid}/task").iterdir():
                os.sched_setaffinity(int(task.name), ENGINE_CORE)
        r = run_tsload(
            server.url, sdk=False, multi=False, host_scale=a.host_scale, backfill=a.influx_backfill,
            concurrency=4, extra=influx,
        )
        per_line_us = 1e6 / r["records_per_loop_cpu_s"] if r["records_per_loop_cpu_s"] else 0.0
        values_per_line = r["measures_per_s"] / r["records_per_s"] if r["records_per_s"] else 0.0
        engine_per_line_us = r["engine_us_per_req"] * r["requests"] / r["records"] if r["records"] else 0.0
        print(
            f"real influxd {_influxd_version()} on core {sorted(ENGINE_CORE)}: sustained"
            f" {r['records_per_s']:>9,.0f} lines/s = {r['measures_per_s']:>11,.0f} field values/s"
            f" ({r['records']:,} lines in {r['elapsed_s']:.1f} s)"
        )
        print(
            f"  tsload CPU per record (line): {per_line_us:.2f} µs"
            f" ({per_line_us / values_per_line if values_per_line else 0:.3f} µs per field value);"
            f" influxd CPU per line: {engine_per_line_us:.1f} µs"
        )


def _influxd_version() -> str:
    try:
        out = subprocess.run(["influxd", "version"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.TimeoutExpired):
        return "?"
    return out.split("(")[0].strip() or "?"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--target", choices=("timestream", "influxdb"), default="timestream")
    ap.add_argument("--influx-batch", type=int, default=5000, help="--target influxdb: lines per request")
    ap.add_argument("--influx-backfill", default="10m", help="--target influxdb: history written to influxd")
    ap.add_argument("--seconds", type=float, default=8.0, help="length of the baseline and transport rounds")
    ap.add_argument("--host-scale", type=int, default=10, help="fleet of the tsload rounds")
    ap.add_argument("--backfill", default="10m", help="history written by each tsload round")
    ap.add_argument("--skip-memory", action="store_true")
    ap.add_argument("--memory-seconds", type=float, default=30.0)
    a = ap.parse_args()
    print(
        f"cores: client {sorted(CLIENT_CORE)}, engine {sorted(ENGINE_CORE)}"
        " (shared machine: figures are noisy)"
    )
    if a.target == "influxdb":
        bench_influxdb(a)
        return
    with discard_engine() as url:
        import boto3

        boto3.client(
            "timestream-write",
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="b",
            aws_secret_access_key="b",
        ).create_database(DatabaseName="devops")
        with contextlib.suppress(Exception):
            boto3.client(
                "timestream-write",
                endpoint_url=url,
                region_name="us-east-1",
                aws_access_key_id="b",
                aws_secret_access_key="b",
            ).create_table(DatabaseName="devops", TableName="host_metrics")
        tr = transports(url, a.seconds / 2)
        for k, v in tr.items():
            print(
                f"transport {k:8s}: {v['req_per_s']:>9,.0f} req/s"
                f"  {v['cpu_us_per_req']:>6,.1f} µs CPU/request"
                f"  = {v['records_per_cpu_s']:>11,.0f} records per CPU-second (100-record bodies, signed)"
            )
        os.sched_setaffinity(0, set(CORES))
        base = baseline(url, a.seconds)
        print(
            f"(a) sample approach (boto3, full dims, 1 thread): {base['records_per_s']:>10,.0f} records/s"
            f"   ({base['cpu_ms_per_100']:.1f} ms CPU per 100 records)"
        )
        rows = {}
        for label, kw in (
            ("(b) --sdk-writes            single", dict(sdk=True, multi=False, concurrency=16)),
            ("(c) tsload fast path        single", dict(sdk=False, multi=False, concurrency=32)),
            ("(b) --sdk-writes            multi ", dict(sdk=True, multi=True, concurrency=16)),
            ("(c) tsload fast path        multi ", dict(sdk=False, multi=True, concurrency=32)),
        ):
            r = run_tsload(url, host_scale=a.host_scale, backfill=a.backfill if not kw["sdk"] else "2m", **kw)
            rows[label] = r
            print(
                f"{label}: {r['records_per_s']:>10,.0f} records/s {r['measures_per_s']:>11,.0f} measures/s"
                f"  | per client CPU-second: {r['records_per_loop_cpu_s']:>9,.0f} records in the ingest loop,"
                f" {r['records_per_cpu_s']:>9,.0f} incl. startup | {r['records']:,} records"
                f" in {r['requests']:,} requests; CPU per request: engine {r['engine_us_per_req']:,.0f} µs,"
                f" client {r['client_us_per_req']:,.0f} µs"
            )
        fast_row = rows["(c) tsload fast path        single"]
        fast = fast_row["records_per_s"]
        sdk = rows["(b) --sdk-writes            single"]["records_per_s"]
        print(
            "client CPU efficiency (single): fast path / baseline ="
            f" {fast_row['records_per_loop_cpu_s'] / base['records_per_cpu_s']:.1f}x"
            f" ({fast_row['records_per_loop_cpu_s']:,.0f} vs {base['records_per_cpu_s']:,.0f}"
            " records per CPU-second)"
        )
        multi = rows["(c) tsload fast path        multi "]["measures_per_s"]
        print(
            f"goals: single {fast:,.0f} records/s (>= 250,000: {'met' if fast >= 250_000 else 'NOT met'}),"
            f" {fast / base['records_per_s']:.1f}x baseline (>= 40x: "
            f"{'met' if fast >= 40 * base['records_per_s'] else 'NOT met'}),"
            f" multi {multi:,.0f} measures/s (>= 1,000,000: {'met' if multi >= 1_000_000 else 'NOT met'})"
        )
        print(
            f"ratios (single): fast/baseline = {fast / base['records_per_s']:.1f}x,"
            f" fast/sdk = {fast / sdk:.1f}x, sdk/baseline = {sdk / base['records_per_s']:.1f}x"
        )
        with null_peer() as peer:
            for multi in (False, True):
                r = run_tsload(
                    peer, sdk=False, multi=multi, host_scale=a.host_scale, backfill=a.backfill, concurrency=32
                )
                print(
                    f"(c') fast path vs a null HTTP peer  {'multi ' if multi else 'single'}:"
                    f" {r['records_per_s']:>10,.0f} records/s {r['measures_per_s']:>11,.0f} measures/s"
                    f"  (the client alone, one core)"
                )
        if not a.skip_memory:
            peak = memory(url, a.memory_seconds)
            print(
                "memory: host-scale 4000, -p 2, live at 120 s interval:"
                f" peak RSS (parent + children) {peak:,.0f} MB"
            )


if __name__ == "__main__":
    main()
