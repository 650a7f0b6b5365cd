"""Writer coroutines: take encoded requests off the queue, send them, classify, retry, count.

Which answers a retry can cure is the target's policy (`WriteKind.RETRY` outcomes: throttling,
5xx, connection errors, endpoint rediscovery); how often and how long to wait is the one
`RetryPolicy` (exponential back-off with full jitter, `max_retries` = max_attempts - 1), after
which the request's records count as failed. A rejected-records answer is final: the listed records count
as rejected by reason, the rest as ingested, and the request is never resent. Fatal answers
(ValidationException, ResourceNotFound, AccessDenied, other 4xx) raise `TargetError`, which stops
the run.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import Protocol

from tsload._errors import TargetError
from tsload.ingest.stats import IngestStats
from tsload.targets import EncodedRequest, RetryPolicy, WriteKind, WriteOutcome

log = logging.getLogger(__name__)


class Writes(Protocol):
    """The part of `tsload.targets.Target` a writer coroutine uses."""

    async def write(self, body: bytes, records: int) -> WriteOutcome: ...


# (request, scheduled monotonic time or -1.0 for backfill) or None: "no more work"
QueueItem = tuple[EncodedRequest, float] | None


class Sender:
    def __init__(
        self,
        target: Writes,
        stats: IngestStats,
        policy: RetryPolicy,
        *,
        seed: int = 0,
    ) -> None:
        self._target = target
        self._stats = stats
        self._policy = policy
        self._rng = random.Random(seed)
        self._logged: set[str] = set()

    async def run(self, queue: asyncio.Queue[QueueItem]) -> None:
        """One writer coroutine: loop until it takes `None` off the queue."""
        loop = asyncio.get_running_loop()
        while True:
            item = await queue.get()
            if item is None:
                return
            request, scheduled = item
            try:
                if scheduled >= 0:
                    self._stats.record_lag(loop.time() - scheduled)
                await self.send(request, scheduled)
            except asyncio.CancelledError:
                # cut off at the drain deadline: these records were neither ingested nor failed
                self._stats.c["dropped"] += request.records
                raise

    async def send(self, request: EncodedRequest, scheduled: float = -1.0) -> None:
        """Send until answered; `scheduled` (loop time, < 0: none) is the points' emission time."""
        stats = self._stats
        c = stats.c
        retries = 0
        while True:
            t0 = time.perf_counter()
            result = await self._target.write(request.body, request.records)
            elapsed = time.perf_counter() - t0
            kind = result.kind
            if kind is WriteKind.OK:
                stats.record_latency(elapsed)
                if scheduled >= 0:
                    stats.record_from_schedule(asyncio.get_running_loop().time() - scheduled)
                c["requests"] += 1
                c["ingested"] += request.records
                c["ingested_measures"] += request.measures
                return
            if kind is WriteKind.REJECTED:
                stats.record_latency(elapsed)
                if scheduled >= 0:
                    stats.record_from_schedule(asyncio.get_running_loop().time() - scheduled)
                c["requests"] += 1
                n_rejected = min(len(result.rejected_reasons), request.records)
                c["ingested"] += request.records - n_rejected
                if request.records:
                    c["ingested_measures"] += (
                        request.measures * (request.records - n_rejected) // request.records
                    )
                stats.rejected.update(result.rejected_reasons[:n_rejected])
                # A reject answer that names no record still means the request was refused as a whole.
                if n_rejected == 0 and result.ingested < request.records:
                    stats.rejected["unspecified"] += request.records
                    c["ingested"] -= request.records
                    c["ingested_measures"] -= request.measures
                return
            stats.errors[result.code or "unknown"] += 1
            if kind is WriteKind.FATAL:
                c["failed"] += request.records
                c["failed_requests"] += 1
                raise TargetError(result.message, code=result.code, request_id=result.request_id)
            # WriteKind.RETRY
            if result.throttled:
                c["throttled"] += 1
            if retries >= self._policy.max_retries:
                c["failed"] += request.records
                c["failed_requests"] += 1
                c["requests"] += 1
                if result.code not in self._logged:
                    self._logged.add(result.code)
                    log.warning("gave up after %d attempts: %s: %s", retries + 1, result.code, result.message)
                return
            retries += 1
            c["retries"] += 1
            await asyncio.sleep(self._policy.backoff_s(retries, self._rng))
