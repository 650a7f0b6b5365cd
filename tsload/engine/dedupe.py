"""The duplicate index: which (series, measure name, time) keys exist, with their value and version.

Timestream rejects a record whose dimensions, measure name and time match an existing record
with a different value (unless its Version is higher). Answering that per record from DuckDB
would cost a query per request, so the engine keeps the keys it has seen in memory, bucketed
by 10 s of record time. Keys are 64-bit hashes (a false match needs a hash collision: about
one in 10^7 at two million keys). When the index outgrows its capacity the oldest buckets are
dropped and `horizon_ns` rises. Below the horizon, `TableState.needs_lookup` decides whether a
key can exist in DuckDB at all (per-series time ranges) and only then asks DuckDB
(`Store.lookup_existing`). After a restart the horizon starts just above the newest stored time.
"""

from __future__ import annotations

BUCKET_NS = 10 * 1_000_000_000
NO_HORIZON = -(2**63)

# An entry is the value fingerprint when the version is 1 (the common case, and smaller),
# else (fingerprint, version).
Entry = int | tuple[int, int]


class DedupeIndex:
    def __init__(self, capacity: int, horizon_ns: int = NO_HORIZON) -> None:
        self.capacity = capacity
        self.horizon_ns = horizon_ns
        self._buckets: dict[int, dict[int, Entry]] = {}
        self.size = 0

    def get(self, key: int, time_ns: int) -> Entry | None:
        b = self._buckets.get(time_ns // BUCKET_NS)
        return None if b is None else b.get(key)

    def put(self, key: int, time_ns: int, fp: int, version: int) -> None:
        bk = time_ns // BUCKET_NS
        b = self._buckets.get(bk)
        if b is None:
            b = self._buckets[bk] = {}
        before = len(b)
        b[key] = fp if version == 1 else (fp, version)
        if len(b) != before:
            self.size += 1
            if self.size > self.capacity:
                self._evict()

    def covers(self, time_ns: int) -> bool:
        """True when a key at this time, if it exists, is in memory."""
        return time_ns >= self.horizon_ns

    def _evict(self) -> None:
        # Drop whole oldest buckets until a quarter of the capacity is free again.
        target = self.capacity * 3 // 4
        for bk in sorted(self._buckets):
            if self.size <= target:
                break
            self.size -= len(self._buckets.pop(bk))
            self.horizon_ns = max(self.horizon_ns, (bk + 1) * BUCKET_NS)

    def drop_older_than(self, time_ns: int) -> None:
        """Forget buckets entirely before `time_ns` (records there are rejected by retention anyway)."""
        for bk in [k for k in self._buckets if (k + 1) * BUCKET_NS <= time_ns]:
            self.size -= len(self._buckets.pop(bk))
            self.horizon_ns = max(self.horizon_ns, (bk + 1) * BUCKET_NS)


def split_entry(entry: Entry) -> tuple[int, int]:
    if isinstance(entry, int):
        return entry, 1
    return entry
