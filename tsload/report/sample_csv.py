"""Reading the sample's CSV files: the per-session ``<dir>-summary.csv`` and its averaging summariser.

`parse_summary_csv` reads a per-session summary (the sample's or tsload's, which writes it with
`tsload.query.samplefmt`), including the sample's row for a query without a success
(``do-q5, 0, 0, , , , ,``: one cell short, empty cells), on which the sample's own summariser crashes.

`averaged_table` is the sample's ``summarize_results`` arithmetic (column-wise average over
all files) kept only for comparison; it skips empty cells instead of crashing on them.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

SAMPLE_HEADER = (
    "Query type, Total Count, Successful Count, Avg. latency (in secs), Std dev latency (in secs), "
    "Median, 90th perc (in secs), 99th Perc (in secs), Geo Mean (in secs)"
)
SAMPLE_COLUMNS: tuple[str, ...] = tuple(c.strip() for c in SAMPLE_HEADER.split(","))


def fmt3(x: float) -> str:
    """Round as the sample did (numpy ``round(x, 3)``) and print as Python prints the float."""
    return str(float(np.round(np.float64(x), 3)))


@dataclass(frozen=True)
class SummaryRow:
    """One row of a summary CSV: the query name and its numeric cells (None where empty)."""

    query: str
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class SummaryFile:
    header: tuple[str, ...]
    rows: tuple[SummaryRow, ...]


def is_summary_header(first_line: str) -> bool:
    return first_line.split(",", 1)[0].strip().lstrip("\ufeff") == SAMPLE_COLUMNS[0]


def parse_summary_csv(text: str) -> SummaryFile | None:
    """Parse a per-session summary CSV (ours or the sample's); None when it is not one."""
    reader = csv.reader(io.StringIO(text))
    rows = [r for r in reader if r and any(c.strip() for c in r)]
    if not rows or not is_summary_header(",".join(rows[0])):
        return None
    out: list[SummaryRow] = []
    for r in rows[1:]:
        vals: list[float | None] = []
        for cell in r[1:]:
            c = cell.strip()
            try:
                vals.append(float(c) if c else None)
            except ValueError:
                vals.append(None)
        out.append(SummaryRow(r[0].strip(), tuple(vals)))
    return SummaryFile(tuple(rows[0]), tuple(out))


@dataclass(frozen=True)
class AveragedTable:
    header: tuple[str, ...]
    rows: tuple[tuple[str, tuple[float | None, ...]], ...]  # query, column-wise averages
    files: int


def averaged_table(files: Iterable[SummaryFile]) -> AveragedTable:
    """The sample's summariser: per query, each column averaged over every row found.

    Counts get averaged too (that is what the sample printed). Empty cells are left out of
    their column's average; a column with no value at all stays empty.
    """
    header: tuple[str, ...] = tuple(f" {c}" if i else c for i, c in enumerate(SAMPLE_COLUMNS))
    per_query: dict[str, list[tuple[float | None, ...]]] = {}
    n_files = 0
    width = len(SAMPLE_COLUMNS) - 1
    for f in files:
        n_files += 1
        if n_files == 1:
            header = f.header
        for row in f.rows:
            per_query.setdefault(row.query, []).append(row.values)
            width = max(width, len(row.values))
    out: list[tuple[str, tuple[float | None, ...]]] = []
    for q, rows in per_query.items():
        avgs: list[float | None] = []
        for col in range(width):
            vals = [v for r in rows if col < len(r) and (v := r[col]) is not None]
            avgs.append(float(np.average(vals)) if vals else None)
        out.append((q, tuple(avgs)))
    return AveragedTable(header, tuple(out), n_files)


def averaged_csv(table: AveragedTable) -> str:
    """The averaged table in the sample summariser's output format (csv module, 3 decimals)."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(table.header)
    for q, vals in table.rows:
        w.writerow([q, *("" if v is None else fmt3(v) for v in vals)])
    return buf.getvalue()
