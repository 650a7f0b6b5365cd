"""`tsload serve`: the local Timestream-compatible engine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

HELP = """Run the local Timestream-compatible engine (tsload serve) until SIGINT/SIGTERM.

Examples:

\b
  tsload serve --data ./tsload-data --port 0          # pick a free port; prints the URL
  tsload serve --data ./tsload-data --port 8400 --discard
  tsload serve --data /tmp/ts --port 0 --throttle-rate 0.05 --latency-ms 5:20 --fault-seed 7

Stock boto3/aioboto3 clients work unmodified with endpoint_url=<printed URL> and any credentials
(requests must be SigV4-signed). Writes are visible to every Query started after they are
acknowledged. GET <URL>/tsload/stats returns counters (requests, records, injected faults).
"""

_DEFAULT_DATA = Path("./tsload-data")


def command(
    data: Annotated[Path, typer.Option("--data", help="Engine database directory.")] = _DEFAULT_DATA,
    port: int = typer.Option(0, "--port", help="TCP port (0 = pick a free one)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to bind (loopback unless --allow-remote)."),
    discard: bool = typer.Option(False, "--discard", help="Validate and acknowledge writes, store nothing."),
    allow_remote: bool = typer.Option(False, "--allow-remote", help="Allow a non-loopback --host (no TLS!)."),
    throttle_rate: float = typer.Option(0.0, "--throttle-rate", help="Probability of ThrottlingException."),
    error_rate: float = typer.Option(0.0, "--error-rate", help="Probability of InternalServerException."),
    reject_rate: float = typer.Option(0.0, "--reject-rate", help="Probability that a record is rejected."),
    invalid_endpoint_rate: float = typer.Option(
        0.0, "--invalid-endpoint-rate", help="Probability of InvalidEndpointException (HTTP 421)."
    ),
    latency_ms: str = typer.Option("", "--latency-ms", help="Added delay: N or N:M (uniform) milliseconds."),
    fault_seed: int = typer.Option(0, "--fault-seed", help="Seed of the fault-injection RNG."),
    flush_interval: float = typer.Option(
        0.5, "--flush-interval", hidden=True, help="Seconds between buffer flushes (tests)."
    ),
) -> None:
    import asyncio
    import logging
    import os
    import sys

    from tsload._errors import ConfigError
    from tsload.cli._console import warn
    from tsload.engine import EngineConfig, FaultConfig, parse_latency, serve
    from tsload.engine.config import is_loopback

    faults = FaultConfig(
        throttle_rate=throttle_rate,
        error_rate=error_rate,
        reject_rate=reject_rate,
        invalid_endpoint_rate=invalid_endpoint_rate,
        latency_ms=parse_latency(latency_ms),
        seed=fault_seed,
    )
    if not flush_interval > 0:
        raise ConfigError("--flush-interval", "a positive number of seconds", got=flush_interval)
    config = EngineConfig(
        data_dir=data,
        host=host,
        port=port,
        discard=discard,
        allow_remote=allow_remote,
        faults=faults,
        flush_interval=flush_interval,
    )
    if allow_remote and not is_loopback(host):
        warn(
            f"the engine listens on {host}: anyone who can reach it can read and write its data (no TLS, "
            "any credentials accepted)"
        )
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="tsload serve: %(levelname)s %(message)s"
    )

    # The engine's files (DuckDB and its WAL) are for this user only, like its directory.
    os.umask(0o077)

    def ready(url: str) -> None:
        print(f"tsload engine listening on {url}", flush=True)

    try:
        import uvloop

        loop_factory = uvloop.new_event_loop
    except ImportError:  # pragma: no cover - uvloop is a dependency
        loop_factory = None
    with asyncio.Runner(loop_factory=loop_factory) as runner:
        runner.run(serve(config, ready))
