"""One place for terminal output: progress and messages to stderr, data to stdout."""

from __future__ import annotations

import sys
from typing import NoReturn

from rich.console import Console

err_console = Console(stderr=True, highlight=False)
out_console = Console(highlight=False)


def is_interactive() -> bool:
    return sys.stderr.isatty()


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line `tsload: error: <message>` to stderr and exit."""
    import typer

    print(f"tsload: error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def warn(message: str) -> None:
    print(f"tsload: warning: {message}", file=sys.stderr)


def info(message: str) -> None:
    print(message, file=sys.stderr)
