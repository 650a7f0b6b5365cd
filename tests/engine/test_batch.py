"""The Arrow batch of a flush equals a row-by-row rendering of the same buffered records."""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest

from tsload.engine import limits
from tsload.engine.batch import build_arrow
from tsload.engine.doubles import DoubleText, value_list
from tsload.engine.tables import SINGLE_COLUMN

DIMS = ["region", "cell", "host", "az"]
KINDS = {
    "DOUBLE": lambda r: r.random() * 100,
    "BIGINT": lambda r: r.randrange(-5, 10**12),
    "VARCHAR": lambda r: r.choice("abc") * r.randrange(1, 4),
}


def _dims(r: random.Random) -> tuple[tuple[str, str], ...]:
    return tuple((d, f"{d}-{r.randrange(3)}") for d in DIMS if r.random() < 0.8)


def _buffer(seed: int) -> tuple[list[Any], list[Any]]:
    r = random.Random(seed)
    rows = []
    for i in range(0 if seed % 3 == 0 else r.randrange(1, 40)):
        if r.random() < 0.3:
            value: Any = tuple(sorted((f"m{j}", "DOUBLE", float(j + i)) for j in r.sample(range(4), 2)))
            rows.append((_dims(r), 0, "multi", 10**18 + i, "MULTI", value, r.choice([1, 1, 7]), 0))
        else:
            kind = r.choice(list(KINDS))
            rows.append((_dims(r), 0, f"cpu_{i % 3}", 10**18 + i, kind, KINDS[kind](r), 1, 0))
    segments = []
    for s in range(0 if seed % 3 == 1 else r.randrange(1, 30)):
        m = r.randrange(1, 20)
        kind = r.choice(list(KINDS))
        versions = [1] * m if r.random() < 0.8 else [r.randrange(1, 9) for _ in range(m)]
        values: Any = [KINDS[kind](r) for _ in range(m)]
        if kind == "DOUBLE" and r.random() < 0.6:  # as the fast path keeps them: their text
            values = DoubleText(",".join(f"{v:.{r.randrange(0, 4)}f}" for v in values), m)
        segments.append(
            (
                _dims(r),
                [f"mem_{k % 4}" for k in range(m)],
                [2 * 10**18 + s * 100 + k for k in range(m)],
                kind,
                values,
                versions,
            )
        )
    return rows, segments


def _reference(rows: list[Any], segments: list[Any]) -> list[dict[str, Any]]:
    out = []
    for dims, _, name, t, kind, value, version, _ in rows:
        rec: dict[str, Any] = {"measure_name": name, "time": t, limits.VERSION_COLUMN: version, **dict(dims)}
        if kind == "MULTI":
            rec.update({m: v for m, _, v in value})
        else:
            rec[SINGLE_COLUMN[kind]] = value
        out.append(rec)
    for dims, names, times, kind, values, versions in segments:
        for name, t, v, ver in zip(names, times, value_list(values), versions, strict=True):
            out.append(
                {
                    "measure_name": name,
                    "time": t,
                    limits.VERSION_COLUMN: ver,
                    SINGLE_COLUMN[kind]: v,
                    **dict(dims),
                }
            )
    return out


@pytest.mark.parametrize("seed", range(60))
def test_batch_equals_row_by_row(seed: int) -> None:
    rows, segments = _buffer(seed)
    table = build_arrow(rows, segments)
    table = table.set_column(table.column_names.index("time"), "time", table["time"].cast(pa.int64()))
    expected = _reference(rows, segments)
    columns = {k for rec in expected for k in rec}
    assert set(table.column_names) == columns
    assert table.to_pylist() == [{k: rec.get(k) for k in table.column_names} for rec in expected]
