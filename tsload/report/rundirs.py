"""Finding and loading run directories (contract §7): query session dirs and ingest run dirs.

A directory is
- an ingest run dir when it holds ``ingest-summary.json`` (or, from a crashed run, ``write-latency.hdr``);
- a query session dir when it holds ``session.json`` or any ``<query>.hdr`` (tsload's), or when the
  AWS sample's query driver wrote it (its ``<dir>-summary.csv``, or a ``<query>.sql`` beside its
  ``<query>.log``): then latencies and counts come from the ``.log`` lines (`samplelogs`);
- in summariser-compatibility mode (a ``-p`` pattern), the directory of every summary CSV the
  pattern matches is a query session dir, histograms or not, provided it looks like one
  (``<dir>-summary.csv``, or ``.sql``/``.log``/``.hdr`` files beside it).
A session's or run's wall time comes from its JSON ``started``/``ended``, else from the span of
its ``.hlog`` intervals.
Searches are recursive, so several machines' run directories can sit under one root; the search
does not descend into a directory once it is recognised as a run dir (a merged ingest summary
with per-process parts below it is counted once).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from tsload._errors import ConfigError
from tsload.report import samplelogs
from tsload.report.sample_csv import SummaryFile, parse_summary_csv
from tsload.stats import hdr
from tsload.stats.hlog import log_span

SESSION_JSON = "session.json"
INGEST_JSON = "ingest-summary.json"
WRITE_LATENCY_HDR = "write-latency.hdr"
LAG_HDR = "lag.hdr"
WRITE_LATENCY_FROM_SCHEDULE_HDR = "write-latency-from-schedule.hdr"
_INGEST_HDRS = frozenset({WRITE_LATENCY_HDR, LAG_HDR, WRITE_LATENCY_FROM_SCHEDULE_HDR})
SERVICE_TIME_SUFFIX = hdr.SERVICE_TIME_SUFFIX


@dataclass(frozen=True)
class QueryCounts:
    total: int
    successful: int
    failed: int = 0
    timed_out: int = 0
    retries: int = 0
    late: int = 0  # started more than 10 ms behind schedule (open model)
    dropped: int = 0  # scheduled but never started: the queue of scheduled starts was full


@dataclass(frozen=True)
class QuerySessionDir:
    path: Path
    meta: dict[str, Any] | None
    histograms: dict[str, Any]  # query → HDR histogram (µs) of latency from the intended start
    counts: dict[str, QueryCounts]
    started_s: float | None
    ended_s: float | None
    hlogs: tuple[Path, ...]
    summary: SummaryFile | None  # the per-session summary CSV, when there is one
    service_histograms: dict[str, Any] = field(default_factory=dict)  # query → service time (µs)
    service_hlogs: tuple[Path, ...] = ()  # <query>.service-time.hlog (not in `hlogs`: latency only)
    # query → latency (µs) → count, when the latencies come from the sample's .log lines (no .hdr):
    # known exactly to the millisecond, so the merged statistics are computed from the values
    exact_us: dict[str, dict[int, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class IngestRunDir:
    path: Path
    summary: dict[str, Any]
    write_latency: Any | None
    lag: Any | None
    started_s: float | None
    ended_s: float | None
    hlogs: tuple[Path, ...]
    write_latency_from_schedule: Any | None = None


@dataclass(frozen=True)
class RunDirs:
    sessions: tuple[QuerySessionDir, ...]
    ingests: tuple[IngestRunDir, ...]
    warnings: tuple[str, ...] = field(default=())


def parse_time(value: Any) -> float | None:
    """Epoch seconds from an ISO-8601 string (naive = UTC) or a number; None when absent."""
    if value is None:
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            t = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if t.tzinfo is None:
            t = t.replace(tzinfo=dt.UTC)
        return t.timestamp()
    return None


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ConfigError(path, f"readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(path, "a JSON object")
    return data


def read_hdr_file(path: Path, warnings: list[str]) -> Any | None:
    """The histogram of a ``.hdr`` file (one base64 V2 line); None (with a warning) when empty."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, f"an HDR histogram file ({exc})") from exc
    if not text:
        warnings.append(f"{path}: empty histogram file, skipped")
        return None
    try:
        return hdr.decode(text.split()[0])
    except Exception as exc:  # hdrh raises its own cookie/length errors, binascii and zlib errors
        raise ConfigError(path, f"an HDR histogram ({type(exc).__name__})") from exc


def _int(d: dict[str, Any], key: str) -> int:
    v = d.get(key, 0)
    return int(v) if isinstance(v, int | float) else 0


def _counts_from_meta(meta: dict[str, Any]) -> dict[str, QueryCounts]:
    queries = meta.get("queries")
    out: dict[str, QueryCounts] = {}
    if not isinstance(queries, dict):
        return out
    for name, c in queries.items():
        if isinstance(c, dict):
            out[str(name)] = QueryCounts(
                _int(c, "total"), _int(c, "successful"), _int(c, "failed"), _int(c, "timed_out"),
                _int(c, "retries"), _int(c, "late"), _int(c, "dropped"),
            )
    return out


