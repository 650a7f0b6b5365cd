"""Value distributions, utilisation classes and determinism of the value model."""

from __future__ import annotations

import numpy as np
import pytest

from tsload.model.schema import TASK_END_STATE_PROBABILITIES
from tsload.model.values import HIGH, LOW, NORMAL, SCALE, ValueModel

N = 100_000
T0 = 1_764_300_000_000


@pytest.fixture(scope="module")
def metrics() -> tuple[np.ndarray, np.ndarray]:
    vm = ValueModel(data_seed=42)
    ids = np.arange(N, dtype=np.int64)
    return vm.metric_micros(ids, np.full(N, T0)), vm.utilisation_class(ids)


def test_classes_are_exactly_20_20(metrics: tuple[np.ndarray, np.ndarray]) -> None:
    _, cls = metrics
    counts = np.bincount(cls, minlength=3)
    assert counts[LOW] == counts[HIGH] == N // 5
    assert counts[NORMAL] == N - 2 * (N // 5)
    blocks = cls.reshape(-1, 10)
    assert np.all((blocks == LOW).sum(axis=1) == 2) and np.all((blocks == HIGH).sum(axis=1) == 2)


def test_classes_depend_on_seed_and_id_only() -> None:
    a, b = ValueModel(1), ValueModel(2)
    ids = np.arange(10_000)
    assert np.array_equal(a.utilisation_class(ids), ValueModel(1).utilisation_class(ids))
    assert not np.array_equal(a.utilisation_class(ids), b.utilisation_class(ids))
    assert np.array_equal(a.utilisation_class(ids[5000:]), a.utilisation_class(ids)[5000:])


def test_cpu_user_ranges_by_class(metrics: tuple[np.ndarray, np.ndarray]) -> None:
    m, cls = metrics
    user = m[:, 0] / SCALE
    for c, lo, hi in ((LOW, 0, 10), (NORMAL, 35, 65), (HIGH, 85, 95)):
        u = user[cls == c]
        assert u.min() >= lo and u.max() < hi
        assert u.mean() == pytest.approx((lo + hi) / 2, abs=0.15)


def test_other_metric_bounds_and_means(metrics: tuple[np.ndarray, np.ndarray]) -> None:
    m, _ = metrics
    small = m[:, 1:7] / SCALE
    assert small.min() >= 0 and small.max() < 1
    assert small.mean(axis=0) == pytest.approx([0.5] * 6, abs=0.01)
    rest = m[:, 8:] / SCALE
    assert rest.min() >= 0 and rest.max() < 100
    assert rest.mean(axis=0) == pytest.approx([50.0] * 12, abs=0.6)


def test_cpu_idle_identity_is_exact(metrics: tuple[np.ndarray, np.ndarray]) -> None:
    m, _ = metrics
    assert np.array_equal(m[:, 7], 100 * SCALE - m[:, 0] - m[:, 1:7].sum(axis=1))
    assert m[:, 7].min() > -1 * SCALE and m[:, 7].max() <= 100 * SCALE


def test_event_distributions() -> None:
    vm = ValueModel(data_seed=7)
    ids = np.arange(N, dtype=np.int64)
    ev = vm.event_values(ids, np.full(N, T0))
    assert ev.task_completed.min() == 0 and ev.task_completed.max() == 500
    assert ev.task_completed.mean() == pytest.approx(250, abs=2.5)
    freq = np.bincount(ev.task_end_state, minlength=6) / N
    assert freq == pytest.approx(list(TASK_END_STATE_PROBABILITIES), abs=0.005)
    d = ev.doubles_micros / SCALE
    assert d.min() >= 0 and d.max() < 100
    assert d.mean(axis=0) == pytest.approx([50.0] * 3, abs=0.6)


def test_values_depend_only_on_seed_id_time() -> None:
    vm = ValueModel(data_seed=3)
    ids = np.arange(2000, dtype=np.int64)
    times = T0 + (ids % 7) * 60_000
    whole = vm.metric_micros(ids, times)
    perm = np.random.default_rng(0).permutation(2000)
    assert np.array_equal(vm.metric_micros(ids[perm], times[perm]), whole[perm])
    assert np.array_equal(ValueModel(data_seed=3).metric_micros(ids[:10], times[:10]), whole[:10])
    assert not np.array_equal(ValueModel(data_seed=4).metric_micros(ids, times), whole)
    assert not np.array_equal(vm.metric_micros(ids, times + 1), whole)
    ev = vm.event_values(ids, times)
    ev_part = vm.event_values(ids[::3], times[::3])
    assert np.array_equal(ev_part.doubles_micros, ev.doubles_micros[::3])


def test_request_ids_are_uuid4_and_unique() -> None:
    import uuid

    vm = ValueModel(1)
    ids = np.arange(5000)
    rq = vm.request_ids("metrics", ids, np.full(5000, T0))
    assert len(set(rq)) == 5000
    assert all(uuid.UUID(r).version == 4 and str(uuid.UUID(r)) == r for r in rq[:200])
    assert rq[:10] == vm.request_ids("metrics", ids[:10], np.full(10, T0))
    assert rq[:10] != vm.request_ids("events", ids[:10], np.full(10, T0))


def test_request_ids_are_fresh_per_nonce_values_are_not() -> None:
    ids, times = np.arange(200), np.full(200, T0)
    a, b = ValueModel(1, request_id_nonce=11), ValueModel(1, request_id_nonce=12)
    again = ValueModel(1, request_id_nonce=11)
    assert a.request_ids("metrics", ids, times) == again.request_ids("metrics", ids, times)
    assert set(a.request_ids("metrics", ids, times)).isdisjoint(b.request_ids("metrics", ids, times))
    # the measure values do not depend on the nonce: only the ids are fresh
    assert np.array_equal(a.metric_micros(ids, times), b.metric_micros(ids, times))
