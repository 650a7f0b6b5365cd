"""scripts/bench-engine: records/s the local engine stores from pre-encoded WriteRecords requests.

One invocation measures, on the same machine state: fresh writes (stored), the same requests
again on the running engine, again after a restart (the index rebuilt from DuckDB), the same
keys with other values (every record rejected with AWS's same-version reason), `--discard`, and
a naive per-request INSERT baseline; plus the engine's peak RSS, and where the CPU of the fresh
run went (the engine's event-loop thread, its other threads, the client) per record. `--days D`
first stores D days of a 1,000-host fleet (20 measures per host every 60 s: 3 days = 86.4 M
records, host-scale 1's volume) and reports the RSS with that much stored (takes minutes).

The client is deliberately lean (pre-built HTTP/1.1 requests on keep-alive connections, one
Authorization header reused: the engine accepts any SigV4-shaped credentials), so the figure
measures the engine. The engine runs in its own process, as `tsload serve` does; on a shared
2-core machine the client and the engine compete for CPU, so read the figures as a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

import orjson

DB, TABLE = "bench", "devops"
MEASURES = [f"metric_{i:02d}" for i in range(20)]
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/timestream/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)


def bodies(n_requests: int, now_ms: int, *, shift: int = 0, step_ms: int = 1, first: int = 0) -> list[bytes]:
    """100 single-measure records per request: one host, 5 times x 20 measures, dims in CommonAttributes.

    `shift` changes every value (same keys: a conflicting re-send); times are `step_ms` apart."""
    out = []
    for i in range(first, first + n_requests):
        host = i % 1000
        step = i // 1000
        dims = [
            {"Name": "region", "Value": "us-east-1"},
            {"Name": "cell", "Value": f"us-east-1-cell-{host % 7}"},
            {"Name": "silo", "Value": f"us-east-1-cell-{host % 7}-silo-1"},
            {"Name": "availability_zone", "Value": "us-east-1-1"},
            {"Name": "microservice_name", "Value": "apollo"},
            {"Name": "instance_type", "Value": "r5.4xlarge"},
            {"Name": "os_version", "Value": "AL2"},
            {"Name": "instance_name", "Value": f"i-zaZswmJk-apollo-{host:08d}.amazonaws.com"},
        ]
        records = []
        for k in range(5):
            t = now_ms - 600_000 + (step * 5 + k) * step_ms
            for m in MEASURES:
                records.append(
                    {
                        "MeasureName": m,
                        "MeasureValue": f"{(i * 7 + k + shift) % 100 + 0.25:.2f}",
                        "Time": str(t),
                    }
                )
        body = {
            "DatabaseName": DB,
            "TableName": TABLE,
            "CommonAttributes": {
                "Dimensions": dims,
                "MeasureValueType": "DOUBLE",
                "TimeUnit": "MILLISECONDS",
            },
            "Records": records,
        }
        out.append(orjson.dumps(body))
    return out


def http_request(port: int, target: str, body: bytes) -> bytes:
    head = (
        f"POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-amz-json-1.0\r\n"
        f"X-Amz-Target: Timestream_20181101.{target}\r\nX-Amz-Date: 20260101T000000Z\r\n"
        f"Authorization: {AUTH}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    m = re.search(rb"(?i)content-length: *(\d+)", head)
    body = await reader.readexactly(int(m.group(1))) if m else b""
    return status, body


async def drive(port: int, requests: list[bytes], connections: int, ok: int = 200) -> tuple[float, int]:
    """Send every request; (seconds, requests not answered with status `ok`)."""
    queue = list(reversed(requests))
    failures = 0

    async def conn() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            writer.write(queue.pop())
            status, _ = await _read_response(reader)
            failures += status != ok
        writer.close()

    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(connections):
            tg.create_task(conn())
    return time.perf_counter() - t0, failures


def run_client(coro: Any) -> Any:
    """Run the client on uvloop, as tsload's own ingestion does: it shares the cores with the
    engine, so its CPU per request is part of what the figure measures."""
    import uvloop

    return uvloop.run(coro)


def call(port: int, target: str, payload: dict[str, object]) -> None:
    async def go() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(http_request(port, target, orjson.dumps(payload)))
        await _read_response(reader)
        writer.close()

    asyncio.run(go())


def stats(port: int) -> dict[str, int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/tsload/stats") as r:
        data: dict[str, int] = json.load(r)
        return data


class Served:
    """A `tsload serve` process on a free port (terminated, i.e. flushed and closed, on exit)."""

    def __init__(self, data: Path, extra: list[str]) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tsload", "serve", "--data", str(data), "--port", "0", *extra],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().rsplit(":", 1)[1])

    def __enter__(self) -> Served:
        return self

    def __exit__(self, *exc: object) -> None:
        self.proc.terminate()
        self.proc.wait()

    def stats(self) -> dict[str, Any]:
        return stats(self.port)

    def rss_mb(self) -> tuple[float, float]:
        """(current, peak) resident memory of the engine process, MB."""
        fields = dict(
            line.split(":", 1) for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines()
        )
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024

    def thread_cpu(self) -> tuple[float, float]:
        """CPU seconds of the engine's event-loop thread and of all its other threads."""
        tick = os.sysconf("SC_CLK_TCK")
        main = other = 0.0
        for stat in Path(f"/proc/{self.proc.pid}/task").glob("*/stat"):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cpu = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
            if stat.parent.name == str(self.proc.pid):
                main += cpu
            else:
                other += cpu
        return main, other

    def requests(self, raw: list[bytes]) -> list[bytes]:
        return [http_request(self.port, "WriteRecords", b) for b in raw]

    def until_flushed(self) -> None:
        while self.stats()["buffered_rows"]:
            time.sleep(0.01)


