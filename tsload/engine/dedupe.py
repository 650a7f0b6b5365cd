"""The duplicate index: which (series, measure name, time) keys exist, with their value and version.

Timestream rejects a record whose dimensions, measure name and time match an existing record
with a different value (unless its Version is higher). Answering that per record from DuckDB
costs a query per request (about 70 µs per record: a 20x slower write path), so the engine keeps
the keys in memory, bucketed by 10 s of record time. Keys are 64-bit hashes (a false match needs
a hash collision: about one in 10^7 at two million keys).

Which buckets are complete (every stored key of their time range is in memory):
- every bucket at or above `horizon_ns` (the newest stored time + 1 when the engine started:
  nothing older than it was written since), unless it was evicted;
- below it, the buckets loaded from DuckDB (`install`): after a restart, a re-sent time range is
  read back in one scan per window of buckets, instead of one DuckDB lookup per request.

Keys of a one-series request later than anything its series holds cannot match an existing key,
so `defer` keeps its columns as they are and they are hashed into their bucket only when something
looks into that bucket (a re-send, an out-of-order write, a window load, a restart's replay).
A feed that only moves forward (a backfill, live ingestion) then never hashes a key: in
bench-engine's fresh run that hashing and inserting was about a fifth of the event loop's time.

When the index outgrows its capacity, whole buckets are dropped in the order they were filled
(oldest first; a window just loaded is kept over older ones) and become incomplete again: a key
there is looked for in DuckDB (`TableState.needs_lookup` decides, with per-series time ranges,
whether a key can exist at all). Memory is therefore bounded by `capacity` whatever is stored.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import repeat
from typing import Any

from tsload.engine.doubles import DoubleText, value_list

BUCKET_NS = 10 * 1_000_000_000
NO_HORIZON = -(2**63)

# An entry is the value fingerprint when the version is 1 (the common case, and smaller),
# else (fingerprint, version).
Entry = int | tuple[int, int]
# Deferred keys of one request in one bucket: (series hash, kind, measure names, times, values),
# all version 1; the key and the fingerprint are `hash((dh, name, time))`, `hash((kind, value))`.
Deferred = tuple[int, str, list[str], list[int], list[Any] | DoubleText]


def series_keys(dh: int, names: Iterable[str], times: Iterable[int]) -> Iterator[int]:
    """The keys of one series' records: `hash((dh, name, time))` each."""
    return map(hash, zip(repeat(dh), names, times))


def fingerprints(kind: str, values: Iterable[Any]) -> Iterator[int]:
    """The value fingerprints of single-measure records of one type: `hash((kind, value))` each."""
    return map(hash, zip(repeat(kind), values))