def _counts_from_summary(summary: SummaryFile) -> dict[str, QueryCounts]:
    out: dict[str, QueryCounts] = {}
    for row in summary.rows:
        total = int(row.values[0] or 0) if row.values else 0
        ok = int(row.values[1] or 0) if len(row.values) > 1 else 0
        out[row.query] = QueryCounts(total, ok, failed=max(total - ok, 0))
    return out


def _read_summary(path: Path) -> SummaryFile | None:
    try:
        return parse_summary_csv(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError):
        return None


def _or_log_span(
    started: float | None, ended: float | None, hlogs: Sequence[Path]
) -> tuple[float | None, float | None]:
    """A run's start and end as its own files say them, else the span of its interval logs."""
    if started is not None and ended is not None:
        return started, ended
    covered = log_span(hlogs)
    return (covered.start_s, covered.end_s) if covered else (None, None)


def _histogram_ms(latencies_ms: dict[int, int]) -> Any:
    h = hdr.new_histogram()
    for ms, n in latencies_ms.items():
        h.record_value(min(max(ms * 1000, hdr.LOWEST_US), hdr.HIGHEST_US), n)
    return h


def _check_counts(path: Path, summary: SummaryFile, from_logs: dict[str, tuple[int, int]],
                  warnings: list[str]) -> None:
    """Counts of the summary CSV against the .log lines: (executions, successful) per query."""
    csv_counts = {q: (c.total, c.successful) for q, c in _counts_from_summary(summary).items()}
    for q in sorted(set(csv_counts) | set(from_logs)):
        a, b = csv_counts.get(q, (0, 0)), from_logs.get(q, (0, 0))
        if a != b:
            warnings.append(
                f"{path}: {q}: the summary CSV counts {a[0]} executions, {a[1]} successful; "
                f"the .log lines {b[0]}, {b[1]}"
            )


def load_session(path: Path, warnings: list[str], summary_path: Path | None = None) -> QuerySessionDir:
    """One query session directory: tsload's (``session.json``, ``.hdr``) or the sample's
    (latencies and counts from its ``.log`` lines, counts checked against its summary CSV)."""
    meta = _read_json(path / SESSION_JSON) if (path / SESSION_JSON).is_file() else None
    histograms: dict[str, Any] = {}
    service: dict[str, Any] = {}
    for f in sorted(path.glob("*.hdr")):
        h = read_hdr_file(f, warnings)
        if h is not None:
            if f.stem.endswith(SERVICE_TIME_SUFFIX):
                service[f.stem.removesuffix(SERVICE_TIME_SUFFIX)] = h
            else:
                histograms[f.stem] = h
    if summary_path is None:
        found = sorted(path.glob("*-summary.csv"))
        summary_path = found[0] if found else None
    summary = _read_summary(summary_path) if summary_path is not None else None
    counts = _counts_from_meta(meta) if meta else {}
    logs = samplelogs.query_logs(path)
    exact: dict[str, dict[int, int]] = {}
    query_log_times: list[float] = []
    log_counts: dict[str, tuple[int, int]] = {}
    if not histograms and meta is None and logs:
        # the sample's session: its .log lines are the only record of each execution
        for q, p in logs.items():
            ql = samplelogs.read_query_log(p)
            if ql.bad_lines:
                warnings.append(f"{p}: {ql.bad_lines} line(s) not in the sample's .log format, not counted")
            log_counts[q] = (ql.total, ql.successful)
            counts[q] = QueryCounts(ql.total, ql.successful, failed=ql.total - ql.successful)
            if ql.latencies_ms:
                exact[q] = {ms * 1000: n for ms, n in ql.latencies_ms.items()}
                histograms[q] = _histogram_ms(ql.latencies_ms)
                service[q] = _histogram_ms(ql.latencies_ms)  # the sample times from the send
            query_log_times += [t for t in (ql.first_start_s, ql.last_end_s) if t is not None]
    elif summary is not None and logs:
        for q, p in logs.items():
            total, failed = samplelogs.count_lines(p)
            log_counts[q] = (total, total - failed)
    if summary is not None and logs:
        _check_counts(path, summary, log_counts, warnings)
    if summary is not None and (not counts or (log_counts and meta is None)):
        # a query of the summary without a .log file (removed, or never written) keeps its counts
        for q, c in _counts_from_summary(summary).items():
            counts.setdefault(q, c)
    for name, h in histograms.items():
        if name not in counts:
            n = int(h.get_total_count())
            counts[name] = QueryCounts(n, n)
    all_hlogs = sorted(path.glob("*.hlog"))
    hlogs = tuple(p for p in all_hlogs if not p.stem.endswith(SERVICE_TIME_SUFFIX))
    started = parse_time(meta.get("started")) if meta else None
    ended = parse_time(meta.get("ended")) if meta else None
    if (started is None or ended is None) and query_log_times:
        started, ended = min(query_log_times), max(query_log_times)
    started, ended = _or_log_span(started, ended, hlogs)
    return QuerySessionDir(
        path=path,
        meta=meta,
        histograms=histograms,
        counts=counts,
        started_s=started,
        ended_s=ended,
        hlogs=hlogs,
        summary=summary,
        service_histograms=service,
        service_hlogs=tuple(p for p in all_hlogs if p.stem.endswith(SERVICE_TIME_SUFFIX)),
        exact_us=exact,
    )


