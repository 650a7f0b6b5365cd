"""The live view's lines: backfill progress, the final rate agreeing with the summary, headers whole."""

from __future__ import annotations

import io

from rich.console import Console

from tsload.cli.ingest import plain_line, table
from tsload.cli.run import backfill_line
from tsload.ingest.stats import Progress


def _progress(phase: str, elapsed: float, ingested: int, tick_rate: float) -> Progress:
    return Progress(elapsed_s=elapsed, phase=phase, records_per_s=tick_rate, measures_per_s=tick_rate,
                    requests_per_s=10.0, latency_p50_ms=1.0, latency_p99_ms=2.0, lag_p50_ms=None,
                    lag_p99_ms=None, generated=ingested, ingested=ingested, rejected=0, failed=0,
                    throttled=0, retries=0)


def test_the_final_line_says_the_whole_phase_rate() -> None:
    # the last tick covers a fraction of a second: its own rate (412,677/s) is not the run's
    done = _progress("done", 8.9, 1_562_217, 412_677.0)
    line = plain_line(done)
    assert "175,530 records/s (whole phase)" in line and "412,677" not in line
    assert "412,677 records/s" in plain_line(_progress("backfill", 4.0, 100_000, 412_677.0))


def test_backfill_progress_has_total_percent_rate_and_eta() -> None:
    line = backfill_line(_progress("backfill", 4.0, 390_000, 0.0), 1_560_000)
    assert line == "written 390,000 of 1,560,000 records (25.0 %), 97,500 records/s, ETA 12 s"


def test_ingest_table_headers_are_not_cut() -> None:
    buf = io.StringIO()
    Console(file=buf, width=100, no_color=True).print(table(_progress("live", 10.0, 5000, 433.0)))
    text = buf.getvalue()
    for header in ("records/s", "throttled", "rejected", "failed", "counts running totals"):
        assert header in text, text
