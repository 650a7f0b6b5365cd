"""The Arrow batch a flush appends to a DuckDB table: buffered rows and segments as columns.

Appending Arrow batches of 10k+ rows runs at 140-430k rows/s here, 100-row INSERTs about 20x
slower (design.md, probed facts): the engine buffers accepted records and converts them here.

The flush runs in a worker thread, but everything here holds the GIL, and every moment it does
is a moment the event loop (parsing and answering requests) cannot run. Segments (most of what
tsload and bench-engine send) are therefore converted with one numpy call per column instead of
a Python step per row: 100k buffered rows took 0.53 µs/row, now about 0.1 (scripts/bench-engine's
figures in the closing note of issue 11).
"""

from __future__ import annotations

from itertools import repeat
from typing import Any

from tsload.engine import limits
from tsload.engine.records import Row
from tsload.engine.tables import SINGLE_COLUMN, Segment

_NULL = -1  # a dimension code: this row has no value for the dimension


def build_arrow(rows: list[Row], segments: list[Segment]) -> Any:
    """An Arrow table of buffered rows and segments (one conversion per column).

    Rows are walked once; a segment costs a few list extensions and a dictionary lookup per
    dimension, its dimension codes being repeated by numpy.
    """
    import numpy as np
    import pyarrow as pa

    n_rows = len(rows)
    seg_lens = [len(seg[1]) for seg in segments]
    n = n_rows + sum(seg_lens)
    # Dimensions as dictionary codes: a segment's value is one code repeated, and DuckDB appends
    # a dictionary-encoded column faster than one string per row.
    dim_values: dict[str, dict[str, int]] = {}
    row_codes: dict[str, list[int]] = {}  # per dimension, one code per row (rows part)
    seg_codes: dict[str, list[int]] = {}  # per dimension, one code per segment
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

    def code(name: str, value: str) -> int:
        known = dim_values.get(name)
        if known is None:
            known = dim_values[name] = {}
            row_codes[name] = [_NULL] * n_rows
            seg_codes[name] = [_NULL] * len(segments)
        c = known.get(value)
        if c is None:
            c = known[value] = len(known)
        return c

    single = SINGLE_COLUMN
    for i, r in enumerate(rows):
        for k, v in r[0]:
            c = code(k, v)
            row_codes[k][i] = c
        kind = r[4]
        if kind == "MULTI":
            for name, typ, v in r[5]:
                value_type.setdefault(name, typ)
                column(name, i).append(v)
        else:
            name = single[kind]
            value_type.setdefault(name, kind)
            column(name, i).append(r[5])
    pos = n_rows
    all_version_1 = not versions
    for j, (dims, s_names, s_times, kind, values, s_versions) in enumerate(segments):
        m = seg_lens[j]
        for k, v in dims:
            c = code(k, v)
            seg_codes[k][j] = c
        name = single[kind]
        value_type.setdefault(name, kind)
        column(name, pos).extend(values)
        names.extend(s_names)
        times.extend(s_times)
        if all_version_1 and s_versions.count(1) != m:
            all_version_1 = False
            versions.extend(repeat(1, pos - n_rows))
        if not all_version_1:
            versions.extend(s_versions)
        pos += m
    arrow_type = {
        "DOUBLE": pa.float64(),
        "BIGINT": pa.int64(),
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMP": pa.timestamp("ns"),
    }
    version_col = np.ones(n, np.int64) if all_version_1 else np.array(versions, np.int64)
    arrays = {
        "measure_name": pa.array(names, pa.string()),
        "time": pa.array(np.array(times, np.int64)).view(pa.timestamp("ns")),
        limits.VERSION_COLUMN: pa.array(version_col),
    }
    lens = np.array(seg_lens, np.int64)
    for k, known in dim_values.items():
        codes = np.concatenate(
            (np.array(row_codes[k], np.int32), np.repeat(np.array(seg_codes[k], np.int32), lens))
        )
        missing = codes == _NULL
        arrays[k] = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=missing if missing.any() else None),
            pa.array(list(known), pa.string()),
        )
    for k, col in cols.items():
        if len(col) < n:
            col.extend(repeat(None, n - len(col)))
        arrays[k] = pa.array(col, arrow_type[value_type[k]])
    return pa.table(arrays)
