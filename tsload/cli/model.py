"""`tsload model`: the model summary, write sizing, a cost estimate, and the fleet as CSV."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from tsload._errors import ConfigError
from tsload.cli import _options as o

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
  tsload model --host-scale 100 --interval-millis 60000 --target influxdb --influx-instance db.influx.xlarge
  tsload model --host-scale 1 --hosts metrics > hosts.csv  # fleet as CSV, enumeration order
  tsload model --host-scale 2000 --instance-name-seed 56789 --hosts events | head
"""


def command(
    host_scale: o.HostScale = 100,
    interval_millis: o.IntervalMillis = 5000,
    multi: o.Multi = False,
    instance_name_seed: o.InstanceNameSeed = 12345,
    batch_size: o.BatchSize = 100,
    batch_writes: o.BatchWrites = False,
    hosts: Annotated[str | None, typer.Option(
        "--hosts", help="Write the fleet as CSV instead: metrics or events.")] = None,
    prices: o.Prices = None,
    target: o.TargetKind = "timestream",
    influx_instance: Annotated[str, typer.Option(
        "--influx-instance", help="Timestream for InfluxDB DB instance class (with --target influxdb).")
    ] = "db.influx.large",
    retention_days: Annotated[int, typer.Option(
        "--retention-days", help="Days of data held (with --target influxdb).")] = 30,
    multi_az: Annotated[bool, typer.Option(
        "--multi-az", help="A Multi-AZ deployment (with --target influxdb).")] = False,
) -> None:
    from tsload.model.summary import write_sizing

    # every flag checked before any output (one rule, one wording: the model's own checks)
    write_sizing(host_scale, interval_millis, multi, batch_size=batch_size, batch_writes=batch_writes)
    if hosts is not None:
        if hosts not in ("metrics", "events"):
            raise ConfigError("--hosts", "metrics or events", got=hosts)
        _write_csv(host_scale, instance_name_seed, hosts)
        return

    from tsload.model.summary import summary_lines

    if target == "influxdb":
        from tsload.model.influx_cost import influx_cost_lines, load_influx_prices

        if multi:
            raise ConfigError("--multi", "a Timestream record shape, not used with --target influxdb")
        lines = summary_lines(host_scale, interval_millis, True, instance_name_seed, 1, False)[:2]
        lines += influx_cost_lines(
            host_scale, interval_millis, influx_instance, load_influx_prices(prices),
            retention_days=retention_days, multi_az=multi_az,
        )
        for line in lines:
            print(line)
        return
    if target != "timestream":
        raise ConfigError("--target", "timestream or influxdb", got=target)

    from tsload.model.cost import cost_lines, load_prices

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
