"""`tsload cleanup`: delete the table, then the database."""

from __future__ import annotations

from pathlib import Path

import typer

HELP = """Delete the workload's table, then its database (what is already gone is reported, not an error).

Examples:

\b
  tsload cleanup                                   # the local engine's devops.host_metrics
  tsload cleanup -d perf -t devops -r us-east-1    # Amazon Timestream
  tsload cleanup -e http://127.0.0.1:8000 -d devops -t host_metrics
"""


def command(
    database_name: str = typer.Option("devops", "-d", "--database-name", help="Timestream database."),
    table_name: str = typer.Option("host_metrics", "-t", "--table-name", help="Timestream table."),
    region: str | None = typer.Option(None, "-r", "--region", help="AWS region."),
    endpoint: str | None = typer.Option(None, "-e", "--endpoint", help="Endpoint URL."),
    profile: str | None = typer.Option(None, "--profile", help="AWS profile for credentials."),
    local_data: str = typer.Option("./tsload-data", "--local-data", help="Local engine data directory."),
) -> None:
    import asyncio

    from tsload.targets.resolve import TargetConfig, open_target
    from tsload.targets.timestream.admin import delete_schema

    async def main() -> list[str]:
        cfg = TargetConfig(region=region, endpoint=endpoint, profile=profile, local_data=Path(local_data))
        async with open_target(cfg) as target:
            return await delete_schema(
                target.session, target.region, target.write_endpoint, database_name, table_name
            )

    for line in asyncio.run(main()):
        print(line)
