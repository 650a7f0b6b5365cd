"""Which query a session runs next, and how long it thinks: pure functions of a seeded RNG.

- queries are drawn by their normalised weights (cumulative table + bisect, one draw per query);
- think time after a query: T ms, or with randomisation a uniform integer in [min(5000, T), T]
  (the sample's [5000, T] failed for T < 5000);
- sessions of a process start staggered by one think time each (a uniform integer in [0, T]
  each when randomised), so session i starts after the sum of i such delays;
- every session's randomness comes from its own seed, a function of the run seed and the
  session's *global* index only (`session_seed`), so the same session is the same whichever
  machine, shard or process runs it.
"""

from __future__ import annotations

import bisect
import hashlib
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


def cover_share(names: Sequence[str], global_index: int, sessions: int) -> tuple[str, ...]:
    """This session's share of the mix when every query must run at least once (0 sessions: none)."""
    if sessions <= 0:
        return ()
    return tuple(n for i, n in enumerate(names) if i % sessions == global_index % sessions)


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


def global_process(shard: int, processes: int, process: int) -> int:
    """1-based number of `process` (1-based) of shard `shard` in one run N times larger: K*P + p."""
    return shard * processes + process


def global_session_index(shard: int, processes: int, concurrency: int, process: int, session: int) -> int:
    """0-based index of session `session` of process `process` (both 1-based) over all shards.

    Shard K owns K*P*C .. (K+1)*P*C - 1, in process-then-session order, so N shards of P×C sessions
    number their sessions exactly as one run of N*P processes (or of P processes × N*C sessions
    when P = 1) does.
    """
    return shard * processes * concurrency + (process - 1) * concurrency + (session - 1)


def session_seed(run_seed: int, global_index: int) -> int:
    """A session's 63-bit seed: a hash of (run seed, global session index) and nothing else."""
    digest = hashlib.blake2b(f"tsload-session:{run_seed}:{global_index}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1
