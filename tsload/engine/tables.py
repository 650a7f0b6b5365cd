"""Per-table state: retention settings, known columns, the write buffer and the duplicate index.

`TableState.apply` runs the checks that depend on the table (retention window, schema limits,
duplicates and versions) on already-parsed rows, on the event loop, and queues accepted rows
for the next flush. It returns the rejections Timestream would report.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from tsload.engine import limits
from tsload.engine.dedupe import NO_HORIZON, DedupeIndex, Entry, split_entry
from tsload.engine.doubles import DoubleText
from tsload.engine.records import Dims, ParsedWrite, Row, Summary
from tsload.engine.series import apply_series

# Accepted records of one request from one series, one single-measure type, kept as columns
# (no tuple per record): (dims, measure names, times, kind, values, versions).
# values: a list, or DOUBLE values still as their text
Segment = tuple[Dims, list[str], list[int], str, list[Any] | DoubleText, list[int]]

SINGLE_COLUMN = {
    "DOUBLE": "measure_value::double",
    "BIGINT": "measure_value::bigint",
    "VARCHAR": "measure_value::varchar",
    "BOOLEAN": "measure_value::boolean",
    "TIMESTAMP": "measure_value::timestamp",
}
SQL_TYPE = {
    "DOUBLE": "DOUBLE",
    "BIGINT": "BIGINT",
    "VARCHAR": "VARCHAR",
    "BOOLEAN": "BOOLEAN",
    "TIMESTAMP": "TIMESTAMP_NS",
}
SAME_VERSION_REASON = (
    "A record already exists with the same time, dimensions, measure name, and record version. "
    "A higher record version must be specified in order to update the measure value."
)


def qi(name: str) -> str:
    """A quoted SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


@dataclass
class Rejection:
    index: int
    reason: str
    existing_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"RecordIndex": self.index, "Reason": self.reason}
        if self.existing_version is not None:
            out["ExistingVersion"] = self.existing_version
        return out


@dataclass
class Upsert:
    """A stored row replaced by a higher version: older versions are deleted after the flush."""

    dims: tuple[tuple[str, str], ...]
    measure_name: str
    time_ns: int
    version: int


