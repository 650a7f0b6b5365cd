"""HdrHistogram interval logs (``.hlog``): HistogramLogWriter's text format, readable by HDR tools.

A log looks like this (format version 1.3, as the Java reference writes it)::

    #[tsload interval log: write-latency, values in microseconds]
    #[Histogram log format version 1.3]
    #[StartTime: 1795845371.250 (seconds since epoch), Sat Nov 28 05:16:11 UTC 2026]
    #[BaseTime: 1795845371.250 (seconds since epoch)]
    "StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"
    0.000,5.000,12.345,HISTFAAAAC...
    Tag=do-q1,5.000,5.000,3.210,HISTFAAAAC...

Interval start times are seconds relative to BaseTime (= StartTime), Interval_Max is the
interval's largest value divided by ``max_value_unit_ratio`` (1000: µs → ms, as HDR tools
expect milliseconds there), and the payload is the standard compressed base64 V2 histogram.

hdrh ships a `HistogramLogWriter`, but its `output_start_time` is broken (it calls a
non-existent `datetime.iso_format` on a millisecond value), so the writer lives here; hdrh's
`HistogramLogReader` reads what it writes (a test pins that).
"""

from __future__ import annotations

import math
import re
import statistics
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from tsload._errors import ConfigError
from tsload.stats import hdr

LOG_FORMAT_VERSION = "1.3"
LEGEND = '"StartTimestamp","Interval_Length","Interval_Max","Interval_Compressed_Histogram"'

_START_RE = re.compile(r"#\[StartTime:\s*([-\d.eE+]+)")
_BASE_RE = re.compile(r"#\[BaseTime:\s*([-\d.eE+]+)")
_NAME_RE = re.compile(r"[^A-Za-z0-9._-]+")


def _java_date(epoch_s: float) -> str:
    return time.strftime("%a %b %d %H:%M:%S UTC %Y", time.gmtime(epoch_s))


class IntervalLogWriter:
    """Writes one interval histogram per line; each line is flushed so a crashed run stays readable.

    ``add(histogram, start_s, end_s)`` takes wall-clock epoch seconds (``time.time()``). The header
    (StartTime = BaseTime) is written on construction when ``start_time_s`` is given, otherwise
    just before the first interval, using that interval's start. ``tag`` puts several series
    into one file (HDR's ``Tag=<name>,`` prefix).
    """

    def __init__(
        self,
        path: str | Path,
        *,
        start_time_s: float | None = None,
        comment: str | None = None,
        max_value_unit_ratio: float = 1000.0,
    ) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file: IO[str] | None = self.path.open("w", encoding="utf-8")
        self._comment = comment
        self._ratio = max_value_unit_ratio
        self._base: float | None = None
        if start_time_s is not None:
            self._write_header(start_time_s)

    @property
    def base_time_s(self) -> float | None:
        return self._base

    def _out(self) -> IO[str]:
        if self._file is None:
            raise ValueError(f"interval log {self.path} is closed")
        return self._file

    def _write_header(self, start_s: float) -> None:
        # Millisecond resolution, as the Java writer: relative timestamps then carry no hidden offset.
        base = math.floor(start_s * 1000.0) / 1000.0
        out = self._out()
        if self._comment:
            out.write(f"#[{self._comment}]\n")
        out.write(f"#[Histogram log format version {LOG_FORMAT_VERSION}]\n")
        out.write(f"#[StartTime: {base:.3f} (seconds since epoch), {_java_date(base)}]\n")
        out.write(f"#[BaseTime: {base:.3f} (seconds since epoch)]\n")
        out.write(LEGEND + "\n")
        out.flush()
        self._base = base

    def add(self, histogram: Any, start_s: float, end_s: float, *, tag: str | None = None) -> None:
        """Append one interval [start_s, end_s) (epoch seconds) holding ``histogram`` (µs values)."""
        if self._base is None:
            self._write_header(start_s)
        assert self._base is not None
        if tag is not None and ("," in tag or any(c.isspace() for c in tag)):
            raise ValueError(f"interval log tag must not contain commas or spaces: {tag!r}")
        max_value = histogram.get_max_value() / self._ratio if histogram.get_total_count() else 0.0
        prefix = f"Tag={tag}," if tag else ""
        out = self._out()
        out.write(f"{prefix}{start_s - self._base:.3f},{end_s - start_s:.3f},{max_value:.3f},")
        out.write(hdr.encode(histogram) + "\n")
        out.flush()

    def close(self) -> None:
        """Close the file (idempotent). A log that never saw an interval still gets its header."""
        if self._file is None:
            return
        if self._base is None:
            self._write_header(time.time())
        self._file.close()
        self._file = None

    def __enter__(self) -> IntervalLogWriter:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def log_file_name(name: str) -> str:
    """A safe ``<name>.hlog`` file name for a series name such as ``do-q1`` or ``write latency``."""
    safe = _NAME_RE.sub("_", name).strip("._") or "series"
    return f"{safe}.hlog"


