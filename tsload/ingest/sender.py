"""Writer coroutines: take encoded requests off the queue, send them, classify, retry, count.

Retries (throttling, 5xx, connection errors, endpoint rediscovery) use exponential backoff with
full jitter: sleep uniform(0, min(cap, base * 2**attempt)), at most `max_attempts` tries, then the
request's records count as failed. A rejected-records answer is final: the listed records count
as rejected by reason, the rest as ingested, and the request is never resent. Fatal answers
(ValidationException, ResourceNotFound, AccessDenied, other 4xx) raise `TargetError`, which stops
the run.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from typing import Protocol

from tsload._errors import TargetError
from tsload.ingest.stats import IngestStats
from tsload.targets.timestream import Kind, RecordWriter

log = logging.getLogger(__name__)


class EncodedLike(Protocol):
    @property
    def body(self) -> bytes: ...
    @property
    def records(self) -> int: ...
    @property
    def measures(self) -> int: ...
    @property
    def kind(self) -> str: ...


# (request, scheduled monotonic time or -1.0 for backfill) or None: "no more work"
QueueItem = tuple[EncodedLike, float] | None


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 10
    base_s: float = 0.05
    cap_s: float = 5.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        return rng.uniform(0.0, min(self.cap_s, self.base_s * (2**attempt)))


_HINTS = {
    "ValidationException": "Timestream refused a request tsload built: a tsload bug, please report it",
    "ResourceNotFoundException": "the database or table does not exist (deleted while ingesting?)",
    "AccessDeniedException": "the credentials lack timestream:WriteRecords (see docs/ingest.md)",
    "UnrecognizedClientException": "the access key is not valid for this endpoint",
    "InvalidSignatureException": "the request signature was refused (clock skew or wrong secret key?)",
}


def fatal_message(code: str, message: str) -> str:
    hint = _HINTS.get(code, "not retried")
    return f"WriteRecords failed: {code}: {message} ({hint})"


class Sender:
    def __init__(
        self,
        writer: RecordWriter,
        stats: IngestStats,
        policy: RetryPolicy,
        *,
        seed: int = 0,
    ) -> None:
        self._writer = writer
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
                await self.send(request)
            except asyncio.CancelledError:
                # cut off at the drain deadline: these records were neither ingested nor failed
                self._stats.c["dropped"] += request.records
                raise

    async def send(self, request: EncodedLike) -> None:
        stats = self._stats
        c = stats.c
        attempt = 0
        while True:
            t0 = time.perf_counter()
            result = await self._writer.attempt(request.body, request.records)
            elapsed = time.perf_counter() - t0
            kind = result.kind
            if kind is Kind.OK:
                stats.record_latency(elapsed)
                c["requests"] += 1
                c["ingested"] += request.records
                c["ingested_measures"] += request.measures
                return
            if kind is Kind.REJECTED:
                stats.record_latency(elapsed)
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
            if kind is Kind.FATAL:
                c["failed"] += request.records
                c["failed_requests"] += 1
                raise TargetError(
                    fatal_message(result.code, result.message), code=result.code, request_id=result.request_id
                )
            # Kind.RETRY
            if result.throttled:
                c["throttled"] += 1
            attempt += 1
            if attempt >= self._policy.max_attempts:
                c["failed"] += request.records
                c["failed_requests"] += 1
                c["requests"] += 1
                if result.code not in self._logged:
                    self._logged.add(result.code)
                    log.warning("gave up after %d attempts: %s: %s", attempt, result.code, result.message)
                return
            c["retries"] += 1
            await asyncio.sleep(self._policy.backoff(attempt, self._rng))


