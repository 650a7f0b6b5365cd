"""Measure values: the spec's distributions, drawn vectorised and deterministically.

Every value is a pure function of (data seed, instance-name seed, kind, id, emission time in ms,
measure index) through SplitMix64 (`hashing.py`), so per-emission, per-series and batched encoding,
any process count and any shard draw identical numbers. DOUBLE values live on a grid of 10**-6:
they are generated as integers in micro-units and travel as decimal strings with 6 decimals, so
`cpu_idle = 100 - cpu_user - (sum of the six)` holds exactly in the decimal strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import numpy.typing as npt

from tsload.model.hashing import emission_keys, measure_bits, mix, stream_key, to_u64, uniform
from tsload.model.schema import TASK_END_STATE_PROBABILITIES

IntArray = npt.NDArray[np.int64]

DECIMALS = 6
SCALE = 10**DECIMALS

NORMAL, LOW, HIGH = 0, 1, 2
CLASS_NAMES = ("normal", "low", "high")
#: cpu_user range [lo, hi) per utilisation class, in percent.
CPU_USER_RANGES = {NORMAL: (35, 65), LOW: (0, 10), HIGH: (85, 95)}

_TAG_METRICS, _TAG_EVENTS, _TAG_CLASS, _TAG_REQ_METRICS, _TAG_REQ_EVENTS = (
    0x6D65,
    0x6576,
    0x636C,
    0x726D,
    0x7265,
)

#: Cumulative task_end_state thresholds in hundredths (0.20, 0.70, 0.01, 0.07, 0.01, 0.01).
_TES_CUM = np.cumsum([round(p * 100) for p in TASK_END_STATE_PROBABILITIES])


def _class_table() -> npt.NDArray[np.int8]:
    """All 1,260 ways to mark 2 of 10 positions low and 2 of the other 8 high."""
    rows = []
    for low in combinations(range(10), 2):
        rest = [p for p in range(10) if p not in low]
        for high in combinations(rest, 2):
            row = [NORMAL] * 10
            for p in low:
                row[p] = LOW
            for p in high:
                row[p] = HIGH
            rows.append(row)
    return np.asarray(rows, dtype=np.int8)


_CLASS_TABLE = _class_table()
_N_ASSIGNMENTS = np.uint64(len(_CLASS_TABLE))


@dataclass(frozen=True)
class EventValues:
    task_completed: IntArray  # (n,) 0..500
    task_end_state: npt.NDArray[np.int64]  # (n,) index into TASK_END_STATES
    doubles_micros: IntArray  # (n, 3) gc_reclaimed, gc_pause, memory_free in 1e-6 units


class ValueModel:
    """Draws the DevOps values for (id, time) pairs."""

    def __init__(
        self, data_seed: int = 0, instance_name_seed: int = 12345, request_id_nonce: int = 0
    ) -> None:
        self.data_seed = data_seed
        self.instance_name_seed = instance_name_seed
        self._k_metrics = stream_key(data_seed, instance_name_seed, _TAG_METRICS)
        self._k_events = stream_key(data_seed, instance_name_seed, _TAG_EVENTS)
        self._k_class = stream_key(data_seed, instance_name_seed, _TAG_CLASS)
        self._k_req = {
            # request ids are "fresh" per run (the spec's uuid4 per emission): a run draws the nonce
            "metrics": stream_key(data_seed, instance_name_seed, _TAG_REQ_METRICS, request_id_nonce),
            "events": stream_key(data_seed, instance_name_seed, _TAG_REQ_EVENTS, request_id_nonce),
        }

    def utilisation_class(self, host_ids: npt.ArrayLike) -> npt.NDArray[np.int8]:
        """0 normal, 1 low, 2 high. Hosts come in blocks of 10 consecutive ids (a fleet always has
        1,000·S hosts); each block gets a seeded choice of 2 low and 2 high positions, so exactly 20%
        / 20% of any whole number of blocks, independent of how hosts are split across workers."""
        ids = np.asarray(host_ids, dtype=np.int64)
        block, pos = np.divmod(ids, 10)
        choice = mix(to_u64(block) + np.uint64(self._k_class)) % _N_ASSIGNMENTS
        return _CLASS_TABLE[choice.astype(np.int64), pos]

    def metric_micros(self, host_ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> IntArray:
        """(n, 20) int64 values in 1e-6 units, columns in emission order (METRIC_NAMES)."""
        ids = np.asarray(host_ids, dtype=np.int64)
        u = uniform(measure_bits(emission_keys(self._k_metrics, ids, times_ms), 19))
        out = np.empty((ids.shape[0], 20), dtype=np.int64)
        cls = self.utilisation_class(ids)
        lo = np.where(cls == HIGH, 85, np.where(cls == LOW, 0, 35)) * SCALE
        span = np.where(cls == NORMAL, 30, 10) * SCALE
        out[:, 0] = lo + np.floor(u[:, 0] * span).astype(np.int64)
        out[:, 1:7] = np.floor(u[:, 1:7] * SCALE).astype(np.int64)
        out[:, 7] = 100 * SCALE - out[:, 0] - out[:, 1:7].sum(axis=1)
        out[:, 8:] = np.floor(u[:, 7:] * (100 * SCALE)).astype(np.int64)
        return out

    def metric_values(self, host_ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> npt.NDArray[np.float64]:
        out: npt.NDArray[np.float64] = self.metric_micros(host_ids, times_ms) / SCALE
        return out

    def event_values(self, event_ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> EventValues:
        ids = np.asarray(event_ids, dtype=np.int64)
        u = uniform(measure_bits(emission_keys(self._k_events, ids, times_ms), 5))
        completed = np.floor(u[:, 0] * 501).astype(np.int64)
        state = np.searchsorted(_TES_CUM, np.floor(u[:, 1] * 100), side="right").astype(np.int64)
        doubles = np.floor(u[:, 2:] * (100 * SCALE)).astype(np.int64)
        return EventValues(task_completed=completed, task_end_state=state, doubles_micros=doubles)

    def request_id_words(
        self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike
    ) -> npt.NDArray[np.uint64]:
        """(n, 2) uint64: the 128 bits of a version-4 UUID per emission (random-looking, reproducible)."""
        words = measure_bits(emission_keys(self._k_req[kind], ids, times_ms), 2)
        words[:, 0] = (words[:, 0] & np.uint64(0xFFFFFFFFFFFF0FFF)) | np.uint64(0x4000)
        words[:, 1] = (words[:, 1] & np.uint64(0x3FFFFFFFFFFFFFFF)) | np.uint64(0x8000000000000000)
        return words

    def request_ids(self, kind: str, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> list[str]:
        from tsload.model.textbytes import uuid_chars

        return [bytes(r).decode() for r in uuid_chars(self.request_id_words(kind, ids, times_ms))]
