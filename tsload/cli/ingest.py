"""`tsload ingest`: the DevOps ingestion workload into Timestream, the local engine or any endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from tsload.cli import _options as o
from tsload.cli._groups import IngestFlags, SloFlags, WriteTargetFlags, with_groups
from tsload.cli._live import LiveView

HELP = """Drive the DevOps ingestion workload: every host emits once per interval at its own phase.

Target: -e URL → that endpoint; -r REGION alone → Amazon Timestream with endpoint discovery;
neither → a local engine started on a free loopback port (data in --local-data).

Examples:

\b
  tsload ingest --host-scale 1 --duration 60                 # local engine, 1,000 hosts, one minute
  tsload ingest --host-scale 1 --interval-millis 60000 --backfill 10m --duration 0 --out run1
  tsload ingest -r us-east-1 -d perf -t devops -c 200 -p 4    # Amazon Timestream, until Ctrl-C
  tsload ingest -e http://127.0.0.1:8000 --multi --batch-writes --duration 300
  tsload ingest --shard 0/4 -r us-east-1 -c 500               # machine 1 of 4
  tsload ingest --print-model-summary --host-scale 2000 --interval-millis 300000

Ctrl-C (or SIGTERM) stops generating and drains what is queued within --drain-timeout, prints the
totals (generated = ingested + rejected + failed + dropped) and exits 0 (130 if the drain deadline
was hit); a second Ctrl-C quits at once.
"""


@with_groups
def command(
    where: WriteTargetFlags = WriteTargetFlags(),
    concurrency: o.Concurrency = 1,
    processes: o.Processes = 1,
    ingestion: IngestFlags = IngestFlags(),
    print_model_summary: Annotated[bool, typer.Option(
        "--print-model-summary", help="Print the model's size and rates, then exit.")] = False,
    seed: Annotated[int, typer.Option(
        "--seed", help="Data seed: a host's values at a time depend on (seed, host, time).")] = 0,
    aligned: Annotated[bool, typer.Option(
        "--aligned", help="All hosts at phase 0 (the sample's bursty sweep).")] = False,
    out: o.Out = None,
    sdk_writes: Annotated[bool, typer.Option(
        "--sdk-writes", help="Send with aioboto3 write_records (comparison).")] = False,
    slos: SloFlags = SloFlags(),
) -> None:
    from dataclasses import replace

    from tsload._errors import ConfigError

    i = ingestion
    if i.req_id_dim and not i.add_req_id:
        raise ConfigError("--req-id-dim", "only together with --add-req-id")
    if print_model_summary:
        from tsload.model.summary import summary_lines

        for line in summary_lines(
            i.host_scale,
            i.interval_millis,
            i.multi,
            i.instance_name_seed,
            batch_size=i.batch_size_for(where.target),
            batch_writes=i.batch_writes,
        ):
            print(line)
        raise typer.Exit(0)
    cfg = replace(
        i.config(where, concurrency=concurrency, processes=processes, seed=seed),
        aligned=aligned,
        out_dir=Path(out) if out is not None else None,
        sdk_writes=sdk_writes,
    )
    cfg.validate()
    gate = slos.gate(query_side=False)
    code = _run(cfg, gate)
    raise typer.Exit(code)


def _run(cfg: Any, gate: Any) -> int:
    from tsload.cli._console import err_console, info, is_interactive, warn
    from tsload.cli._live import run_watched
    from tsload.ingest.runner import ingest

    view = ProgressView(err_console, live=is_interactive())

    def on_progress(p: Any) -> None:
        view.update(p)
        gate.on_ingest(p)

    summary = run_watched(
        view,
        gate,
        lambda stop: ingest(cfg, stop=stop, on_progress=on_progress, on_message=view.note),
        stopping=f"stopping: draining queued requests (up to {cfg.drain_timeout_s:g} s; Ctrl-C again to "
        "quit now)",
    )
    if summary is None:
        return 130
    for line in summary.lines():
        print(line)
    if cfg.out_dir is not None:
        info(f"run directory: {cfg.out_dir}")
    if not summary.balanced:
        warn("generated != ingested + rejected + failed + dropped: a tsload bug, please report it")
        return 1
    if gate.slos:
        from tsload.cli._slo import finish
        from tsload.report.live import ingest_report

        failed = finish(gate.results(ingest_report(summary)))
        if failed:
            return failed
    return 130 if summary.drain_deadline_hit else 0


# -- live progress (stderr): a rich table on a TTY, plain lines otherwise


def _ms(v: float | None) -> str:
    return "-" if v is None else f"{v:,.1f}"


def _rate(p: Any) -> str:
    """The last tick's rate; the final tick says the whole phase's, as the summary does (its own
    last interval can be a fraction of a second, and its rate meaningless)."""
    if p.phase == "done":
        whole = p.ingested / p.elapsed_s if p.elapsed_s > 0 else 0.0
        return f"{whole:,.0f} records/s (whole phase)"
    return f"{p.records_per_s:,.0f} records/s"


def plain_line(p: Any) -> str:
    return (
        f"[{p.elapsed_s:7.1f}s {p.phase}] {_rate(p)}, {p.requests_per_s:,.0f} req/s,"
        f" latency p50 {_ms(p.latency_p50_ms)} p99 {_ms(p.latency_p99_ms)} ms, lag p50 {_ms(p.lag_p50_ms)}"
        f" p99 {_ms(p.lag_p99_ms)} ms, ingested {p.ingested:,}, throttled {p.throttled:,},"
        f" rejected {p.rejected:,}, failed {p.failed:,}"
    )


def table(p: Any) -> Any:
    from rich.table import Table

    done = p.phase == "done"
    what = ("records/s of the whole phase, req/s and latency of the last interval" if done
            else "rates and latency of the last interval")
    t = Table(title=f"tsload ingest — {p.phase}, {p.elapsed_s:,.0f} s: {what}, counts running totals",
              title_justify="left")
    for name in (
        "records/s",
        "req/s",
        "latency\np50 ms",
        "latency\np99 ms",
        "lag\np50 ms",
        "lag\np99 ms",
        "ingested",
        "throttled",
        "rejected",
        "failed",
    ):
        # headers never cut (`throttl`): a column is at least as wide as its header's longest line
        t.add_column(name, justify="right", no_wrap=True, min_width=max(map(len, name.split("\n"))))
    t.add_row(
        f"{p.ingested / p.elapsed_s if done and p.elapsed_s > 0 else p.records_per_s:,.0f}",
        f"{p.requests_per_s:,.0f}",
        _ms(p.latency_p50_ms),
        _ms(p.latency_p99_ms),
        _ms(p.lag_p50_ms),
        _ms(p.lag_p99_ms),
        f"{p.ingested:,}",
        f"{p.throttled:,}",
        f"{p.rejected:,}",
        f"{p.failed:,}",
    )
    return t


class ProgressView(LiveView):
    def update(self, p: Any) -> None:
        for w in p.warnings:
            # the sample's warning, printed once per stats period in which it holds
            self.note(w)
        if self.is_live:
            self.show(table(p))
        else:
            self.note(plain_line(p))
