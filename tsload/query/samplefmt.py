"""The AWS sample query driver's file formats, as tsload writes them (spec §5).

Scripts written around the sample (``grep 'Time:'``, its summariser) read these files, so every
line is the sample's, character for character:

- ``<query>.log`` and ``numDatapoints-<stage>.log``: one line per execution, successful or not,
  ``{tag} {n}. {UTC %Y-%m-%d %H:%M:%S}. QueryId: {id}. Time: {seconds}. Rows: {rows}``; the time
  is Python's ``round(seconds, 3)`` printed as Python prints a float (``0.059``, ``1.0``); a failed
  execution has ``Rows: None`` and ``QueryId: None`` unless the server gave one;
- ``<query>.err``: per failure, the error, then ``{UTC time} QueryId: {id} RequestId: {id}`` when
  a server answered, then a traceback-style block and a blank line;
- ``<dir name>-summary.csv``: the header, then one row per query of the mix (mix order) joined
  with ``", "``: numpy's average, population std, linear-interpolated percentiles and the
  geometric mean, each rounded with numpy to 3 decimals; a query without a success gets
  ``q, total, ok, , , , ,`` (the sample's own row, one column short); lines joined with ``\\n``,
  no newline at the end.

The report reads these files back with its own parser (`tsload.report.samplelogs`), so the
two are checked against each other by the tests, not by sharing code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

import numpy as np

SAMPLE_HEADER = (
    "Query type, Total Count, Successful Count, Avg. latency (in secs), Std dev latency (in secs), "
    "Median, 90th perc (in secs), 99th Perc (in secs), Geo Mean (in secs)"
)
#: the sample's row for a query without a successful execution (five empty cells, not six)
_EMPTY_LATENCY_CELLS = ", , , , ,"
_STAMP = "%Y-%m-%d %H:%M:%S"


def stamp(when: dt.datetime) -> str:
    """UTC wall time to the second, as the sample prints it."""
    return when.astimezone(dt.UTC).strftime(_STAMP)


def fmt3(x: float) -> str:
    """numpy's ``round(x, 3)`` printed as Python prints the float (the summary CSV's cells)."""
    return str(float(np.round(np.float64(x), 3)))


def log_line(
    tag: str, execution: int, when: dt.datetime, query_id: str | None, elapsed_s: float, rows: int | None
) -> str:
    """One ``.log`` line (with its newline); ``rows=None`` marks a failed execution."""
    # Python's round() on a float, as the sample (not numpy's: they differ on some halves)
    return (
        f"{tag} {execution}. {stamp(when)}. QueryId: {query_id}. "
        f"Time: {round(float(elapsed_s), 3)}. Rows: {rows}\n"
    )


def error_text(error: str, code: str | None, retries: int, *, answered: bool) -> str:
    """The first line of a ``.err`` block: the error as botocore words a service error.

    tsload's error strings are ``<code>: <message>``; an error the server answered becomes
    ``An error occurred (<code>) when calling the Query operation[ (reached max retries: N)]: …``.
    """
    message = " ".join(error.split())
    if not answered or not code:
        return message
    message = message.removeprefix(f"{code}: ")
    retried = f" (reached max retries: {retries})" if retries else ""
    return f"An error occurred ({code}) when calling the Query operation{retried}: {message}"


def err_block(
    when: dt.datetime,
    *,
    error: str,
    code: str | None,
    query_id: str | None,
    request_id: str | None,
    elapsed_s: float,
    retries: int,
    timed_out: bool,
    cancelled: bool,
) -> str:
    """One failure's ``.err`` block (error, ids, traceback-style lines, blank line).

    The sample writes the ids line only when the service answered; so does tsload (a request id or
    a query id is known). The traceback lines carry what tsload knows instead of a Python stack:
    the outcome, elapsed time, retries and whether CancelQuery was accepted.
    """
    answered = request_id is not None or query_id is not None
    text = error_text(error, code, retries, answered=answered and not timed_out)
    out = [text + "\n"]
    if answered:
        out.append(f"{stamp(when)} QueryId: {query_id} RequestId: {request_id}\n")
    what = "timed out" if timed_out else "failed"
    out.append("Traceback (most recent call last):\n")
    out.append(f"  tsload query executor: {what} after {elapsed_s:.3f} s, retries {retries}"
               f"{', cancelled with CancelQuery' if cancelled else ''}\n")
    exc_type = "TimeoutError" if timed_out else "tsload.targets.CallError"
    out.append(f"{exc_type}: {text}\n")
    out.append("\n")
    return "".join(out)


def latency_cells(latencies_s: Sequence[float]) -> list[str]:
    """The six latency cells of a summary row (avg, std, median, p90, p99, geo mean)."""
    a = np.asarray(latencies_s, dtype=np.float64)
    return [
        fmt3(float(np.average(a))),
        fmt3(float(np.std(a))),
        fmt3(float(np.percentile(a, 50))),
        fmt3(float(np.percentile(a, 90))),
        fmt3(float(np.percentile(a, 99))),
        fmt3(float(np.exp(np.mean(np.log(a))))),
    ]


def summary_csv(
    mix: Sequence[str], latencies_s: Mapping[str, Sequence[float]], totals: Mapping[str, int]
) -> str:
    """The per-session summary CSV: one row per query of the mix, in the mix's order.

    ``latencies_s``: query → latencies in seconds of its successful executions; ``totals``: query →
    executions (successful + failed + timed out). A query of the mix that never ran gets
    ``q, 0, 0, , , , ,`` as in the sample.
    """
    lines = [SAMPLE_HEADER]
    for q in mix:
        lat = latencies_s.get(q, ())
        head = f"{q}, {int(totals.get(q, 0))}, {len(lat)}"
        lines.append(", ".join([head, *latency_cells(lat)]) if len(lat) else f"{head}{_EMPTY_LATENCY_CELLS}")
    return "\n".join(lines)


def result_table(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> str:
    """A small result as the sample printed it (a pandas-style table: index column, right-aligned)."""
    names = list(columns)
    values = [["NaN" if cell is None else cell for cell in row] for row in rows]
    index = [str(i) for i in range(len(values))]
    iw = max((len(i) for i in index), default=0)
    widths = [max([len(n)] + [len(r[j]) for r in values if j < len(r)]) for j, n in enumerate(names)]
    lines = [" " * iw + "".join("  " + n.rjust(w) for n, w in zip(names, widths, strict=True))]
    for i, r in zip(index, values, strict=True):
        lines.append(i.ljust(iw) + "".join("  " + c.rjust(w) for c, w in zip(r, widths, strict=False)))
    return "\n".join(lines)
