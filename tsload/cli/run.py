"""`tsload run`: one experiment — backfill, live ingestion and query sessions side by side, a report."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tsload.cli import _options as o
from tsload.cli._groups import ArrivalFlags, IngestFlags, SloFlags, WriteTargetFlags, with_groups
from tsload.cli._live import LiveView

HELP = """Run the whole DevOps workload: create the table, backfill history, then live ingestion and
query sessions side by side for --duration, then print and save the merged report.

Target: -e URL → that endpoint; -r REGION alone → Amazon Timestream (this costs money: see the
estimate printed first); neither → a local engine on a free loopback port (data in --local-data).

Examples:

\b
  tsload run                                    # local engine: 1,000 hosts, 1 h backfill, 30 s live
  tsload run --duration 5m --query-sessions 16 --think-time-milliseconds 0
  tsload run --multi --host-scale 10 --interval-millis 10000 --backfill 15m
  tsload run -r us-east-1 -d perf -t devops --backfill 0 --duration 10m --ingest-concurrency 200
  tsload run --out runs/baseline && tsload report runs/baseline --format html -o baseline.html
  tsload run --arrival-rate 20 --query-sessions 16 --slo 'queries.p99<1s' --slo 'ingest.lag.p99<5s'

--arrival-rate R runs the queries as an open model (R queries/s on a schedule, --query-sessions is the
pool in flight, think time unused); --slo thresholds are checked on the live phase's report (exit 3 on
a failure, also in report.json), --abort-on-fail stops at the first breach.

