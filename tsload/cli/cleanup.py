"""`tsload cleanup`: delete the table, then the database."""

from __future__ import annotations

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
    target: o.TargetKind = "timestream",
    influx_api: o.InfluxApi = "v1",
    influx_org: o.InfluxOrg = None,
    token_file: o.TokenFile = None,
) -> None:
    import asyncio
    from dataclasses import replace

    from tsload.model.limits import check_schema_names
    from tsload.targets import Schema, open_target

    base = o.target_config_of(locals())
    if base.kind == "timestream":
        check_schema_names(database=database_name, table=table_name)
    cfg = replace(base, database=database_name)

    async def main() -> list[str]:
        async with open_target(cfg) as target:
            return await target.drop_schema(Schema(database_name, table_name))

    for line in asyncio.run(main()):
        print(line)
