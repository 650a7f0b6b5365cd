"""Flag groups: options that several commands take together, declared once as a frozen dataclass.

typer builds a command's options from its signature, one parameter per option, so ten target
flags taken by four commands were ten parameters written four times, and each command copied
them by hand into a configuration. A group is a frozen dataclass whose fields are the options
(`Annotated` typer options, as in `_options`); a command takes it as ONE parameter whose default
is the group with that command's defaults:

    @with_groups
    def command(where: TargetFlags = TargetFlags(), out: Out = None) -> None:
        cfg = where.config()

`with_groups` shows typer the group's fields in the group's place (in field order, each with the
default of the parameter's default instance) and, on the call, gathers them back into the group.
Called directly (tests, other code) the command is the same function with the same defaults.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import typing
from collections.abc import Callable
from typing import Any, TypeVar

R = TypeVar("R")


def _group_parameters(group: Any) -> list[inspect.Parameter]:
    hints = typing.get_type_hints(type(group), include_extras=True)
    return [
        inspect.Parameter(
            f.name, inspect.Parameter.KEYWORD_ONLY, annotation=hints[f.name], default=getattr(group, f.name)
        )
        for f in dataclasses.fields(group)
    ]


def with_groups(command: Callable[..., R]) -> Callable[..., R]:
    """`command` as typer should see it: every parameter whose default is a dataclass instance (a
    flag group) spread into that group's fields; a name taken twice is an error at import."""
    hints = typing.get_type_hints(command, include_extras=True)
    shown: list[inspect.Parameter] = []
    groups: dict[str, tuple[type[Any], tuple[str, ...]]] = {}
    for p in inspect.signature(command).parameters.values():
        if dataclasses.is_dataclass(p.default) and not isinstance(p.default, type):
            fields = _group_parameters(p.default)
            groups[p.name] = (type(p.default), tuple(f.name for f in fields))
            shown += fields
        else:
            shown.append(p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=hints[p.name]))

    @functools.wraps(command)
    def spread(**flags: Any) -> R:
        for name, (group, fields) in groups.items():
            flags[name] = group(**{field: flags.pop(field) for field in fields})
        return command(**flags)

    # Signature() refuses a parameter name given twice: two groups (or a group and a parameter)
    # declaring the same flag fail here, at import, not as a confusing typer error.
    wrapper: Any = spread
    wrapper.__signature__ = inspect.Signature(shown)
    wrapper.__annotations__ = {p.name: p.annotation for p in shown}
    return spread
