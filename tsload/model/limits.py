"""Timestream for LiveAnalytics write limits, checked by tsload itself (botocore checks only minimums).

Figures from the Timestream developer guide's quotas and naming constraints. A violation raises
LimitError: it is a tsload bug or an impossible configuration, never silently truncated.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from tsload._errors import ConfigError, LimitError

MAX_RECORDS_PER_REQUEST = 100
MAX_DIMENSION_NAME_BYTES = 60
MAX_MEASURE_NAME_BYTES = 256
MAX_RESOURCE_NAME_BYTES = 256  # database and table names
MIN_RESOURCE_NAME_BYTES = 1  # the write path's guard; names the user gives follow NAME_MIN_CHARS
NAME_MIN_CHARS = 3  # Timestream's naming constraint for databases and tables
MAX_MEASURE_VALUE_CHARS = 2048
MAX_DIMENSION_VALUE_BYTES = 2048
MAX_MEASURES_PER_MULTI_RECORD = 256
MAX_DIMENSIONS_PER_RECORD = 128
MAX_RECORD_BYTES = 2048  # metered record size (see record_write_size)
MEASURE_VALUE_TYPES = frozenset({"DOUBLE", "BIGINT", "VARCHAR", "BOOLEAN", "TIMESTAMP"})
RECORD_VALUE_TYPES = MEASURE_VALUE_TYPES | {"MULTI"}
DIMENSION_VALUE_TYPES = frozenset({"VARCHAR"})
_RESERVED = frozenset({"measure_name", "measure_value", "time"})


def _nbytes(s: str) -> int:
    return len(s.encode("utf-8"))


def check_records_per_request(n: int) -> None:
    if not 1 <= n <= MAX_RECORDS_PER_REQUEST:
        raise LimitError(f"{n} records in one WriteRecords request (allowed 1..{MAX_RECORDS_PER_REQUEST})")


def check_resource_name(what: str, name: str) -> None:
    if not MIN_RESOURCE_NAME_BYTES <= _nbytes(name) <= MAX_RESOURCE_NAME_BYTES:
        raise LimitError(
            f"{what} name {name!r} has {_nbytes(name)} bytes "
            f"(allowed {MIN_RESOURCE_NAME_BYTES}..{MAX_RESOURCE_NAME_BYTES})"
        )


_RESOURCE_NAME = re.compile(r"[A-Za-z0-9_.\-]+")
RESOURCE_NAME_ALLOWED = (
    f"{NAME_MIN_CHARS} to {MAX_RESOURCE_NAME_BYTES} characters of letters, digits, '_', '-' and '.'"
)


def resource_name_ok(name: str) -> bool:
    """Whether Timestream accepts `name` as a database or table name (its naming constraints)."""
    return (
        NAME_MIN_CHARS <= len(name) <= MAX_RESOURCE_NAME_BYTES
        and _RESOURCE_NAME.fullmatch(name) is not None
    )


def check_schema_names(**names: str) -> None:
    """ConfigError naming the first field (`database`, `table`) that Timestream would refuse: the
    one rule every command's configuration applies before any network call."""
    for field, name in names.items():
        if not resource_name_ok(name):
            raise ConfigError(field, RESOURCE_NAME_ALLOWED, got=name)


def check_dimension(name: str, value: str, value_type: str = "VARCHAR") -> None:
    if not 1 <= _nbytes(name) <= MAX_DIMENSION_NAME_BYTES:
        raise LimitError(
            f"dimension name {name!r} has {_nbytes(name)} bytes (allowed 1..{MAX_DIMENSION_NAME_BYTES})"
        )
    if name in _RESERVED or name.startswith(("ts_", "measure_value")) or ":" in name:
        raise LimitError(f"dimension name {name!r} is reserved or contains ':'")
    if not 1 <= _nbytes(value) <= MAX_DIMENSION_VALUE_BYTES:
        raise LimitError(
            f"dimension {name!r} value has {_nbytes(value)} bytes (allowed 1..{MAX_DIMENSION_VALUE_BYTES})"
        )
    if value_type not in DIMENSION_VALUE_TYPES:
        raise LimitError(f"dimension value type {value_type!r} not allowed (only VARCHAR)")


