"""Parsing and validating a WriteRecords request (the engine's hot path).

`parse_write_request` turns the decoded JSON body into one `Row` tuple per record, with
CommonAttributes merged the way Timestream merges them: a record's own MeasureName, MeasureValue,
MeasureValueType, MeasureValues, Time, TimeUnit and Version override the common ones; dimensions
are the union of both lists, and a dimension named in both places is a ValidationException.

Anything wrong with the request's shape or a record's form fails the whole request with a
ValidationException (nothing is written). Limits that depend on stored data (retention window,
duplicates, table schema) are checked later, per record, and become RejectedRecords.

Two implementations of the same rules:
- `_parse_rows`, the reference: one record at a time, first problem wins (its message names the
  record). It decides every request the fast path does not accept.
- `_parse_columns`, the fast path: the requests tsload and the SDKs send have records of one
  shape (every record has the same keys), so it checks a request column by column (`map`,
  `set` of distinct names/types/units/versions, one `float`/`int` conversion pass, a sum for
  finiteness) and keeps the result columnar. It only *accepts*: anything unusual or wrong
  (mixed shapes, a bad value, a non-finite sum, a repeated name) makes it give up, and the
  reference parses the request again and finds the exact error. So both accept exactly the
  same requests and produce the same rows; tests/engine/test_records.py compares them on
  random requests.
The columnar result also carries the request's summary (time range, largest record, dimension
names, measure types) so that `TableState.apply` can check the table-dependent rules once per
request instead of once per record when nothing is rejected.

Rows are plain tuples (not objects) because this runs for every record at 100k+ records/s.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from itertools import chain, repeat
from operator import add, itemgetter
from typing import Any

from tsload.engine import limits
from tsload.engine.errors import ApiError, validation

# Row fields, by position (a tuple for speed):
#   0 dims: tuple[tuple[str, str], ...]   merged dimensions, common ones first
#   1 dims_hash: int                      hash of the dimension set (order-insensitive)
#   2 measure_name: str
#   3 time_ns: int
#   4 kind: str                           DOUBLE | BIGINT | VARCHAR | BOOLEAN | TIMESTAMP | MULTI
#   5 value: Any                          canonical value; for MULTI a tuple of (name, type, value)
#   6 version: int
#   7 nbytes: int                         approximate stored size (for the 2 KB record limit)
Row = tuple[tuple[tuple[str, str], ...], int, str, int, str, Any, int, int]
Dims = tuple[tuple[str, str], ...]

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class Summary:
    """What `TableState.apply` needs to check a whole request at once (fast path only)."""

    __slots__ = ("dim_names", "max_nbytes", "measure_names", "multi_types", "single_kinds", "tmax", "tmin")

    def __init__(
        self,
        tmin: int,
        tmax: int,
        max_nbytes: int,
        dim_names: frozenset[str] | set[str],
        single_kinds: set[str],
        multi_types: set[tuple[str, str]],
        measure_names: set[str],
    ) -> None:
        self.tmin = tmin
        self.tmax = tmax
        self.max_nbytes = max_nbytes
        self.dim_names = dim_names
        self.single_kinds = single_kinds
        self.multi_types = multi_types  # distinct (measure, type) pairs of MULTI records
        self.measure_names = measure_names


class ParsedWrite:
    """A parsed request: `rows` (one `Row` per record), built lazily from columns on the fast path."""

    __slots__ = (
        "_dims",
        "_dims_fn",
        "_rows",
        "_values",
        "common",
        "database",
        "hashes",
        "kinds",
        "n",
        "names",
        "nbytes",
        "summary",
        "table",
        "times",
        "versions",
    )
    # columns (set on the fast path only, with `summary`)
    _dims: list[Dims] | None
    _dims_fn: Callable[[], list[Dims]]
    hashes: Callable[[], list[int]]
    names: list[str]
    times: list[int]
    kinds: list[str]
    _values: Callable[[], list[Any]]
    versions: list[int]
    nbytes: list[int]

    def __init__(self, database: str, table: str, rows: list[Row]) -> None:
        self.database = database
        self.table = table
        self.n = len(rows)
        self._rows: list[Row] | None = rows
        self.summary: Summary | None = None
        self.common: tuple[Dims, int] | None = None

    @classmethod
    def columnar(
        cls,
        database: str,
        table: str,
        *,
        dims: Callable[[], list[Dims]],
        hashes: Callable[[], list[int]],
        names: list[str],
        times: list[int],
        kinds: list[str],
        values: Callable[[], list[Any]],
        versions: list[int],
        nbytes: list[int],
        summary: Summary,
        common: tuple[Dims, int] | None = None,
    ) -> ParsedWrite:
        """`common`: (dimensions, their hash) when every record has exactly those (one series)."""
        self = cls.__new__(cls)
        self.common = common
        self.database = database
        self.table = table
        self.n = len(times)
        self._rows = None
        self._dims = None
        self._dims_fn = dims
        self.hashes = hashes
        self.names = names
        self.times = times
        self.kinds = kinds
        self._values = values
        self.versions = versions
        self.nbytes = nbytes
        self.summary = summary
        return self

    def values(self) -> list[Any]:
        """Canonical values per record (fast path)."""
        return self._values()

    @property
    def dims(self) -> list[Dims]:
        """Merged dimensions per record (fast path; built on first use: --discard never needs them)."""
        if self._dims is None:
            self._dims = self._dims_fn()
        return self._dims

    @property
    def rows(self) -> list[Row]:
        if self._rows is None:
            self._rows = list(
                zip(
                    self.dims,
                    self.hashes(),
                    self.names,
                    self.times,
                    self.kinds,
                    self._values(),
                    self.versions,
                    self.nbytes,
                    strict=True,
                )
            )
        return self._rows


# Names that already passed `_check_name`, per length limit: names repeat in every request, and
# checking each one again was most of the cost of parsing a MULTI record. Bounded by clearing.
_VALID: dict[int, set[str]] = {}
_VALID_MAX = 100_000


def _check_name(name: Any, what: str, max_bytes: int) -> str:
    if type(name) is not str:
        raise validation(f"{what} must be a non-empty string")
    ok = _VALID.get(max_bytes)
    if ok is not None and name in ok:
        return name
    _check_name_slow(name, what, max_bytes)
    if ok is None or len(ok) >= _VALID_MAX:
        ok = _VALID[max_bytes] = set()
    ok.add(name)
    return name


def _name_ok(name: Any, max_bytes: int) -> bool:
    """`_check_name` without raising (the fast path gives up instead)."""
    if type(name) is not str:
        return False
    ok = _VALID.get(max_bytes)
    if ok is not None and name in ok:
        return True
    try:
        _check_name(name, "", max_bytes)
    except ApiError:
        return False
    return True


def _check_name_slow(name: Any, what: str, max_bytes: int) -> None:
    if not isinstance(name, str) or not name:
        raise validation(f"{what} must be a non-empty string")
    if len(name.encode()) > max_bytes:
        raise validation(f"{what} '{name[:64]}' exceeds the maximum length of {max_bytes} bytes")
    low = name.lower()
    if low in limits.RESERVED_NAMES or low.startswith(limits.RESERVED_PREFIXES) or ":" in name:
        raise validation(f"{what} '{name}' is reserved or contains ':'")
    if low == limits.VERSION_COLUMN:
        raise validation(f"{what} '{name}' is reserved by the local engine")


def _parse_dimensions(dims: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(dims, list):
        raise validation(f"{where}.Dimensions must be a list")
    if len(dims) > limits.MAX_DIMENSIONS_PER_RECORD:
        raise validation(
            f"{where} has {len(dims)} dimensions; the maximum is {limits.MAX_DIMENSIONS_PER_RECORD}"
        )
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for d in dims:
        if not isinstance(d, dict):
            raise validation(f"{where}.Dimensions entries must be objects")
        name = _check_name(d.get("Name"), "Dimension name", limits.MAX_DIMENSION_NAME_BYTES)
        value = d.get("Value")
        if not isinstance(value, str):
            raise validation(f"Dimension '{name}' must have a string Value")
        dvt = d.get("DimensionValueType", "VARCHAR")
        if dvt != "VARCHAR":
            raise validation(f"Dimension '{name}': DimensionValueType must be VARCHAR, got {dvt!r}")
        if name in seen:
            raise validation(f"Dimension '{name}' appears more than once in {where}")
        seen.add(name)
        out.append((name, value))
    return out


def _canonical(kind: str, raw: Any, unit_ns: int, what: str) -> Any:
    """The stored value of one measure (raises ValidationException for a malformed one)."""
    if not isinstance(raw, str) or not raw:
        raise validation(f"{what}: MeasureValue must be a non-empty string")
    try:
        if kind == "DOUBLE":
            v = float(raw)
            if not math.isfinite(v):
                raise ValueError
            return v
        if kind == "BIGINT":
            i = int(raw)
            if not _INT64_MIN <= i <= _INT64_MAX:
                raise ValueError
            return i
        if kind == "VARCHAR":
            if len(raw.encode()) > limits.MAX_MEASURE_VALUE_BYTES:
                raise validation(
                    f"{what}: VARCHAR measure value exceeds {limits.MAX_MEASURE_VALUE_BYTES} bytes"
                )
            return raw
        if kind == "BOOLEAN":
            low = raw.lower()
            if low not in ("true", "false"):
                raise ValueError
            return low == "true"
        if kind == "TIMESTAMP":
            return int(raw) * unit_ns
    except ValueError:
        raise validation(f"{what}: MeasureValue {raw[:64]!r} is not a valid {kind}") from None
    raise validation(f"{what}: MeasureValueType must be one of {', '.join((*limits.MEASURE_TYPES, 'MULTI'))}")


def _parse_multi(values: Any, unit_ns: int, what: str) -> tuple[tuple[str, str, Any], ...]:
    if not isinstance(values, list) or not values:
        raise validation(f"{what}: a MULTI record needs a non-empty MeasureValues list")
    if len(values) > limits.MAX_MEASURES_PER_MULTI_RECORD:
        raise validation(
            f"{what}: {len(values)} measure values; the maximum per record is "
            f"{limits.MAX_MEASURES_PER_MULTI_RECORD}"
        )
    out: list[tuple[str, str, Any]] = []
    seen: set[str] = set()
    for mv in values:
        if not isinstance(mv, dict):
            raise validation(f"{what}: MeasureValues entries must be objects")
        name = _check_name(mv.get("Name"), "Measure name", limits.MAX_MEASURE_NAME_BYTES)
        typ = mv.get("Type")
        raw = mv.get("Value")
        if name in seen:
            raise validation(f"{what}: measure '{name}' appears more than once")
        seen.add(name)
        if typ == "DOUBLE" and type(raw) is str:
            try:
                v: Any = float(raw)
            except ValueError:
                v = math.nan
            if v != v or v in (math.inf, -math.inf):
                raise validation(f"{what} measure '{name}': MeasureValue {raw[:64]!r} is not a valid DOUBLE")
        elif typ not in limits.MEASURE_TYPES:
            raise validation(f"{what}: measure '{name}' has invalid Type {typ!r}")
        else:
            v = _canonical(typ, raw, unit_ns, f"{what} measure '{name}'")
        out.append((name, typ, v))
    out.sort()
    return tuple(out)


class _Common:
    """CommonAttributes, parsed once per request."""

    __slots__ = ("dims", "dims_bytes", "hash", "mn", "mv", "mvs", "mvt", "names", "time", "unit", "ver")

    mn: Any
    mv: Any
    mvt: Any
    mvs: Any
    time: Any
    unit: Any
    ver: Any

    def __init__(self, common: dict[str, Any]) -> None:
        c_dims = _parse_dimensions(common["Dimensions"], "CommonAttributes") if "Dimensions" in common else []
        self.names = frozenset(n for n, _ in c_dims)
        self.dims: Dims = tuple(c_dims)
        self.hash = hash(frozenset(c_dims))
        self.dims_bytes = sum(len(n) + len(v.encode()) for n, v in c_dims)
        self.mn = common.get("MeasureName")
        self.mv = common.get("MeasureValue")
        self.mvt = common.get("MeasureValueType")
        self.mvs = common.get("MeasureValues")
        self.time = common.get("Time")
        self.unit = common.get("TimeUnit", "MILLISECONDS")
        self.ver = common.get("Version")


def parse_write_request(body: Any, *, fast: bool = True) -> ParsedWrite:
    """Parse and validate a WriteRecords body; `fast=False` runs the reference parser alone."""
    if not isinstance(body, dict):
        raise ApiError("SerializationException", "The request body must be a JSON object")
    database = body.get("DatabaseName")
    table = body.get("TableName")
    if not isinstance(database, str) or not database:
        raise validation("DatabaseName is required")
    if not isinstance(table, str) or not table:
        raise validation("TableName is required")
    records = body.get("Records")
    if not isinstance(records, list) or not records:
        raise validation("Records must be a non-empty list")
    if len(records) > limits.MAX_RECORDS_PER_REQUEST:
        raise validation(
            f"1 validation error detected: Value at 'records' failed to satisfy constraint: "
            f"Member must have length less than or equal to {limits.MAX_RECORDS_PER_REQUEST}"
        )
    common = body.get("CommonAttributes") or {}
    if not isinstance(common, dict):
        raise validation("CommonAttributes must be an object")
    c = _Common(common)
    if fast:
        parsed = _parse_columns(database, table, records, c)
        if parsed is not None:
            return parsed
    return ParsedWrite(database, table, _parse_rows(records, c))


def _parse_rows(records: list[Any], c: _Common) -> list[Row]:
    """The reference: one record at a time; the first problem raises, naming its record."""
    c_names = c.names
    c_key = c.dims
    c_hash = c.hash
    c_dims_bytes = c.dims_bytes
    c_mn, c_mv, c_mvt, c_mvs, c_time, c_unit, c_ver = c.mn, c.mv, c.mvt, c.mvs, c.time, c.unit, c.ver

    rows: list[Row] = []
    append = rows.append
    time_units = limits.TIME_UNIT_NS
    checked_mn: set[str] = set()
    for i, rec in enumerate(records):
        if type(rec) is not dict:
            raise validation(f"Records[{i}] must be an object")
        r_dims = rec.get("Dimensions")
        if r_dims:
            what = f"Records[{i}]"
            extra = _parse_dimensions(r_dims, what)
            for n, _ in extra:
                if n in c_names:
                    raise validation(
                        f"{what}: dimension '{n}' is present in both the record and CommonAttributes"
                    )
            dims = c_key + tuple(extra)
            dims_hash = hash(frozenset(dims))
            dims_bytes = c_dims_bytes + sum(len(n) + len(v.encode()) for n, v in extra)
            if len(dims) > limits.MAX_DIMENSIONS_PER_RECORD:
                raise validation(f"{what} has more than {limits.MAX_DIMENSIONS_PER_RECORD} dimensions")
        else:
            dims, dims_hash, dims_bytes = c_key, c_hash, c_dims_bytes

        mn = rec.get("MeasureName", c_mn)
        if type(mn) is not str or mn not in checked_mn:
            if mn is None:
                raise validation(f"Records[{i}]: MeasureName is required")
            _check_name(mn, "MeasureName", limits.MAX_MEASURE_NAME_BYTES)
            checked_mn.add(mn)

        unit = rec.get("TimeUnit", c_unit)
        unit_ns = time_units.get(unit) if isinstance(unit, str) else None
        if unit_ns is None:
            raise validation(f"Records[{i}]: TimeUnit must be one of {', '.join(time_units)}, got {unit!r}")
        t_raw = rec.get("Time", c_time)
        if t_raw is None:
            raise validation(f"Records[{i}]: Time is required")
        try:
            t = int(t_raw) * unit_ns
        except (TypeError, ValueError):
            raise validation(f"Records[{i}]: Time {t_raw!r} is not an integer") from None

        ver = rec.get("Version", c_ver)
        if ver is None:
            ver = 1
        elif type(ver) is not int or ver < 1:
            raise validation(f"Records[{i}]: Version must be an integer >= 1, got {ver!r}")

        kind = rec.get("MeasureValueType", c_mvt)
        if kind == "MULTI":
            mvs = rec.get("MeasureValues", c_mvs)
            if "MeasureValue" in rec:
                raise validation(f"Records[{i}]: a MULTI record takes MeasureValues, not MeasureValue")
            value: Any = _parse_multi(mvs, unit_ns, f"Records[{i}]")
            nbytes = (
                dims_bytes
                + len(mn)
                + 8
                + sum(len(n) + (len(v.encode()) if type(v) is str else 8) for n, _, v in value)
            )
        else:
            if kind is None:
                kind = "DOUBLE"  # Timestream's default MeasureValueType
            if "MeasureValues" in rec:
                raise validation(f"Records[{i}]: MeasureValues requires MeasureValueType MULTI")
            raw = rec.get("MeasureValue", c_mv)
            if kind == "DOUBLE" and type(raw) is str:
                # inline fast path for the common case
                try:
                    value = float(raw)
                except ValueError:
                    raise validation(
                        f"Records[{i}]: MeasureValue {raw[:64]!r} is not a valid DOUBLE"
                    ) from None
                if value != value or value in (math.inf, -math.inf):
                    raise validation(f"Records[{i}]: MeasureValue {raw[:64]!r} is not a valid DOUBLE")
            else:
                value = _canonical(kind, raw, unit_ns, f"Records[{i}]")
            nbytes = dims_bytes + len(mn) + 16 + (len(value) if kind == "VARCHAR" else 0)
        append((dims, dims_hash, mn, t, kind, value, ver, nbytes))
    return rows


# ---- the fast path ---------------------------------------------------------------------------------
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


class _GiveUp(Exception):
    """The fast path does not handle this request; the reference parser decides it."""


def _distinct(values: list[Any] | None, scalar: Any) -> set[Any]:
    if values is None:
        return {scalar}
    try:
        return set(values)
    except TypeError:  # unhashable (a list or an object where a name belongs)
        raise _GiveUp from None


def _parse_columns(database: str, table: str, records: list[Any], c: _Common) -> ParsedWrite | None:
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
    for mn in measure_names:
        if not _name_ok(mn, limits.MAX_MEASURE_NAME_BYTES):
            raise _GiveUp
    names: list[str] = mn_col if mn_col is not None else [c.mn] * n

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

    # nbytes = dimensions + measure name + fixed part + variable-length values
    if dims_bytes is None:
        fixed = c.dims_bytes + base
        nbytes = [fixed + len(c.mn)] * n if mn_col is None else list(map(fixed.__add__, map(len, names)))
    else:
        nbytes = list(map(add, map(base.__add__, dims_bytes), map(len, names)))
    if sizes is not None:
        nbytes = list(map(add, nbytes, sizes))

    summary = Summary(
        min(times), max(times), max(nbytes), dim_names, single_kinds, multi_types, measure_names
    )
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
    for name in names:
        if not _name_ok(name, limits.MAX_DIMENSION_NAME_BYTES) or name in c.names:
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


def _floats(raw: list[str]) -> Values:
    done: list[list[float]] = []

    def values() -> list[Any]:
        if not done:
            done.append(list(map(float, raw)))
        return done[0]

    return values


def _convert_one(kind: str, raw: list[Any], unit_ns: int) -> Values:
    joined = ",".join(raw)  # TypeError (-> the reference) unless every value is a string
    values: list[Any]
    if kind == "DOUBLE":
        if joined.count(",") == len(raw) - 1 and _DECIMALS.fullmatch(joined) is not None:
            return _floats(raw)
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
    for name in distinct_names:
        if not _name_ok(name, limits.MAX_MEASURE_NAME_BYTES):
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
