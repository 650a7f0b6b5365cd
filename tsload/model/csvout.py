"""The fleet as CSV (`tsload model --hosts metrics|events`), streamed in vectorised chunks."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from tsload.model.fleet import Fleet
from tsload.model.schema import DIMENSION_NAMES, MICROSERVICES
from tsload.model.textbytes import digits_fixed

_NUL = 0
CHUNK_ROWS = 1 << 15


def _padded(texts: list[bytes]) -> np.ndarray:
    w = max(len(t) for t in texts)
    out = np.zeros((len(texts), w), dtype=np.uint8)
    for i, t in enumerate(texts):
        out[i, : len(t)] = np.frombuffer(t, dtype=np.uint8)
    return out


def _check_plain(text: str) -> str:
    if any(c in text for c in ',"\n\r'):
        raise AssertionError(f"value needs CSV quoting: {text!r}")
    return text


def iter_fleet_csv(fleet: Fleet, kind: str, chunk_rows: int = CHUNK_ROWS) -> Iterator[bytes]:
    """Header line, then one line per dimension set in enumeration order, as byte chunks."""
    if kind not in ("metrics", "events"):
        raise ValueError(f"kind must be metrics or events, got {kind!r}")
    names = DIMENSION_NAMES[kind]
    yield (",".join(names) + "\n").encode()
    heads: list[bytes] = []
    # a row per (silo, microservice, AZ): the dimensions before instance_name and its prefix
    before_instance = names[: names.index("instance_name")]
    for silo in range(fleet.n_silos):
        for m in range(len(MICROSERVICES)):
            for az in range(3):
                values = fleet.dimension_texts(silo, m, az, "", "")
                head = [*(values[n] for n in before_instance), fleet.instance_name_prefix(silo, m)]
                heads.append(",".join(_check_plain(v) for v in head).encode())
    head_table = _padded(heads)
    if kind == "metrics":
        tail_table = _padded([b".amazonaws.com\n"])
    else:
        tail_table = _padded(
            [f".amazonaws.com,{p},{ms[5]}\n".encode() for ms in MICROSERVICES for p in ms[4]]
        )
        proc_base = np.cumsum([0] + [len(ms[4]) for ms in MICROSERVICES])[:-1]
    n = fleet.n_hosts if kind == "metrics" else fleet.n_event_sets
    for start in range(0, n, chunk_rows):
        ids = np.arange(start, min(n, start + chunk_rows), dtype=np.int64)
        if kind == "metrics":
            cols = fleet.hosts(ids)
            tails = tail_table[np.zeros(ids.shape[0], dtype=np.int64)]
        else:
            ev = fleet.event_sets(ids)
            cols = ev  # type: ignore[assignment]
            tails = tail_table[proc_base[ev.microservice] + ev.process]
        combo = (cols.silo * len(MICROSERVICES) + cols.microservice) * 3 + cols.instance % 3
        rows = np.concatenate([head_table[combo], digits_fixed(cols.instance, 8), tails], axis=1)
        yield rows[rows != _NUL].tobytes()
