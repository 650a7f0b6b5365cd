"""Injected faults for reliability tests: throttling, server errors, rejected records, latency.

Every decision comes from one seeded `random.Random`, drawn in a fixed order per request, so a
run with the same seed and the same request order injects the same faults.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter

from tsload.engine.config import FaultConfig
from tsload.engine.errors import ApiError

INJECTED_REJECT_REASON = "Record rejected by the local engine's fault injection (--reject-rate)."


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self._rng = random.Random(config.seed)

    def throttle(self) -> bool:
        return self.config.throttle_rate > 0 and self._rng.random() < self.config.throttle_rate

    def error(self) -> bool:
        return self.config.error_rate > 0 and self._rng.random() < self.config.error_rate

    def invalid_endpoint(self) -> bool:
        rate = self.config.invalid_endpoint_rate
        return rate > 0 and self._rng.random() < rate

    def latency_s(self) -> float:
        lat = self.config.latency_ms
        if lat is None:
            return 0.0
        lo, hi = lat
        return (lo if lo == hi else self._rng.uniform(lo, hi)) / 1000.0

    def rejected(self, n: int) -> set[int]:
        rate = self.config.reject_rate
        if rate <= 0:
            return set()
        rnd = self._rng.random
        return {i for i in range(n) if rnd() < rate}

    async def inject(self, kind: str, stats: Counter[str]) -> None:
        """Latency, throttling, invalid endpoint, server error: one fixed draw order per request."""
        if not self.config.active:
            return
        delay = self.latency_s()
        if delay > 0:
            stats["injected_latency_requests"] += 1
            await asyncio.sleep(delay)
        if self.throttle():
            stats["injected_throttles"] += 1
            raise ApiError("ThrottlingException", f"Rate exceeded ({kind}; injected by --throttle-rate)")
        if self.invalid_endpoint():
            stats["injected_invalid_endpoints"] += 1
            raise ApiError(
                "InvalidEndpointException",
                f"The endpoint is not valid for this request ({kind}; injected by --invalid-endpoint-rate)",
            )
        if self.error():
            stats["injected_errors"] += 1
            raise ApiError(
                "InternalServerException", f"Internal server error ({kind}; injected by --error-rate)"
            )
