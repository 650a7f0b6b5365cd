"""Errors of the SQL layer (re-exported by `tsload.engine.query`)."""

from __future__ import annotations


class QueryValidationError(Exception):
    """The query uses an unsupported or invalid construct; the message names it."""


class QueryExecutionError(Exception):
    """The query failed while running (for example a division by zero)."""
