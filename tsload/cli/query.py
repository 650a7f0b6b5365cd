"""`tsload query`: the DevOps query workload (alerting, dashboards, analysis sessions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tsload.cli import _options as o
from tsload.cli._groups import ArrivalFlags, SloFlags, TargetFlags, with_groups
from tsload.cli._live import LiveView

HELP = """Run query sessions against Timestream, the local engine or any endpoint, as the sample's users do.

Target: -e URL → that endpoint; -r REGION alone → Amazon Timestream; neither → a local engine
started on a free loopback port (data in --local-data). Each session fixes one host at start
(--params table|model|fixed), runs the weighted mix of the workload's config.ini with think
time, and writes its directory under --log-dir (the sample's files plus <query>.hdr histograms).

Examples:

\b
  tsload query --think-time-milliseconds 0 --repetitions 100 -c 8        # local engine
  tsload query --params model --host-scale 1 --duration 60 -c 64 --think-time-milliseconds 0
  tsload query -r us-east-1 -d perf -t devops -c 30 -p 4 --randomized-think-time
  tsload query -e http://127.0.0.1:8000 --multi --fixed-params --timeout 30
  tsload query --shard 0/4 -r us-east-1 -c 50 --params model --seed 7   # machine 1 of 4
  tsload query --workload ./my-workload --config ./my-workload/config_row_count.ini
  tsload report ~/timestream_perf                                         # merge what it wrote
  tsload query --arrival-rate 50 -c 32 --duration 5m --params model        # open model: 50 queries/s
  tsload query --arrival-rate 50 --arrival poisson --slo 'queries.p99<1s' --slo 'queries.failed<1%'

Closed model (default): each session waits for its answer, thinks, sends the next. Open model
(--arrival-rate R): queries start on a schedule of R/s for the whole run (split exactly over -p and
--shard), whatever the target does; -c sessions are the pool that serves it and think time is not
used. Latency is measured from each query's intended start, service time from its send (equal
in the closed model); starts more than 10 ms behind schedule are counted late, and starts that
find --arrival-queue (default 1000 per process) full are dropped and counted.

--slo EXPR (repeatable) checks thresholds at the end: exit 3 when one fails, the last line naming
it; --abort-on-fail stops at the first breach after --slo-grace (as Ctrl-C does).

--shard K/N: machine K of N. Its sessions are numbered K*P*C .. (K+1)*P*C-1 over all shards and
seeded from (--seed, that number) only, so N shards run with the same --seed reproduce exactly the
sessions of one run N times larger: the same queries and think times, session by session (and the
same start stagger as one run with N*P processes). Only the host differs with --params model: each
shard draws its hosts from its own part of the fleet (as ingest --shard K/N), so together they
spread over the whole fleet. Directory names get -shardKofN after the run prefix, so shards can
share one --log-dir; `tsload report` merges them all.

