"""The tsload exception tree.

    TsloadError                 anything tsload raises on purpose
    ├── ConfigError             bad input (a configuration field, a flag, a file): the CLI prints
    │   │                       one line `<flag or file>: <what is allowed>, got <value>`, exit 2
    │   └── WorkloadError       a workload folder, query file or query-mix INI that cannot be used
    ├── LimitError              a record or request breaks a Timestream limit: always a tsload bug
    └── TargetError             the database (or the way to it) failed in a way tsload cannot
        │                       retry away: no endpoint, schema calls, the local engine exiting
        └── QueryError          one Query/CancelQuery call failed (an error answer or the wire)

Write failures are not exceptions: a write attempt returns a classified outcome (ingested,
rejected by reason, throttled, failed) and the counts are the result (targets/timestream/
outcome.py), so there is no ThrottledError or RejectedRecordsError. A query that fails is counted
per query as well; QueryError is what a query call raises inside tsload, caught by the session.

Translation from botocore/aiohttp exceptions happens at the target boundary, so the
load-generating code never sees transport-specific types.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import PurePath
from typing import Any, Final

# A configuration field as the library names it: `concurrency`, `target.endpoint`, and inside a
# composed configuration `ingest.concurrency`.
_FIELD = re.compile(r"[a-z_][a-z0-9_]*(?:\.[a-z_][a-z0-9_]*)*")
# `{add_req_id}` inside the allowed text names another field
_FIELD_REF = re.compile(r"\{([a-z_][a-z0-9_.]*)\}")


class _Nothing:
    def __repr__(self) -> str:
        return "NOTHING"


NOTHING: Final = _Nothing()


def show_value(value: object) -> str:
    """A value as a user would have typed it: `0` not `0.0`, `x` not `'x'`, `3/4` for a shard."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple) and len(value) == 2:
        return f"{value[0]}/{value[1]}"
    return str(value)


class TsloadError(Exception):
    """Base class of every error tsload raises on purpose."""

    exit_code: int = 1


class ConfigError(TsloadError):
    """Invalid input, said as `<subject>: <what is allowed>, got <value>`.

    `subject` is what was wrong: a configuration field as the library names it (`concurrency`;
    `ingest.concurrency` inside a RunConfig), a file (pass a Path), or, raised by the CLI, a flag.
    `allowed` may name other fields in braces (`only together with {add_req_id}`). The CLI shows
    every field as the flag that sets it (`tsload.cli._options.FLAGS`) and echoes the value as it
    was typed. `ConfigError("a whole message")` is kept for messages that fit no such shape.
    """

    exit_code = 2

    def __init__(self, subject: str | PurePath, allowed: str | None = None, *, got: object = NOTHING) -> None:
        self.subject = str(subject)
        self.is_field = isinstance(subject, str) and _FIELD.fullmatch(subject) is not None
        self.allowed = allowed
        self.got = got
        super().__init__(self.describe())

    def describe(self, name: Callable[[str], str] | None = None, got: str | None = None) -> str:
        """The message; `name` turns field names into what the reader knows (the CLI: flags)."""
        if self.allowed is None:
            return self.subject
        named = name or (lambda field: field)
        subject = named(self.subject) if self.is_field else self.subject
        allowed = _FIELD_REF.sub(lambda m: named(m.group(1)), self.allowed)
        if self.got is NOTHING:
            return f"{subject}: {allowed}"
        return f"{subject}: {allowed}, got {got if got is not None else show_value(self.got)}"

    def within(self, prefix: str) -> ConfigError:
        """This error as seen from a configuration holding the failing one as field `prefix`."""
        if self.allowed is None or not self.is_field:
            return self
        allowed = _FIELD_REF.sub(lambda m: "{" + prefix + "." + m.group(1) + "}", self.allowed)
        err = type(self)(f"{prefix}.{self.subject}", allowed, got=self.got)
        err.__cause__ = self.__cause__
        return err


def checker(config: object) -> Callable[[bool, str, str], None]:
    """`need(ok, field, allowed)` for a configuration's validate(): unless `ok`, raise a ConfigError
    naming the field, what is allowed and the field's value."""

    def need(ok: bool, field: str, allowed: str) -> None:
        if not ok:
            raise ConfigError(field, allowed, got=getattr(config, field))

    return need


class WorkloadError(ConfigError):
    """A workload folder, query file or query-mix INI that cannot be used."""


class LimitError(TsloadError):
    """A generated record or request breaks a Timestream limit (a tsload bug, never truncated)."""


class TargetError(TsloadError):
    """The target database returned an error tsload does not retry away."""

    def __init__(self, message: str, *, code: str | None = None, request_id: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.request_id = request_id


class QueryError(TargetError):
    """A query call failed (an error answer or the wire): `targets.base.CallError` is the one raised,
    with the target's verdict on retrying; the session counts it and goes on."""


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
