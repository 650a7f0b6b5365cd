"""The sample's per-session summary CSV, byte for byte (written by query.samplefmt, read by
report.sample_csv), and its averaged summariser."""

from __future__ import annotations

import numpy as np

from tsload.query import samplefmt
from tsload.query.samplefmt import summary_csv
from tsload.report.sample_csv import (
    SAMPLE_HEADER,
    averaged_csv,
    averaged_table,
    parse_summary_csv,
)

SPEC_HEADER = (
    "Query type, Total Count, Successful Count, Avg. latency (in secs), Std dev latency (in secs), "
    "Median, 90th perc (in secs), 99th Perc (in secs), Geo Mean (in secs)"
)


def _sample_row(query: str, count: int, timings: list[float]) -> str:
    # The sample driver's own expression (numpy rounding of numpy results, str.format).
    return "{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}".format(  # noqa: UP030, UP032
        query, count, len(timings),
        round(np.average(timings), 3), round(np.std(timings), 3),
        round(np.percentile(timings, 50), 3), round(np.percentile(timings, 90), 3),
        round(np.percentile(timings, 99), 3), round(np.exp(np.mean(np.log(timings))), 3),
    )


def test_hand_computed_row_and_layout() -> None:
    text = summary_csv(["do-q1", "do-q5", "do-q6"], {"do-q1": [1.0, 2.0, 4.0]}, {"do-q1": 5, "do-q5": 2})
    assert text == (
        SPEC_HEADER + "\n"
        "do-q1, 5, 3, 2.333, 1.247, 2.0, 3.6, 3.96, 2.0\n"
        "do-q5, 2, 0, , , , ,\n"  # the sample's own row: five empty cells
        "do-q6, 0, 0, , , , ,"  # in the mix, never chosen
    )
    assert SAMPLE_HEADER == SPEC_HEADER == samplefmt.SAMPLE_HEADER
    assert not text.endswith("\n")


def test_matches_the_sample_expression_on_random_data() -> None:
    rng = np.random.default_rng(3)
    rows = {f"do-q{i}": [float(x) for x in np.round(rng.lognormal(-1, 1, 50 * i), 6)] for i in range(1, 5)}
    totals = {q: len(v) + i for i, (q, v) in enumerate(rows.items())}
    lines = summary_csv(list(rows), rows, totals).split("\n")
    assert lines[0] == SPEC_HEADER
    for line, (q, v) in zip(lines[1:], rows.items(), strict=True):
        assert line == _sample_row(q, totals[q], v)


def test_averaged_table_skips_empty_cells() -> None:
    mix = ["do-q1", "do-q5"]
    a = parse_summary_csv(summary_csv(mix, {"do-q1": [1.0, 3.0]}, {"do-q1": 2, "do-q5": 1}))
    b = parse_summary_csv(summary_csv(mix, {"do-q1": [5.0], "do-q5": [2.0]}, {"do-q1": 1, "do-q5": 1}))
    assert a is not None and b is not None
    table = averaged_table([a, b])
    rows = dict(table.rows)
    assert rows["do-q1"][2] == 3.5  # mean of per-file averages 2.0 and 5.0
    assert rows["do-q5"][0] == 1.0 and rows["do-q5"][2] == 2.0  # the empty row is skipped, not fatal
    out = averaged_csv(table).splitlines()
    assert out[0] == "Query type, Total Count, Successful Count, Avg. latency (in secs), Std dev latency (in secs), Median, 90th perc (in secs), 99th Perc (in secs), Geo Mean (in secs)"  # noqa: E501
    assert out[1].startswith("do-q1,1.5,1.5,3.5,")
    assert parse_summary_csv("a,b\n1,2\n") is None


def test_the_sample_summarisers_crash_row_is_read() -> None:
    # The sample driver's row for a query of the mix that never ran; its summariser fails on
    # float("") here. tsload reads the counts and leaves the statistics empty.
    f = parse_summary_csv(SPEC_HEADER + "\ndo-q1, 3, 3, 0.1, 0.0, 0.1, 0.1, 0.1, 0.1\ndo-q5, 0, 0, , , , ,")
    assert f is not None
    q5 = f.rows[1]
    assert q5.query == "do-q5" and q5.values[:2] == (0.0, 0.0) and all(v is None for v in q5.values[2:])
    assert len(q5.values) == 7  # one cell short of the header, as the sample wrote it
    table = averaged_table([f])
    assert dict(table.rows)["do-q5"][:2] == (0.0, 0.0)
