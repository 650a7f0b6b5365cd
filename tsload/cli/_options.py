"""Every option more than one command takes, declared once: the same flag names, type and help.

A command uses an option by annotating its parameter with the alias below and giving the default
that suits it (defaults differ on purpose: `tsload query` thinks 30 s between queries as the
sample does, `tsload run` 1 s):

    def command(think_time_milliseconds: ThinkTime = 30000, params: Params = "table") -> None: ...

Options that several commands take together form a flag group (`_groups.TargetFlags`...): a
frozen dataclass whose fields are these aliases, taken as one parameter (with the command's
defaults) and turned into the library's configuration by one method. A new option that one
command takes can stay in that command's module; the moment a second command takes it, it moves
here. `FLAGS` maps the library's configuration field names to these flags, so that a
`ConfigError` raised by the library (which speaks of fields) reaches the user naming the flag
they typed.
"""

from __future__ import annotations

from typing import Annotated

import typer

# -- the target: where the workload goes

Database = Annotated[str, typer.Option("-d", "--database-name", help="Timestream database.")]
Table = Annotated[str, typer.Option("-t", "--table-name", help="Timestream table.")]
Region = Annotated[
    str | None, typer.Option("-r", "--region", help="AWS region (alone: AWS with discovery).")
]
Endpoint = Annotated[
    str | None, typer.Option("-e", "--endpoint", help="Endpoint URL (signed for -r or us-east-1).")
]
Profile = Annotated[str | None, typer.Option("--profile", help="AWS profile for credentials.")]
LocalData = Annotated[str, typer.Option("--local-data", help="Local engine data directory.")]
MemoryStoreRetentionHours = Annotated[
    int,
    typer.Option("--memory-store-retention-hours", help="Memory-store retention of a table tsload creates."),
]
MagneticStoreRetentionDays = Annotated[
    int,
    typer.Option(
        "--magnetic-store-retention-days", help="Magnetic-store retention of a table tsload creates."
    ),
]
EnableMagneticWrites = Annotated[
    bool,
    typer.Option(
        "--enable-magnetic-writes", help="Create the table with magnetic-store writes on (long backfills)."
    ),
]

TargetKind = Annotated[
    str, typer.Option("--target", help="timestream (default) or influxdb (needs -e URL; docs/influxdb.md).")
]
InfluxApi = Annotated[
    str,
    typer.Option(
        "--influx-api", help="InfluxDB API: v1 (/write, /query), v2 (org + bucket), v3 (write_lp, SQL)."
    ),
]
InfluxOrg = Annotated[
    str | None, typer.Option("--influx-org", envvar="INFLUX_ORG", help="InfluxDB organisation (v2).")
]
TokenFile = Annotated[
    str | None,
    typer.Option(
        "--token-file",
        help="File holding the InfluxDB token (else INFLUX_TOKEN or INFLUX_USERNAME/_PASSWORD).",
    ),
]
Gzip = Annotated[bool, typer.Option("--gzip", help="gzip InfluxDB request bodies (level 1).")]


# -- the model: the simulated fleet and its records

HostScale = Annotated[
    int, typer.Option("--host-scale", help="Fleet size: 1,000 x S hosts and 1,200 x S event sets.")
]
IntervalMillis = Annotated[
    int, typer.Option("--interval-millis", help="Emission interval of every host (ms).")
]
Multi = Annotated[
    bool, typer.Option("--multi", help="Multi-measure records (metrics/events) and their queries.")
]
InstanceNameSeed = Annotated[
    int, typer.Option("--instance-name-seed", help="Seed of the instance names (the fleet's identity).")
]
BatchWrites = Annotated[bool, typer.Option("--batch-writes", help="Batch records across hosts.")]
BatchSize = Annotated[int, typer.Option("--batch-size", help="Max records per request (1..100).")]
IngestBatchSize = Annotated[
    int | None,
    typer.Option(
        "--batch-size",
        help="Max records per request: 1..100 (default 100); InfluxDB: lines, 1..10,000 (default 5,000).",
    ),
]
AddReqId = Annotated[bool, typer.Option("--add-req-id", help="Add a UUID request_id per host emission.")]
ReqIdDim = Annotated[
    bool, typer.Option("--req-id-dim", help="request_id as a dimension (with --add-req-id).")
]
Shard = Annotated[
    str | None,
    typer.Option(
        "--shard", help="K/N: this machine runs shard K of N (of the hosts, and of the query sessions)."
    ),
]
Prices = Annotated[
    str | None,
    typer.Option("--prices", help="Price file for the cost estimate (JSON; default: built-in us-east-1)."),
]

# -- ingestion

Backfill = Annotated[
    str | None,
    typer.Option("--backfill", help="History written first, up to now (e.g. 90m, 3d; 0 = none)."),
]
DrainTimeout = Annotated[
    float, typer.Option("--drain-timeout", help="Seconds to drain queued writes after Ctrl-C.")
]

# -- queries

Config = Annotated[
    str | None, typer.Option("--config", help="Query mix INI file (default: <workload>/config.ini).")
]
Workload = Annotated[
    str | None, typer.Option("--workload", help="Workload folder (default: the DevOps one).")
]
Params = Annotated[
    str, typer.Option("--params", help="Where a session's host comes from: table, model or fixed.")
]
ThinkTime = Annotated[
    int, typer.Option("--think-time-milliseconds", help="Pause after each query, and start stagger (ms).")
]
RandomizedThinkTime = Annotated[
    bool,
    typer.Option("--randomized-think-time", help="Think time uniform in [min(5000, T), T] ms."),
]
Repetitions = Annotated[
    int,
    typer.Option("--repetitions", help="Queries per session (0: the config's, or until --duration ends)."),
]

