"""Units shared by the commands and the library: durations written as the user writes them."""

from __future__ import annotations

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
