"""Parsing and validating a WriteRecords request (the engine's hot path).

`parse_write_request` turns the decoded JSON body into one `Row` tuple per record, with
CommonAttributes merged the way Timestream merges them: a record's own MeasureName, MeasureValue,
MeasureValueType, MeasureValues, Time, TimeUnit and Version override the common ones; dimensions
are the union of both lists, and a dimension named in both places is a ValidationException.

Anything wrong with the request's shape or a record's form fails the whole request with a
ValidationException (nothing is written). Limits that depend on stored data (retention window,
duplicates, table schema) are checked later, per record, and become RejectedRecords.

Rows are plain tuples (not objects) because this runs for every record at 100k+ records/s.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

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

_INT64_MIN = -(2**63)
_INT64_MAX = 2**63 - 1


class ParsedWrite(NamedTuple):
    database: str
    table: str
    rows: list[Row]


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


def parse_write_request(body: Any) -> ParsedWrite:
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

    c_dims = _parse_dimensions(common["Dimensions"], "CommonAttributes") if "Dimensions" in common else []
    c_names = frozenset(n for n, _ in c_dims)
    c_key = tuple(c_dims)
    c_hash = hash(frozenset(c_dims))
    c_dims_bytes = sum(len(n) + len(v.encode()) for n, v in c_dims)
    c_mn = common.get("MeasureName")
    c_mv = common.get("MeasureValue")
    c_mvt = common.get("MeasureValueType")
    c_mvs = common.get("MeasureValues")
    c_time = common.get("Time")
    c_unit = common.get("TimeUnit", "MILLISECONDS")
    c_ver = common.get("Version")

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
    return ParsedWrite(database, table, rows)
