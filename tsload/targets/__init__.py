"""The targets: the one place that knows a database. The interface is `tsload.targets.base`.

This module is the registry: a target's name -> its factory, and the only importer of target
packages (lazily, so ``import tsload.targets`` and building a `TargetConfig` load no SDK).

    async with open_target(TargetConfig(endpoint="http://127.0.0.1:8000")) as target:
        outcome = await target.write(body, records)

A new target: a folder ``tsload/targets/<name>/`` whose class implements `base.Target`, and one
entry in ``_FACTORIES`` below (see the docstring of `tsload.targets.base`).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from tsload._errors import ConfigError
from tsload.targets.base import (
    CLIENTS,
    CallError,
    CancelsQueries,
    ClientOptions,
    EncodedRequest,
    Handoff,
    Page,
    QueryLanguage,
    RequestEncoder,
    RetryPolicy,
    Schema,
    Target,
    TargetConfig,
    WriteKind,
    WriteOutcome,
)

if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "CLIENTS",
    "TARGETS",
    "CallError",
    "CancelsQueries",
    "ClientOptions",
    "EncodedRequest",
    "Handoff",
    "Page",
    "QueryLanguage",
    "RequestEncoder",
    "RetryPolicy",
    "Schema",
    "Target",
    "TargetConfig",
    "WriteKind",
    "WriteOutcome",
    "check_config",
    "open_target",
    "query_language",
    "reopen",
]

# name -> "module:class"; the class is built as Class(cfg, options) and Class.reopen(handoff, options)
_FACTORIES: dict[str, str] = {
    "timestream": "tsload.targets.timestream.target:TimestreamTarget",
    "influxdb": "tsload.targets.influxdb.target:InfluxTarget",
}

#: the target names, for messages and `--target` choices
TARGETS: tuple[str, ...] = tuple(_FACTORIES)


def _factory(kind: str, what: str) -> Any:
    spec = _FACTORIES.get(kind)
    if spec is None:
        raise ConfigError(what, f"one of {', '.join(TARGETS)}", got=kind)
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def check_config(cfg: TargetConfig) -> None:
    """Refuse (a `ConfigError` naming the field) a ``kind`` not in `TARGETS` and the settings its
    target cannot use: the class's optional ``check_config(cfg)``, asked before anything opens."""
    check: Callable[[TargetConfig], None] | None = getattr(
        _factory(cfg.kind, "target.kind"), "check_config", None
    )
    if check is not None:
        check(cfg)


def open_target(cfg: TargetConfig, options: ClientOptions | None = None) -> Target:
    """The target `cfg` names, to be opened with ``async with`` (resolves it; may start a local engine).
    Settings the target cannot use are refused first (`check_config`), never silently ignored."""
    check_config(cfg)
    target: Target = _factory(cfg.kind, "target.kind")(cfg, options or ClientOptions())
    return target


def reopen(handoff: Handoff, options: ClientOptions | None = None) -> Target:
    """In another process: the target a parent resolved (`Target.handoff`), to open with ``async with``."""
    reopen_: Callable[[Handoff, ClientOptions], Target] = _factory(handoff.kind, "handoff").reopen
    return reopen_(handoff, options or ClientOptions())


def query_language(cfg: TargetConfig) -> QueryLanguage | None:
    """The query dialect of the target `cfg` names (its class's optional ``query_language(cfg)``),
    or None for Timestream SQL (the query side's own)."""
    language: Callable[[TargetConfig], QueryLanguage] | None = getattr(
        _factory(cfg.kind, "target.kind"), "query_language", None
    )
    return None if language is None else language(cfg)
