"""`tsload cleanup`: delete the table, then the database."""

from __future__ import annotations

from pathlib import Path

from tsload.cli import _options as o

HELP = """Delete the workload's table, then its database (what is already gone is reported, not an error).

Examples:

\b
  tsload cleanup                                   # the local engine's devops.host_metrics
  tsload cleanup -d perf -t devops -r us-east-1    # Amazon Timestream
  tsload cleanup -e http://127.0.0.1:8000 -d devops -t host_metrics
"""


def command(
    database_name: o.Database = "devops",
    table_name: o.Table = "host_metrics",
    region: o.Region = None,
    endpoint: o.Endpoint = None,
    profile: o.Profile = None,
    local_data: o.LocalData = "./tsload-data",
) -> None:
    import asyncio

    from tsload.targets import Schema, TargetConfig, open_target

    async def main() -> list[str]:
        cfg = TargetConfig(region=region, endpoint=endpoint, profile=profile, local_data=Path(local_data))
        async with open_target(cfg) as target:
            return await target.drop_schema(Schema(database_name, table_name))

    for line in asyncio.run(main()):
        print(line)
