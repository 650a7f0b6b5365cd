"""Counter-based randomness: SplitMix64's finaliser over (seed, stream, id, time, measure).

A value is a pure function of its coordinates, so any grouping, order or sharding of the work
draws the same numbers. numpy's uint64 arithmetic wraps modulo 2**64, as SplitMix64 needs.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

U64 = npt.NDArray[np.uint64]

GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30, _S27, _S31, _S11 = np.uint64(30), np.uint64(27), np.uint64(31), np.uint64(11)
_TWO_M53 = 1.0 / float(1 << 53)


def mix(x: U64) -> U64:
    """SplitMix64 finaliser (a bijection on uint64 with full avalanche); returns a new array."""
    z = x ^ (x >> _S30)
    z *= _M1
    z ^= z >> _S27
    z *= _M2
    z ^= z >> _S31
    return z


def mix_int(x: int) -> int:
    """Scalar `mix` for Python ints (keys are derived once per encoder, not per value)."""
    return int(mix(np.asarray([x & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64))[0])


def to_u64(a: npt.ArrayLike) -> U64:
    """Reinterpret int64 (ids, epoch ms; possibly negative) as uint64 bit patterns."""
    return np.asarray(a, dtype=np.int64).view(np.uint64)


def stream_key(*parts: int) -> int:
    """Fold several integers (seeds, stream tags) into one 64-bit key."""
    k = 0x6A09E667F3BCC909
    for p in parts:
        k = mix_int(k ^ mix_int(p))
    return k


def emission_keys(key: int, ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> U64:
    """One 64-bit key per (id, time) emission, under `key` (which already holds seed and stream)."""
    k = mix(to_u64(ids) + np.uint64(key))
    k ^= to_u64(times_ms) * GOLDEN
    return mix(k)


def measure_bits(keys: U64, n_measures: int) -> U64:
    """(n, n_measures) uint64: SplitMix64's sequence seeded by each emission key."""
    steps = (np.arange(1, n_measures + 1, dtype=np.uint64) * GOLDEN)[None, :]
    return mix(keys[:, None] + steps)


def uniform(bits: U64) -> npt.NDArray[np.float64]:
    """Uniform doubles in [0, 1) from the top 53 bits."""
    return (bits >> _S11).astype(np.float64) * _TWO_M53
