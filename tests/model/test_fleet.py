"""Fleet enumeration against a literal reading of spec §1, prefixes, id arithmetic, sharding."""

from __future__ import annotations

import itertools
import random
import string

import numpy as np
import pytest

from tsload._errors import ConfigError
from tsload.model.fleet import Fleet, FleetConfig, instance_prefix
from tsload.model.schema import MICROSERVICES, REGIONS
from tsload.model.shard import parse_shard, process_range, shard_range


def reference_enumeration(scale: int, seed: int) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """Nested loops exactly as the spec words them."""
    prefix = "".join(random.Random(seed).choices(string.ascii_letters + string.digits, k=8))
    metrics: list[tuple[str, ...]] = []
    events: list[tuple[str, ...]] = []
    for region, cells, silos in REGIONS:
        for c in range(1, cells + 1):
            for m in range(1, silos + 1):
                cell, silo = f"{region}-cell-{c}", f"{region}-cell-{c}-silo-{m}"
                for name, count, itype, osv, procs, jdk in MICROSERVICES:
                    for i in range(count * scale):
                        az = f"{region}-{i % 3 + 1}"
                        inst = f"i-{prefix}-{name}-{silo}-{i:08d}.amazonaws.com"
                        metrics.append((region, cell, silo, az, name, itype, osv, inst))
                        for p in procs:
                            events.append((region, cell, silo, az, name, inst, p, jdk))
    return metrics, events


@pytest.mark.parametrize(("seed", "prefix"), [(12345, "zaZswmJk"), (56789, "sS6Eq1tZ")])
def test_instance_prefix_matches_the_sample(seed: int, prefix: str) -> None:
    assert instance_prefix(seed) == prefix


@pytest.mark.parametrize(("scale", "seed"), [(1, 12345), (2, 56789), (3, 7)])
def test_enumeration_matches_reference(scale: int, seed: int) -> None:
    fleet = Fleet(FleetConfig(host_scale=scale, instance_name_seed=seed))
    ref_m, ref_e = reference_enumeration(scale, seed)
    assert fleet.n_hosts == len(ref_m) == 1000 * scale
    assert fleet.n_event_sets == len(ref_e) == 1200 * scale
    step = 1 if scale == 1 else 7  # keep the test quick; every host at scale 1
    for h in range(0, fleet.n_hosts, step):
        assert tuple(v for _, v in fleet.metric_dimensions(h)) == ref_m[h]
    for e in range(0, fleet.n_event_sets, step):
        assert tuple(v for _, v in fleet.event_dimensions(e)) == ref_e[e]


def test_event_sets_map_to_their_hosts() -> None:
    fleet = Fleet(FleetConfig(host_scale=2))
    hosts = fleet.host_of_event_set(np.arange(fleet.n_event_sets))
    assert np.all(np.diff(hosts) >= 0)
    assert np.array_equal(np.unique(hosts), np.arange(fleet.n_hosts))
    for e in (0, 5, 777, 2399):
        h = int(hosts[e])
        assert (
            dict(fleet.event_dimensions(e))["instance_name"]
            == dict(fleet.metric_dimensions(h))["instance_name"]
        )


def test_large_fleet_is_arithmetic_not_stored() -> None:
    fleet = Fleet(FleetConfig(host_scale=4000))
    assert (fleet.n_hosts, fleet.n_event_sets) == (4_000_000, 4_800_000)
    last = dict(fleet.metric_dimensions(fleet.n_hosts - 1))
    assert last["instance_name"].endswith("-ap-northeast-1-cell-5-silo-3-00011999.amazonaws.com")
    with pytest.raises(IndexError):
        fleet.hosts([fleet.n_hosts])


@pytest.mark.parametrize("bad", [0, -1, True, 2.5])
def test_bad_host_scale(bad: object) -> None:
    with pytest.raises(ConfigError, match=r"^host_scale: a positive integer, got"):
        Fleet(FleetConfig(host_scale=bad))  # type: ignore[arg-type]


@pytest.mark.parametrize(("n", "p"), [(1000, 3), (10, 4), (3, 5), (0, 2), (4_000_000, 7)])
def test_process_ranges_partition_contiguously(n: int, p: int) -> None:
    ranges = [process_range(n, i, p) for i in range(p)]
    assert ranges[0].start == 0 and ranges[-1].stop == n
    assert all(a.stop == b.start for a, b in itertools.pairwise(ranges))
    sizes = [len(r) for r in ranges]
    assert max(sizes) - min(sizes) <= 1
    assert shard_range(n, p - 1, p) == ranges[-1]


@pytest.mark.parametrize(("text", "expected"), [("0/1", (0, 1)), ("3/4", (3, 4)), (" 2 / 10 ", (2, 10))])
def test_parse_shard(text: str, expected: tuple[int, int]) -> None:
    assert parse_shard(text) == expected


@pytest.mark.parametrize("text", ["4/4", "1/0", "a/b", "1", "-1/3", ""])
def test_parse_shard_rejects(text: str) -> None:
    with pytest.raises(ConfigError, match=r"^shard: K/N with 0 <= K < N, got"):
        parse_shard(text)


def test_dimension_texts_are_every_host_and_event_sets_dimensions() -> None:
    """The encoders' per-(silo, microservice, AZ) tables come from dimension_texts: with a host's
    instance number and process filled in, it must give exactly that host's (event set's) dimensions."""
    fleet = Fleet(FleetConfig(host_scale=2, instance_name_seed=99))
    rng = np.random.default_rng(5)
    for host in rng.integers(0, fleet.n_hosts, 200).tolist():
        h = fleet.hosts([host])
        silo, ms, inst = int(h.silo[0]), int(h.microservice[0]), int(h.instance[0])
        texts = fleet.dimension_texts(silo, ms, inst % 3, f"{inst:08d}", "")
        assert tuple((n, texts[n]) for n, _ in fleet.metric_dimensions(host)) == fleet.metric_dimensions(host)
    for es in rng.integers(0, fleet.n_event_sets, 200).tolist():
        e = fleet.event_sets([es])
        silo, ms, inst = int(e.silo[0]), int(e.microservice[0]), int(e.instance[0])
        proc = MICROSERVICES[ms][4][int(e.process[0])]
        texts = fleet.dimension_texts(silo, ms, inst % 3, f"{inst:08d}", proc)
        assert tuple((n, texts[n]) for n, _ in fleet.event_dimensions(es)) == fleet.event_dimensions(es)
