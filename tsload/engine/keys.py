"""Duplicate keys read back from DuckDB: the in-memory index's source below its horizon.

Keys and fingerprints are the ones `TableState.apply` computes from parsed rows
(`hash((hash(frozenset(dims)), measure_name, time_ns))` and `hash((kind, value))`), rebuilt
from stored columns. They are process-local (Python salts `str` hashes per process), which is
why nothing of the index is persisted: after a restart it is rebuilt from the rows.

- `scan_window`: every key of a time window, in one scan (after a restart, a re-sent window);
  about 1–2 µs per stored row here, against ~70 µs per record for a probe per request.
- `probe`: the keys of given rows only (a join), when a window would not fit the index.
- `load_series_ranges`: per series, the stored time range (at start).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator
from typing import Any

from tsload.engine import limits
from tsload.engine.dedupe import BUCKET_NS, Entry, fingerprints, series_keys
from tsload.engine.records import Row
from tsload.engine.tables import TableState, qi


def _qt(ts: TableState) -> str:
    return f"{qi(ts.database)}.{qi(ts.name)}"


def _columns(ts: TableState, a: str = "") -> tuple[list[str], list[tuple[str, str, str]], str]:
    """Dimension columns, value columns (name, role, type), and the select list (alias `a`)."""
    dim_cols = [c for c, (role, _) in ts.columns.items() if role == "dimension"]
    value_cols = [(c, role, typ) for c, (role, typ) in ts.columns.items() if role != "dimension"]
    select = [f"{a}measure_name", f"epoch_ns({a}time)", f"{a}{limits.VERSION_COLUMN}"]
    select += [f"{a}{qi(c)}" for c in dim_cols]
    select += [f"epoch_ns({a}{qi(c)})" if typ == "TIMESTAMP" else f"{a}{qi(c)}" for c, _, typ in value_cols]
    return dim_cols, value_cols, ", ".join(select)


def _entries(
    found: Iterable[tuple[Any, ...]], dim_cols: list[str], value_cols: list[tuple[str, str, str]]
) -> Iterator[tuple[int, int, int, int]]:
    """(time_ns, key, fingerprint, version) of stored rows."""
    nd = len(dim_cols)
    series: dict[tuple[Any, ...], int] = {}
    singles = [i for i, (_, role, _) in enumerate(value_cols) if role == "single"]
    only_single = len(singles) == len(value_cols)
    for rec in found:
        mn, t, ver = rec[0], rec[1], rec[2]
        dvals = rec[3 : 3 + nd]
        dh = series.get(dvals)
        if dh is None:
            dh = series[dvals] = hash(
                frozenset((c, v) for c, v in zip(dim_cols, dvals, strict=True) if v is not None)
            )
        vals = rec[3 + nd :]
        if only_single:
            # one single-measure column holds the value (DOUBLE, BIGINT...); the rest are NULL
            for j in singles:
                v = vals[j]
                if v is not None:
                    fp = hash((value_cols[j][2], v))
                    break
            else:
                fp = hash(("MULTI", ()))
        else:
            kind: str = "MULTI"
            value: Any = None
            multi = []
            for (c, role, typ), v in zip(value_cols, vals, strict=True):
                if v is None:
                    continue
                if role == "single":
                    kind, value = typ, v
                else:
                    multi.append((c, typ, v))
            if kind == "MULTI":
                value = tuple(sorted(multi))
            fp = hash((kind, value))
        yield t, hash((dh, mn, t)), fp, ver


def scan_window(cur: Any, ts: TableState, lo_ns: int, hi_ns: int) -> tuple[dict[int, dict[int, Entry]], int]:
    """Every stored key with lo_ns <= time < hi_ns, by bucket; and the number of rows read."""
    dim_cols, value_cols, select = _columns(ts)
    if len(value_cols) == 1 and value_cols[0][1] == "single":
        return _scan_series(cur, ts, lo_ns, hi_ns, dim_cols, value_cols[0])
    cur.execute(
        f"SELECT {select} FROM {_qt(ts)}"
        " WHERE time >= make_timestamp_ns(?) AND time < make_timestamp_ns(?)",
        [lo_ns, hi_ns],
    )
    out: dict[int, dict[int, Entry]] = {}
    n = 0
    while batch := cur.fetchmany(50_000):
        n += len(batch)
        for t, key, fp, ver in _entries(batch, dim_cols, value_cols):
            bk = t // BUCKET_NS
            b = out.get(bk)
            if b is None:
                b = out[bk] = {}
            prev = b.get(key)
            if prev is None or (1 if isinstance(prev, int) else prev[1]) < ver:
                b[key] = fp if ver == 1 else (fp, ver)
    return out, n


def _scan_series(
    cur: Any, ts: TableState, lo_ns: int, hi_ns: int, dim_cols: list[str], value_col: tuple[str, str, str]
) -> tuple[dict[int, dict[int, Entry]], int]:
    """`scan_window` for a table with one value column (single-measure records of one type):
    DuckDB groups the rows by series, in time order, and each series' keys are computed with a
    few builtin calls (no Python step per row)."""
    name, _, typ = value_col
    value = f"epoch_ns({qi(name)})" if typ == "TIMESTAMP" else qi(name)
    dims = ", ".join(qi(c) for c in dim_cols)
    lists = (
        f"list(measure_name ORDER BY time), list(epoch_ns(time) ORDER BY time),"
        f" list({limits.VERSION_COLUMN} ORDER BY time), list({value} ORDER BY time)"
    )
    cur.execute(
        f"SELECT {dims + ', ' if dims else ''}{lists} FROM {_qt(ts)}"
        " WHERE time >= make_timestamp_ns(?) AND time < make_timestamp_ns(?)"
        + (f" GROUP BY {dims}" if dims else ""),
        [lo_ns, hi_ns],
    )
    nd = len(dim_cols)
    out: dict[int, dict[int, Entry]] = {}
    total = 0
    while batch := cur.fetchmany(1_000):
        for rec in batch:
            names, times, versions, values = rec[nd:]
            if not times:
                continue
            dh = hash(frozenset((c, v) for c, v in zip(dim_cols, rec[:nd], strict=True) if v is not None))
            n = len(times)
            total += n
            keys = list(series_keys(dh, names, times))
            fps = list(fingerprints(typ, values))
            entries: list[Entry] = (
                fps  # type: ignore[assignment]
                if versions.count(1) == n
                else [fp if v == 1 else (fp, v) for fp, v in zip(fps, versions, strict=True)]
            )
            i = 0
            while i < n:  # times are sorted: one dict update per bucket
                bk = times[i] // BUCKET_NS
                j = bisect_left(times, (bk + 1) * BUCKET_NS, i)
                b = out.get(bk)
                if b is None:
                    b = out[bk] = {}
                b.update(zip(keys[i:j], entries[i:j], strict=True))
                i = j
    return out, total


def probe(cur: Any, ts: TableState, rows: list[Row]) -> dict[int, tuple[int, int]]:
    """(fingerprint, version) of stored rows matching these rows by key (one join)."""
    import pyarrow as pa

    dim_cols, value_cols, select = _columns(ts, "t.")
    known = set(dim_cols)
    rows = [r for r in rows if all(k in known for k, _ in r[0])]
    if not rows:
        return {}
    data: dict[str, Any] = {
        "measure_name": pa.array([r[2] for r in rows], pa.string()),
        "time": pa.array([r[3] for r in rows], pa.timestamp("ns")),
    }
    for c in dim_cols:
        data[c] = pa.array([dict(r[0]).get(c) for r in rows], pa.string())
    on = ["t.measure_name = p.measure_name", "t.time = p.time"]
    on += [f"t.{qi(c)} IS NOT DISTINCT FROM p.{qi(c)}" for c in dim_cols]
    cur.register("_tsload_probe", pa.table(data))
    try:
        found = cur.execute(
            f"SELECT {select}"
            f" FROM {_qt(ts)} t JOIN _tsload_probe p ON {' AND '.join(on)}"
            " WHERE t.time BETWEEN make_timestamp_ns(?) AND make_timestamp_ns(?)",
            [min(r[3] for r in rows), max(r[3] for r in rows)],
        ).fetchall()
    finally:
        cur.unregister("_tsload_probe")
    out: dict[int, tuple[int, int]] = {}
    for _, key, fp, ver in _entries(found, dim_cols, value_cols):
        prev = out.get(key)
        if prev is None or prev[1] < ver:
            out[key] = (fp, ver)
    return out


def load_series_ranges(cur: Any, ts: TableState) -> None:
    """Per dimension set, the time range stored (one aggregate scan at start)."""
    dims = [c for c, (role, _) in ts.columns.items() if role == "dimension"]
    cols = ", ".join(qi(c) for c in dims)
    group = f"GROUP BY {cols}" if dims else ""
    sel = f"{cols}, " if dims else ""
    cur.execute(f"SELECT {sel}min(epoch_ns(time)), max(epoch_ns(time)) FROM {_qt(ts)} {group}")
    nd = len(dims)
    while batch := cur.fetchmany(10_000):
        for rec in batch:
            if rec[nd] is None:
                continue
            dh = hash(frozenset((c, v) for c, v in zip(dims, rec[:nd], strict=True) if v is not None))
            ts.series_min[dh] = int(rec[nd])
            ts.series_max[dh] = int(rec[nd + 1])
