"""Commands that a later issue fills in say so honestly and exit 2."""

from __future__ import annotations

from tsload.cli._console import fail


def not_implemented(command: str) -> None:
    fail(f"'tsload {command}' is not implemented yet")
