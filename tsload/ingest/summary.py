"""The run's final summary: what the CLI prints and `ingest-summary.json` holds."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsload._files import make_private_dir, write_private
from tsload.stats import hdr

SCHEMA_VERSION = 1
_PERCENTILES = (("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p999", 99.9))


def percentiles_ms(h: Any) -> dict[str, float | None]:
    if h.get_total_count() == 0:
        return {**{name: None for name, _ in _PERCENTILES}, "max": None}
    out: dict[str, float | None] = {name: h.get_value_at_percentile(q) / 1000.0 for name, q in _PERCENTILES}
    out["max"] = h.get_max_value() / 1000.0
    return out


def _iso(epoch_s: float) -> str:
    stamp = dt.datetime.fromtimestamp(epoch_s, dt.UTC).isoformat(timespec="milliseconds")
    return stamp.replace("+00:00", "Z")


@dataclass(frozen=True)
class IngestSummary:
    generated: int
    ingested: int
    rejected_by_reason: dict[str, int]
    failed: int
    dropped: int
    requests: int
    retries: int
    throttled: int
    errors_by_code: dict[str, int]
    generated_measures: int
    ingested_measures: int
    elapsed_s: float
    started: float
    ended: float
    drain_deadline_hit: bool
    latency_ms: dict[str, float | None]
    lag_ms: dict[str, float | None]
    config: dict[str, Any] = field(default_factory=dict)
    latency_hdr: str = ""
    lag_hdr: str = ""
    warnings: tuple[str, ...] = ()
    # write latency from the scheduled emission to the final answer (live phase; per request)
    latency_from_schedule_ms: dict[str, float | None] = field(default_factory=dict)
    latency_from_schedule_hdr: str = ""
    cpu_s: float = 0.0  # client CPU of the ingest loops (all processes), setup excluded
    duration_cut: bool = False  # --duration passed before the schedule was generated (target too slow)

    @property
    def rejected(self) -> int:
        return sum(self.rejected_by_reason.values())

    @property
    def balanced(self) -> bool:
        """generated = ingested + rejected + failed + dropped."""
        return self.generated == self.ingested + self.rejected + self.failed + self.dropped

    @property
    def records_per_s(self) -> float:
        return self.ingested / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def measures_per_s(self) -> float:
        return self.ingested_measures / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "generated": self.generated,
            "ingested": self.ingested,
            "rejected": {"total": self.rejected, "by_reason": dict(self.rejected_by_reason)},
            "failed": self.failed,
            "dropped": self.dropped,
            "balanced": self.balanced,
            "requests": self.requests,
            "retries": self.retries,
            "throttled": self.throttled,
            "errors": dict(self.errors_by_code),
            "generated_measures": self.generated_measures,
            "ingested_measures": self.ingested_measures,
            "records_per_s": round(self.records_per_s, 1),
            "measures_per_s": round(self.measures_per_s, 1),
            "elapsed_s": round(self.elapsed_s, 3),
            "client_cpu_s": round(self.cpu_s, 3),
            "latency_ms": self.latency_ms,
            "latency_from_schedule_ms": self.latency_from_schedule_ms or None,
            "lag_ms": self.lag_ms,
            "drain_deadline_hit": self.drain_deadline_hit,
            "duration_cut": self.duration_cut,
            "started": _iso(self.started),
            "ended": _iso(self.ended),
            "config": self.config,
        }

    def lines(self) -> list[str]:
        def f(v: float | None) -> str:
            return "-" if v is None else f"{v:,.2f}"

        lat, lag = self.latency_ms, self.lag_ms
        out = [
            f"generated {self.generated:,} records = ingested {self.ingested:,} + rejected {self.rejected:,}"
            f" + failed {self.failed:,} + dropped {self.dropped:,}"
            + ("  (balanced)" if self.balanced else "  (NOT BALANCED: a tsload bug)"),
            f"{self.requests:,} requests, {self.retries:,} retries, {self.throttled:,} throttled,"
            f" {self.elapsed_s:,.1f} s, {self.records_per_s:,.0f} records/s,"
            f" {self.measures_per_s:,.0f} measures/s",
            f"write latency ms: p50 {f(lat['p50'])}  p90 {f(lat['p90'])}  p99 {f(lat['p99'])}"
            f"  p99.9 {f(lat['p999'])}  max {f(lat['max'])}",
            f"lag ms:           p50 {f(lag['p50'])}  p90 {f(lag['p90'])}  p99 {f(lag['p99'])}"
            f"  p99.9 {f(lag['p999'])}  max {f(lag['max'])}",
        ]
        sched = self.latency_from_schedule_ms
        if sched and sched.get("p50") is not None:
            # the same write latency, measured from the points' scheduled emission time
            out.insert(3, f"from schedule ms: p50 {f(sched['p50'])}  p90 {f(sched['p90'])}"
                          f"  p99 {f(sched['p99'])}  p99.9 {f(sched['p999'])}  max {f(sched['max'])}")
        for reason, n in sorted(self.rejected_by_reason.items(), key=lambda kv: -kv[1]):
            out.append(f"rejected {n:,}: {reason}")
        for code, n in sorted(self.errors_by_code.items(), key=lambda kv: -kv[1]):
            out.append(f"error {code}: {n:,}")
        if self.duration_cut:
            out.append("--duration passed before every scheduled emission was generated (slow target)")
        if self.drain_deadline_hit:
            out.append(f"drain deadline hit: {self.dropped:,} records dropped")
        return out

    def write_run_dir(self, out_dir: Path) -> None:
        make_private_dir(out_dir)
        write_private(out_dir / "ingest-summary.json", json.dumps(self.to_json(), indent=2) + "\n")
        write_private(out_dir / "write-latency.hdr", self.latency_hdr + "\n")
        write_private(out_dir / "lag.hdr", self.lag_hdr + "\n")
        if self.latency_from_schedule_hdr:
            write_private(out_dir / "write-latency-from-schedule.hdr", self.latency_from_schedule_hdr + "\n")


def config_dict(cfg: Any) -> dict[str, Any]:
    """The resolved configuration, JSON-safe (paths as strings)."""

    def clean(v: Any) -> Any:
        if dataclasses.is_dataclass(v) and not isinstance(v, type):
            return {k: clean(x) for k, x in dataclasses.asdict(v).items()}
        if isinstance(v, dict):
            return {k: clean(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [clean(x) for x in v]
        if isinstance(v, Path):
            return str(v)
        return v

    return dict(clean(cfg))


def encode_hist(h: Any) -> str:
    return hdr.encode(h)
