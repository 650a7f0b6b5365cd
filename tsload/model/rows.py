"""Fixed-width byte rows: what the two request encoders (Timestream JSON in `encode.py`, InfluxDB
line protocol in `targets/influxdb/lineproto.py`) have in common.

An encoder describes one row (one emission, or the head of a request) as a `RowLayout`: literal
bytes and named fixed-width columns, in order; rendering broadcasts the literals and copies every
column in, so n rows cost a few numpy copies, not n Python string joins. `emission_columns` fills
the value, time and request-id columns of many emissions at once, drawn from `ValueModel`: both
encoders therefore send the very same values, and differ only in how a number is written
(`NumberFormat`) and in the text around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np
import numpy.typing as npt

from tsload._errors import LimitError
from tsload.model.fleet import Fleet
from tsload.model.schema import KINDS
from tsload.model.textbytes import U8
from tsload.model.values import IntArray, ValueModel

__all__ = [
    "FleetEncoder",
    "NumberFormat",
    "RowLayout",
    "emission_arrays",
    "emission_columns",
    "series_emissions",
    "time_digits",
]


Spec = TypeVar("Spec")


class FleetEncoder(Generic[Spec]):
    """What every request encoder of the fleet holds: the fleet, its value model and, per kind
    (metrics, events), the spec it prepared once (layouts, dimension tables)."""

    def __init__(
        self, fleet: Fleet, data_seed: int, request_id_nonce: int, make_spec: Callable[[str], Spec]
    ) -> None:
        self.fleet = fleet
        self.values = ValueModel(data_seed, fleet.config.instance_name_seed, request_id_nonce)
        self._specs = {k: make_spec(k) for k in KINDS}

    def spec(self, kind: str) -> Spec:
        try:
            return self._specs[kind]
        except KeyError:
            raise ValueError(f"kind must be 'metrics' or 'events', got {kind!r}") from None


class RowLayout:
    """A row layout: literal bytes and named fixed-width columns, in order."""

    def __init__(self) -> None:
        self.parts: list[bytes | tuple[str, int]] = []
        self.width = 0
        self.marks: list[int] = []  # offsets the encoder asked to remember (where records start)
        self._compiled: tuple[U8, list[tuple[str, int, int]]] | None = None

    def lit(self, b: bytes) -> None:
        if self.parts and isinstance(self.parts[-1], bytes):
            self.parts[-1] += b
        else:
            self.parts.append(b)
        self.width += len(b)

    def field(self, key: str, width: int) -> None:
        self.parts.append((key, width))
        self.width += width

    def mark(self) -> None:
        self.marks.append(self.width)

    def _compile(self) -> tuple[U8, list[tuple[str, int, int]]]:
        template = np.zeros((1, self.width), dtype=np.uint8)
        slots: list[tuple[str, int, int]] = []
        off = 0
        for p in self.parts:
            if isinstance(p, bytes):
                template[0, off : off + len(p)] = np.frombuffer(p, dtype=np.uint8)
                off += len(p)
            else:
                slots.append((p[0], off, p[1]))
                off += p[1]
        return template, slots

    def render(self, n: int, fields: dict[str, U8]) -> U8:
        """(n, width) rows: the literals broadcast from one template, then every column copied in."""
        if self._compiled is None:
            self._compiled = self._compile()
        template, slots = self._compiled
        out = np.empty((n, self.width), dtype=np.uint8)
        out[:] = template
        for key, off, w in slots:
            out[:, off : off + w] = fields[key]
        return out


@dataclass(frozen=True)
class NumberFormat:
    """How one encoder writes the model's numbers into its columns."""

    decimal6: Callable[[IntArray], U8]  # values in 1e-6 units, shape (...) → (..., width)
    integer: Callable[[IntArray, int], U8]  # non-negative integers → (..., width) for a given width
    bigint_width: int  # the columns of task_completed (0..500)
    end_states: U8  # a row per TASK_END_STATES entry, in its order
    uuid: Callable[[npt.NDArray[np.uint64]], U8]  # (n, 2) request-id words → (n, width)


def emission_arrays(ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Flat int64 ids and one time per id (a single time is broadcast to all)."""
    ids_a = np.asarray(ids, dtype=np.int64).ravel()
    times = np.broadcast_to(np.asarray(times_ms, dtype=np.int64), ids_a.shape).ravel()
    return ids_a, times


def series_emissions(ids: npt.ArrayLike, times_ms: npt.ArrayLike) -> tuple[IntArray, IntArray]:
    """Every id at every time, id by id: (ids repeated, times tiled)."""
    ids_a = np.asarray(ids, dtype=np.int64).ravel()
    t1 = np.asarray(times_ms, dtype=np.int64).ravel()
    return np.repeat(ids_a, t1.shape[0]), np.tile(t1, ids_a.shape[0])


def time_digits(times: IntArray) -> int:
    """Digits of the largest timestamp (epoch ms); negative timestamps cannot be sent."""
    if not times.size:
        return 1
    if int(times.min()) < 0:
        raise LimitError(f"negative timestamp {int(times.min())} ms")
    return len(str(int(times.max())))


def emission_columns(
    values: ValueModel,
    fmt: NumberFormat,
    kind: str,
    ids: IntArray,
    times: IntArray,
    *,
    time_width: int,
    request_id: str | None,
) -> dict[str, U8]:
    """The columns of emissions (ids[i], times[i]): `v0`, `v1`… for the kind's measures in schema
    order (METRIC_NAMES or EVENT_NAMES), `time` in `time_width` columns unless that is 0, and the
    request id under the key `request_id` unless that is None."""
    f: dict[str, U8] = {}
    if kind == "metrics":
        vals = fmt.decimal6(values.metric_micros(ids, times))
        for i in range(vals.shape[1]):
            f[f"v{i}"] = vals[:, i, :]
    else:
        ev = values.event_values(ids, times)
        f["v0"] = fmt.integer(ev.task_completed, fmt.bigint_width)
        f["v1"] = fmt.end_states[ev.task_end_state]
        dbl = fmt.decimal6(ev.doubles_micros)
        for i in range(dbl.shape[1]):
            f[f"v{i + 2}"] = dbl[:, i, :]
    if time_width:
        f["time"] = fmt.integer(times, time_width)
    if request_id is not None:
        f[request_id] = fmt.uuid(values.request_id_words(kind, ids, times))
    return f