def create(srv: Served, magnetic: bool = False) -> None:
    call(srv.port, "CreateDatabase", {"DatabaseName": DB})
    table: dict[str, Any] = {"DatabaseName": DB, "TableName": TABLE}
    if magnetic:
        table["MagneticStoreWriteProperties"] = {"EnableMagneticStoreWrites": True}
    call(srv.port, "CreateTable", table)


def timed(srv: Served, raw: list[bytes], connections: int, ok: int = 200) -> float:
    """Records/s from the first request to the last one stored (or answered, for rejections)."""
    reqs = srv.requests(raw)
    elapsed, failures = run_client(drive(srv.port, reqs, connections, ok))
    if failures:
        raise SystemExit(f"{failures} requests were not answered with {ok}")
    t0 = time.perf_counter()
    srv.until_flushed()
    return len(raw) * 100 / (elapsed + time.perf_counter() - t0)


def overlap_runs(data: Path, n_requests: int, connections: int) -> dict[str, float]:
    now_ms = int(time.time() * 1000)
    raw = bodies(n_requests, now_ms)
    out: dict[str, float] = {}
    with Served(data, []) as srv:
        create(srv)
        reqs = srv.requests(raw)
        cpu0, client0 = srv.thread_cpu(), time.process_time()
        elapsed, failures = run_client(drive(srv.port, reqs, connections))
        if failures:
            raise SystemExit(f"{failures} requests failed")
        out["acked"] = n_requests * 100 / elapsed
        t0 = time.perf_counter()
        srv.until_flushed()
        out["fresh"] = n_requests * 100 / (elapsed + time.perf_counter() - t0)
        cpu1, client1 = srv.thread_cpu(), time.process_time()
        per_record = 1e6 / (n_requests * 100)
        out["cpu_loop"] = (cpu1[0] - cpu0[0]) * per_record
        out["cpu_other"] = (cpu1[1] - cpu0[1]) * per_record
        out["cpu_client"] = (client1 - client0) * per_record
        out["again"] = timed(srv, raw, connections)
        out["rss_fresh"] = srv.rss_mb()[1]
        assert srv.stats()["records_ingested"] == 2 * n_requests * 100
    with Served(data, []) as srv:
        out["restart"] = timed(srv, raw, connections)
        s = srv.stats()
        out["loads"], out["lookups"] = s["dedupe_index_loads"], s["dedupe_db_lookups"]
        out["conflict"] = timed(srv, bodies(n_requests, now_ms, shift=1), connections, ok=419)
        s = srv.stats()
        assert s["records_rejected"] == n_requests * 100 and s["rows_flushed"] == 0, s
        out["rss_restart"] = srv.rss_mb()[1]
    return out


def big_run(data: Path, days: float, connections: int) -> None:
    """Store `days` of a 1,000-host fleet (20 measures every 60 s), then report the engine's RSS."""
    per_step = 1000  # requests per 5 timestamps of every host
    steps = int(days * 86400 / 60 / 5)
    total = steps * per_step
    start_ms = int(time.time() * 1000) - int(days * 86400_000) + 600_000
    with Served(data, []) as srv:
        create(srv, magnetic=True)
        t0 = time.perf_counter()
        chunk = 10 * per_step
        for first in range(0, total, chunk):
            raw = bodies(min(chunk, total - first), start_ms, step_ms=60_000, first=first)
            _, failures = run_client(drive(srv.port, srv.requests(raw), connections))
            if failures:
                raise SystemExit(f"{failures} requests failed")
            if first // chunk % 20 == 0:
                rss, peak = srv.rss_mb()
                print(f"  {first * 100 / 1e6:7.1f} M records stored, RSS {rss:,.0f} MB (peak {peak:,.0f})")
        srv.until_flushed()
        elapsed = time.perf_counter() - t0
        s = srv.stats()
        rss, peak = srv.rss_mb()
        print(
            f"big      : {s['records_ingested'] / 1e6:.1f} M records ({days:g} days) in {elapsed:,.0f} s"
            f" ({s['records_ingested'] / elapsed:,.0f} records/s incl. generating them);"
            f" engine RSS {rss:,.0f} MB, peak {peak:,.0f} MB; index {s['dedupe_index_keys']:,} keys"
        )