class IntervalLogs:
    """One `IntervalLogWriter` per series name, as ``<directory>/<name>.hlog``, opened on first use.

    Feed it `Recorder.interval()` snapshots (or any name → histogram mapping) every stats interval.
    """

    def __init__(self, directory: str | Path, *, start_time_s: float | None = None) -> None:
        self.directory = Path(directory)
        self._start = start_time_s
        self._writers: dict[str, IntervalLogWriter] = {}

    def add(self, histograms: Mapping[str, Any], start_s: float, end_s: float) -> None:
        for name, h in histograms.items():
            w = self._writers.get(name)
            if w is None:
                w = IntervalLogWriter(
                    self.directory / log_file_name(name),
                    start_time_s=self._start if self._start is not None else start_s,
                    comment=f"tsload interval log: {name}, values in microseconds",
                )
                self._writers[name] = w
            w.add(h, start_s, end_s)

    def close(self) -> None:
        for w in self._writers.values():
            w.close()

    def __enter__(self) -> IntervalLogs:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


@dataclass(frozen=True)
class Interval:
    """One interval of a log: absolute epoch start, length in seconds, its histogram (µs)."""

    tag: str | None
    start_s: float
    length_s: float
    max_value: float  # as written (Interval_Max column)
    histogram: Any

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True)
class IntervalLog:
    path: Path
    start_time_s: float | None
    intervals: tuple[Interval, ...]

    def tags(self) -> list[str | None]:
        seen: dict[str | None, None] = {}
        for iv in self.intervals:
            seen.setdefault(iv.tag, None)
        return list(seen)


def iter_interval_log(path: str | Path, *, decode: bool = True) -> Iterator[Interval]:
    """Stream a HistogramLogWriter log (any writer: Java, C, hdrh, this module), one interval at a time.

    Timestamps become absolute epoch seconds by the reference reader's rule: add BaseTime when
    given; without it, timestamps more than a year before StartTime are taken as relative to it.
    With ``decode=False`` the histograms are not decoded (``histogram`` is None): a cheap first
    pass for the time range. A truncated last line (a run killed mid-write) is skipped.
    """
    p = Path(path)
    start: float | None = None
    base: float | None = None
    try:
        f = p.open(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(Path(p), f"a readable interval log ({exc})") from exc
    with f:
        lines = list(enumerate(f, start=1))
    last = len(lines)
    for lineno, raw in lines:
        line = raw.strip()
        if not line:
            continue
        if line.startswith("#"):
            if m := _START_RE.match(line):
                start = float(m.group(1))
            elif m := _BASE_RE.match(line):
                base = float(m.group(1))
            continue
        if line.startswith('"StartTimestamp"'):
            continue
        tag: str | None = None
        if line.startswith("Tag="):
            tag, _, line = line[4:].partition(",")
        fields = line.split(",", 3)
        h: Any = None
        try:
            ts, length, max_value = (float(x) for x in fields[:3])
            payload = fields[3]
            if decode:
                h = hdr.decode(payload)
        except (ValueError, IndexError, TypeError) as exc:
            if lineno == last and not raw.endswith("\n"):
                return
            raise ConfigError(Path(f"{p}:{lineno}"), f"an interval-log line ({exc})") from exc
        except Exception as exc:  # hdrh raises its own cookie/length errors and zlib.error
            if lineno == last and not raw.endswith("\n"):
                return
            raise ConfigError(Path(f"{p}:{lineno}"), f"a histogram payload ({type(exc).__name__})") from exc
        if start is None:
            start = ts
        if base is None:
            base = start if ts < start - 365 * 24 * 3600.0 else 0.0
        yield Interval(tag, ts + base, length, max_value, h)


@dataclass(frozen=True)
class LogSpan:
    """What a set of interval logs covers: first interval start, last interval end (epoch s) and
    the median interval length (s)."""

    start_s: float
    end_s: float
    median_length_s: float


def log_span(paths: Iterable[str | Path]) -> LogSpan | None:
    """The logs' span from a cheap first pass (no histogram decoded); None when they hold no interval."""
    starts: list[float] = []
    ends: list[float] = []
    lengths: list[float] = []
    for p in paths:
        for iv in iter_interval_log(p, decode=False):
            starts.append(iv.start_s)
            ends.append(iv.end_s)
            lengths.append(iv.length_s)
    if not starts:
        return None
    return LogSpan(min(starts), max(ends), statistics.median(lengths))


def read_interval_log(path: str | Path) -> IntervalLog:
    """The whole log in memory (each interval's histogram decoded); see `iter_interval_log`."""
    p = Path(path)
    intervals = tuple(iter_interval_log(p))
    start: float | None = None
    with p.open(encoding="utf-8") as f:
        for line in f:
            if m := _START_RE.match(line.strip()):
                start = float(m.group(1))
                break
    if start is None and intervals:
        start = intervals[0].start_s
    return IntervalLog(p, start, intervals)


def merge_intervals(intervals: Iterable[Interval]) -> Any:
    """One histogram holding every interval's values (e.g. a whole run from its interval log)."""
    return hdr.merge(iv.histogram for iv in intervals)
