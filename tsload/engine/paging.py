"""Query results kept between pages: QueryId, single-use NextTokens, pages of MaxRows and ~1 MB."""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

PAGE_BYTES = 1_000_000
DEFAULT_MAX_ROWS = 1000


@dataclass
class QueryState:
    query_id: str
    query_string: str
    column_info: list[dict[str, Any]]
    rows: list[dict[str, Any]]
    bytes_scanned: int
    bytes_metered: int
    offset: int = 0
    touched: float = field(default_factory=time.monotonic)
    # While the query still executes: the task that will produce its result (see Engine.query).
    task: asyncio.Task[Any] | None = None

    def next_page(self, max_rows: int) -> list[dict[str, Any]]:
        start = self.offset
        end = min(len(self.rows), start + max_rows)
        size = 0
        i = start
        while i < end:
            size += len(orjson.dumps(self.rows[i]))
            if size > PAGE_BYTES and i > start:
                break
            i += 1
        self.offset = i
        self.touched = time.monotonic()
        return self.rows[start:i]

    @property
    def done(self) -> bool:
        return self.offset >= len(self.rows)

    def status(self) -> dict[str, Any]:
        return {
            "ProgressPercentage": 0.0 if self.task is not None else 100.0,
            "CumulativeBytesScanned": self.bytes_scanned,
            "CumulativeBytesMetered": self.bytes_metered,
        }


class ResultCache:
    """Unfinished results by NextToken; dropped after `ttl` seconds without a page request."""

    def __init__(self, ttl: float = 600.0, max_entries: int = 1000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._by_token: dict[str, QueryState] = {}

    def put(self, state: QueryState) -> str:
        self.expire()
        while len(self._by_token) >= self.max_entries:
            self._by_token.pop(next(iter(self._by_token)))
        token = secrets.token_urlsafe(48)
        self._by_token[token] = state
        return token

    def take(self, token: str) -> QueryState | None:
        self.expire()
        return self._by_token.pop(token, None)

    def find(self, query_id: str) -> QueryState | None:
        for s in self._by_token.values():
            if s.query_id == query_id:
                return s
        return None

    def cancel(self, query_id: str) -> bool:
        tokens = [t for t, s in self._by_token.items() if s.query_id == query_id]
        for t in tokens:
            del self._by_token[t]
        return bool(tokens)

    def expire(self) -> None:
        cutoff = time.monotonic() - self.ttl
        for t in [t for t, s in self._by_token.items() if s.touched < cutoff]:
            del self._by_token[t]

    def __len__(self) -> int:
        return len(self._by_token)


def new_query_id() -> str:
    return "AEDQC" + secrets.token_hex(12).upper()
