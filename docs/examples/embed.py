"""Embedding tsload in a program: the public API only, checked with `mypy --strict` by the tests.

Run it with `python docs/examples/embed.py` (it starts the local engine on a free loopback port).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import tsload


async def main(work: Path) -> int:
    target = tsload.TargetConfig(local_data=work / "data")
    try:
        run: tsload.RunResult = await tsload.run_experiment(
            tsload.RunConfig(
                ingest=tsload.IngestConfig(
                    target=target, host_scale=1, interval_millis=60_000, backfill_s=120, duration_s=3
                ),
                query=tsload.QueryConfig(concurrency=1, think_time_ms=100, params="model"),
                out_dir=work / "run",
            )
        )
    except tsload.ConfigError as exc:  # bad input: the message names the field and what is allowed
        print(f"configuration: {exc}", file=sys.stderr)
        return 2
    except tsload.TsloadError as exc:
        print(f"failed: {exc}", file=sys.stderr)
        return 1
    live: tsload.IngestSummary | None = run.live
    if live is not None:
        print(f"live: {live.ingested:,} records ingested")
    report, _found = tsload.load_report([run.out_dir])
    rows: Sequence[tsload.QueryRow] = report.queries
    for row in rows:
        p99 = row.latency.p99 if row.latency is not None else None
        print(row.query, row.successful, p99)
    print(tsload.to_markdown(report)[:200])
    return 0


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        sys.exit(asyncio.run(main(Path(tmp))))