# -- the open model (query.arrival)

ArrivalRate = Annotated[
    float | None,
    typer.Option(
        "--arrival-rate", metavar="R",
        help="Open model: queries/s of the whole run, split exactly over -p and --shard; -c is then the "
        "pool of sessions in flight, and think time is not used.",
    ),
]
Arrival = Annotated[
    str, typer.Option("--arrival", help="Open-model arrivals: constant (every 1/R s) or poisson.")
]
ArrivalQueue = Annotated[
    int,
    typer.Option(
        "--arrival-queue", metavar="N",
        help="Open model: scheduled starts that may wait for a free session, per process; more are dropped.",
    ),
]

# -- SLO thresholds (report.slo)

Slo = Annotated[
    list[str] | None,
    typer.Option(
        "--slo", metavar="EXPR",
        help="Threshold, repeatable: do-q1.p99<500ms, queries.failed<1%, do-q3.service_time.p50<200ms, "
        "ingest.lag.p99<5s, ingest.records_per_s>1000. Any failure: exit 3.",
    ),
]
AbortOnFail = Annotated[
    bool,
    typer.Option(
        "--abort-on-fail",
        help="Stop at the first --slo breach on the running totals (drain as Ctrl-C, write, exit 3).",
    ),
]
SloGrace = Annotated[
    str,
    typer.Option("--slo-grace", metavar="D", help="With --abort-on-fail: no evaluation before D (10s, 2m)."),
]

# -- the run: processes, progress, output

Concurrency = Annotated[
    int, typer.Option("-c", "--concurrency", help="Coroutines per process (writers, or query sessions).")
]
Processes = Annotated[int, typer.Option("-p", "--processes", help="OS processes (one uvloop loop each).")]
Duration = Annotated[
    str | None,
    typer.Option(
        "--duration", help="How long the live phase runs (seconds, or 90s/30m/2h; 0 = only the --backfill)."
    ),
]
StatsInterval = Annotated[float, typer.Option("--stats-interval", help="Seconds between progress updates.")]
Out = Annotated[
    str | None,
    typer.Option("--out", help="Run directory (summaries, .hdr histograms, .hlog interval logs)."),
]


# The library's configuration fields (dotted inside a composed configuration: RunConfig's
# `ingest.concurrency`) → the flag a user types. A dotted name not listed falls back to its last
# part, so `ingest.host_scale` reads `--host-scale`.
FLAGS: dict[str, str] = {
    "target.region": "-r/--region",
    "target.endpoint": "-e/--endpoint",
    "target.profile": "--profile",
    "target.local_data": "--local-data",
    "target.kind": "--target",
    "multi": "--multi",
    "sdk_writes": "--sdk-writes",
    "target.influx_api": "--influx-api",
    "target.influx_org": "--influx-org",
    "target.token_file": "--token-file",
    "target.gzip": "--gzip",
    "database": "-d/--database-name",
    "table": "-t/--table-name",
    "memory_store_retention_hours": "--memory-store-retention-hours",
    "magnetic_store_retention_days": "--magnetic-store-retention-days",
    "enable_magnetic_writes": "--enable-magnetic-writes",
    "concurrency": "-c/--concurrency",
    "processes": "-p/--processes",
    "host_scale": "--host-scale",
    "interval_millis": "--interval-millis",
    "batch_size": "--batch-size",
    "req_id_dim": "--req-id-dim",
    "instance_name_seed": "--instance-name-seed",
    "shard": "--shard",
    "duration_s": "--duration",
    "backfill_s": "--backfill",
    "stats_interval_s": "--stats-interval",
    "drain_timeout_s": "--drain-timeout",
    "out_dir": "--out",
    "repetitions": "--repetitions",
    "think_time_ms": "--think-time-milliseconds",
    "params": "--params",
    "timeout_s": "--timeout",
    "query_end_time": "--query-end-time",
    "log_dir": "-l/--log-dir",
    "run_prefix": "--run-prefix",
    "workload_dir": "--workload",
    "config_file": "--config",
    "prices_file": "--prices",
    "slo": "--slo",
    # tsload serve
    "port": "--port",
    "host": "--host",
    "data_dir": "--data",
    "allow_remote": "--allow-remote",
    "faults.latency_ms": "--latency-ms",
    "faults.throttle_rate": "--throttle-rate",
    "faults.error_rate": "--error-rate",
    "faults.reject_rate": "--reject-rate",
    "faults.invalid_endpoint_rate": "--invalid-endpoint-rate",
    "influx_instance": "--influx-instance",
    "retention_days": "--retention-days",
    "hosts": "--hosts",
    "arrival_rate": "--arrival-rate",
    "arrival": "--arrival",
    "arrival_queue": "--arrival-queue",
    # `tsload run` composes the two configurations under its own flag names
    "ingest.concurrency": "--ingest-concurrency",
    "ingest.processes": "--ingest-processes",
    "query.concurrency": "--query-sessions",
    "query.processes": "--query-processes",
    "query.timeout_s": "--query-timeout",
}


def flag_of(field: str) -> str | None:
    """The flag that sets a configuration field, or None if no flag does (a library-only field)."""
    while True:
        if field in FLAGS:
            return FLAGS[field]
        if "." not in field:
            return None
        field = field.split(".", 1)[1]
