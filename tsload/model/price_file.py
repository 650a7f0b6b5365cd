"""Price files (JSON list prices for `tsload model --prices`): reading one, checking its numbers,
writing amounts of money. Shared by the Timestream (`cost.py`) and the Timestream for InfluxDB
(`influx_cost.py`) estimates, which differ in what they bill, not in how a price file reads."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from tsload._errors import ConfigError

__all__ = ["money", "optional_price", "price", "read_price_json"]


def read_price_json(path: str | None, built_in: str, field: str) -> tuple[Any, str]:
    """(parsed JSON, where it came from) of a price file: `path`, else the built-in `built_in`;
    `field` names the setting in errors."""
    if path is None:
        ref = resources.files("tsload.model").joinpath("prices", built_in)
        text, where = ref.read_text(encoding="utf-8"), f"tsload/model/prices/{built_in} (built in)"
    else:
        try:
            text, where = Path(path).read_text(encoding="utf-8"), path
        except OSError as exc:
            raise ConfigError(field, f"a readable price file ({exc.strerror})", got=path) from None
    try:
        return json.loads(text), where
    except json.JSONDecodeError as exc:
        raise ConfigError(Path(where), f"JSON ({exc.msg} at line {exc.lineno})") from None


def price(data: dict[str, Any], key: str, where: str) -> float:
    """`data[key]` as a non-negative number; `where` (the file) names it in the error."""
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(Path(where), f"{key!r} must be a non-negative number", got=value)
    return float(value)


def optional_price(data: dict[str, Any], key: str, where: str) -> float | None:
    """As `price`, None where the file leaves `key` out (or null)."""
    return None if data.get(key) is None else price(data, key, where)


def money(x: float, currency: str) -> str:
    """`$1,234.57`, or 4 decimals below 1 (`$0.0123`); other currencies by their code."""
    sign = "$" if currency == "USD" else f"{currency} "
    return f"{sign}{x:,.2f}" if x >= 1 else f"{sign}{x:,.4f}"
