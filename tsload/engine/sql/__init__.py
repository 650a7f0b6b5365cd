"""Timestream SQL → DuckDB SQL translation for the local engine."""

from __future__ import annotations
