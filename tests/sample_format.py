"""The AWS sample query driver's line formats, restated for the tests from the sample itself.

The driver prints each execution with ``"{} {}. {}. QueryId: {}. Time: {}. Rows: {}"`` (log
prefix, execution id, UTC ``%Y-%m-%d %H:%M:%S``, QueryId, ``round(seconds, 3)``, rows or None);
its summary rows are ``", "``-joined with an empty-statistics row ``"{0}, {1}, {2}, , , , ,"``.
The patterns below are derived from those format strings (not from tsload's code), and
`check_log_line` re-renders a parsed line with the sample's own format string: a line passes only
when the sample would have printed exactly the same characters.
"""

from __future__ import annotations

import datetime as dt
import re

SAMPLE_LOG_FORMAT = "{} {}. {}. QueryId: {}. Time: {}. Rows: {}"
SAMPLE_EMPTY_ROW_FORMAT = "{0}, {1}, {2}, , , , ,"
SAMPLE_ROW_FORMAT = "{0}, {1}, {2}, {3}, {4}, {5}, {6}, {7}, {8}"

_FIELDS = (r"(\[\d+-\d+\])", r"(\d+)", r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)", r"(\S+)", r"(\S+)", r"(\d+|None)")
_parts = SAMPLE_LOG_FORMAT.split("{}")
LOG_LINE = re.compile(
    "^" + "".join(re.escape(p) + (_FIELDS[i] if i < len(_FIELDS) else "") for i, p in enumerate(_parts)) + "$"
)
SUMMARY_ROW = re.compile(r"^[\w-]+, \d+, \d+(, -?\d+\.\d+(e-?\d+)?){6}$")
EMPTY_ROW = re.compile(r"^[\w-]+, \d+, \d+, , , , ,$")


def check_log_line(line: str) -> tuple[str, int, str | None, float, int | None]:
    """Parse one .log line with the sample's pattern and check the sample would print it so.

    Returns (prefix, execution, query id or None, seconds, rows or None).
    """
    m = LOG_LINE.match(line)
    assert m, f"not a sample .log line: {line!r}"
    prefix, execution, when, qid, time_s, rows = m.groups()
    seconds = float(time_s)
    dt.datetime.strptime(when, "%Y-%m-%d %H:%M:%S")
    again = SAMPLE_LOG_FORMAT.format(prefix, int(execution), when, qid, round(seconds, 3),
                                     None if rows == "None" else int(rows))
    assert again == line, (again, line)
    n_rows = None if rows == "None" else int(rows)
    return prefix, int(execution), None if qid == "None" else qid, seconds, n_rows
