"""HDR histograms for latency, in microseconds.

One layout everywhere (1 µs .. 1 hour, 3 significant digits) so that any two histograms
tsload writes can be merged with `add`. Encoding is HdrHistogram's standard compressed
base64 V2 form, readable by other HDR tools.
"""

from __future__ import annotations

from collections.abc import Iterable

from hdrh.histogram import HdrHistogram

LOWEST_US = 1
HIGHEST_US = 3_600_000_000
SIGNIFICANT_DIGITS = 3

#: A query session's ``<query>.hdr``/``.hlog`` hold its latency from the intended start;
#: ``<query>.service-time.hdr``/``.hlog`` its service time (from the send).
SERVICE_TIME_SUFFIX = ".service-time"


def new_histogram() -> HdrHistogram:
    """An empty latency histogram (values recorded in microseconds)."""
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def record_seconds(h: HdrHistogram, seconds: float) -> None:
    """Record a latency given in seconds, clamped into the histogram's range."""
    us = round(seconds * 1_000_000)
    h.record_value(min(max(us, LOWEST_US), HIGHEST_US))


def encode(h: HdrHistogram) -> str:
    """Standard compressed base64 (V2) encoding."""
    out = h.encode()
    return out.decode("ascii") if isinstance(out, bytes) else str(out)


def decode(text: str | bytes) -> HdrHistogram:
    h = HdrHistogram.decode(text.encode("ascii") if isinstance(text, str) else text)
    assert isinstance(h, HdrHistogram)
    return h


def merge(histograms: Iterable[HdrHistogram]) -> HdrHistogram:
    """A new histogram holding every value of the inputs (exact, unlike averaging percentiles)."""
    total = new_histogram()
    for h in histograms:
        total.add(h)
    return total
