"""Where each emitter sits in the interval, and which times it emits at.

Every emitter (a metrics host, or an event set) has a fixed phase inside the interval, spread
evenly over the interval by its global id, so the load arrives smoothly instead of in one burst
per sweep (`aligned=True` puts every phase at 0, the sample's sweep). Phases are quantised to
at most `MAX_SLOTS` slots per interval, none shorter than `SLOT_MS`: emitters sharing a slot wake
together and are encoded in one vectorised call. The schedule is a grid on epoch time: emitter e
emits at every t = n * interval + phase(e); live runs and backfills use the same grid, so a backfill carries
exactly the timestamps the live schedule would have had.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

SLOT_MS = 10
MAX_SLOTS = 1000  # per interval: finer spreading buys nothing, coarser slots encode more hosts per call

IntArray = npt.NDArray[np.int64]


def slot_count(n_total: int, interval_ms: int, aligned: bool) -> int:
    if aligned:
        return 1
    return max(1, min(n_total, interval_ms // SLOT_MS, MAX_SLOTS))


_GOLDEN_32 = 2654435769  # 2**32 / golden ratio


def phases_ms(ids: IntArray, n_total: int, interval_ms: int, aligned: bool) -> IntArray:
    """Phase (ms inside the interval) of each global id in `ids` (ids of one kind, 0..n_total-1).

    A Weyl sequence (id x golden ratio, mod 1) rather than id / n: any contiguous id range (a
    process's or a shard's hosts) is itself spread evenly over the whole interval, so each process
    has a smooth load, not a burst in its own fraction of the interval.
    """
    slots = slot_count(n_total, interval_ms, aligned)
    frac32 = (ids.astype(np.uint64) * np.uint64(_GOLDEN_32)) & np.uint64(0xFFFFFFFF)
    slot = ((frac32 * np.uint64(slots)) >> np.uint64(32)).astype(np.int64)
    return slot * interval_ms // slots


@dataclass(frozen=True)
class Slot:
    """Emitters sharing one phase: metrics host ids and event-set ids (global ids)."""

    phase_ms: int
    metric_ids: IntArray
    event_ids: IntArray


def build_slots(
    metric_ids: IntArray,
    n_hosts: int,
    event_ids: IntArray,
    n_event_sets: int,
    interval_ms: int,
    aligned: bool,
) -> list[Slot]:
    """Group this process's emitters by phase, in phase order."""
    mp = phases_ms(metric_ids, n_hosts, interval_ms, aligned)
    ep = phases_ms(event_ids, n_event_sets, interval_ms, aligned)
    phases = np.union1d(mp, ep)
    m_order = np.argsort(mp, kind="stable")
    e_order = np.argsort(ep, kind="stable")
    m_sorted, e_sorted = mp[m_order], ep[e_order]
    slots = []
    for p in phases.tolist():
        ma, mb = np.searchsorted(m_sorted, p, "left"), np.searchsorted(m_sorted, p, "right")
        ea, eb = np.searchsorted(e_sorted, p, "left"), np.searchsorted(e_sorted, p, "right")
        slots.append(Slot(int(p), metric_ids[m_order[ma:mb]], event_ids[e_order[ea:eb]]))
    return slots


def grid_times(phase_ms: int, interval_ms: int, start_ms: int, end_ms: int) -> IntArray:
    """Epoch-ms times t = n * interval + phase with start_ms <= t < end_ms."""
    first = -((phase_ms - start_ms) // interval_ms) * interval_ms + phase_ms  # ceil to the grid
    if first < start_ms:
        first += interval_ms
    if first >= end_ms:
        return np.empty(0, dtype=np.int64)
    return np.arange(first, end_ms, interval_ms, dtype=np.int64)


def first_at_or_after(phase_ms: int, interval_ms: int, t_ms: int) -> int:
    """The first grid time of this phase at or after t_ms."""
    n = -((phase_ms - t_ms) // interval_ms)
    return n * interval_ms + phase_ms