@dataclass
class TableState:
    database: str
    name: str
    memory_hours: int
    magnetic_days: int
    magnetic_writes: bool
    magnetic_rejected_location: dict[str, Any] | None
    schema: dict[str, Any] | None
    created: float
    updated: float
    dedupe_capacity: int
    # column name -> (role, Timestream type): role is "dimension", "single" or "multi"
    columns: dict[str, tuple[str, str]] = field(default_factory=dict)
    lower_names: dict[str, str] = field(default_factory=dict)
    n_dimensions: int = 0
    measure_names: set[str] = field(default_factory=set)
    pending_columns: list[tuple[str, str, str]] = field(default_factory=list)  # (name, role, type)
    rows: list[Row] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    upserts: list[Upsert] = field(default_factory=list)
    index: DedupeIndex = field(init=False)
    # Newest stored time + 1 when the table was loaded: the in-memory index starts empty there.
    horizon_ns: int = NO_HORIZON
    # Time range of all stored and buffered rows per dimension set (by hash; loaded from DuckDB at
    # start): a key outside its series' range cannot exist, so it needs no DuckDB lookup.
    series_min: dict[int, int] = field(default_factory=dict)
    series_max: dict[int, int] = field(default_factory=dict)
    # buckets the next `Store.load_index` window spans (adapted to the rows per bucket)
    load_span: int = 30

    def __post_init__(self) -> None:
        self.index = DedupeIndex(self.dedupe_capacity, self.horizon_ns)

    # ---- schema -------------------------------------------------------------------------------
    def register_column(self, name: str, role: str, ts_type: str, *, pending: bool) -> None:
        self.columns[name] = (role, ts_type)
        self.lower_names[name.lower()] = name
        if role == "dimension":
            self.n_dimensions += 1
        if pending:
            self.pending_columns.append((name, role, ts_type))

    def _schema_problem(self, row: Row) -> tuple[str, list[tuple[str, str, str]]] | None:
        """Why the row cannot fit the table's columns, or the columns it would add."""
        new: list[tuple[str, str, str]] = []
        cols = self.columns
        n_dims = self.n_dimensions
        for name, _ in row[0]:
            have = cols.get(name)
            if have is None:
                other = self.lower_names.get(name.lower())
                if other is not None:
                    return f"Dimension name '{name}' conflicts with existing column '{other}'.", []
                n_dims += 1
                if n_dims > limits.MAX_DIMENSIONS_PER_TABLE:
                    return (
                        f"The record would exceed the maximum of {limits.MAX_DIMENSIONS_PER_TABLE} "
                        "dimensions per table."
                    ), []
                new.append((name, "dimension", "VARCHAR"))
            elif have[0] != "dimension":
                return f"Dimension name '{name}' is already used as a measure name in this table.", []
        if row[4] == "MULTI":
            for mname, typ, _ in row[5]:
                have = cols.get(mname)
                if have is None:
                    other = self.lower_names.get(mname.lower())
                    if other is not None:
                        return f"Measure name '{mname}' conflicts with existing column '{other}'.", []
                    new.append((mname, "multi", typ))
                elif have[0] != "multi":
                    return f"Measure name '{mname}' is already used as a dimension name in this table.", []
                elif have[1] != typ:
                    return (
                        f"Measure '{mname}' has type {typ}, but the table already stores it as {have[1]}."
                    ), []
        else:
            col = SINGLE_COLUMN[row[4]]
            if col not in cols:
                new.append((col, "single", row[4]))
        return None if not new else ("", new)

    # ---- writes -------------------------------------------------------------------------------
    def window(self, now_ns: int) -> tuple[int, int, int]:
        """(oldest time accepted, oldest memory-store time, newest time accepted + 1)."""
        memory_lo = now_ns - self.memory_hours * 3600 * 1_000_000_000
        lo = now_ns - self.magnetic_days * 86400 * 1_000_000_000 if self.magnetic_writes else memory_lo
        return lo, memory_lo, now_ns + limits.FUTURE_INGESTION_NS

    def window_reason(self, now_ns: int) -> str:
        lo, _, hi = self.window(now_ns)
        store = "magnetic store" if self.magnetic_writes else "memory store"
        return f"The record timestamp is outside the time range [{_iso(lo)}, {_iso(hi)}) of the {store}."

    def apply(
        self,
        rows: list[Row],
        skip: set[int],
        now_ns: int,
        *,
        store: bool,
        existing: dict[int, tuple[int, int]] | None = None,
    ) -> tuple[int, int, list[Rejection]]:
        """Check and queue rows; returns (memory-store count, magnetic-store count, rejections).

        `skip` holds indexes already rejected (fault injection). With `store=False` (--discard)
        only the stateless checks run. `existing` holds DuckDB matches for keys below the index
        horizon (see `needs_lookup`).
        """
        lo, memory_lo, hi = self.window(now_ns)
        rejected: list[Rejection] = []
        n_mem = n_mag = 0
        index = self.index
        queue = self.rows.append
        last_dims: Any = None
        for i, row in enumerate(rows):
            if i in skip:
                continue
            t = row[3]
            if not lo <= t < hi:
                rejected.append(Rejection(i, self.window_reason(now_ns)))
                continue
            if row[7] > limits.MAX_RECORD_BYTES:
                rejected.append(
                    Rejection(i, f"Record size exceeds the maximum of {limits.MAX_RECORD_BYTES} bytes.")
                )
                continue
            dims = row[0]
            if dims is not last_dims or row[4] == "MULTI" or SINGLE_COLUMN[row[4]] not in self.columns:
                problem = self._schema_problem(row)
                if problem is not None:
                    reason, new = problem
                    if reason:
                        rejected.append(Rejection(i, reason))
                        continue
                    for name, role, typ in new:
                        self.register_column(name, role, typ, pending=store)
                last_dims = dims if row[4] != "MULTI" else None
            if row[2] not in self.measure_names:
                if len(self.measure_names) >= limits.MAX_MEASURE_NAMES_PER_TABLE:
                    rejected.append(
                        Rejection(
                            i,
                            f"The record would exceed the maximum of "
                            f"{limits.MAX_MEASURE_NAMES_PER_TABLE} measure names per table.",
                        )
                    )
                    continue
                self.measure_names.add(row[2])
            if not store:
                n_mem += t >= memory_lo
                n_mag += t < memory_lo
                continue
            dh = row[1]
            lo_t = self.series_min.get(dh)
            if lo_t is None:
                self.series_min[dh] = self.series_max[dh] = t
            elif t < lo_t:
                self.series_min[dh] = t
            elif t > self.series_max[dh]:
                self.series_max[dh] = t
            key = hash((dh, row[2], t))
            fp = hash((row[4], row[5]))
            entry = index.get(key, t)
            if entry is None and existing is not None:
                entry = existing.get(key)
            if entry is not None:
                old_fp, old_ver = split_entry(entry)
                ver = row[6]
                if old_fp == fp:
                    if ver > old_ver:  # same value, higher version: the version is updated
                        index.put(key, t, fp, ver)
                        self.upserts.append(Upsert(dims, row[2], t, ver))
                        queue(row)
                elif ver > old_ver:
                    index.put(key, t, fp, ver)
                    self.upserts.append(Upsert(dims, row[2], t, ver))
                    queue(row)
                elif ver == old_ver:
                    rejected.append(
                        Rejection(
                            i,
                            SAME_VERSION_REASON,
                            old_ver,
                        )
                    )
                    continue
                else:
                    rejected.append(
                        Rejection(
                            i,
                            f"The record version {ver} is lower than the existing version {old_ver}. "
                            "A higher version is required to update the measure value.",
                            old_ver,
                        )
                    )
                    continue
            else:
                index.put(key, t, fp, row[6])
                queue(row)
            n_mem += t >= memory_lo
            n_mag += t < memory_lo
        return n_mem, n_mag, rejected

    def apply_parsed(
        self,
        parsed: ParsedWrite,
        skip: set[int],
        now_ns: int,
        *,
        store: bool,
        existing: dict[int, tuple[int, int]] | None = None,
    ) -> tuple[int, int, list[Rejection]]:
        """`apply` for a parsed request: checked once per request when it can be.

        A request from the fast parser carries a summary (time range, largest record, dimension
        names, kinds, measure names). When the summary shows that no record can be rejected by the
        window, size or schema rules and that no new column is needed, those rules hold for every
        record without looking at each; otherwise (a rejection, a new column, injected faults) the
        per-record `apply` decides, exactly as before.
        """
        s = parsed.summary
        if s is None or skip or not self._fits(s, now_ns):
            return self.apply(parsed.rows, skip, now_ns, store=store, existing=existing)
        if store:
            one_series = parsed.common is not None and len(s.single_kinds) == 1 and not s.multi_types
            if existing is None and one_series and apply_series(self, parsed, s):
                return self._counts(parsed, now_ns)
            return self._apply_checked(parsed.rows, now_ns, existing)
        return self._counts(parsed, now_ns)

    def _counts(self, parsed: ParsedWrite, now_ns: int) -> tuple[int, int, list[Rejection]]:
        """(memory-store, magnetic-store, no rejections) for a request accepted whole."""
        memory_lo = now_ns - self.memory_hours * 3600 * 1_000_000_000
        n = parsed.n
        assert parsed.summary is not None
        if parsed.summary.tmin >= memory_lo:
            return n, 0, []
        n_mag = sum(1 for t in parsed.times if t < memory_lo)
        return n - n_mag, n_mag, []

    def needs_lookup_parsed(self, parsed: ParsedWrite, skip: set[int]) -> list[int]:
        """`needs_lookup` for a parsed request: a one-series request is answered from its time
        range (no record tuples built)."""
        s = parsed.summary
        if parsed.common is not None and s is not None and not skip:
            dh = parsed.common[1]
            lo_t = self.series_min.get(dh)
            if lo_t is None or s.tmin > self.series_max[dh] or s.tmax < lo_t:
                return []
            if self.index.covers_range(s.tmin, s.tmax):
                return []
        return self.needs_lookup(parsed.rows, skip)

    def _fits(self, s: Summary, now_ns: int) -> bool:
        """True when no record of the request breaks a window, size or schema rule (then the
        request's new measure names are registered)."""
        lo, _, hi = self.window(now_ns)
        if s.tmin < lo or s.tmax >= hi or s.max_nbytes > limits.MAX_RECORD_BYTES:
            return False
        cols = self.columns
        for name in s.dim_names:
            have = cols.get(name)
            if have is None or have[0] != "dimension":
                return False
        for kind in s.single_kinds:
            if SINGLE_COLUMN[kind] not in cols:
                return False
        for mname, typ in s.multi_types:
            have = cols.get(mname)
            if have is None or have[0] != "multi" or have[1] != typ:
                return False
        names = s.measure_names
        known = self.measure_names
        if not names <= known:
            new = names - known
            if len(known) + len(new) > limits.MAX_MEASURE_NAMES_PER_TABLE:
                return False
            known |= new
        return True

    def _apply_checked(
        self, rows: list[Row], now_ns: int, existing: dict[int, tuple[int, int]] | None
    ) -> tuple[int, int, list[Rejection]]:
        """The duplicate/version part of `apply` for rows already known to pass the other rules."""
        memory_lo = now_ns - self.memory_hours * 3600 * 1_000_000_000
        rejected: list[Rejection] = []
        n_mem = n_mag = 0
        index = self.index
        queue = self.rows.append
        series_min = self.series_min
        series_max = self.series_max
        get = index.get
        for i, row in enumerate(rows):
            dh = row[1]
            t = row[3]
            lo_t = series_min.get(dh)
            if lo_t is None:
                series_min[dh] = series_max[dh] = t
            elif t < lo_t:
                series_min[dh] = t
            elif t > series_max[dh]:
                series_max[dh] = t
            key = hash((dh, row[2], t))
            fp = hash((row[4], row[5]))
            entry = get(key, t)
            if entry is None and existing is not None:
                entry = existing.get(key)
            if entry is None:
                index.put(key, t, fp, row[6])
                queue(row)
            else:
                reason = self._versioned(i, row, key, fp, entry)
                if reason is not None:
                    rejected.append(reason)
                    continue
            if t >= memory_lo:
                n_mem += 1
            else:
                n_mag += 1
        return n_mem, n_mag, rejected

    def _versioned(self, i: int, row: Row, key: int, fp: int, entry: Entry) -> Rejection | None:
        """A row whose key exists: upsert, idempotent success, or a version rejection."""
        old_fp, old_ver = split_entry(entry)
        ver = row[6]
        t = row[3]
        if ver > old_ver:  # a higher version replaces (or, for the same value, re-versions) the row
            self.index.put(key, t, fp, ver)
            self.upserts.append(Upsert(row[0], row[2], t, ver))
            self.rows.append(row)
            return None
        if old_fp == fp:
            return None  # identical: an idempotent success
        if ver == old_ver:
            return Rejection(i, SAME_VERSION_REASON, old_ver)
        return Rejection(
            i,
            f"The record version {ver} is lower than the existing version {old_ver}. "
            "A higher version is required to update the measure value.",
            old_ver,
        )

    def needs_lookup(self, rows: list[Row], skip: set[int]) -> list[int]:
        """Indexes of rows whose key may exist in DuckDB but not in the in-memory index."""
        idx = self.index
        out = []
        for i, row in enumerate(rows):
            t = row[3]
            if i in skip or idx.covers(t):
                continue
            lo_t = self.series_min.get(row[1])
            if lo_t is None or not lo_t <= t <= self.series_max[row[1]]:
                continue
            if idx.get(hash((row[1], row[2], t)), t) is None:
                out.append(i)
        return out

    # ---- descriptions ---------------------------------------------------------------------------
    def describe(self, arn: str) -> dict[str, Any]:
        mag: dict[str, Any] = {"EnableMagneticStoreWrites": self.magnetic_writes}
        if self.magnetic_rejected_location:
            mag["MagneticStoreRejectedDataLocation"] = self.magnetic_rejected_location
        out: dict[str, Any] = {
            "Arn": arn,
            "TableName": self.name,
            "DatabaseName": self.database,
            "TableStatus": "ACTIVE",
            "RetentionProperties": {
                "MemoryStoreRetentionPeriodInHours": self.memory_hours,
                "MagneticStoreRetentionPeriodInDays": self.magnetic_days,
            },
            "CreationTime": self.created,
            "LastUpdatedTime": self.updated,
            "MagneticStoreWriteProperties": mag,
        }
        out["Schema"] = self.schema or {"CompositePartitionKey": [{"Type": "MEASURE"}]}
        return out


def _iso(ns: int) -> str:
    t = dt.datetime.fromtimestamp(ns / 1e9, tz=dt.UTC)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
