"""`tsload cleanup`: delete the table, then the database."""

from __future__ import annotations

from pathlib import Path

from tsload.cli._options import DATABASE, ENDPOINT, LOCAL_DATA, PROFILE, REGION, TABLE

HELP = """Delete the workload's table, then its database (what is already gone is reported, not an error).

Examples:

\b
  tsload cleanup                                   # the local engine's devops.host_metrics
  tsload cleanup -d perf -t devops -r us-east-1    # Amazon Timestream
  tsload cleanup -e http://127.0.0.1:8000 -d devops -t host_metrics
"""


def command(
    database_name: str = DATABASE,
    table_name: str = TABLE,
    region: str | None = REGION,
    endpoint: str | None = ENDPOINT,
    profile: str | None = PROFILE,
    local_data: str = LOCAL_DATA,
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
