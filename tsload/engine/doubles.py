"""DOUBLE measure values kept as the request's own decimal text until something needs floats.

The fast path validates a request's DOUBLE values as one comma-joined text (`records_fast`'s
`_DECIMALS`); converting them to Python floats cost the event loop ~5 µs per 100 values, and an
accepted record then held a float object (32 bytes with its list slot) while buffered and in the
duplicate index. Most records never need one as a Python object: a flush converts a run of
texts to an Arrow column in a few vectorised passes (`arrow_doubles`), and only the duplicate
checks of overlapping writes, the per-record path and replays ask for the floats.
"""

from __future__ import annotations

from typing import Any


class DoubleText:
    """`n` DOUBLE values as "v1,v2,...": plain decimals (what `float` and Arrow's cast read
    alike, correctly rounded). Calling it gives the floats (converted on each call: whoever
    needs them keeps them)."""

    __slots__ = ("n", "text")

    def __init__(self, text: str, n: int) -> None:
        self.text = text
        self.n = n

    def __call__(self) -> list[float]:
        return list(map(float, self.text.split(",")))


def value_list(values: list[Any] | DoubleText) -> list[Any]:
    """A value column as a list, whichever form it was kept in."""
    return values() if isinstance(values, DoubleText) else values


def arrow_doubles(texts: list[str]) -> Any:
    """One float64 Arrow array of the values of `texts` (each a `DoubleText.text`), in order.

    The joined text's bytes become a string array by numpy (separators found and dropped, no
    Python object per value), which Arrow casts: the same doubles `float` gives."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    raw = np.frombuffer(",".join(texts).encode("ascii"), np.uint8)
    commas = np.flatnonzero(raw == 44)
    digits = raw[raw != 44]
    n = len(commas) + 1
    offsets = np.empty(n + 1, np.int64)
    offsets[0] = 0
    offsets[1:-1] = commas - np.arange(len(commas))
    offsets[-1] = len(digits)
    strings = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(digits))
    return pc.cast(strings, pa.float64())
