"""Timestream SQL → DuckDB SQL translation for the local engine (helper S)."""

from __future__ import annotations
