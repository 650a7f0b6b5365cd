"""`tsload cleanup`: delete the table, then the database."""

from __future__ import annotations

from tsload.cli._groups import TargetFlags, with_groups

HELP = """Delete the workload's table, then its database (what is already gone is reported, not an error).

Examples:

\b
  tsload cleanup                                   # the local engine's devops.host_metrics
  tsload cleanup -d perf -t devops -r us-east-1    # Amazon Timestream
  tsload cleanup -e http://127.0.0.1:8000 -d devops -t host_metrics
"""


@with_groups
def command(where: TargetFlags = TargetFlags()) -> None:
    import asyncio
    from dataclasses import replace

    from tsload.model.limits import check_schema_names
    from tsload.targets import Schema, open_target

    base = where.config()
    if base.kind == "timestream":
        check_schema_names(database=where.database_name, table=where.table_name)
    cfg = replace(base, database=where.database_name)

    async def main() -> list[str]:
        async with open_target(cfg) as target:
            return await target.drop_schema(Schema(where.database_name, where.table_name))

    for line in asyncio.run(main()):
        print(line)
