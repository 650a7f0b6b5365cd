"""The simulated fleet: hosts and event sets in the spec's enumeration order, held as arithmetic.

A host id is its position in the enumeration region → cell → silo → microservice → instance.
Every silo holds the same 10·S hosts (3S apollo, S athena, S demeter, 2S hercules, 3S zeus) and
12·S event sets, so ids map to (silo, microservice, instance[, process]) by integer arithmetic on
numpy arrays; names are rendered on demand from small per-silo tables. Nothing per host is stored.
"""

from __future__ import annotations

import operator
import random
import string
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tsload._errors import ConfigError
from tsload.model.schema import (
    EVENT_DIMENSION_NAMES,
    EVENT_NAMES,
    EVENT_SETS_PER_SILO_UNIT,
    HOSTS_PER_SILO_UNIT,
    METRIC_DIMENSION_NAMES,
    METRIC_NAMES,
    MICROSERVICES,
    REGIONS,
)

__all__ = [
    "EVENT_DIMENSION_NAMES",
    "EVENT_NAMES",
    "METRIC_DIMENSION_NAMES",
    "METRIC_NAMES",
    "EventColumns",
    "Fleet",
    "FleetConfig",
    "HostColumns",
    "instance_prefix",
]

IntArray = npt.NDArray[np.int64]

#: The sample pads the instance index to 8 digits; beyond that the names would change width.
MAX_HOST_SCALE = 10_000_000 // 3


def instance_prefix(seed: int) -> str:
    """The 8-character instance-name prefix the sample draws for `seed`."""
    return "".join(random.Random(seed).choices(string.ascii_letters + string.digits, k=8))


@dataclass(frozen=True)
class FleetConfig:
    host_scale: int = 100
    instance_name_seed: int = 12345


@dataclass(frozen=True)
class HostColumns:
    silo: IntArray  # global silo index 0..99
    microservice: IntArray  # index into MICROSERVICES
    instance: IntArray  # instance index within (silo, microservice)


@dataclass(frozen=True)
class EventColumns:
    host: IntArray
    silo: IntArray
    microservice: IntArray
    instance: IntArray
    process: IntArray  # index into the microservice's process list