def check_measure_name(name: str) -> None:
    if not 1 <= _nbytes(name) <= MAX_MEASURE_NAME_BYTES:
        raise LimitError(
            f"measure name {name!r} has {_nbytes(name)} bytes (allowed 1..{MAX_MEASURE_NAME_BYTES})"
        )


def check_measure_value(name: str, value: str, value_type: str) -> None:
    if value_type not in MEASURE_VALUE_TYPES:
        raise LimitError(
            f"measure {name!r}: value type {value_type!r} not allowed ({sorted(MEASURE_VALUE_TYPES)})"
        )
    if not 1 <= len(value) <= MAX_MEASURE_VALUE_CHARS:
        raise LimitError(
            f"measure {name!r}: value of {len(value)} characters (allowed 1..{MAX_MEASURE_VALUE_CHARS})"
        )


def check_multi_measure_count(n: int) -> None:
    if not 1 <= n <= MAX_MEASURES_PER_MULTI_RECORD:
        raise LimitError(f"{n} measures in one MULTI record (allowed 1..{MAX_MEASURES_PER_MULTI_RECORD})")


def value_write_size(value: str, value_type: str) -> int:
    """Metered size of a value: 8 for DOUBLE/BIGINT/TIMESTAMP, 1 for BOOLEAN, else its UTF-8 length."""
    if value_type in ("DOUBLE", "BIGINT", "TIMESTAMP"):
        return 8
    if value_type == "BOOLEAN":
        return 1
    return _nbytes(value)


def record_write_size(record: Mapping[str, Any], common: Mapping[str, Any] | None = None) -> int:
    """Metered write size of one record (Timestream's formula: 8 bytes of time, dimension names and
    values, measure names, measure values), with the request's CommonAttributes merged in."""
    merged: dict[str, Any] = dict(common or {})
    dims = list(merged.get("Dimensions", [])) + list(record.get("Dimensions", []))
    merged.update({k: v for k, v in record.items() if k != "Dimensions"})
    size = 8 + sum(_nbytes(d["Name"]) + _nbytes(d["Value"]) for d in dims)
    size += _nbytes(merged.get("MeasureName", ""))
    if merged.get("MeasureValueType") == "MULTI":
        for mv in merged.get("MeasureValues", []):
            size += _nbytes(mv["Name"]) + value_write_size(mv["Value"], mv["Type"])
    elif "MeasureValue" in merged:
        size += value_write_size(merged["MeasureValue"], merged.get("MeasureValueType", "DOUBLE"))
    return size


def check_record(record: Mapping[str, Any], common: Mapping[str, Any] | None = None) -> None:
    """Check one WriteRecords record (botocore dict shape), CommonAttributes merged in."""
    merged: dict[str, Any] = dict(common or {})
    dims: Sequence[Mapping[str, str]] = list(merged.get("Dimensions", [])) + list(
        record.get("Dimensions", [])
    )
    merged.update({k: v for k, v in record.items() if k != "Dimensions"})
    if len(dims) > MAX_DIMENSIONS_PER_RECORD:
        raise LimitError(f"{len(dims)} dimensions in one record (allowed {MAX_DIMENSIONS_PER_RECORD})")
    for d in dims:
        check_dimension(d["Name"], d["Value"], d.get("DimensionValueType", "VARCHAR"))
    check_measure_name(merged.get("MeasureName", ""))
    vtype = merged.get("MeasureValueType", "DOUBLE")
    if vtype not in RECORD_VALUE_TYPES:
        raise LimitError(f"record value type {vtype!r} not allowed")
    if vtype == "MULTI":
        values = merged.get("MeasureValues", [])
        check_multi_measure_count(len(values))
        for mv in values:
            check_measure_name(mv["Name"])
            check_measure_value(mv["Name"], mv["Value"], mv["Type"])
    else:
        check_measure_value(merged["MeasureName"], merged.get("MeasureValue", ""), vtype)
    size = record_write_size(record, common)
    if size > MAX_RECORD_BYTES:
        raise LimitError(f"record of {size} bytes (allowed {MAX_RECORD_BYTES})")


def check_request(request: Mapping[str, Any]) -> None:
    """Check a whole WriteRecords request in botocore's dict shape."""
    check_resource_name("database", request["DatabaseName"])
    check_resource_name("table", request["TableName"])
    records = request.get("Records", [])
    check_records_per_request(len(records))
    common = request.get("CommonAttributes")
    for r in records:
        check_record(r, common)
