"""Reading the sample's per-execution ``.log`` lines (written by the AWS sample or by tsload).

A line is ``[<tag>] <n>. <UTC %Y-%m-%d %H:%M:%S>. QueryId: <id>. Time: <s>. Rows: <rows|None>``.
The sample keeps no histogram, so for the session directories it wrote these lines are the only
record of each execution's latency: rounded to the millisecond, the resolution of everything the
report computes from them. ``Rows: None`` marks a failed execution.

This module parses with its own pattern (the writer is `tsload.query.samplefmt`): the tests
check one against the other, and the report does not depend on the query package.
"""

from __future__ import annotations

import calendar
import functools
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

LOG_LINE = re.compile(
    r"^\[(?P<tag>[^\]]*)\] (?P<execution>\d+)\. "
    r"(?P<when>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})\. "
    r"QueryId: (?P<query_id>\S*)\. Time: (?P<time>[0-9.eE+-]+)\. Rows: (?P<rows>\d+|None)$"
)
DATAPOINTS_PREFIX = "numDatapoints-"


@dataclass(frozen=True)
class LogLine:
    tag: str
    execution: int
    when_s: float  # epoch seconds (the line's UTC time, to the second)
    query_id: str | None
    time_s: float
    rows: int | None  # None: the execution failed

    @property
    def ok(self) -> bool:
        return self.rows is not None


@functools.lru_cache(maxsize=4096)
def _epoch(w: str) -> float:
    """Epoch seconds of ``%Y-%m-%d %H:%M:%S`` (UTC), by slicing: consecutive lines share their second,
    and time.strptime would be most of the cost of reading a large run."""
    return float(calendar.timegm((int(w[0:4]), int(w[5:7]), int(w[8:10]), int(w[11:13]), int(w[14:16]),
                                  int(w[17:19]), 0, 0, 0)))


def parse_line(line: str) -> LogLine | None:
    m = LOG_LINE.match(line.rstrip("\r\n"))
    if m is None:
        return None
    tag, execution, when, qid, time_s, rows = m.groups()
    try:
        seconds = float(time_s)
        when_s = _epoch(when)
    except ValueError:
        return None
    return LogLine(
        tag=tag,
        execution=int(execution),
        when_s=when_s,
        query_id=None if qid == "None" else qid,
        time_s=seconds,
        rows=None if rows == "None" else int(rows),
    )


@dataclass(frozen=True)
class QueryLog:
    """One ``<query>.log``: its executions and its successful latencies (ms → count)."""

    total: int
    successful: int
    latencies_ms: dict[int, int]
    first_start_s: float | None  # the earliest line's time minus its latency
    last_end_s: float | None
    bad_lines: int  # lines not in the sample's format (reported, never silently dropped)


def read_query_log(path: Path) -> QueryLog:
    total = ok = bad = 0
    lat: Counter[int] = Counter()
    first: float | None = None
    last: float | None = None
    match = LOG_LINE.match
    with open(path, encoding="utf-8", errors="replace") as f:
        for raw in f:
            m = match(raw.rstrip("\r\n"))
            if m is None:
                bad += bool(raw.strip())
                continue
            _, _, when, _, time_s, rows = m.groups()
            try:
                seconds, end = float(time_s), _epoch(when)
            except ValueError:
                bad += 1
                continue
            total += 1
            first = end - seconds if first is None else min(first, end - seconds)
            last = end if last is None else max(last, end)
            if rows != "None":
                ok += 1
                lat[round(seconds * 1000)] += 1
    return QueryLog(total, ok, dict(lat), first, last, bad)


def query_logs(directory: Path) -> dict[str, Path]:
    """The per-query ``.log`` files of a session directory (not ``numDatapoints-*``)."""
    return {
        p.stem: p for p in sorted(directory.glob("*.log"))
        if not p.name.startswith(DATAPOINTS_PREFIX) and p.is_file()
    }


def count_lines(path: Path) -> tuple[int, int]:
    """(executions, failed executions) of a ``.log`` by counting lines only (no parsing)."""
    total = failed = 0
    with open(path, "rb") as f:
        for raw in f:
            line = raw.rstrip()
            if line:
                total += 1
                failed += line.endswith(b"Rows: None")
    return total, failed


def looks_like_sample_session(name: str, files: set[str]) -> bool:
    """A directory the sample's query driver wrote: its ``<dir>-summary.csv``, or a query's
    ``.sql`` beside its ``.log`` (a session stopped before writing its summary)."""
    if f"{name}-summary.csv" in files:
        return True
    return any(f.endswith(".sql") and f[:-4] + ".log" in files for f in files)
