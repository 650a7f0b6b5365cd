"""The fast path of `parse_write_request`: a request checked column by column.

It only *accepts* (see `records`' docstring): anything unusual or wrong makes it give up, and the
reference parser (`records._parse_rows`) decides the request. tests/engine/test_records.py and
test_records_fast.py compare the two on random requests.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from itertools import chain, repeat
from operator import add, itemgetter
from typing import Any

from tsload.engine import limits
from tsload.engine.doubles import DoubleText
from tsload.engine.errors import ApiError
from tsload.engine.records import _INT64_MAX, _INT64_MIN, Dims, ParsedWrite, Summary, _Common, _names_ok

_GETTERS: dict[str, Callable[[Any], Any]] = {}
# The record fields the rules read (the fast path reads each one present in the first record).
_RECORD_KEYS = frozenset(
    (
        "Dimensions",
        "MeasureName",
        "MeasureValue",
        "MeasureValueType",
        "MeasureValues",
        "Time",
        "TimeUnit",
        "Version",
    )
)


def _column(records: list[Any], key: str) -> list[Any]:
    """records[i][key] for all i (KeyError when one lacks it)."""
    g = _GETTERS.get(key)
    if g is None:
        g = _GETTERS[key] = itemgetter(key)
    return list(map(g, records))


def _chunks(flat: list[Any], lens: list[int]) -> list[tuple[Any, ...]]:
    """flat cut into consecutive tuples of lens[i] items."""
    k = lens[0]
    if lens.count(k) == len(lens):
        return list(zip(*[iter(flat)] * k, strict=False))
    out = []
    pos = 0
    for n in lens:
        out.append(tuple(flat[pos : pos + n]))
        pos += n
    return out


# One str object per distinct measure name, shared by every record that names it. The decoder
# makes a new str per record, and accepted records keep theirs while buffered and in the
# duplicate index: 58 bytes each, the largest part of a buffered record. Bounded by clearing.
_NAMES: dict[str, str] = {}
_NAMES_MAX = 100_000


def _shared_names(mn_col: list[str], distinct: set[str]) -> list[str]:
    if not _NAMES.keys() >= distinct:
        if len(_NAMES) + len(distinct) > _NAMES_MAX:
            _NAMES.clear()
        for name in distinct:
            _NAMES.setdefault(name, name)
    return list(map(_NAMES.__getitem__, mn_col))


class _GiveUp(Exception):
    """The fast path does not handle this request; the reference parser decides it."""


def _distinct(values: list[Any] | None, scalar: Any) -> set[Any]:
    if values is None:
        return {scalar}
    try:
        return set(values)
    except TypeError:  # unhashable (a list or an object where a name belongs)
        raise _GiveUp from None


def parse_columns(database: str, table: str, records: list[Any], c: _Common) -> ParsedWrite | None:
    try:
        return _columns(database, table, records, c)
    except (_GiveUp, ApiError, KeyError, TypeError, ValueError, OverflowError, AttributeError):
        return None


def _columns(database: str, table: str, records: list[Any], c: _Common) -> ParsedWrite:
    n = len(records)
    r0 = records[0]
    if type(r0) is not dict:
        raise _GiveUp
    keys = r0.keys()
    nk = len(keys)
    # One shape: every record a dict with exactly the keys of the first. With equal sizes it is
    # enough that every record has each of those keys: the known ones are all read below (a
    # missing one raises KeyError), the others (ignored by the rules) are looked up here.
    if set(map(type, records)) != {dict} or set(map(len, records)) != {nk}:
        raise _GiveUp
    for key in keys - _RECORD_KEYS:
        _column(records, key)

    def col(key: str) -> list[Any] | None:
        return _column(records, key) if key in keys else None

    # MeasureName
    mn_col = col("MeasureName")
    measure_names = _distinct(mn_col, c.mn)
    if not _names_ok(measure_names, limits.MAX_MEASURE_NAME_BYTES):
        raise _GiveUp
    names: list[str] = _shared_names(mn_col, measure_names) if mn_col is not None else [c.mn] * n

    # TimeUnit (one per request here), Time
    units = _distinct(col("TimeUnit"), c.unit)
    if len(units) != 1:
        raise _GiveUp
    (unit,) = units
    unit_ns = limits.TIME_UNIT_NS.get(unit) if isinstance(unit, str) else None
    if unit_ns is None:
        raise _GiveUp
    t_col = col("Time")
    if t_col is None:
        if c.time is None:
            raise _GiveUp
        times = [int(c.time) * unit_ns] * n
    else:
        # Records of one emission share a time: convert each distinct text once.
        try:
            distinct_t = set(t_col)
        except TypeError:
            raise _GiveUp from None
        if None in distinct_t:
            raise _GiveUp
        if len(distinct_t) * 4 <= n:
            conv = {raw: int(raw) * unit_ns for raw in distinct_t}
            times = list(map(conv.__getitem__, t_col))
        else:
            times = list(map(int, t_col))
            if unit_ns != 1:
                times = [t * unit_ns for t in times]

    # Version
    v_col = col("Version")
    vers = _distinct(v_col, c.ver)
    for ver in vers:
        if ver is not None and (type(ver) is not int or ver < 1):
            raise _GiveUp
    if len(vers) == 1:
        (ver,) = vers
        versions = [1 if ver is None else ver] * n
    else:
        assert v_col is not None
        versions = [1 if v is None else v for v in v_col]

    # Dimensions
    d_col = col("Dimensions")
    dims_bytes: list[int] | None = None
    dim_names: frozenset[str] | set[str] = c.names
    common = (c.dims, c.hash) if d_col is None and c.dims else None
    if d_col is None:

        def dims() -> list[Dims]:
            return [c.dims] * n

        def hashes() -> list[int]:
            return [c.hash] * n

    else:
        dims, hashes, dims_bytes, dim_names = _record_dimensions(d_col, c)

    # Measure values
    sizes: list[int] | None
    kinds_set = _distinct(col("MeasureValueType"), c.mvt)
    if "MULTI" in kinds_set:
        if len(kinds_set) != 1 or "MeasureValue" in keys:
            raise _GiveUp
        kinds = ["MULTI"] * n
        values, sizes, multi_types = _multi_columns(col("MeasureValues"), c.mvs, n, unit_ns)
        base = 8
        single_kinds: set[str] = set()
    else:
        if "MeasureValues" in keys:
            raise _GiveUp
        if None in kinds_set:
            kinds_set.discard(None)
            kinds_set.add("DOUBLE")
        k_col = col("MeasureValueType")
        if k_col is None or len(kinds_set) == 1:
            kinds = [next(iter(kinds_set))] * n
        else:
            kinds = ["DOUBLE" if k is None else k for k in k_col]
        values, sizes = _single_values(col("MeasureValue"), c.mv, kinds, kinds_set, n, unit_ns)
        multi_types = set()
        single_kinds = kinds_set
        base = 16

    # nbytes = dimensions + measure name + fixed part + variable-length values. With common
    # dimensions and fixed-size values a record's size depends on its measure name only: the
    # largest is known from the distinct names, and the list is built only if rows are needed.
    nbytes: Callable[[], list[int]]
    if dims_bytes is None and sizes is None:
        fixed = c.dims_bytes + base
        by_name = {m: fixed + len(m) for m in measure_names}
        max_nbytes = max(by_name.values())
        if mn_col is None:

            def nbytes() -> list[int]:
                return [max_nbytes] * n

        else:

            def nbytes() -> list[int]:
                return list(map(by_name.__getitem__, names))

    else:
        if dims_bytes is None:
            fixed = c.dims_bytes + base
            sized = [fixed + len(c.mn)] * n if mn_col is None else list(map(fixed.__add__, map(len, names)))
        else:
            sized = list(map(add, map(base.__add__, dims_bytes), map(len, names)))
        if sizes is not None:
            sized = list(map(add, sized, sizes))
        max_nbytes = max(sized)

        def nbytes() -> list[int]:
            return sized

    summary = Summary(min(times), max(times), max_nbytes, dim_names, single_kinds, multi_types, measure_names)
    parsed = ParsedWrite.columnar(
        database,
        table,
        dims=dims,
        hashes=hashes,
        names=names,
        times=times,
        kinds=kinds,
        values=values,
        versions=versions,
        nbytes=nbytes,
        summary=summary,
        common=common,
    )
    return parsed


def _record_dimensions(
    d_col: list[Any], c: _Common
) -> tuple[Callable[[], list[Dims]], Callable[[], list[int]], list[int], set[str]]:
    """Per-record Dimensions lists (each non-empty), merged after the common ones: the merged
    tuples and their hashes (built only when rows are needed), the dimension bytes per record,
    the names."""
    if set(map(type, d_col)) != {list}:
        raise _GiveUp  # also the falsy values the reference treats as "no dimensions"
    # Consecutive records of one series carry equal lists (a host's emissions, the sample's 20
    # measures of a host): check each run once. Equal lists of dicts validate alike (a string
    # never equals a non-string), so the outcome is the reference's.
    reps: list[list[Any]] = []
    which: list[int] = []
    prev: Any = None
    for lst in d_col:
        if lst is not prev and lst != prev:
            reps.append(lst)
            prev = lst
        which.append(len(reps) - 1)
    lens = list(map(len, reps))
    if min(lens) == 0 or max(lens) + len(c.dims) > limits.MAX_DIMENSIONS_PER_RECORD:
        raise _GiveUp
    # One pass of a builtin per check, no Python-level loop per dimension. A non-object entry
    # or one without Name/Value makes a getter raise (the reference then names the problem).
    flat = list(chain.from_iterable(reps))
    if set(map(dict.get, flat, repeat(_DVT), repeat("VARCHAR"))) != {"VARCHAR"}:
        raise _GiveUp
    dn = _column(flat, "Name")
    dv = _column(flat, "Value")
    names = _distinct(dn, None)
    if not _names_ok(names, limits.MAX_DIMENSION_NAME_BYTES) or not names.isdisjoint(c.names):
        raise _GiveUp
    joined = "".join(dv)  # TypeError (-> reference) unless every value is a string
    # no name twice in one record
    name_tuples = _chunks(dn, lens)
    name_bytes = {}
    for t in set(name_tuples):
        if len(set(t)) != len(t):
            raise _GiveUp
        name_bytes[t] = sum(map(len, t))
    value_lens = map(len, dv) if joined.isascii() else map(len, map(str.encode, dv))
    rep_bytes = list(
        map(add, map(name_bytes.__getitem__, name_tuples), map(sum, _chunks(list(value_lens), lens)))
    )
    if c.dims_bytes:
        rep_bytes = list(map(c.dims_bytes.__add__, rep_bytes))
    dims_bytes = rep_bytes if len(reps) == len(d_col) else list(map(rep_bytes.__getitem__, which))
    rep_dims: list[list[Dims]] = []

    def merged() -> list[Dims]:
        if not rep_dims:
            pairs = _chunks(list(zip(dn, dv, strict=True)), lens)
            rep_dims.append(list(map(add, repeat(c.dims), pairs)) if c.dims else pairs)
        return rep_dims[0]

    def dims() -> list[Dims]:
        return list(map(merged().__getitem__, which))

    def hashes() -> list[int]:
        rep_hashes = [hash(frozenset(d)) for d in merged()]
        return list(map(rep_hashes.__getitem__, which))

    return dims, hashes, dims_bytes, names | c.names


_DVT = "DimensionValueType"
_KIND_OK = frozenset(limits.MEASURE_TYPES)


Values = Callable[[], list[Any]]

# Plain decimals ("-12.5", "0.000001"), comma-separated: each is a finite double (at most 300
# integer digits), so `float` would accept it. Checking a whole request's values with one match
# costs about half of converting them, and --discard never needs the floats themselves.
# Possessive quantifiers (the grammar never needs to backtrack) make the match twice as fast.
_DECIMALS = re.compile(r"(?:-?+[0-9]{1,300}+(?:\.[0-9]{1,300}+)?+,)*+-?+[0-9]{1,300}+(?:\.[0-9]{1,300}+)?+")


def _convert(types: list[Any], tset: set[Any], raw: list[Any], unit_ns: int) -> Values:
    """Canonical values of raw[i] as types[i] (the rules of `_canonical`), one vectorised pass per
    type present; validated now, returned as a function (doubles are converted on first use)."""
    if not tset <= _KIND_OK:
        raise _GiveUp
    if len(tset) == 1:
        return _convert_one(next(iter(tset)), raw, unit_ns)
    groups: dict[str, list[int]] = {t: [] for t in tset}
    for i, t in enumerate(types):
        groups[t].append(i)
    out: list[Any] = [None] * len(raw)
    for t, idx in groups.items():
        for i, v in zip(idx, _convert_one(t, list(map(raw.__getitem__, idx)), unit_ns)(), strict=True):
            out[i] = v
    return lambda: out


def _convert_one(kind: str, raw: list[Any], unit_ns: int) -> Values:
    joined = ",".join(raw)  # TypeError (-> the reference) unless every value is a string
    values: list[Any]
    if kind == "DOUBLE":
        if joined.count(",") == len(raw) - 1 and _DECIMALS.fullmatch(joined) is not None:
            return DoubleText(joined, len(raw))
        values = list(map(float, raw))
        s = sum(values)
        if s - s != 0:  # NaN or an infinity among them (or an overflowing sum: the reference decides)
            raise _GiveUp
    elif kind == "BIGINT":
        values = list(map(int, raw))
        if min(values) < _INT64_MIN or max(values) > _INT64_MAX:
            raise _GiveUp
    elif kind == "VARCHAR":
        lens = list(map(len, raw)) if joined.isascii() else list(map(len, map(str.encode, raw)))
        if min(lens) == 0 or max(lens) > limits.MAX_MEASURE_VALUE_BYTES:
            raise _GiveUp
        values = raw
    elif kind == "BOOLEAN":
        lows = list(map(str.lower, raw))
        if not set(lows) <= {"true", "false"}:
            raise _GiveUp
        values = list(map("true".__eq__, lows))
    elif kind == "TIMESTAMP":  # in the record's time unit
        values = list(map(unit_ns.__mul__, map(int, raw)))
    else:
        raise _GiveUp  # not a type: the reference names it
    return lambda: values


def _single_values(
    v_col: list[Any] | None, scalar: Any, kinds: list[str], kinds_set: set[str], n: int, unit_ns: int
) -> tuple[Values, list[int] | None]:
    """Canonical values of single-measure records, and the VARCHAR lengths (None: no VARCHAR)."""
    raw = v_col if v_col is not None else [scalar] * n
    values = _convert(kinds, kinds_set, raw, unit_ns)
    if "VARCHAR" in kinds_set:
        return values, [len(v) if k == "VARCHAR" else 0 for k, v in zip(kinds, values(), strict=True)]
    return values, None


def _multi_columns(
    m_col: list[Any] | None, scalar: Any, n: int, unit_ns: int
) -> tuple[Callable[[], list[Any]], list[int], set[tuple[str, str]]]:
    """MULTI records: lazily built value tuples, the measures' sizes per record, (name, type) pairs."""
    lists = m_col if m_col is not None else [scalar] * n
    if set(map(type, lists)) != {list}:
        raise _GiveUp
    lens = list(map(len, lists))
    if min(lens) == 0 or max(lens) > limits.MAX_MEASURES_PER_MULTI_RECORD:
        raise _GiveUp
    # Getters raise (-> the reference) on a non-object entry or one without Name/Type/Value.
    flat = list(chain.from_iterable(lists))
    mnames = _column(flat, "Name")
    mtypes = _column(flat, "Type")
    mraw = _column(flat, "Value")
    types = _distinct(mtypes, None)
    # Records usually list the same names: check each distinct tuple of names once.
    name_tuples = _chunks(mnames, lens)
    try:
        distinct_tuples = set(name_tuples)
    except TypeError:  # an unhashable name
        raise _GiveUp from None
    fixed_bytes = {}
    distinct_names: set[str] = set()
    for t in distinct_tuples:
        if len(set(t)) != len(t):
            raise _GiveUp
        distinct_names.update(t)
    if not _names_ok(distinct_names, limits.MAX_MEASURE_NAME_BYTES):
        raise _GiveUp
    for t in distinct_tuples:
        fixed_bytes[t] = sum(map(len, t)) + 8 * len(t)
    sizes = list(map(fixed_bytes.__getitem__, name_tuples))
    if not types <= _KIND_OK:
        raise _GiveUp
    type_tuples = set(_chunks(mtypes, lens)) if len(types) > 1 else set()
    if len(type_tuples) == 1:
        # Every record lists its types in the same order (tsload's events, most SDK users): one
        # vectorised conversion per position, no per-measure Python loop.
        (tt,) = type_tuples
        k = len(tt)
        by_pos = [_convert_one(tt[j], mraw[j::k], unit_ns) for j in range(k)]
        for j, typ in enumerate(tt):
            if typ == "VARCHAR":  # record size: a VARCHAR value's UTF-8 length instead of 8 bytes
                extra = map(len, map(str.encode, by_pos[j]()))
                sizes = list(map(add, sizes, map((-8).__add__, extra)))

        def mvals_fn() -> list[Any]:
            out: list[Any] = [None] * len(mraw)
            for j in range(k):
                out[j::k] = by_pos[j]()
            return out

    else:
        mvals_fn = _convert(mtypes, types, mraw, unit_ns)
        # record size: names + 8 bytes per value, a VARCHAR value its UTF-8 length instead
        if "VARCHAR" in types:
            owner = list(chain.from_iterable(map(repeat, range(n), lens)))
            for i, (typ, v) in enumerate(zip(mtypes, mvals_fn(), strict=True)):
                if typ == "VARCHAR":
                    sizes[owner[i]] += len(v.encode()) - 8
    if len(types) == 1:
        typ = next(iter(types))
        pairs = {(name, typ) for name in distinct_names}
    else:
        pairs = set(zip(mnames, mtypes, strict=True))

    def values() -> list[Any]:
        mvals = mvals_fn()
        out = []
        pos = 0
        for k in lens:
            end = pos + k
            out.append(tuple(sorted(zip(mnames[pos:end], mtypes[pos:end], mvals[pos:end], strict=True))))
            pos = end
        return out

    return values, sizes, pairs