class Fleet:
    """1,000·S hosts and 1,200·S event sets, enumerated exactly as the spec says."""

    def __init__(self, config: FleetConfig) -> None:
        try:
            s = operator.index(config.host_scale)  # ints, numpy integers
        except TypeError:
            s = 0
        if isinstance(config.host_scale, bool) or s < 1:
            raise ConfigError("host_scale", "a positive integer", got=config.host_scale)
        if s > MAX_HOST_SCALE:
            raise ConfigError("host_scale", f"at most {MAX_HOST_SCALE:,} (8-digit instance numbers)", got=s)
        self.config = config
        self.host_scale = s
        self.prefix = instance_prefix(config.instance_name_seed)
        self.hosts_per_silo = HOSTS_PER_SILO_UNIT * s
        self.event_sets_per_silo = EVENT_SETS_PER_SILO_UNIT * s

        regions: list[int] = []
        cells: list[str] = []
        silos: list[str] = []
        for r, (region, n_cells, n_silos) in enumerate(REGIONS):
            for c in range(1, n_cells + 1):
                for m in range(1, n_silos + 1):
                    regions.append(r)
                    cells.append(f"{region}-cell-{c}")
                    silos.append(f"{region}-cell-{c}-silo-{m}")
        self.n_silos = len(silos)
        #: per silo: region index, cell name, silo name
        self.silo_region: IntArray = np.asarray(regions, dtype=np.int64)
        self.silo_cell_names: tuple[str, ...] = tuple(cells)
        self.silo_names: tuple[str, ...] = tuple(silos)

        counts = np.asarray([m[1] * s for m in MICROSERVICES], dtype=np.int64)
        procs = np.asarray([len(m[4]) for m in MICROSERVICES], dtype=np.int64)
        #: offsets of each microservice's hosts / event sets inside a silo
        self._host_offsets: IntArray = np.concatenate(([0], np.cumsum(counts)))
        self._event_offsets: IntArray = np.concatenate(([0], np.cumsum(counts * procs)))
        self._procs = procs

        self.n_hosts = self.n_silos * self.hosts_per_silo
        self.n_event_sets = self.n_silos * self.event_sets_per_silo

    # --- vectorised id arithmetic -------------------------------------------------------------
    def hosts(self, host_ids: npt.ArrayLike) -> HostColumns:
        ids = np.asarray(host_ids, dtype=np.int64)
        self._check_range(ids, self.n_hosts, "host")
        silo, r = np.divmod(ids, self.hosts_per_silo)
        ms = np.searchsorted(self._host_offsets, r, side="right") - 1
        return HostColumns(silo=silo, microservice=ms, instance=r - self._host_offsets[ms])

    def event_sets(self, event_ids: npt.ArrayLike) -> EventColumns:
        ids = np.asarray(event_ids, dtype=np.int64)
        self._check_range(ids, self.n_event_sets, "event set")
        silo, r = np.divmod(ids, self.event_sets_per_silo)
        ms = np.searchsorted(self._event_offsets, r, side="right") - 1
        inst, proc = np.divmod(r - self._event_offsets[ms], self._procs[ms])
        host = silo * self.hosts_per_silo + self._host_offsets[ms] + inst
        return EventColumns(host=host, silo=silo, microservice=ms, instance=inst, process=proc)

    def host_of_event_set(self, event_ids: np.ndarray) -> np.ndarray:
        return self.event_sets(event_ids).host

    @staticmethod
    def _check_range(ids: IntArray, n: int, what: str) -> None:
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= n):
            raise IndexError(f"{what} id out of range 0..{n - 1}")

    # --- names ------------------------------------------------------------------------------
    def region_name(self, silo: int) -> str:
        return REGIONS[int(self.silo_region[silo])][0]

    def availability_zone(self, silo: int, instance: int) -> str:
        return f"{self.region_name(silo)}-{instance % 3 + 1}"

    def instance_name_prefix(self, silo: int, microservice: int) -> str:
        """An instance name up to its 8-digit number."""
        return f"i-{self.prefix}-{MICROSERVICES[microservice][0]}-{self.silo_names[silo]}-"

    def instance_name(self, silo: int, microservice: int, instance: int) -> str:
        return f"{self.instance_name_prefix(silo, microservice)}{instance:08d}.amazonaws.com"

    def dimension_texts(
        self, silo: int, microservice: int, az: int, instance_number: str, process_name: str
    ) -> dict[str, str]:
        """Every dimension's text (by dimension name) of the hosts of one silo, microservice and
        availability zone (`az` 0..2: instance % 3), `instance_number` standing for the 8 digits
        and `process_name` for an event set's process: a row of an encoder's dimension tables."""
        ms = MICROSERVICES[microservice]
        region, cell, silo_name, zone = self._place(silo, az)
        instance_name = f"{self.instance_name_prefix(silo, microservice)}{instance_number}.amazonaws.com"
        return {
            "region": region,
            "cell": cell,
            "silo": silo_name,
            "availability_zone": zone,
            "microservice_name": ms[0],
            "instance_type": ms[2],
            "os_version": ms[3],
            "instance_name": instance_name,
            "process_name": process_name,
            "jdk_version": ms[5],
        }

    def _place(self, silo: int, instance: int) -> tuple[str, str, str, str]:
        """region, cell, silo, availability zone: the first four dimensions of both kinds."""
        return (
            self.region_name(silo),
            self.silo_cell_names[silo],
            self.silo_names[silo],
            self.availability_zone(silo, instance),
        )

    def metric_dimensions(self, host_id: int) -> tuple[tuple[str, str], ...]:
        h = self.hosts([host_id])
        silo, ms, inst = int(h.silo[0]), int(h.microservice[0]), int(h.instance[0])
        m = MICROSERVICES[ms]
        values = (*self._place(silo, inst), m[0], m[2], m[3], self.instance_name(silo, ms, inst))
        return tuple(zip(METRIC_DIMENSION_NAMES, values, strict=True))

    def event_dimensions(self, event_id: int) -> tuple[tuple[str, str], ...]:
        e = self.event_sets([event_id])
        silo, ms, inst, proc = int(e.silo[0]), int(e.microservice[0]), int(e.instance[0]), int(e.process[0])
        m = MICROSERVICES[ms]
        values = (*self._place(silo, inst), m[0], self.instance_name(silo, ms, inst), m[4][proc], m[5])
        return tuple(zip(EVENT_DIMENSION_NAMES, values, strict=True))
