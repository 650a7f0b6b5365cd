"""The local Timestream-compatible engine behind `tsload serve`.

It speaks Timestream's Write and Query JSON protocols on 127.0.0.1 and stores tables in one
DuckDB database (schema: docs/engine.md, "Storage"). The SQL translation lives in
`tsload.engine.query` and `tsload.engine.sql`; this package owns the HTTP side, validation,
storage, paging and fault injection. It never imports the load-generator side.
"""

from __future__ import annotations

from tsload.engine.config import EngineConfig, FaultConfig, parse_latency
from tsload.engine.server import Engine, serve

__all__ = ["Engine", "EngineConfig", "FaultConfig", "parse_latency", "serve"]
