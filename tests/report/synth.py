"""Synthetic run directories in tsload's layout, written with tsload's own writers.

Each query's raw latencies (6 decimals, as the .hdr files hold them) are kept beside its files in
``.<query>.latencies`` for the tests' independent computations: the ``.log`` lines, in the
sample's format, carry them rounded to the millisecond only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson

from tsload.query.samplefmt import log_line, summary_csv
from tsload.stats import hdr
from tsload.stats.hlog import IntervalLogWriter

T0 = 1_795_845_000.0  # a round epoch second in 2026
INTERVAL_S = 5.0


def utc(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.UTC)


def iso(ts: float) -> str:
    return dt.datetime.fromtimestamp(ts, dt.UTC).isoformat()


@dataclass
class Session:
    """One query session: per query, its successful latencies (seconds) and failed/timed-out counts."""

    latencies: Mapping[str, np.ndarray]
    started: float
    duration: float
    failed: Mapping[str, int] = field(default_factory=dict)
    timed_out: Mapping[str, int] = field(default_factory=dict)
    process: int = 1
    index: int = 1
    prefix: str = "local"
    service: Mapping[str, np.ndarray] = field(default_factory=dict)  # service times (s); written when given
    late: Mapping[str, int] = field(default_factory=dict)
    dropped: Mapping[str, int] = field(default_factory=dict)
    config: Mapping[str, object] = field(default_factory=dict)  # merged into session.json's config

    @property
    def ended(self) -> float:
        return self.started + self.duration

    def times(self, q: str) -> np.ndarray:
        n = len(self.latencies[q])
        return self.started + (np.arange(n) + 0.5) * self.duration / max(n, 1)


def rounded(values: np.ndarray) -> np.ndarray:
    """Latencies as the .hdr files hold them (6 decimals, at least 1 µs)."""
    return np.maximum(np.round(values, 6), 1e-6)


def write_session(root: Path, s: Session, *, hlog: bool = True) -> Path:
    stamp = dt.datetime.fromtimestamp(s.started, dt.UTC).strftime("%Y-%m-%d-%H-%M-%S")
    name = f"{s.prefix}-{stamp}-{s.process}-{s.index}"
    d = root / name
    d.mkdir(parents=True)
    tag = f"[{s.process}-{s.index}]"
    queries: dict[str, dict[str, int]] = {}
    rows: dict[str, list[float]] = {}
    totals: dict[str, int] = {}
    for q, lat in s.latencies.items():
        lat = rounded(np.asarray(lat, dtype=np.float64))
        times = s.times(q)
        (d / f"{q}.sql").write_text(f"SELECT 1 -- {q}\n")
        lines = [
            log_line(tag, i + 1, utc(float(t)), f"qid-{q}-{i}", float(v), i % 7)
            for i, (t, v) in enumerate(zip(times, lat, strict=True))
        ]
        n_failed = s.failed.get(q, 0) + s.timed_out.get(q, 0)
        lines += [log_line(tag, len(lat) + k + 1, utc(s.ended), None, 1.0, None) for k in range(n_failed)]
        (d / f"{q}.log").write_text("".join(lines))
        (d / f"{q}.err").write_text("")
        (d / f".{q}.latencies").write_text("".join(f"{v:.6f}\n" for v in lat))
        h = hdr.new_histogram()
        for v in lat:
            hdr.record_seconds(h, float(v))
        if len(lat):
            (d / f"{q}.hdr").write_text(hdr.encode(h) + "\n")
        if hlog and len(lat):
            with IntervalLogWriter(d / f"{q}.hlog", start_time_s=s.started) as w:
                n_iv = int(np.ceil(s.duration / INTERVAL_S))
                for k in range(n_iv):
                    a, b = s.started + k * INTERVAL_S, s.started + (k + 1) * INTERVAL_S
                    ih = hdr.new_histogram()
                    for v in lat[(times >= a) & (times < b)]:
                        hdr.record_seconds(ih, float(v))
                    w.add(ih, a, b)
        if q in s.service:
            sh = hdr.new_histogram()
            for v in s.service[q]:
                hdr.record_seconds(sh, float(v))
            (d / f"{q}.service-time.hdr").write_text(hdr.encode(sh) + "\n")
        f, to = s.failed.get(q, 0), s.timed_out.get(q, 0)
        queries[q] = {"total": len(lat) + f + to, "successful": len(lat), "failed": f, "timed_out": to,
                      "retries": 0, "late": s.late.get(q, 0), "dropped": s.dropped.get(q, 0)}
        rows[q] = [float(v) for v in lat]
        totals[q] = len(lat) + f + to
    (d / "numDatapoints-begin.log").write_text(log_line(tag, 1, utc(s.started), "qid-b", 0.01, 1))
    (d / "numDatapoints-end.log").write_text(log_line(tag, 1, utc(s.ended), "qid-e", 0.01, 1))
    (d / f"{name}-summary.csv").write_text(summary_csv(list(s.latencies), rows, totals))
    meta = {"session": tag, "process": s.process, "session_index": s.index, "started": iso(s.started),
            "ended": iso(s.ended), "queries": queries,
            "config": {"think_time_ms": 0, "sessions": 1, **s.config}}
    (d / "session.json").write_bytes(orjson.dumps(meta))
    return d


@dataclass
class IngestRun:
    write_latencies: np.ndarray
    lags: np.ndarray
    started: float
    duration: float
    ingested: int
    rejected_by_reason: Mapping[str, int] = field(default_factory=dict)
    failed: int = 0
    errors: Mapping[str, int] = field(default_factory=dict)
    from_schedule: np.ndarray | None = None  # write latency from the scheduled emission (s)


def write_ingest(d: Path, r: IngestRun) -> Path:
    d.mkdir(parents=True)
    hists = {}
    for name, vals in (("write-latency", r.write_latencies), ("lag", r.lags)):
        h = hdr.new_histogram()
        for v in vals:
            hdr.record_seconds(h, float(v))
        hists[name] = h
        (d / f"{name}.hdr").write_text(hdr.encode(h) + "\n")
        times = r.started + (np.arange(len(vals)) + 0.5) * r.duration / len(vals)
        with IntervalLogWriter(d / f"{name}.hlog", start_time_s=r.started) as w:
            for k in range(int(np.ceil(r.duration / INTERVAL_S))):
                a, b = r.started + k * INTERVAL_S, r.started + (k + 1) * INTERVAL_S
                ih = hdr.new_histogram()
                for v in vals[(times >= a) & (times < b)]:
                    hdr.record_seconds(ih, float(v))
                w.add(ih, a, b)
    if r.from_schedule is not None:
        h = hdr.new_histogram()
        for v in r.from_schedule:
            hdr.record_seconds(h, float(v))
        (d / "write-latency-from-schedule.hdr").write_text(hdr.encode(h) + "\n")
    rejected = sum(r.rejected_by_reason.values())
    summary = {
        "generated": r.ingested + rejected + r.failed, "ingested": r.ingested,
        "rejected": {"total": rejected, "by_reason": dict(r.rejected_by_reason)},
        "failed": r.failed, "dropped": 0, "requests": len(r.write_latencies), "retries": 0, "throttled": 0,
        "errors": dict(r.errors), "ingested_measures": r.ingested * 20,
        "records_per_s": r.ingested / r.duration, "latency_ms": {}, "lag_ms": {},
        "config": {"host_scale": 1, "interval_millis": 60000}, "started": iso(r.started),
        "ended": iso(r.started + r.duration),
    }
    (d / "ingest-summary.json").write_bytes(orjson.dumps(summary))
    return d
