"""Reading what the engine stored: through the Query API when the engine has SQL, and straight from
its DuckDB file (after a clean stop) for checks that must not depend on the SQL translation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aioboto3

from tsload.model.fleet import EVENT_DIMENSION_NAMES, METRIC_DIMENSION_NAMES

KEY_COLUMNS = tuple(dict.fromkeys((*METRIC_DIMENSION_NAMES, *EVENT_DIMENSION_NAMES, "measure_name", "time")))


async def query_count(url: str, db: str, table: str) -> int | None:
    """`SELECT count(*)` through Timestream's Query API (None while the engine has no SQL module)."""
    import botocore.exceptions

    session = aioboto3.Session(aws_access_key_id="k", aws_secret_access_key="k", region_name="us-east-1")
    async with session.client("timestream-query", endpoint_url=url, region_name="us-east-1") as q:
        try:
            r = await q.query(QueryString=f'SELECT count(*) FROM "{db}"."{table}"')
        except botocore.exceptions.ClientError as exc:
            if "not available" in str(exc):
                return None
            raise
        return int(r["Rows"][0]["Data"][0]["ScalarValue"])


def stored_counts(data_dir: Path, db: str, table: str) -> dict[str, Any]:
    """Row count and distinct (dimensions, measure_name, time) count, read-only from the DuckDB file."""
    import duckdb

    con = duckdb.connect(str(data_dir / "tsload.duckdb"), read_only=True)
    try:
        qt = f'"{db}"."{table}"'
        present = {r[0] for r in con.execute(f"DESCRIBE {qt}").fetchall()}
        key = ", ".join(f'"{c}"' for c in KEY_COLUMNS if c in present)
        rows = con.execute(f"SELECT count(*) FROM {qt}").fetchone()
        distinct = con.execute(f"SELECT count(*) FROM (SELECT DISTINCT {key} FROM {qt})").fetchone()
        assert rows is not None and distinct is not None
        return {"rows": int(rows[0]), "distinct": int(distinct[0]), "key": key}
    finally:
        con.close()
