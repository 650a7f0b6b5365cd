"""Weighted choice (chi-square over a long seeded run), think time and stagger."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from tsload.query.pacing import QueryChooser, stagger_offsets_ms, think_time_ms

SAMPLE_MIX = [
    ("do-q1", 60.0),
    ("do-q2", 35.0),
    ("do-q3", 2.9),
    ("do-q4", 2.0),
    ("do-q5", 0.05),
    ("do-q6", 0.05),
]


def chi_square(observed: Counter[str], expected: dict[str, float]) -> float:
    return sum((observed[k] - e) ** 2 / e for k, e in expected.items())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_weights_chi_square(seed: int) -> None:
    # Un-normalised weights on purpose (the sample required a sum of exactly 100).
    weights = [(n, w * 3.7) for n, w in SAMPLE_MIX]
    total = sum(w for _, w in weights)
    n = 400_000
    chooser = QueryChooser(weights, random.Random(seed))
    observed = Counter(chooser.next() for _ in range(n))
    expected = {name: n * w / total for name, w in weights}
    # 5 degrees of freedom: P(chi2 > 20.52) = 0.001
    assert chi_square(observed, expected) < 20.52
    assert set(observed) == {n for n, _ in SAMPLE_MIX}


def test_a_skewed_choice_fails_the_check() -> None:
    # The statistic must be able to fail: a chooser with two weights swapped is rejected.
    n = 100_000
    chooser = QueryChooser([("a", 35.0), ("b", 60.0), ("c", 5.0)], random.Random(0))
    observed = Counter(chooser.next() for _ in range(n))
    assert chi_square(observed, {"a": n * 0.60, "b": n * 0.35, "c": n * 0.05}) > 1000


def test_zero_weight_is_never_chosen_and_seed_reproduces() -> None:
    a = QueryChooser([("x", 1.0), ("never", 0.0), ("y", 2.0)], random.Random(9))
    b = QueryChooser([("x", 1.0), ("never", 0.0), ("y", 2.0)], random.Random(9))
    seq = [a.next() for _ in range(5000)]
    assert "never" not in seq and seq == [b.next() for _ in range(5000)]
    with pytest.raises(ValueError):
        QueryChooser([("x", 0.0)], random.Random(0))


@pytest.mark.parametrize("think", [0, 1, 100, 4999, 5000, 5001, 30000])
def test_randomized_think_time_any_value(think: int) -> None:
    rng = random.Random(think)
    draws = [think_time_ms(think, True, rng) for _ in range(2000)]
    lo = min(5000, think)
    assert all(lo <= d <= think for d in draws)
    if think - lo >= 10:
        assert min(draws) < lo + (think - lo) * 0.1 and max(draws) > think - (think - lo) * 0.1
    assert think_time_ms(think, False, rng) == think


def test_stagger_offsets() -> None:
    assert stagger_offsets_ms(4, 30000, False, random.Random(0)) == [0, 30000, 60000, 90000]
    assert stagger_offsets_ms(3, 0, True, random.Random(0)) == [0, 0, 0]
    offsets = stagger_offsets_ms(200, 1000, True, random.Random(5))
    steps = [b - a for a, b in itertools.pairwise(offsets)]
    assert offsets[0] == 0 and all(0 <= s <= 1000 for s in steps)
    assert 400 < sum(steps) / len(steps) < 600  # uniform [0, T]: mean T/2
