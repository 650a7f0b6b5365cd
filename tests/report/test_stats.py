"""Summary statistics, interval logs and the recorder (tsload/stats)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from hdrh.log import HistogramLogReader

from tsload.stats import hdr
from tsload.stats.hlog import IntervalLogs, IntervalLogWriter, LogSpan, log_span, read_interval_log
from tsload.stats.recorder import Recorder, RecorderSnapshot
from tsload.stats.summary import percentile_distribution, percentiles_us, summarize


def _histogram(values_s: np.ndarray) -> object:
    h = hdr.new_histogram()
    for v in values_s:
        hdr.record_seconds(h, float(v))
    return h


def test_summary_matches_hdrh_and_raw_values() -> None:
    rng = np.random.default_rng(7)
    values = rng.lognormal(-3.0, 1.2, 5000)
    h = _histogram(values)
    s = summarize(h)
    assert s is not None
    assert s.count == 5000
    # HDR's own (slow, pure Python) answers: the vectorised ones must be identical.
    assert s.p50 * 1e6 == h.get_value_at_percentile(50)
    assert s.p99 * 1e6 == h.get_value_at_percentile(99)
    assert s.p999 * 1e6 == h.get_value_at_percentile(99.9)
    assert s.max * 1e6 == h.get_max_value()
    assert math.isclose(s.mean * 1e6, h.get_mean_value(), rel_tol=1e-12)
    assert math.isclose(s.stddev * 1e6, h.get_stddev(), rel_tol=1e-9)
    # Against the raw values: within HDR's 3 significant digits.
    assert math.isclose(s.mean, float(values.mean()), rel_tol=2e-3)
    assert math.isclose(s.stddev, float(values.std()), rel_tol=2e-3)
    assert math.isclose(s.geomean, float(np.exp(np.log(values).mean())), rel_tol=2e-3)


def test_empty_histogram_has_no_summary() -> None:
    h = hdr.new_histogram()
    assert summarize(h) is None
    assert percentiles_us(h, [50.0]) == [0.0]
    assert percentile_distribution(h) == []


def test_percentile_distribution_is_monotonic_and_ends_at_max() -> None:
    h = _histogram(np.random.default_rng(1).exponential(0.01, 2000))
    pts = percentile_distribution(h)
    levels = [p for p, _ in pts]
    values = [v for _, v in pts]
    assert levels == sorted(levels) and levels[0] == 0.0 and levels[-1] == 100.0
    assert values == sorted(values)
    assert values[-1] == h.get_max_value()


def test_hlog_round_trip_with_hdrh_reader(tmp_path: Path) -> None:
    path = tmp_path / "do-q1.hlog"
    t0 = 1_795_845_371.25
    hists = [_histogram(np.full(10 * (i + 1), 0.001 * (i + 1))) for i in range(3)]
    with IntervalLogWriter(path, comment="test") as w:
        for i, h in enumerate(hists):
            w.add(h, t0 + 5 * i, t0 + 5 * (i + 1))
    text = path.read_text()
    assert '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"' in text
    assert "#[StartTime: 1795845371.250 (seconds since epoch), " in text
    assert "#[BaseTime: 1795845371.250 (seconds since epoch)]" in text
    # third interval: start relative to BaseTime, length, max in ms (HDR's highest equivalent value)
    assert f"\n10.000,5.000,{hists[2].get_max_value() / 1000:.3f},HIST" in text

    reader = HistogramLogReader(str(path), hdr.new_histogram())
    try:
        got = []
        while (h := reader.get_next_interval_histogram()) is not None:
            got.append(h)
    finally:
        reader.close()
    assert [g.get_total_count() for g in got] == [10, 20, 30]
    assert [g.get_start_time_stamp() / 1000.0 for g in got] == [t0, t0 + 5, t0 + 10]
    assert all(g.equals(h) for g, h in zip(got, hists, strict=True))

    log = read_interval_log(path)
    assert [iv.start_s for iv in log.intervals] == [t0, t0 + 5, t0 + 10]
    assert [iv.histogram.get_total_count() for iv in log.intervals] == [10, 20, 30]
    assert [iv.max_value for iv in log.intervals] == [round(h.get_max_value() / 1000, 3) for h in hists]


def test_log_span_over_several_logs(tmp_path: Path) -> None:
    t0 = 1_795_845_371.25
    h = _histogram(np.full(3, 0.002))
    with IntervalLogWriter(tmp_path / "a.hlog") as w:
        for i in range(3):
            w.add(h, t0 + 5 * i, t0 + 5 * (i + 1))
    with IntervalLogWriter(tmp_path / "b.hlog") as w:
        w.add(h, t0 - 2, t0 + 8)  # starts earliest; its 10 s interval does not move the median
        w.add(h, t0 + 8, t0 + 21)  # ends latest
    assert log_span([tmp_path / "a.hlog", tmp_path / "b.hlog"]) == LogSpan(t0 - 2, t0 + 21, 5.0)
    (tmp_path / "empty.hlog").write_text("#[Histogram log format version 1.3]\n")
    assert log_span([tmp_path / "empty.hlog"]) is None
    assert log_span([]) is None


def test_recorder_intervals_and_merge(tmp_path: Path) -> None:
    now = [1000.0]
    rec = Recorder(clock=lambda: now[0])
    for _ in range(3):
        rec.record("do-q1", 0.010)
    rec.add_count("ok", 3)
    now[0] = 1005.0
    first = rec.interval()
    rec.record("do-q1", 0.500)
    rec.record("do-q2", 0.020)
    now[0] = 1010.0
    second = rec.interval()
    assert (first.start_s, first.end_s, second.start_s, second.end_s) == (1000.0, 1005.0, 1005.0, 1010.0)
    assert first.histograms["do-q1"].get_total_count() == 3 and first.count("ok") == 3
    assert second.histograms["do-q1"].get_total_count() == 1
    total = rec.total()
    assert total.histograms["do-q1"].get_total_count() == 4 and total.count("ok") == 3

    # Worker → parent: encode/decode then merge is exact.
    other = RecorderSnapshot.decode(total.encode())
    both = RecorderSnapshot.merged([total, other])
    s = both.summary("do-q1")
    assert s is not None and s.count == 8
    assert math.isclose(s.max, 0.5, rel_tol=1e-3)

    with IntervalLogs(tmp_path) as logs:
        logs.add(first.histograms, first.start_s, first.end_s)
        logs.add(second.histograms, second.start_s, second.end_s)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["do-q1.hlog", "do-q2.hlog"]
    q1 = read_interval_log(tmp_path / "do-q1.hlog")
    assert [iv.histogram.get_total_count() for iv in q1.intervals] == [3, 1]
    assert [iv.start_s for iv in q1.intervals] == [1000.0, 1005.0]


def test_truncated_last_line_is_skipped_but_corruption_is_an_error(tmp_path: Path) -> None:
    import pytest

    from tsload._errors import ConfigError

    path = tmp_path / "lag.hlog"
    with IntervalLogWriter(path) as w:
        for i in range(3):
            w.add(_histogram(np.full(5, 0.01)), 100.0 + i, 101.0 + i)
    text = path.read_text()
    path.write_text(text[: len(text) - 20])  # killed mid-write
    assert len(read_interval_log(path).intervals) == 2
    lines = text.splitlines()
    lines[-2] = lines[-2][:40]  # damage in the middle
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(ConfigError, match=r"lag\.hlog:\d+: "):
        read_interval_log(path)
