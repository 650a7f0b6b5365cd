"""Which query a session runs next, and how long it thinks: pure functions of a seeded RNG.

- queries are drawn by their normalised weights (cumulative table + bisect, one draw per query);
- think time after a query: T ms, or with randomisation a uniform integer in [min(5000, T), T]
  (the sample's [5000, T] failed for T < 5000);
- sessions of a process start staggered by one think time each (a uniform integer in [0, T]
  each when randomised), so session i starts after the sum of i such delays.
"""

from __future__ import annotations

import bisect
import itertools
import random
from collections.abc import Sequence

RANDOMIZED_MIN_THINK_MS = 5000


class QueryChooser:
    """Weighted choice among queries; zero-weight queries are never chosen."""

    def __init__(self, weights: Sequence[tuple[str, float]], rng: random.Random) -> None:
        chosen = [(name, w) for name, w in weights if w > 0]
        if not chosen:
            raise ValueError("no query has a positive weight")
        self.names: tuple[str, ...] = tuple(n for n, _ in chosen)
        cum = list(itertools.accumulate(w for _, w in chosen))
        total = cum[-1]
        self._cum = [c / total for c in cum]
        self._cum[-1] = 1.0
        self._rng = rng

    def next(self) -> str:
        i = bisect.bisect_right(self._cum, self._rng.random())
        return self.names[min(i, len(self.names) - 1)]


def think_time_ms(think_ms: int, randomized: bool, rng: random.Random) -> int:
    """Milliseconds a session sleeps after a query."""
    if think_ms <= 0:
        return 0
    if not randomized:
        return think_ms
    return rng.randint(min(RANDOMIZED_MIN_THINK_MS, think_ms), think_ms)


def stagger_offsets_ms(sessions: int, think_ms: int, randomized: bool, rng: random.Random) -> list[int]:
    """Start offsets (ms) of a process's sessions: 0 for the first, then one think time more each."""
    offsets = [0]
    for _ in range(1, sessions):
        step = 0 if think_ms <= 0 else (rng.randint(0, think_ms) if randomized else think_ms)
        offsets.append(offsets[-1] + step)
    return offsets[:sessions]