The run directory (default ./tsload-runs/<UTC time>) holds backfill/ and ingest/ (ingest-summary.json,
.hdr, .hlog), queries/ (one directory per session, the sample's files plus .hdr/.hlog), run.json, and
the live phase's report as report.json, report.md and report.html.

Ctrl-C stops the backfill, or ends the live phase early (queries in flight are cancelled,
queued writes drained); the report is still written. A second Ctrl-C quits at once.
"""


@with_groups
def command(
    where: WriteTargetFlags = WriteTargetFlags(),
    # a short local experiment by default: 1,000 hosts, 1 h of history, 30 s live
    ingestion: IngestFlags = IngestFlags(
        host_scale=1, interval_millis=60000, backfill="1h", duration="30s", stats_interval=2.0
    ),
    ingest_processes: Annotated[int, typer.Option(
        "--ingest-processes", help="Ingestion OS processes.")] = 1,
    ingest_concurrency: Annotated[int, typer.Option(
        "--ingest-concurrency", help="Writer coroutines per ingestion process.")] = 16,
    query_sessions: Annotated[int, typer.Option(
        "--query-sessions", help="Query sessions per query process.")] = 4,
    query_processes: Annotated[int, typer.Option("--query-processes", help="Query OS processes.")] = 1,
    think_time_milliseconds: o.ThinkTime = 1000,
    randomized_think_time: o.RandomizedThinkTime = False,
    repetitions: o.Repetitions = 0,
    config: o.Config = None,
    workload: o.Workload = None,
    params: o.Params = "model",
    query_timeout: Annotated[float | None, typer.Option(
        "--query-timeout", help="Per-query timeout (s).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Data and session seed.")] = 0,
    out: Annotated[str | None, typer.Option(
        "--out", help="Run directory (default ./tsload-runs/<UTC time>).")] = None,
    prices: o.Prices = None,
    arrivals: ArrivalFlags = ArrivalFlags(),
    slos: SloFlags = SloFlags(),
) -> None:
    from tsload._errors import ConfigError
    from tsload.experiment import RunConfig, default_out_dir
    from tsload.model.cost import load_prices
    from tsload.query.config import QueryConfig

    if repetitions < 0:
        raise ConfigError("--repetitions", "0 (until --duration ends) or more", got=repetitions)
    if query_sessions < 0:
        raise ConfigError("--query-sessions", "0 (no queries) or more", got=query_sessions)
    ingest = ingestion.config(where, concurrency=ingest_concurrency, processes=ingest_processes, seed=seed)
    query = (
        QueryConfig(
            concurrency=query_sessions,
            processes=query_processes,
            think_time_ms=think_time_milliseconds,
            randomized_think_time=randomized_think_time,
            workload_dir=Path(workload) if workload else None,
            config_file=Path(config) if config else None,
            params=params,
            repetitions=repetitions or None,
            timeout_s=query_timeout,
            arrival_rate=arrivals.arrival_rate,
            arrival=arrivals.arrival,
            arrival_queue=arrivals.arrival_queue,
        )
        if query_sessions > 0
        else None
    )
    cfg = RunConfig(
        ingest=ingest, query=query, out_dir=Path(out) if out else default_out_dir(), prices_file=prices
    )
    cfg.validate()
    price_list = load_prices(prices)  # a bad --prices fails before anything runs
    from tsload.query.workload import load_workload

    q = cfg.query_config()
    names = set(load_workload(q.workload_dir, config=q.config_file, multi=q.multi).templates)
    gate = slos.gate(queries=names, query_side=cfg.query is not None)
    code = _run(cfg, price_list, gate)
    if out is None and (cfg.out_dir / "report.json").is_file():
        _link_latest(cfg.out_dir)  # only a run that produced a report: `tsload report latest` must work
    raise typer.Exit(code)


def _link_latest(run_dir: Path) -> None:
    """`tsload-runs/latest` → the newest run (best effort: not every filesystem has symlinks)."""
    import contextlib
    import os

    link = run_dir.parent / "latest"
    tmp = run_dir.parent / f".latest-{os.getpid()}"
    with contextlib.suppress(OSError):
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(run_dir.name, target_is_directory=True)
        tmp.replace(link)  # atomic: a reader never sees no link


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _cost_lines(cfg: Any, prices: Any, result: Any | None) -> list[str]:
    from tsload.model.cost import QueryUsage, backfill_cost_line, cost_lines

    if cfg.target.kind == "influxdb":
        # Timestream for InfluxDB bills instance-hours and storage, not writes: see `tsload model`
        return [
            "cost: Timestream for InfluxDB bills its DB instance and storage, not requests: "
            f"tsload model --target influxdb --host-scale {cfg.ingest.host_scale} --interval-millis "
            f"{cfg.ingest.interval_millis} --influx-instance CLASS"
        ]

    usage = None
    if result is not None and result.report is not None:
        rows = result.report.queries
        count = sum(r.successful for r in rows)
        total = sum(r.latency.mean * r.latency.count for r in rows if r.latency is not None)
        wall = result.queries.elapsed_s if result.queries is not None else 0.0
        usage = QueryUsage(count=count, total_latency_s=total, wall_s=wall)
    i = cfg.ingest
    lines = cost_lines(
        i.host_scale,
        i.interval_millis,
        i.multi,
        prices,
        batch_size=i.batch_size,
        batch_writes=i.batch_writes,
        memory_retention_hours=i.memory_store_retention_hours,
        magnetic_retention_days=i.magnetic_store_retention_days,
        queries=usage,
    )
    if i.backfill_s > 0:
        lines.insert(2, backfill_cost_line(
            i.host_scale, i.interval_millis, i.multi, prices, i.backfill_s,
            batch_size=i.batch_size, batch_writes=i.batch_writes,
        ))
    return lines


def _backfill_total(cfg: Any) -> int | None:
    """Records the backfill will generate (the fleet's record rate x the history's length)."""
    if cfg.backfill_s <= 0:
        return None
    from tsload.model.summary import write_sizing

    i = cfg.ingest
    # records/s does not depend on the batch size; Timestream's sizing refuses InfluxDB's larger ones
    w = write_sizing(i.host_scale, i.interval_millis, i.multi, batch_size=min(i.batch_size, 100),
                     batch_writes=i.batch_writes, add_req_id=i.add_req_id, req_id_dim=i.req_id_dim)
    total = round(w.records_per_second * cfg.backfill_s)
    if i.shard is not None:
        total //= i.shard[1]
    return total or None


def backfill_line(p: Any, total: int) -> str:
    """`written 412,300 of 1,560,000 records (26.4 %), 118,000 records/s, ETA 10 s`."""
    done = p.ingested + p.rejected + p.failed + p.dropped
    pct = min(100.0 * done / total, 100.0) if total else 100.0
    rate = done / p.elapsed_s if p.elapsed_s > 0 else 0.0
    eta = f"ETA {max(total - done, 0) / rate:,.0f} s" if rate > 0 and done < total else "ETA -"
    return f"written {done:,} of {total:,} records ({pct:.1f} %), {rate:,.0f} records/s, {eta}"


def _run(cfg: Any, prices: Any, gate: Any) -> int:
    import sys

    from tsload.cli._console import err_console, info, is_interactive, warn
    from tsload.cli._live import run_watched
    from tsload.experiment.runner import run_experiment

    if cfg.target.region is not None and cfg.target.endpoint is None:
        for line in _cost_lines(cfg, prices, None):  # against AWS, say what it costs before it starts
            info(line)
    view = RunView(err_console, live=is_interactive(), backfill_total=_backfill_total(cfg))

    def on_ingest(p: Any) -> None:
        view.ingest(p)
        gate.on_ingest(p)

    def on_queries(p: Any) -> None:
        view.queries(p)
        gate.on_query(p)

    result = run_watched(
        view,
        gate,
        lambda stop: run_experiment(
            cfg,
            stop=stop,
            on_message=view.note,
            on_phase=view.phase,
            on_ingest_progress=on_ingest,
            on_query_progress=on_queries,
            slos=gate.slos,
        ),
        stopping="stopping: draining writes, cancelling queries, writing the report (Ctrl-C again to quit)",
    )
    if result is None:
        return 130
    from rich.console import Console

    console = Console(highlight=False) if sys.stdout.isatty() else Console(width=160, highlight=False)
    if result.backfill is not None:
        b = result.backfill
        console.print(
            f"backfill: {_human(cfg.backfill_s)} of history, {b.ingested:,} of {b.generated:,} records"
            f" ingested in {b.elapsed_s:,.1f} s ({b.records_per_s:,.0f} records/s), rejected {b.rejected:,},"
            f" failed {b.failed:,}",
            markup=False,
        )
    if result.report is not None:
        from tsload.report.render import to_renderable

        console.print(to_renderable(result.report))
    for line in _cost_lines(cfg, prices, result):
        console.print(line, markup=False, soft_wrap=True)
    wrote = [n for n in ("report.html", "report.md", "report.json") if (result.out_dir / n).is_file()]
    if wrote:
        info(f"run directory: {result.out_dir} ({', '.join(wrote)})")
    else:
        info(f"run directory: {result.out_dir} (stopped before the live phase: no report; run.json says so)")
    if not result.balanced:
        warn("generated != ingested + rejected + failed + dropped: a tsload bug, please report it")
        return 1
    if result.queries is not None and result.queries.arrival is not None:
        console.print(result.queries.arrival.verdict(), markup=False, soft_wrap=True)
    if gate.slos:
        from tsload.cli._slo import finish

        if result.report is None:  # stopped during the backfill: nothing live to judge
            from tsload.report.slo import SloResult

            failed = finish([SloResult(s.expr, None, s.threshold, s.unit, False) for s in gate.slos])
        else:
            failed = finish(result.report.slo)
        if failed:
            return failed
    drained = any(s is not None and s.drain_deadline_hit for s in (result.backfill, result.live))
    return 130 if drained else 0


# -- one live view (stderr): ingestion and queries together on a TTY, plain lines otherwise


class RunView(LiveView):
    def __init__(self, console: Any, *, live: bool, backfill_total: int | None = None) -> None:
        super().__init__(console, live=live)
        self._backfill_total = backfill_total
        self._phase = "starting"
        self._ingest: Any = None
        self._queries: Any = None

    def phase(self, name: str) -> None:
        self._phase = name
        self._queries = None if name == "live" else self._queries
        self.note(f"phase: {name}")

    def ingest(self, p: Any) -> None:
        from tsload.cli.ingest import plain_line

        for w in p.warnings:
            self.note(w)
        self._ingest = p
        if self.is_live:
            self._refresh()
        elif self._in_backfill():
            self.note("backfill " + backfill_line(p, self._backfill_total or 0) + " | " + plain_line(p))
        else:
            self.note("ingest " + plain_line(p))

    def _in_backfill(self) -> bool:
        return self._phase == "backfill" and bool(self._backfill_total)

    def queries(self, p: Any) -> None:
        from tsload.cli.query import plain_line

        self._queries = p
        if self.is_live:
            self._refresh()
        else:
            self.note("queries " + plain_line(p))

    def _refresh(self) -> None:
        from rich.console import Group
        from rich.text import Text

        from tsload.cli.ingest import table as ingest_table
        from tsload.cli.query import live_table

        parts: list[Any] = [Text(f"tsload run — {self._phase}", style="bold")]
        if self._ingest is not None:
            if self._in_backfill():
                parts.append(Text("backfill: " + backfill_line(self._ingest, self._backfill_total or 0)))
            parts.append(ingest_table(self._ingest))
        if self._queries is not None:
            parts.append(live_table(self._queries))
        self.show(Group(*parts))
