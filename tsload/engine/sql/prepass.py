"""The textual pre-pass run before sqlglot parses Timestream SQL.

sqlglot's Trino reader does not know Timestream's duration literals (`15m`, `1h`) nor the unquoted
`measure_value::double` column names, so these are rewritten on the text, outside string literals
and quoted identifiers only.
"""

from __future__ import annotations

import re

from tsload.engine.sql.errors import QueryValidationError

_UNITS = {
    "ns": "NANOSECOND",
    "us": "MICROSECOND",
    "ms": "MILLISECOND",
    "s": "SECOND",
    "m": "MINUTE",
    "h": "HOUR",
    "d": "DAY",
}
_DURATION = re.compile(r"(?<![\w.])(\d+)(ns|us|ms|s|m|h|d)\b", re.IGNORECASE)
_MEASURE_VALUE = re.compile(r"\bmeasure_value::(double|bigint|varchar|boolean|timestamp)\b", re.IGNORECASE)
_ISO = re.compile(r"\bfrom_iso8601_timestamp\s*\(", re.IGNORECASE)
_SEGMENTS = re.compile(r"('(?:[^']|'')*'|\"(?:[^\"]|\"\")*\")")


def _duration(match: re.Match[str]) -> str:
    amount = int(match.group(1))
    unit = _UNITS[match.group(2).lower()]
    if unit == "NANOSECOND":
        # DuckDB intervals hold microseconds: a sub-microsecond remainder would be silently lost.
        if amount % 1000:
            raise QueryValidationError(
                f"Duration literal {match.group(0)} is not a whole number of microseconds (not supported)"
            )
        amount, unit = amount // 1000, "MICROSECOND"
    return f"INTERVAL '{amount}' {unit}"


def prepass(sql: str) -> str:
    """Rewrite duration literals, `measure_value::<type>` and `from_iso8601_timestamp` outside quotes."""
    parts = _SEGMENTS.split(sql)
    if parts and (parts[-1].count("'") % 2 or parts[-1].count('"') % 2):
        raise QueryValidationError("Unterminated string literal or quoted identifier")
    out: list[str] = []
    for i, part in enumerate(parts):
        if i % 2:  # a quoted segment, kept verbatim
            out.append(part)
            continue
        if "'" in part or '"' in part:
            raise QueryValidationError("Unterminated string literal or quoted identifier")
        part = _MEASURE_VALUE.sub(lambda m: f'"measure_value::{m.group(1).lower()}"', part)
        part = _DURATION.sub(_duration, part)
        part = _ISO.sub("__tsload_iso8601(", part)
        out.append(part)
    return "".join(out)
