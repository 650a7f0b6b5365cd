"""One wording for every bad input: `tsload: error: <flag or file>: <what is allowed>, got <value>`.

Both kinds of bad input end here: a `ConfigError` from the library (which names configuration
fields; `FLAGS` turns them into flags) and typer's own parsing errors (a flag that is not a number,
an unknown option or command), which typer words in its own way and which are reworded here. The
value is echoed as the user typed it (`0`, not the `0.0` the library parsed it into), found in the
command line itself.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import typer

from tsload._errors import ConfigError
from tsload.cli._options import flag_of


def line(subject: str, allowed: str, got: str | None = None) -> str:
    """The one error line (without a trailing newline)."""
    text = f"tsload: error: {subject}: {' '.join(allowed.split())}"
    return text if got is None else f"{text}, got {got}"


def typed_value(args: Sequence[str], flag: str) -> str | None:
    """The value last given to `flag` (`-c/--concurrency`: either name) on the command line."""
    names = flag.split("/")
    found: str | None = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        for name in names:
            if not name.startswith("-"):
                continue
            if arg == name and i + 1 < len(args):
                found = args[i + 1]
            elif name.startswith("--") and arg.startswith(name + "="):
                found = arg[len(name) + 1 :]
            elif not name.startswith("--") and len(name) == 2 and arg.startswith(name) and len(arg) > 2:
                found = arg[2:]
    return found


def config_error_line(exc: ConfigError, args: Sequence[str]) -> str:
    def name(field: str) -> str:
        return flag_of(field) or field

    if exc.allowed is None:
        return f"tsload: error: {' '.join(str(exc).split())}"
    got = None
    if exc.is_field and flag_of(exc.subject) is not None:
        # the library parsed the value (`0` into 0.0): show what was typed. A flag named by the
        # CLI itself already carries the value as typed (and may be a switch, with no value).
        got = typed_value(args, name(exc.subject))
    return f"tsload: error: {' '.join(exc.describe(name, got).split())}"


_KINDS = {int: "an integer", float: "a number", bool: "true or false"}


def usage_error_line(exc: typer.TyperException, args: Sequence[str], commands: Sequence[str]) -> str:
    """Typer's usage errors, reworded; told apart by their attributes (typer's classes are private)."""
    param = getattr(exc, "param", None)
    message = " ".join(getattr(exc, "message", str(exc)).split())
    if param is not None and getattr(param, "opts", None):
        flag = "/".join(sorted(param.opts, key=len))
        kind = getattr(getattr(param, "type_descriptor", None), "annotation", None)
        allowed = _KINDS.get(kind, message) if isinstance(kind, type) else message
        return line(flag, allowed, typed_value(args, flag))
    option = getattr(exc, "option_name", None)
    where = _command(exc)
    if option and message.startswith("No such option"):
        suggest = ", ".join(getattr(exc, "possibilities", None) or [])
        allowed = f"an option of {where} (see {where} --help)"
        return line(option, allowed + (f"; did you mean {suggest}?" if suggest else ""), option)
    if option and "requires an argument" in message:
        return line(option, "a value after the flag", "none")
    if option and "does not take a value" in message:
        return line(option, "no value (it is a switch)", typed_value(args, option))
    m = re.match(r"No such command '(.*)'", message)
    if m:
        return line("COMMAND", "one of " + ", ".join(commands), m.group(1))
    m = re.match(r"Got unexpected extra argument(?:s|\(s\))? \((.*)\)", message)
    if m:
        return line(where, f"no positional argument (see {where} --help)", m.group(1))
    m = re.match(r"Missing argument '(.*)'", message)
    if m:
        return line(m.group(1), f"required (see {where} --help)")
    return line(where, f"{message} (see {where} --help)")


def _command(exc: typer.TyperException) -> str:
    ctx = getattr(exc, "ctx", None)
    name = getattr(ctx, "info_name", None)
    return f"tsload {name}" if name and name != "tsload" else "tsload"

