"""Stats merging, the sample's can't-keep-up warning, and backfill notes."""

from __future__ import annotations

from tsload._units import parse_duration
from tsload.ingest.config import IngestConfig
from tsload.ingest.runner import backfill_notes
from tsload.ingest.stats import Aggregator, IngestStats


def test_lag_above_5_percent_of_the_interval_warns_with_figures() -> None:
    agg = Aggregator(interval_ms=5000)
    for process, lag_s in ((0, 0.8), (1, 0.9)):
        s = IngestStats(process)
        s.phase = "live"
        s.c["ingested"] = 100
        for _ in range(10):
            s.record_lag(lag_s)
            s.record_latency(0.01)
        agg.add(s.message())
    progress, latency, lag = agg.tick()
    assert latency.get_total_count() == 20 and lag.get_total_count() == 20
    (warning,) = progress.warnings
    assert warning.startswith(
        "Can't keep up ingestion to the desired inter-event interval. Expected interval: 5000 ms."
    )
    assert "Actual: 5800 ms." in warning and warning.endswith("Consider increasing concurrency or processes.")
    assert progress.ingested == 200
    # the next period is quiet: no warning, tick histograms were reset
    quiet = IngestStats(0)
    quiet.phase = "live"
    quiet.record_lag(0.01)
    agg.add(quiet.message())
    assert agg.tick()[0].warnings == ()
    assert agg.lag_total.get_total_count() == 21


def test_backfill_beyond_the_memory_store_says_so() -> None:
    cfg = IngestConfig(backfill_s=parse_duration("3d", "--backfill"), duration_s=0)
    (note,) = backfill_notes(cfg)
    assert "72 h" in note and "--enable-magnetic-writes" in note
    assert (
        backfill_notes(
            IngestConfig(backfill_s=parse_duration("3d", "--backfill"), enable_magnetic_writes=True)
        )
        == []
    )
    assert backfill_notes(IngestConfig(backfill_s=parse_duration("90m", "--backfill"))) == []


def test_durations() -> None:
    assert [parse_duration(t, "--x") for t in ("90m", "3d", "45", "1.5h", "500ms")] == [
        5400,
        259200,
        45,
        5400,
        0.5,
    ]
