"""Golden model summaries (spec §3) and the write-sizing lines."""

from __future__ import annotations

import math

import pytest

from tsload._errors import ConfigError
from tsload.model.summary import model_figures, summary_lines, write_sizing

# S, interval ms, multi | series, points/s, measures/s, points/hour, MB/s, GB/h, GB/day, TB/y, avg row
GOLDEN = [
    (
        100,
        60000,
        False,
        "2,600,000",
        "43,333",
        "43,333",
        "155,998,800",
        "12.86",
        "45.21",
        "1,085.04",
        "386.76",
        "311.19",
    ),
    (
        100,
        60000,
        True,
        "220,000",
        "3,667",
        "43,333",
        "13,201,200",
        "1.78",
        "6.26",
        "150.24",
        "53.55",
        "508.99",
    ),
    (
        2000,
        300000,
        False,
        "52,000,000",
        "173,333",
        "173,333",
        "623,998,800",
        "51.45",
        "180.88",
        "4,341.12",
        "1,547.37",
        "311.25",
    ),
    (
        2000,
        300000,
        True,
        "4,400,000",
        "14,667",
        "173,333",
        "52,801,200",
        "7.11",
        "25.0",
        "600.0",
        "213.87",
        "508.31",
    ),
    (
        4000,
        120000,
        False,
        "104,000,000",
        "866,667",
        "866,667",
        "3,120,001,200",
        "257.26",
        "904.43",
        "21,706.32",
        "7,737.12",
        "311.26",
    ),
    (
        4000,
        120000,
        True,
        "8,800,000",
        "73,333",
        "866,667",
        "263,998,800",
        "35.57",
        "125.05",
        "3,001.2",
        "1,069.76",
        "508.61",
    ),
    (1, 60000, False, "26,000", "433", "433", "1,558,800", "0.13", "0.46", "11.04", "3.94", "314.81"),
    (1, 60000, True, "2,200", "37", "433", "133,200", "0.02", "0.07", "1.68", "0.6", "566.8"),
]


@pytest.mark.parametrize(
    "row", GOLDEN, ids=[f"{r[0]}-{r[1]}-{'multi' if r[2] else 'single'}" for r in GOLDEN]
)
def test_golden_summary_lines_char_for_char(row: tuple[object, ...]) -> None:
    s, i, multi, series, dps, mps, dph, mb, gbh, gbd, tby, avg = row
    assert isinstance(s, int) and isinstance(i, int) and isinstance(multi, bool)
    expected = [
        f"Dimensions for metrics: {1000 * s:,}",
        f"Dimensions for events: {1200 * s:,}",
        "Dimension bytes: Events: 282, Metrics: 284",
        "Bytes for names: Metrics: 234, Events: 59",
        f"avg row size: {avg} Bytes",
        f"Number of timeseries: {series}. Avg. data points per second: {dps}. "
        f"Avg. no. of metrics per second: {mps} Avg. data points per hour: {dph}",
        f"Avg. Ingestion volume: {mb} MB/s. Data size per hour: {gbh} GB. Data size per day: {gbd} GB. "
        f"Data size per year: {tby} TB",
    ]
    assert summary_lines(s, i, multi)[:7] == expected


def test_other_seed_keeps_dimension_bytes() -> None:
    assert (
        summary_lines(3, 60000, False, instance_name_seed=56789)[2]
        == "Dimension bytes: Events: 282, Metrics: 284"
    )


@pytest.mark.parametrize("interval", [1, 250, 999, 1500])
def test_sub_second_and_fractional_intervals_work(interval: int) -> None:
    f = model_figures(1, interval, False)
    assert f.data_points_per_second == round((1000 * 20 + 1200 * 5) / (interval / 1000))
    assert len(summary_lines(1, interval, True)) >= 9


def test_tiny_rates_do_not_divide_by_zero() -> None:
    f = model_figures(1, 10**9, False)
    assert f.data_points_per_second == 0
    assert 300 < f.avg_row_bytes < 330


def test_write_sizing_per_emission_is_one_unit_per_request() -> None:
    w = write_sizing(100, 60000, False)
    assert w.requests_per_second == pytest.approx((100_000 + 120_000) / 60)
    assert w.metrics_request_bytes < 1024 and w.events_request_bytes < 1024
    assert w.write_units_per_second == pytest.approx(w.requests_per_second)


def test_write_sizing_batched_counts_kib_per_request() -> None:
    w = write_sizing(100, 60000, False, batch_writes=True, batch_size=100)
    assert w.records_per_second == pytest.approx(43_333.33, rel=1e-4)
    assert w.requests_per_second == pytest.approx(w.records_per_second / 100)
    expected = (100_000 / 60 * 20 / 100) * math.ceil(w.metrics_request_bytes / 1024) + (
        120_000 / 60 * 5 / 100
    ) * math.ceil(w.events_request_bytes / 1024)
    assert w.write_units_per_second == pytest.approx(expected)
    assert w.write_units_per_second > w.requests_per_second * 20  # ~25 KiB per 100-record request


@pytest.mark.parametrize(
    ("args", "flag"),
    [
        ((0, 1000, False), "^host_scale: a positive integer, got 0$"),
        ((1, 0, False), "^interval_millis: a positive integer, got 0$"),
        ((-3, 1000, True), "^host_scale: a positive integer, got -3$"),
    ],
)
def test_bad_input_names_the_field(args: tuple[int, int, bool], flag: str) -> None:
    with pytest.raises(ConfigError, match=flag):
        summary_lines(*args)


def test_backfill_cost_is_the_live_write_rate_times_its_length() -> None:
    from tsload.model.cost import backfill_cost_line, cost_lines, load_prices

    prices = load_prices()
    hour = cost_lines(1, 60000, False, prices)[1]  # "  writes: N write units/s x $P per million = $H/hour, …"
    per_hour = hour.split(" = ")[1].split("/hour")[0]
    assert f"= {per_hour} of writes, once" in backfill_cost_line(1, 60000, False, prices, 3600)
    two_hours = backfill_cost_line(1, 60000, False, prices, 7200)
    assert "2.00 h of history" in two_hours
    units = [int(line.split(" = ")[1].split(" write units")[0].replace(",", ""))
             for line in (backfill_cost_line(1, 60000, False, prices, s) for s in (3600, 7200))]
    assert units[1] == 2 * units[0] > 0