def naive_baseline(data: Path, n_requests: int) -> float:
    """Parse each body and INSERT its 100 rows at once (no batching): the design the engine avoids."""
    import duckdb
    import pyarrow as pa

    con = duckdb.connect(str(data / "naive.duckdb"))
    con.execute(
        "CREATE TABLE t (region VARCHAR, cell VARCHAR, silo VARCHAR, availability_zone VARCHAR,"
        " microservice_name VARCHAR, instance_type VARCHAR, os_version VARCHAR, instance_name VARCHAR,"
        ' measure_name VARCHAR, time TIMESTAMP_NS, "measure_value::double" DOUBLE, _version BIGINT)'
    )
    reqs = bodies(n_requests, int(time.time() * 1000))
    t0 = time.perf_counter()
    for raw in reqs:
        body = orjson.loads(raw)
        recs = body["Records"]
        n = len(recs)
        cols = {d["Name"]: pa.array([d["Value"]] * n) for d in body["CommonAttributes"]["Dimensions"]}
        cols["measure_name"] = pa.array([r["MeasureName"] for r in recs])
        cols["time"] = pa.array([int(r["Time"]) * 1_000_000 for r in recs], pa.timestamp("ns"))
        cols["measure_value::double"] = pa.array([float(r["MeasureValue"]) for r in recs])
        cols["_version"] = pa.array([1] * n, pa.int64())
        batch = pa.table(cols)
        con.register("b", batch)
        con.execute("INSERT INTO t BY NAME SELECT * FROM b")
        con.unregister("b")
    elapsed = time.perf_counter() - t0
    con.close()
    return n_requests * 100 / elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--requests",
        type=int,
        default=12_000,
        help="WriteRecords requests per run (100 records each; the default, 1.2 M records, runs a few"
        " seconds: with 0.3 M the start and the last flush weighed on the figure)",
    )
    ap.add_argument("--connections", type=int, default=8)
    ap.add_argument(
        "--days",
        type=float,
        default=0,
        help="also store this many days of a 1,000-host fleet (3: 86 M records)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        n = args.requests
        print(f"{n} requests x 100 single-measure records, {args.connections} connections")
        r = overlap_runs(base / "stored", n, args.connections)
        print(
            f"stored   : {r['acked']:10,.0f} records/s acknowledged, {r['fresh']:10,.0f} records/s in DuckDB"
        )
        print(
            f"cpu      : {r['cpu_loop']:.2f} µs/record engine event loop, {r['cpu_other']:.2f} engine other"
            f" threads (flush: Arrow batch + DuckDB), {r['cpu_client']:.2f} client (fresh run)"
        )
        print(f"again    : {r['again']:10,.0f} records/s (the same requests re-sent, same engine)")
        print(
            f"restarted: {r['restart']:10,.0f} records/s (re-sent after a restart: {r['loads']:.0f} index"
            f" windows read back, {r['lookups']:.0f} per-request lookups)"
            f" = {r['restart'] / r['fresh']:.0%} of fresh"
        )
        print(f"conflict : {r['conflict']:10,.0f} records/s (same keys, other values: all rejected)")
        print(
            f"rss      : {r['rss_fresh']:10,.0f} MB peak (fresh + again),"
            f" {r['rss_restart']:,.0f} MB after restart"
        )
        discard = run_discard(base / "discard", n, args.connections)
        print(f"discard  : {discard:10,.0f} records/s acknowledged (parse + validate only)")
        naive = naive_baseline(base, min(n, 1000))
        print(f"baseline : {naive:10,.0f} records/s (parse + one 100-row INSERT per request, no HTTP)")
        print(f"stored/baseline = {r['fresh'] / naive:.1f}x   (noisy: shared 2-core host, client included)")
        if args.days:
            big_run(base / "big", args.days, args.connections)


def run_discard(data: Path, n_requests: int, connections: int) -> float:
    with Served(data, ["--discard"]) as srv:
        create(srv)
        raw = bodies(n_requests, int(time.time() * 1000))
        elapsed, failures = run_client(drive(srv.port, srv.requests(raw), connections))
        if failures:
            raise SystemExit(f"{failures} requests failed")
        return n_requests * 100 / elapsed


if __name__ == "__main__":
    main()
