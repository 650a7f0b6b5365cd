"""scripts/bench-engine: records/s the local engine stores from pre-encoded WriteRecords requests.

The client is deliberately lean (pre-built HTTP/1.1 requests on keep-alive connections, one
Authorization header reused: the engine accepts any SigV4-shaped credentials), so the figure
measures the engine. The engine runs in its own process, as `tsload serve` does; on a shared
2-core machine the client and the engine compete for CPU, so read the figures as a floor.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import orjson

DB, TABLE = "bench", "devops"
MEASURES = [f"metric_{i:02d}" for i in range(20)]
AUTH = (
    "AWS4-HMAC-SHA256 Credential=AKIDBENCH/20260101/us-east-1/timestream/aws4_request, "
    "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + "0" * 64
)


def bodies(n_requests: int, now_ms: int) -> list[bytes]:
    """100 single-measure records per request: one host, 5 times x 20 measures, dims in CommonAttributes."""
    out = []
    for i in range(n_requests):
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
            t = now_ms - 600_000 + step * 5 + k
            for m in MEASURES:
                records.append(
                    {"MeasureName": m, "MeasureValue": f"{(i * 7 + k) % 100 + 0.25:.2f}", "Time": str(t)}
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


async def drive(port: int, requests: list[bytes], connections: int) -> tuple[float, int]:
    queue = list(reversed(requests))
    failures = 0

    async def conn() -> None:
        nonlocal failures
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        while queue:
            writer.write(queue.pop())
            status, _ = await _read_response(reader)
            failures += status != 200
        writer.close()

    t0 = time.perf_counter()
    async with asyncio.TaskGroup() as tg:
        for _ in range(connections):
            tg.create_task(conn())
    return time.perf_counter() - t0, failures


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


def run_engine(data: Path, extra: list[str], n_requests: int, connections: int) -> tuple[float, float]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tsload", "serve", "--data", str(data), "--port", "0", *extra],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().rsplit(":", 1)[1])
        call(port, "CreateDatabase", {"DatabaseName": DB})
        call(port, "CreateTable", {"DatabaseName": DB, "TableName": TABLE})
        reqs = [http_request(port, "WriteRecords", b) for b in bodies(n_requests, int(time.time() * 1000))]
        elapsed, failures = asyncio.run(drive(port, reqs, connections))
        if failures:
            raise SystemExit(f"{failures} requests failed")
        t0 = time.perf_counter()
        while stats(port)["buffered_rows"]:
            time.sleep(0.01)
        flushed_at = elapsed + time.perf_counter() - t0
        s = stats(port)
        assert s["records_ingested"] == n_requests * 100, s
        return n_requests * 100 / elapsed, n_requests * 100 / flushed_at
    finally:
        proc.terminate()
        proc.wait()


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
        "--requests", type=int, default=3000, help="WriteRecords requests per run (100 records each)"
    )
    ap.add_argument("--connections", type=int, default=8)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        print(
            f"{args.requests} requests x 100 single-measure records, {args.connections} connections"
        )
        acked, stored = run_engine(base / "stored", [], args.requests, args.connections)
        print(f"stored   : {acked:10,.0f} records/s acknowledged, {stored:10,.0f} records/s in DuckDB")
        discard, _ = run_engine(base / "discard", ["--discard"], args.requests, args.connections)
        print(f"discard  : {discard:10,.0f} records/s acknowledged (parse + validate only)")
        naive = naive_baseline(base, min(args.requests, 1000))
        print(
            f"baseline : {naive:10,.0f} records/s (parse + one 100-row INSERT per request, no HTTP)"
        )
        print(
            f"stored/baseline = {stored / naive:.1f}x   (noisy: shared 2-core host, client included)"
        )


if __name__ == "__main__":
    main()
