"""The verdict-first summary of a report, shared by the HTML and Markdown renderings.

What ran (target, fleet, duration, model), the verdict (the SLOs when some were given, else the
errors and rejections) and the headline numbers, then the configuration in the user's terms:
the flags of `tsload run` as typed (from the run directory's run.json), internal fields left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from tsload.report.merge import Report

#: run.json config keys → the `tsload run` flag and how to show the value.
_FLAG_NAMES = {
    "backfill_s": "--backfill", "duration_s": "--duration", "think_time_ms": "--think-time-milliseconds",
    "database": "--database-name", "table": "--table-name", "out": "--out",
}
#: Bookkeeping, not something a user typed.
_INTERNAL = frozenset({
    "live_start_ms", "backoff_base_s", "backoff_cap_s", "max_attempts", "queue_size", "request_id_nonce",
    "aligned", "stats_interval_s", "sdk_writes", "create_schema", "out_dir", "target", "transport",
    "run_prefix", "config_file", "local_engine_args", "query_end_time", "retries",
})


def run_json_of(sources: Sequence[str]) -> dict[str, Any] | None:
    """The run.json of a `tsload run` directory among the sources (or their parent: the run's
    report is merged from <run>/ingest and <run>/queries)."""
    for src in sources:
        for d in (Path(src), Path(src).parent):
            p = d / "run.json"
            try:
                data = orjson.loads(p.read_bytes())
            except (OSError, orjson.JSONDecodeError):
                continue
            if isinstance(data, dict):
                return data
    return None


def _secs(x: float) -> str:
    for unit, size in (("h", 3600), ("m", 60)):
        if x >= size and x % size == 0:
            return f"{x / size:g}{unit}"
    return f"{x:g}s"


def _first(report: Report, key: str) -> Any:
    cfgs = [*report.session_configs, *(report.ingest.configs if report.ingest else ())]
    for c in cfgs:
        if c.get(key) is not None:
            return c[key]
    return None


def what_ran(report: Report, run_json: dict[str, Any] | None) -> list[tuple[str, str]]:
    cfg = (run_json or {}).get("config") or {}

    def get(key: str) -> Any:
        return cfg.get(key) if cfg else _first(report, key)

    out: list[tuple[str, str]] = []
    target = (run_json or {}).get("target")
    if target is None:
        endpoint, region = get("endpoint"), get("region")
        target = endpoint or (f"Amazon Timestream {region}" if region else None)
    db, table = get("database"), get("table")
    where = f"{db}.{table}" if db and table else ""
    out.append(("target", " ".join(str(x) for x in (target or "unknown", where) if x)))
    scale, interval = get("host_scale"), get("interval_millis")
    if scale is not None:
        fleet = f"{int(scale) * 1000:,} hosts, {int(scale) * 1200:,} event sets"
        if interval:
            fleet += f", one emission per {int(interval) / 1000:g} s"
        out.append(("fleet", fleet))
    multi = get("multi")
    if multi is not None:
        out.append(("model", "multi-measure" if multi else "single-measure"))
    dur = []
    if cfg.get("backfill_s"):
        dur.append(f"backfill {_secs(float(cfg['backfill_s']))}")
    wall = report.wall_s if report.wall_s is not None else (report.ingest.wall_s if report.ingest else None)
    if wall is not None:
        dur.append(f"live {wall:,.1f} s")
    if dur:
        out.append(("duration", ", ".join(dur)))
    procs = {str(c.get("processes")) for c in report.session_configs if c.get("processes") is not None}
    out.append(("query sessions", f"{report.sessions}" + (f" ({', '.join(sorted(procs))} process(es))"
                                                            if procs else "")))
    if run_json is not None and run_json.get("stopped"):
        out.append(("stopped", "the run was stopped early: figures cover the part that ran"))
    return out


def verdict_lines(report: Report, run_json: dict[str, Any] | None = None) -> tuple[bool, list[str]]:
    """(passed, lines): the first line is the verdict, the rest say why."""
    if report.slo:
        failed = [r for r in report.slo if not r.passed]
        lines = [f"FAIL: {len(failed)} of {len(report.slo)} SLO(s) missed" if failed
                 else f"PASS: all {len(report.slo)} SLO(s) met"]
        for r in report.slo:
            val = "nothing measured" if r.value is None else f"{r.value:,.4g}{r.unit}"
            lines.append(f"{'pass' if r.passed else 'FAIL'}  {r.expr}  (measured {val})")
        return not failed, lines
    problems: list[str] = []
    failed_q = sum(r.failed for r in report.queries)
    timed_out = sum(r.timed_out for r in report.queries)
    if failed_q:
        problems.append(f"{failed_q:,} failed queries")
    if timed_out:
        problems.append(f"{timed_out:,} timed-out queries")
    not_run = [r.query for r in report.queries if r.total == 0]
    i = report.ingest
    if i is not None:
        for n, what in ((i.rejected, "rejected records"), (i.failed, "failed records"),
                        (i.dropped, "dropped records"), (i.throttled, "throttled requests")):
            if n:
                problems.append(f"{n:,} {what}")
    lines = ["errors: " + ", ".join(problems) if problems
             else "no errors: every query and every record succeeded (no SLO given)"]
    if not_run:
        lines.append(f"not drawn in this run (weight too small for its length): {', '.join(not_run)}")
    return not problems, lines


def _ms(x: float | None) -> str:
    return "" if x is None else f"{x * 1e3:,.2f}"


def headline_rows(report: Report) -> tuple[tuple[str, ...], list[list[str]]]:
    header = ("", "count", "rate", "p50 (ms)", "p99 (ms)")
    rows: list[list[str]] = []
    qps = [r.queries_per_s for r in report.queries if r.queries_per_s is not None]
    if report.queries:
        rows.append(["all queries", f"{sum(r.total for r in report.queries):,}",
                     f"{sum(qps):,.2f} q/s" if qps else "", "", ""])
    for r in report.queries:
        lat = r.latency
        rate = "" if r.queries_per_s is None else f"{r.queries_per_s:,.2f} q/s"
        rows.append([r.query, f"{r.total:,}", rate, _ms(lat.p50 if lat else None),
                     _ms(lat.p99 if lat else None)])
    i = report.ingest
    if i is not None:
        wl = i.write_latency
        rows.append(["ingest (write latency)", f"{i.ingested:,}",
                     "" if i.records_per_s is None else f"{i.records_per_s:,.0f} records/s",
                     _ms(wl.p50 if wl else None), _ms(wl.p99 if wl else None)])
        if i.lag is not None:
            rows.append(["ingest lag", "", "", f"{i.lag.p50 * 1e3:,.2f}", f"{i.lag.p99 * 1e3:,.2f}"])
    return header, rows


def _flag_value(key: str, v: Any) -> str:
    if key in ("backfill_s", "duration_s"):
        return _secs(float(v))
    if isinstance(v, bool):
        return ""
    return str(v)


def config_rows(report: Report, run_json: dict[str, Any] | None) -> list[tuple[str, str]]:
    """(flag, value) pairs: `tsload run`'s flags when run.json is there, else the sessions' and
    ingest runs' configuration with internal fields left out. Unset options and off switches are
    left out too (they are the defaults)."""
    cfg = (run_json or {}).get("config")
    sources: list[dict[str, Any]] = [cfg] if isinstance(cfg, dict) else [
        *report.session_configs, *(report.ingest.configs if report.ingest else ())]
    rows: dict[str, str] = {}
    for c in sources:
        for k, v in c.items():
            if k in _INTERNAL or v is None or v is False or isinstance(v, dict | list):
                continue
            if k == "repetitions" and isinstance(v, int) and v >= 10**9:
                continue  # "until --duration ends", stored as a huge count
            flag = _FLAG_NAMES.get(k, "--" + k.replace("_", "-"))
            rows.setdefault(flag, _flag_value(k, v))
    return list(rows.items())
