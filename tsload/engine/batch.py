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
    column. Most of the time left is pyarrow's conversion of the Python lists.
    """
    import pyarrow as pa

    n = len(rows) + sum(len(seg[1]) for seg in segments)
    # Dimensions as dictionary codes: a segment's value is one code repeated, and DuckDB appends
    # a dictionary-encoded column faster than one string per row.
    dim_codes: dict[str, list[int | None]] = {}
    dim_values: dict[str, dict[str, int]] = {}
    cols: dict[str, list[Any]] = {}
    value_type: dict[str, str] = {}
    names: list[str] = [r[2] for r in rows]
    times: list[int] = [r[3] for r in rows]
    versions: list[int] = [r[6] for r in rows]

    def column(name: str, at: int) -> list[Any]:
        """The value column `name`, padded with NULLs up to row `at`."""
        col = cols.get(name)
        if col is None:
            col = cols[name] = [None] * at
        elif len(col) < at:
            col.extend(repeat(None, at - len(col)))
        return col

    def codes(name: str, value: str, at: int) -> tuple[list[int | None], int]:
        """The codes of dimension `name` padded up to row `at`, and the code of `value`."""
        col = dim_codes.get(name)
        if col is None:
            col = dim_codes[name] = [None] * at
            dim_values[name] = {}
        elif len(col) < at:
            col.extend(repeat(None, at - len(col)))
        known = dim_values[name]
        code = known.get(value)
        if code is None:
            code = known[value] = len(known)
        return col, code

    single = SINGLE_COLUMN
    for i, r in enumerate(rows):
        for k, v in r[0]:
            col, code = codes(k, v, i)
            col.append(code)
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
            col, code = codes(k, v, pos)
            col.extend(repeat(code, m))
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
    for k, dcol in dim_codes.items():
        if len(dcol) < n:
            dcol.extend(repeat(None, n - len(dcol)))
        arrays[k] = pa.DictionaryArray.from_arrays(
            pa.array(dcol, pa.int32()), pa.array(list(dim_values[k]), pa.string())
        )
    for k, col in cols.items():
        if len(col) < n:
            col.extend(repeat(None, n - len(col)))
        arrays[k] = pa.array(col, arrow_type[value_type[k]])
    return pa.table(arrays)
