"""The tsload exception tree.

    TsloadError                 anything tsload raises on purpose
    ├── ConfigError             bad flags, files or settings: the CLI prints one line and exits 2
    ├── LimitError              a record or request breaks a Timestream limit: always a tsload bug
    └── TargetError             the database answered with an error we could not handle
        ├── ThrottledError
        ├── RejectedRecordsError   (carries the rejected record indexes and reasons)
        └── QueryError

Translation from botocore/aiohttp exceptions happens at the target boundary, so the
load-generating code never sees transport-specific types.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class TsloadError(Exception):
    """Base class of every error tsload raises on purpose."""

    exit_code: int = 1


class ConfigError(TsloadError):
    """Invalid user input: the message names the flag or file and what is allowed."""

    exit_code = 2


class LimitError(TsloadError):
    """A generated record or request breaks a Timestream limit (a tsload bug, never truncated)."""


class TargetError(TsloadError):
    """The target database returned an error tsload does not retry away."""

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class ThrottledError(TargetError):
    """ThrottlingException after the retry budget was spent."""


@dataclass(frozen=True)
class RejectedRecord:
    index: int
    reason: str
    existing_version: int | None = None


class RejectedRecordsError(TargetError):
    """Some records of a WriteRecords request were rejected; the rest were ingested."""

    def __init__(self, message: str, rejected: list[RejectedRecord]) -> None:
        super().__init__(message, code="RejectedRecordsException")
        self.rejected = rejected


class QueryError(TargetError):
    """A query failed (after retries) or timed out."""


def first_error(group: BaseExceptionGroup[Any]) -> BaseException:
    """What a caller should see of a task group's failure: its first TsloadError, else its first leaf.

    A run's task group fails as a group (e.g. ingest and queries side by side); a user wants the one
    error that explains it, not the group.
    """
    leaves: list[BaseException] = []

    def walk(g: BaseExceptionGroup[Any]) -> None:
        for e in g.exceptions:
            if isinstance(e, BaseExceptionGroup):
                walk(e)
            else:
                leaves.append(e)

    walk(group)
    for e in leaves:
        if isinstance(e, TsloadError):
            return e
    return leaves[0] if leaves else group
