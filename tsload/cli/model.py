"""`tsload model` (placeholder until the model lands)."""

from __future__ import annotations

import typer

from tsload.cli._placeholder import not_implemented

HELP = """Print the DevOps model summary.

Example:

  tsload model --host-scale 100 --interval-millis 60000
"""


def command(ctx: typer.Context) -> None:
    not_implemented("model")