class DedupeIndex:
    def __init__(self, capacity: int, horizon_ns: int = NO_HORIZON) -> None:
        self.capacity = capacity
        self.horizon_ns = horizon_ns
        # insertion-ordered: eviction takes the buckets filled first
        self._buckets: dict[int, dict[int, Entry]] = {}
        self.size = 0
        self._complete: set[int] = set()  # loaded buckets below the horizon
        self._evicted: set[int] = set()  # dropped buckets at or above the horizon
        self._deferred: dict[int, list[Deferred]] = {}  # by bucket; counted in `size`
        self.evicted_buckets = 0

    def get(self, key: int, time_ns: int) -> Entry | None:
        bk = time_ns // BUCKET_NS
        if bk in self._deferred:
            self._hash_deferred(bk)
        b = self._buckets.get(bk)
        return None if b is None else b.get(key)

    def bucket(self, bk: int) -> dict[int, Entry]:
        """The bucket's dict, created when missing (callers that add keys call `added`)."""
        if bk in self._deferred:
            self._hash_deferred(bk)
        b = self._buckets.get(bk)
        if b is None:
            b = self._buckets[bk] = {}
        return b

    def defer(self, bk: int, keys: Deferred) -> None:
        """Keys that no key of the index can match (callers call `added` for them too)."""
        if bk not in self._buckets:
            self._buckets[bk] = {}  # takes its place in the eviction order now
        d = self._deferred.get(bk)
        if d is None:
            self._deferred[bk] = [keys]
        else:
            d.append(keys)

    def _hash_deferred(self, bk: int) -> None:
        b = self._buckets[bk]
        for dh, kind, names, times, values in self._deferred.pop(bk):
            b.update(zip(series_keys(dh, names, times), fingerprints(kind, value_list(values)), strict=True))

    def _drop(self, bk: int) -> None:
        self.size -= len(self._buckets.pop(bk))
        for d in self._deferred.pop(bk, ()):
            self.size -= len(d[2])

    def added(self, n: int) -> None:
        """Account for `n` keys a caller added through `bucket` (then evict if over capacity)."""
        self.size += n
        if self.size > self.capacity:
            self._evict()

    def put(self, key: int, time_ns: int, fp: int, version: int) -> None:
        b = self.bucket(time_ns // BUCKET_NS)
        before = len(b)
        b[key] = fp if version == 1 else (fp, version)
        if len(b) != before:
            self.added(1)

    def covers(self, time_ns: int) -> bool:
        """True when a key at this time, if it exists, is in memory."""
        bk = time_ns // BUCKET_NS
        if time_ns >= self.horizon_ns:
            return bk not in self._evicted
        return bk in self._complete

    def covers_range(self, lo_ns: int, hi_ns: int) -> bool:
        """True when every key with lo_ns <= time <= hi_ns is in memory (False: ask per key;
        ranges over more than 64 buckets are not looked at here)."""
        lo_bk, hi_bk = lo_ns // BUCKET_NS, hi_ns // BUCKET_NS
        if hi_bk - lo_bk > 64:
            return False
        if lo_ns >= self.horizon_ns:
            return not self._evicted or all(bk not in self._evicted for bk in range(lo_bk, hi_bk + 1))
        if hi_ns < self.horizon_ns:
            return all(bk in self._complete for bk in range(lo_bk, hi_bk + 1))
        return False

    def missing(self, times: Iterable[int]) -> list[int]:
        """The incomplete buckets among these times' buckets, sorted."""
        return sorted({t // BUCKET_NS for t in times if not self.covers(t)})

    def install(self, loaded: dict[int, dict[int, Entry]], buckets: Iterable[int]) -> None:
        """Make `buckets` complete with the keys read from DuckDB (`loaded`, by bucket).

        Keys already in memory win: they are as new as DuckDB's (everything was flushed before
        the scan) or newer (written while it ran). The buckets move to the end of the eviction
        order, so that the window being re-sent is the last to go.
        """
        for bk in buckets:
            if bk in self._deferred:
                self._hash_deferred(bk)
            mem = self._buckets.pop(bk, None)
            b = loaded.get(bk) or {}
            if mem:
                self.size -= len(mem)
                b.update(mem)
            self._buckets[bk] = b
            self.size += len(b)
            self._complete.add(bk)
            self._evicted.discard(bk)
        if self.size > self.capacity:
            self._evict()

    def _evict(self) -> None:
        # Drop whole buckets, first filled first, until a quarter of the capacity is free again.
        target = self.capacity * 3 // 4
        while self.size > target and self._buckets:
            bk = next(iter(self._buckets))
            self._drop(bk)
            self.evicted_buckets += 1
            self._complete.discard(bk)
            if (bk + 1) * BUCKET_NS > self.horizon_ns:  # part of it was complete by the horizon
                self._evicted.add(bk)

    def drop_older_than(self, time_ns: int) -> None:
        """Forget buckets entirely before `time_ns` (records there are rejected by retention anyway)."""
        cut = time_ns // BUCKET_NS
        for bk in [k for k in self._buckets if k < cut]:
            self._drop(bk)
        self._complete = {bk for bk in self._complete if bk >= cut}
        self._evicted = {bk for bk in self._evicted if bk >= cut}
        self.horizon_ns = max(self.horizon_ns, cut * BUCKET_NS)


def split_entry(entry: Entry) -> tuple[int, int]:
    if isinstance(entry, int):
        return entry, 1
    return entry