Ctrl-C stops the sessions (the query in flight is cancelled), writes every file, prints the
summary and exits 0; a second Ctrl-C quits at once (exit 130).
"""


@with_groups
def command(
    where: TargetFlags = TargetFlags(),
    config: o.Config = None,
    concurrency: o.Concurrency = 1,
    processes: o.Processes = 1,
    log_dir: Annotated[str, typer.Option(
        "-l", "--log-dir", help="Where session directories go.")] = str(Path.home() / "timestream_perf"),
    run_prefix: Annotated[str | None, typer.Option(
        "--run-prefix",
        help="Run name in directory names (default: 'local', the region or the host).")] = None,
    query_end_time: Annotated[str | None, typer.Option(
        "--query-end-time",
        help="End of the query windows: ISO-8601 time, now() or ago(1h) (default now()).")] = None,
    repetitions: o.Repetitions = 0,
    multi: o.Multi = False,
    think_time_milliseconds: o.ThinkTime = 30000,
    randomized_think_time: o.RandomizedThinkTime = False,
    fixed_params: Annotated[bool, typer.Option(
        "--fixed-params", help="The sample's fixed host (= --params fixed).")] = False,
    duration: o.Duration = None,
    params: o.Params = "table",
    host_scale: o.HostScale = 100,
    instance_name_seed: o.InstanceNameSeed = 12345,
    seed: Annotated[int | None, typer.Option(
        "--seed", help="Seed of query choice, think times, hosts (default random).")] = None,
    workload: o.Workload = None,
    shard: o.Shard = None,
    timeout: Annotated[float | None, typer.Option(
        "--timeout", help="Per-query timeout in seconds (then CancelQuery).")] = None,
    stats_interval: o.StatsInterval = 10.0,
    sdk_queries: Annotated[bool, typer.Option(
        "--sdk-queries", help="Send through aioboto3's query client even to a fixed endpoint.")] = False,
    no_datapoint_counts: Annotated[bool, typer.Option(
        "--no-datapoint-counts", help="Skip the numDatapoints-begin/end counts of each session.")] = False,
    arrivals: ArrivalFlags = ArrivalFlags(),
    slos: SloFlags = SloFlags(),
) -> None:
    from tsload._errors import ConfigError
    from tsload._units import parse_duration
    from tsload.model.shard import parse_shard
    from tsload.query.config import QueryConfig

    if fixed_params and params not in ("table", "fixed"):
        raise ConfigError("--fixed-params", "only with --params table or fixed", got=f"--params {params}")
    if repetitions < 0:
        raise ConfigError("--repetitions", "a positive integer (or 0 to keep the config's)", got=repetitions)
    cfg = QueryConfig(
        target=where.config(),
        database=where.database_name,
        table=where.table_name,
        workload_dir=Path(workload) if workload else None,
        config_file=Path(config) if config else None,
        concurrency=concurrency,
        processes=processes,
        log_dir=Path(log_dir).expanduser(),
        run_prefix=run_prefix,
        query_end_time=query_end_time,
        repetitions=repetitions or None,
        multi=multi,
        think_time_ms=think_time_milliseconds,
        randomized_think_time=randomized_think_time,
        params="fixed" if fixed_params else params,
        host_scale=host_scale,
        instance_name_seed=instance_name_seed,
        seed=seed,
        duration_s=parse_duration(duration, "--duration") if duration is not None else None,
        timeout_s=timeout,
        stats_interval_s=stats_interval,
        count_datapoints=not no_datapoint_counts,
        transport="sdk" if sdk_queries else "auto",
        shard=parse_shard(shard) if shard is not None else None,
        arrival_rate=arrivals.arrival_rate,
        arrival=arrivals.arrival,
        arrival_queue=arrivals.arrival_queue,
    )
    cfg.validate()
    from tsload.query.runner import resolve_workload

    names = set(resolve_workload(cfg).templates)
    gate = slos.gate(queries=names, ingest=False)
    raise typer.Exit(_run(cfg, gate))


def _run(cfg: Any, gate: Any) -> int:
    from tsload.cli._console import err_console, info, is_interactive, out_console
    from tsload.cli._live import run_watched
    from tsload.query.runner import run_query_workload

    view = ProgressView(err_console, live=is_interactive())

    def on_progress(p: Any) -> None:
        view.update(p)
        gate.on_query(p)

    result = run_watched(
        view,
        gate,
        lambda stop: run_query_workload(cfg, stop=stop, on_progress=on_progress, on_message=view.note),
        stopping="stopping: cancelling queries in flight and writing the logs (Ctrl-C again to quit now)",
    )
    if result is None:
        return 130
    import sys

    from rich.console import Console

    # not a terminal: no width to fit, so do not squeeze columns
    console = out_console if sys.stdout.isatty() else Console(width=160, highlight=False)
    console.print(final_table(result))
    if result.arrival is not None:
        console.print(result.arrival.verdict(), markup=False, soft_wrap=True)
    for d in result.log_dirs[:3]:
        info(f"session directory: {d}")
    if len(result.log_dirs) > 3:
        info(f"... and {len(result.log_dirs) - 3} more; merge them with: tsload report {cfg.log_dir}")
    if not gate.slos:
        return 0
    from tsload.cli._slo import finish
    from tsload.report import load_report

    # evaluated on what the sessions wrote, merged exactly as `tsload report` merges it
    dirs = [Path(d) for d in result.log_dirs]
    report = load_report(dirs)[0] if dirs else None
    from tsload.report.merge import Report

    empty = Report(sources=(), sessions=0, wall_s=None, started_s=None, ended_s=None, queries=(), ingest=None,
                   histograms={})
    return finish(gate.results(report or empty))


# -- progress (stderr) and the final table (stdout)


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:,.1f}"


def _rows(p: Any) -> list[tuple[str, int, int, int, int, float, float | None, float | None]]:
    from tsload.stats.summary import summarize

    names = sorted({k.split("|", 1)[0] for k in p.totals})
    out = []
    for name in names:
        h = p.interval.histograms.get(name)
        s = summarize(h) if h is not None else None
        ok_now = int(p.interval.counts.get(f"{name}|ok", 0))
        out.append(
            (
                name,
                p.totals.get(f"{name}|total", 0),
                p.totals.get(f"{name}|ok", 0),
                p.totals.get(f"{name}|failed", 0),
                p.totals.get(f"{name}|timed_out", 0),
                ok_now / p.interval_s,
                s.p50 if s else None,
                s.p99 if s else None,
            )
        )
    return out


def plain_line(p: Any) -> str:
    rows = _rows(p)
    total = sum(r[1] for r in rows)
    ok = sum(r[2] for r in rows)
    failed = sum(r[3] for r in rows)
    timed_out = sum(r[4] for r in rows)
    rate = sum(r[5] for r in rows)
    per = "; ".join(f"{r[0]} {r[5]:,.1f}/s p50 {_ms(r[6])} p99 {_ms(r[7])} ms" for r in rows)
    return (
        f"[{p.elapsed_s:7.1f}s] {total:,} queries, ok {ok:,}, failed {failed:,}, timed out {timed_out:,},"
        f" {rate:,.1f} q/s" + (f" | {per}" if per else "")
    )


def live_table(p: Any) -> Any:
    from rich.table import Table

    t = Table(
        title=f"tsload query — {p.elapsed_s:,.0f} s: counts are running totals; q/s, p50 and p99 are of "
        f"the last {p.interval_s:.0f} s",
        title_justify="left",
    )
    for col in ("query", "total", "ok", "failed", "timed out", f"q/s last {p.interval_s:.0f}s", "p50 ms",
                "p99 ms"):
        # headers never cut: a column is at least as wide as its name
        t.add_column(col, justify="left" if col == "query" else "right", no_wrap=True, min_width=len(col))
    for r in _rows(p):
        t.add_row(
            r[0], f"{r[1]:,}", f"{r[2]:,}", f"{r[3]:,}", f"{r[4]:,}", f"{r[5]:,.1f}", _ms(r[6]), _ms(r[7])
        )
    return t


def final_table(result: Any) -> Any:
    from rich.table import Table

    t = Table(
        title=f"tsload query — {len(result.sessions)} session(s), {result.elapsed_s:,.1f} s,"
        f" seed {result.seed}" + (" (stopped early)" if result.stopped else ""),
        title_justify="left",
    )
    cols = (
        "query",
        "total",
        "ok",
        "failed",
        "t/o",
        "retry",
        "mean ms",
        "p50 ms",
        "p90 ms",
        "p99 ms",
        "max ms",
        "q/s",
    )
    for col in cols:
        t.add_column(col, justify="left" if col == "query" else "right", no_wrap=col == "query")
    for name in sorted(result.queries):
        q = result.queries[name]
        s = q.latency
        t.add_row(
            name,
            f"{q.total:,}",
            f"{q.successful:,}",
            f"{q.failed:,}",
            f"{q.timed_out:,}",
            f"{q.retries:,}",
            _ms(s.mean if s else None),
            _ms(s.p50 if s else None),
            _ms(s.p90 if s else None),
            _ms(s.p99 if s else None),
            _ms(s.max if s else None),
            f"{q.queries_per_s:,.2f}",
        )
    return t


class ProgressView(LiveView):
    def update(self, p: Any) -> None:
        if self.is_live:
            self.show(live_table(p))
        else:
            self.note(plain_line(p))
