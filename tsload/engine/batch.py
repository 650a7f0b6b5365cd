"""The Arrow batch a flush appends to a DuckDB table: buffered rows and segments as columns.

Appending Arrow batches of 10k+ rows runs at 140-430k rows/s here, 100-row INSERTs about 20x
slower (design.md, probed facts): the engine buffers accepted records and converts them here.
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from tsload.engine import limits
from tsload.engine.records import Row
from tsload.engine.tables import SINGLE_COLUMN, Segment


def build_arrow(rows: list[Row], segments: list[Segment]) -> Any:
    """An Arrow table of buffered rows and segments (one conversion per column).

    Rows are walked once; segments are already columns, so they cost a list extension per
    column (about 20x less than a row here).
    """
    import pyarrow as pa

    n = len(rows) + sum(len(seg[1]) for seg in segments)
    cols: dict[str, list[Any]] = {}
    value_type: dict[str, str] = {}
    names: list[str] = [r[2] for r in rows]
    times: list[int] = [r[3] for r in rows]
    versions: list[int] = [r[6] for r in rows]

    def column(name: str, at: int) -> list[Any]:
        """The column `name`, padded with NULLs up to row `at`."""
        col = cols.get(name)
        if col is None:
            col = cols[name] = [None] * at
        elif len(col) < at:
            col.extend(repeat(None, at - len(col)))
        return col

    single = SINGLE_COLUMN
    for i, r in enumerate(rows):
        for k, v in r[0]:
            column(k, i).append(v)
        kind = r[4]
        if kind == "MULTI":
            for name, typ, v in r[5]:
                value_type.setdefault(name, typ)
                column(name, i).append(v)
        else:
            name = single[kind]
            value_type.setdefault(name, kind)
            column(name, i).append(r[5])
    pos = len(rows)
    for dims, s_names, s_times, kind, values, s_versions, _ in segments:
        m = len(s_names)
        for k, v in dims:
            column(k, pos).extend(repeat(v, m))
        name = single[kind]
        value_type.setdefault(name, kind)
        column(name, pos).extend(values)
        names.extend(s_names)
        times.extend(s_times)
        versions.extend(s_versions)
        pos += m
    arrow_type = {
        "DOUBLE": pa.float64(),
        "BIGINT": pa.int64(),
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMP": pa.timestamp("ns"),
    }
    arrays = {
        "measure_name": pa.array(names, pa.string()),
        "time": pa.array(times, pa.timestamp("ns")),
        limits.VERSION_COLUMN: pa.array(versions, pa.int64()),
    }
    for k, col in cols.items():
        if len(col) < n:
            col.extend(repeat(None, n - len(col)))
        arrays[k] = pa.array(col, arrow_type[value_type[k]] if k in value_type else pa.string())
    return pa.table(arrays)