def load_ingest(path: Path, warnings: list[str]) -> IngestRunDir:
    summary = _read_json(path / INGEST_JSON) if (path / INGEST_JSON).is_file() else {}
    wl = read_hdr_file(path / WRITE_LATENCY_HDR, warnings) if (path / WRITE_LATENCY_HDR).is_file() else None
    lag = read_hdr_file(path / LAG_HDR, warnings) if (path / LAG_HDR).is_file() else None
    sched_path = path / WRITE_LATENCY_FROM_SCHEDULE_HDR
    from_schedule = read_hdr_file(sched_path, warnings) if sched_path.is_file() else None
    hlogs = tuple(sorted(path.glob("*.hlog")))
    started, ended = parse_time(summary.get("started")), parse_time(summary.get("ended"))
    elapsed = summary.get("elapsed_s")
    if ended is not None and isinstance(elapsed, int | float) and elapsed > 0:
        # the run's own measured span (setup such as table creation excluded), ending at "ended"
        started = ended - float(elapsed)
    started, ended = _or_log_span(started, ended, hlogs)
    return IngestRunDir(
        path=path,
        summary=summary,
        write_latency=wl,
        lag=lag,
        started_s=started,
        ended_s=ended,
        hlogs=hlogs,
        write_latency_from_schedule=from_schedule,
    )


RUN_JSON = "run.json"  # marks a `tsload run` directory
BACKFILL_DIR = "backfill"


def _walk(root: Path) -> Iterable[tuple[Path, list[str], list[str]]]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        yield Path(dirpath), dirnames, filenames


def find_run_dirs(
    roots: Sequence[Path], *, pattern: str | None = None, exclude: Iterable[Path] = ()
) -> RunDirs:
    """Every query session dir and ingest run dir under ``roots`` (recursive).

    With ``pattern`` (the summariser's ``-p``), query sessions are the directories of the summary
    CSVs whose file name matches it; ``exclude`` names files never to read (the report's own output).
    """
    for r in roots:
        if not r.is_dir():
            raise ConfigError("DIR", "an existing directory", got=r)
    excluded = {p.resolve() for p in exclude}
    warnings: list[str] = []
    seen: set[Path] = set()
    sessions: list[QuerySessionDir] = []
    ingests: list[IngestRunDir] = []
    for root in roots:
        for d, subdirs, files in _walk(root):
            key = d.resolve()
            if key in seen:
                continue
            names = set(files)
            if RUN_JSON in names and BACKFILL_DIR in subdirs and key != (root / BACKFILL_DIR).resolve():
                # a `tsload run` directory: its report is the live phase; the backfill (history
                # written as fast as possible) would blur the live rates and latencies
                subdirs.remove(BACKFILL_DIR)
                warnings.append(f"{d / BACKFILL_DIR}: the backfill phase is not in this report "
                                f"(report on {d / BACKFILL_DIR} itself to see it)")
            if INGEST_JSON in names or WRITE_LATENCY_HDR in names:
                seen.add(key)
                ingests.append(load_ingest(d, warnings))
                subdirs.clear()  # what lies below a run dir (e.g. per-process parts) is already in it
                continue
            if pattern is not None:
                matches = [
                    d / f for f in sorted(files)
                    if fnmatch.fnmatch(f, pattern) and (d / f).resolve() not in excluded
                ]
                # A summary CSV marks a session only inside a session dir: report outputs (this
                # command's, or the sample summariser's) written into DIR also match "*.csv".
                session_like = SESSION_JSON in names or any(
                    f.endswith((".hdr", ".sql", ".log")) for f in names)
                csvs = [m for m in matches if (session_like or m.name == f"{d.name}-summary.csv")
                        and _read_summary(m) is not None]
                if csvs:
                    seen.add(key)
                    s = load_session(d, warnings, summary_path=csvs[0])
                    if not s.histograms and any(c.successful for c in s.counts.values()):
                        warnings.append(f"{d}: no .hdr histograms or .log lines beside {csvs[0].name}: "
                                        "its latencies are not in the merged figures")
                    sessions.append(s)
                    subdirs.clear()
                continue
            if (SESSION_JSON in names or any(f.endswith(".hdr") and f not in _INGEST_HDRS for f in names)
                    or samplelogs.looks_like_sample_session(d.name, names)):
                seen.add(key)
                sessions.append(load_session(d, warnings))
                subdirs.clear()
    from_logs = sum(1 for s in sessions if s.exact_us)
    if from_logs:
        warnings.append(
            f"{from_logs} session(s) without .hdr histograms: their latencies are read from their .log "
            "lines, to the millisecond (the sample's resolution), and merged exactly")
    return RunDirs(tuple(sessions), tuple(ingests), tuple(warnings))
