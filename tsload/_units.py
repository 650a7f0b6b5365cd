"""Units shared by the commands and the library: durations and times written as the user writes them."""

from __future__ import annotations

import datetime as dt
import re

from tsload._errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_UNIT_S = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str, what: str) -> float:
    """`90m`, `3d`, `45s`, `1.5h`, `500ms` or plain seconds → seconds; `what` (the flag or field)
    names the value in the error."""
    m = _DURATION.match(text)
    if not m:
        raise ConfigError(what, "a duration like 90s, 90m, 12h or 3d", got=text)
    return float(m.group(1)) * _UNIT_S[m.group(2) or "s"]


def utc_iso_time(text: str, what: str) -> str:
    """An ISO-8601 time (`2026-11-28T05:00:00Z`, with any offset, or none for UTC) → the same instant
    as `2026-11-28T05:00:00[.fraction]Z` in UTC, the fraction's trailing zeros dropped; `what` (the
    flag or field) names the value in the error, which also says the `now()`/`ago()` forms."""
    try:
        parsed = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        allowed = "an ISO-8601 time (2026-11-28T05:00:00Z), now() or ago(1h)"
        raise ConfigError(what, allowed, got=text) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    utc = parsed.astimezone(dt.UTC)
    frac = f".{utc.microsecond:06d}".rstrip("0") if utc.microsecond else ""
    return utc.strftime("%Y-%m-%dT%H:%M:%S") + frac + "Z"
