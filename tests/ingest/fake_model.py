"""A tiny stand-in for the model's RequestEncoder (unit tests of scheduling and writing only)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import orjson

from tsload.ingest.config import IngestConfig


@dataclass(frozen=True, slots=True)
class Req:
    body: bytes
    records: int
    measures: int
    kind: str


class FakeFleet:
    def __init__(self, n_hosts: int) -> None:
        self.n_hosts = n_hosts
        self.n_event_sets = n_hosts + n_hosts // 5  # every fifth host has two processes

    def host_of_event_set(self, event_ids: np.ndarray) -> np.ndarray:
        owners = np.repeat(np.arange(self.n_hosts), [2 if h % 5 == 1 else 1 for h in range(self.n_hosts)])
        return owners[event_ids]


class FakeEncoder:
    def __init__(self, cfg: IngestConfig) -> None:
        self.cfg = cfg

    def _per(self, kind: str) -> int:
        return 1 if self.cfg.multi else (20 if kind == "metrics" else 5)

    def _record(self, kind: str, i: int, j: int, t: int | None) -> dict[str, object]:
        r: dict[str, object] = {
            "MeasureName": f"{kind}{j}",
            "MeasureValue": str(i),
            "MeasureValueType": "DOUBLE",
        }
        if t is not None:
            r["Time"] = str(t)
            r["Dimensions"] = [{"Name": "id", "Value": f"{kind}-{i}"}]
        return r

    def _body(self, records: list[dict[str, object]], common: dict[str, object] | None = None) -> bytes:
        doc: dict[str, object] = {"DatabaseName": self.cfg.database, "TableName": self.cfg.table}
        if common:
            doc["CommonAttributes"] = common
        doc["Records"] = records
        return orjson.dumps(doc)

    def per_emission(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[Req]:
        out = []
        for i, t in zip(ids.tolist(), times_ms.tolist(), strict=True):
            recs = [self._record(kind, i, j, None) for j in range(self._per(kind))]
            common = {
                "Dimensions": [{"Name": "id", "Value": f"{kind}-{i}"}],
                "Time": str(t),
                "TimeUnit": "MILLISECONDS",
            }
            out.append(Req(self._body(recs, common), len(recs), len(recs), kind))
        return out

    def per_series(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[Req]:
        out = []
        per = self._per(kind)
        per_req = max(1, self.cfg.batch_size // per)
        for i in ids.tolist():
            ts = times_ms.tolist()
            for lo in range(0, len(ts), per_req):
                recs = [
                    {**self._record(kind, i, j, None), "Time": str(t)}
                    for t in ts[lo : lo + per_req]
                    for j in range(per)
                ]
                common = {"Dimensions": [{"Name": "id", "Value": f"{kind}-{i}"}], "TimeUnit": "MILLISECONDS"}
                out.append(Req(self._body(recs, common), len(recs), len(recs), kind))
        return out

    def batched(self, kind: str, ids: np.ndarray, times_ms: np.ndarray) -> list[Req]:
        out: list[Req] = []
        per = self._per(kind)
        per_req = max(1, self.cfg.batch_size // per)
        pairs = list(zip(ids.tolist(), times_ms.tolist(), strict=True))
        for lo in range(0, len(pairs), per_req):
            recs = [self._record(kind, i, j, t) for i, t in pairs[lo : lo + per_req] for j in range(per)]
            out.append(Req(self._body(recs, {"TimeUnit": "MILLISECONDS"}), len(recs), len(recs), kind))
        return out


def _factory(n_hosts: int, cfg: IngestConfig) -> tuple[FakeFleet, FakeEncoder]:
    return FakeFleet(n_hosts), FakeEncoder(cfg)


def fake_model(n_hosts: int) -> functools.partial[tuple[FakeFleet, FakeEncoder]]:
    """A picklable model factory (spawned ingest processes import it by name)."""
    return functools.partial(_factory, n_hosts)
