"""`tsload model`: the model summary, write sizing, a cost estimate, and the fleet as CSV."""

from __future__ import annotations

import os
import sys

import typer

from tsload._errors import ConfigError

HELP = """Print the DevOps model summary (the sample's --print-model-summary), plus WriteRecords
requests/s, estimated 1 KiB write units/s and a cost estimate from list prices; or write the
fleet as CSV.

Examples:

\b
  tsload model                                             # host-scale 100, 5 s interval
  tsload model --host-scale 100 --interval-millis 60000    # the Small configuration
  tsload model --host-scale 4000 --interval-millis 120000 --multi
  tsload model --host-scale 100 --interval-millis 60000 --batch-writes --batch-size 100
  tsload model --host-scale 2000 --interval-millis 300000 --prices my-prices.json
  tsload model --host-scale 1 --hosts metrics > hosts.csv  # fleet as CSV, enumeration order
  tsload model --host-scale 2000 --instance-name-seed 56789 --hosts events | head
"""


def command(
    host_scale: int = typer.Option(
        100, "--host-scale", help="Fleet size: 1,000 x S hosts, 1,200 x S event sets."
    ),
    interval_millis: int = typer.Option(
        5000, "--interval-millis", help="Emission interval of every host (ms)."
    ),
    multi: bool = typer.Option(False, "--multi", help="Multi-measure records (metrics/events)."),
    instance_name_seed: int = typer.Option(12345, "--instance-name-seed", help="Instance-name prefix seed."),
    batch_size: int = typer.Option(
        100, "--batch-size", help="Records per request with --batch-writes (1..100)."
    ),
    batch_writes: bool = typer.Option(False, "--batch-writes", help="Size for records batched across hosts."),
    hosts: str | None = typer.Option(
        None, "--hosts", help="Write the fleet as CSV instead: metrics or events."
    ),
    prices: str | None = typer.Option(
        None, "--prices", help="Price file (JSON); default: built-in us-east-1."
    ),
) -> None:
    if host_scale <= 0:
        raise ConfigError(f"--host-scale: a positive integer is allowed, got {host_scale}")
    if interval_millis <= 0:
        raise ConfigError(f"--interval-millis: a positive integer is allowed, got {interval_millis}")
    if not 1 <= batch_size <= 100:
        raise ConfigError(f"--batch-size: 1..100 allowed, got {batch_size}")
    if hosts is not None:
        if hosts not in ("metrics", "events"):
            raise ConfigError(f"--hosts: 'metrics' or 'events' allowed, got {hosts!r}")
        _write_csv(host_scale, instance_name_seed, hosts)
        return

    from tsload.model.cost import cost_lines, load_prices
    from tsload.model.summary import summary_lines

    price_list = load_prices(prices)
    lines = summary_lines(host_scale, interval_millis, multi, instance_name_seed, batch_size, batch_writes)
    lines += cost_lines(
        host_scale, interval_millis, multi, price_list, batch_size=batch_size, batch_writes=batch_writes
    )
    for line in lines:
        print(line)


def _write_csv(host_scale: int, seed: int, kind: str) -> None:
    from tsload.model.csvout import iter_fleet_csv
    from tsload.model.fleet import Fleet, FleetConfig

    fleet = Fleet(FleetConfig(host_scale=host_scale, instance_name_seed=seed))
    out = getattr(sys.stdout, "buffer", None)
    try:
        for chunk in iter_fleet_csv(fleet, kind):
            if out is not None:
                out.write(chunk)
            else:
                sys.stdout.write(chunk.decode())
        sys.stdout.flush()
    except BrokenPipeError:
        # A closed reader (`| head`) is not an error; keep the interpreter from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
