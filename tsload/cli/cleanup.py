"""`tsload cleanup` (placeholder until its issue lands)."""

from __future__ import annotations

import typer

from tsload.cli._placeholder import not_implemented

HELP = """Not implemented yet.

Example:

  tsload cleanup --help
"""


def command(ctx: typer.Context) -> None:
    not_implemented("cleanup")
