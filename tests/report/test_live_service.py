"""The live report's service time: recorded apart in the open model, the latency in the closed one."""

from __future__ import annotations

from types import SimpleNamespace

from tsload.report.live import SERVICE_KEY, RunningTotals
from tsload.stats import hdr


def _hist(*seconds: float) -> object:
    h = hdr.new_histogram()
    for s in seconds:
        hdr.record_seconds(h, s)
    return h


def _progress(hists: dict[str, object]) -> SimpleNamespace:
    return SimpleNamespace(
        interval=SimpleNamespace(histograms=hists), totals={"do-q1|total": 3, "do-q1|ok": 3}
    )


def test_closed_model_service_time_is_the_latency() -> None:
    live = RunningTotals(clock=lambda: 10.0)
    live.add_query(_progress({"do-q1": _hist(0.010, 0.020, 0.400)}))
    report = live.report()
    (row,) = report.queries
    assert row.service_time is not None and row.latency is not None
    assert row.service_time.p99 == row.latency.p99 and row.service_time.count == 3
    assert report.service_histograms["do-q1"] is report.histograms["do-q1"]


def test_open_model_service_time_is_its_own() -> None:
    live = RunningTotals(clock=lambda: 10.0)
    live.add_query(_progress({"do-q1": _hist(0.5, 0.6, 0.7), "do-q1" + SERVICE_KEY: _hist(0.01, 0.02, 0.03)}))
    (row,) = live.report().queries
    assert row.latency is not None and row.service_time is not None
    assert row.service_time.p99 < 0.05 < 0.5 < row.latency.p50
