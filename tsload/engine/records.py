"""Parsing and validating a WriteRecords request (the engine's hot path).

`parse_write_request` turns the decoded JSON body into one `Row` tuple per record, with
CommonAttributes merged the way Timestream merges them: a record's own MeasureName, MeasureValue,
MeasureValueType, MeasureValues, Time, TimeUnit and Version override the common ones; dimensions
are the union of both lists, and a dimension named in both places is a ValidationException.

Anything wrong with the request's shape or a record's form fails the whole request with a
ValidationException (nothing is written). Limits that depend on stored data (retention window,
duplicates, table schema) are checked later, per record, and become RejectedRecords.

Two implementations of the same rules:
- `_parse_rows` (here), the reference: one record at a time, first problem wins (its message names the
  record). It decides every request the fast path does not accept.
- `records_fast.parse_columns`, the fast path: the requests tsload and the SDKs send have records of one
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
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from tsload.engine import limits
from tsload.engine.doubles import DoubleText
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
        "_nbytes",
        "_rows",
        "_values",
        "common",
        "database",
        "hashes",
        "kinds",
        "n",
        "names",
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
    _nbytes: Callable[[], list[int]]

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
        nbytes: Callable[[], list[int]],
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
        self._nbytes = nbytes
        self.summary = summary
        return self

    def values(self) -> list[Any]:
        """Canonical values per record (fast path)."""
        return self._values()

    def value_column(self) -> list[Any] | DoubleText:
        """`values()`, or DOUBLE values still as their text (converted only where needed)."""
        return self._values if isinstance(self._values, DoubleText) else self._values()

    @property
    def nbytes(self) -> list[int]:
        """Approximate stored size per record (fast path; built on first use)."""
        return self._nbytes()

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


def _names_ok(names: set[Any], max_bytes: int) -> bool:
    """`_name_ok` for each of `names` (names seen before: one subset test)."""
    known = _VALID.get(max_bytes)
    if known is not None and names <= known:
        return True
    return all(_name_ok(name, max_bytes) for name in names)


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


def _named(entries: list[Any], what: str, kind: str, max_bytes: int) -> Iterator[tuple[dict[str, Any], str]]:
    """Each entry of a Dimensions or MeasureValues list, with its checked Name."""
    for entry in entries:
        if not isinstance(entry, dict):
            raise validation(f"{what} entries must be objects")
        yield entry, _check_name(entry.get("Name"), kind, max_bytes)


def _parse_dimensions(dims: Any, where: str) -> list[tuple[str, str]]:
    if not isinstance(dims, list):
        raise validation(f"{where}.Dimensions must be a list")
    if len(dims) > limits.MAX_DIMENSIONS_PER_RECORD:
        raise validation(
            f"{where} has {len(dims)} dimensions; the maximum is {limits.MAX_DIMENSIONS_PER_RECORD}"
        )
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    for d, name in _named(dims, f"{where}.Dimensions", "Dimension name", limits.MAX_DIMENSION_NAME_BYTES):
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
    for mv, name in _named(values, f"{what}: MeasureValues", "Measure name", limits.MAX_MEASURE_NAME_BYTES):
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


def dimension_bytes(dims: Iterable[tuple[str, str]]) -> int:
    """The stored size of dimensions: names plus UTF-8 values (part of a record's size)."""
    return sum(len(n) + len(v.encode()) for n, v in dims)


CommonDims = tuple[Dims, frozenset[str], int, int]  # dims, names, hash of the set, bytes
_NO_DIMENSIONS: CommonDims = ((), frozenset(), hash(frozenset()), 0)
# CommonAttributes.Dimensions already validated, by their entries' items: a series' requests
# repeat its dimensions, and validating 8 entries again cost a fifth of parsing a 100-record
# request. An equal list validates alike (JSON gives no non-string equal to a string).
_COMMON_DIMS: dict[Any, CommonDims] = {}
_COMMON_DIMS_MAX = 100_000


def _common_dimensions(raw: Any) -> CommonDims:
    try:
        key: Any = tuple(tuple(d.items()) for d in raw)
        hit = _COMMON_DIMS.get(key)
    except (AttributeError, TypeError):  # not a list of objects, or an unhashable value
        key = hit = None
    if hit is not None:
        return hit
    dims = tuple(_parse_dimensions(raw, "CommonAttributes"))
    out = (
        dims,
        frozenset(n for n, _ in dims),
        hash(frozenset(dims)),
        dimension_bytes(dims),
    )
    if key is not None:
        if len(_COMMON_DIMS) >= _COMMON_DIMS_MAX:
            _COMMON_DIMS.clear()
        _COMMON_DIMS[key] = out
    return out


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
        self.dims, self.names, self.hash, self.dims_bytes = (
            _common_dimensions(common["Dimensions"]) if "Dimensions" in common else _NO_DIMENSIONS
        )
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
        # imported here: records_fast builds on this module's types and checks
        from tsload.engine.records_fast import parse_columns

        parsed = parse_columns(database, table, records, c)
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
            dims_bytes = c_dims_bytes + dimension_bytes(extra)
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
