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

from itertools import chain, repeat
from operator import itemgetter
from typing import Any

from tsload.engine import limits
from tsload.engine.doubles import DoubleText, arrow_doubles
from tsload.engine.records import Row
from tsload.engine.tables import SINGLE_COLUMN, Segment

_NULL = -1  # a dimension code: this row has no value for the dimension
_NAMES, _TIMES, _VERSIONS = itemgetter(1), itemgetter(2), itemgetter(5)


def warm_up(cur: Any) -> None:
    """Import and exercise what a flush uses (pyarrow, numpy's masks, DuckDB's Arrow scan) once,
    at start. Left to the first flush, the imports held the GIL for 0.1-0.25 s while the event
    loop was answering the first burst of writes, and that flush then lagged by as much."""
    segment: Segment = ((("host", "h"),), ["m"], [0], "DOUBLE", [0.0], [1])
    row: Row = ((("az", "a"),), 0, "m", 0, "BIGINT", 1, 1, 0)
    batch = build_arrow([row], [segment])
    cur.register("_tsload_warm_up", batch)
    try:
        cur.execute("SELECT count(*) FROM _tsload_warm_up").fetchall()
    finally:
        cur.unregister("_tsload_warm_up")


def build_arrow(rows: list[Row], segments: list[Segment]) -> Any:
    """An Arrow table of buffered rows and segments (one conversion per column).

    Rows are walked once; segments are joined column by column, their dimension codes found
    once per distinct dimension set and repeated by numpy.
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
    cols: dict[str, _Column] = {}
    value_type: dict[str, str] = {}
    names: list[str] = [r[2] for r in rows]
    times: list[int] = [r[3] for r in rows]
    versions: list[int] = [r[6] for r in rows]

    def column(name: str, at: int) -> _Column:
        """The value column `name`, padded with NULLs up to row `at`."""
        col = cols.get(name)
        if col is None:
            col = cols[name] = _Column()
        return col.pad(at)

    def code(name: str, value: str) -> int:
        known = dim_values.get(name)
        if known is None:
            known = dim_values[name] = {}
            row_codes[name] = [_NULL] * n_rows
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
    # Segments: a few C-level passes over all of them, a Python step per segment only for its
    # value column (kinds may differ) and per distinct dimension set (a series' requests share
    # one tuple, so they are told apart by identity; equal tuples then simply get equal codes).
    names.extend(chain.from_iterable(map(_NAMES, segments)))
    times.extend(chain.from_iterable(map(_TIMES, segments)))
    versions.extend(chain.from_iterable(map(_VERSIONS, segments)))
    dims_at: dict[int, int] = {}
    seg_dims = [dims_at.setdefault(id(seg[0]), len(dims_at)) for seg in segments]
    dims_codes: dict[str, list[int]] = {}  # per dimension, one code per distinct dimension set
    for j, dims in enumerate({id(seg[0]): seg[0] for seg in segments}.values()):
        for k, v in dims:
            c = code(k, v)
            per_set = dims_codes.get(k)
            if per_set is None:
                per_set = dims_codes[k] = [_NULL] * len(dims_at)
            per_set[j] = c
    pos = n_rows
    for seg, m in zip(segments, seg_lens, strict=True):
        kind = seg[3]
        name = single[kind]
        value_type.setdefault(name, kind)
        column(name, pos).extend(seg[4])
        pos += m
    arrow_type = {
        "DOUBLE": pa.float64(),
        "BIGINT": pa.int64(),
        "VARCHAR": pa.string(),
        "BOOLEAN": pa.bool_(),
        "TIMESTAMP": pa.timestamp("ns"),
    }
    version_col = np.ones(n, np.int64) if versions.count(1) == n else np.array(versions, np.int64)
    arrays = {
        "measure_name": pa.array(names, pa.string()),
        "time": pa.array(np.array(times, np.int64)).view(pa.timestamp("ns")),
        limits.VERSION_COLUMN: pa.array(version_col),
    }
    lens = np.array(seg_lens, np.int64)
    which = np.array(seg_dims, np.intp)
    for k, known in dim_values.items():
        set_codes = np.array(dims_codes.get(k, [_NULL] * len(dims_at)), np.int32)
        codes = np.concatenate((np.array(row_codes[k], np.int32), np.repeat(set_codes[which], lens)))
        missing = codes == _NULL
        arrays[k] = pa.DictionaryArray.from_arrays(
            pa.array(codes, mask=missing if missing.any() else None),
            pa.array(list(known), pa.string()),
        )
    for k, col in cols.items():
        arrays[k] = col.arrow(arrow_type[value_type[k]], n)
    return pa.table(arrays)


class _Column:
    """A value column in row order: runs of Python values, and runs of DOUBLE values still as
    their text (`doubles.DoubleText`, converted by `arrow_doubles`: no Python object per value)."""

    __slots__ = ("n", "parts")

    def __init__(self) -> None:
        self.n = 0
        self.parts: list[tuple[bool, list[Any]]] = []  # (texts?, values or texts)

    def _run(self, texts: bool) -> list[Any]:
        if not self.parts or self.parts[-1][0] is not texts:
            self.parts.append((texts, []))
        return self.parts[-1][1]

    def pad(self, at: int) -> _Column:
        if at > self.n:
            self._run(False).extend(repeat(None, at - self.n))
            self.n = at
        return self

    def append(self, value: Any) -> None:
        self._run(False).append(value)
        self.n += 1

    def extend(self, values: list[Any] | DoubleText) -> None:
        if isinstance(values, DoubleText):
            self._run(True).append(values.text)
            self.n += values.n
        else:
            self._run(False).extend(values)
            self.n += len(values)

    def arrow(self, typ: Any, n: int) -> Any:
        import pyarrow as pa

        self.pad(n)
        arrays = [arrow_doubles(part) if texts else pa.array(part, typ) for texts, part in self.parts]
        return arrays[0] if len(arrays) == 1 else pa.concat_arrays(arrays)
