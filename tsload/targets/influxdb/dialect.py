"""The two InfluxDB query languages tsload speaks: InfluxQL (API v1/v2) and InfluxDB 3 SQL (v3).

A workload's query files for a dialect live beside the Timestream ones
(`workloads/devops/queries/influxql/`, `.../influxdb-sql/`), with the same names and the same
placeholders, so one mix config drives all of them. What differs per dialect is how a value
becomes a literal, what `{end}` is, and how the last 15 minutes' data points are counted.

The measurements are fixed (`metrics`, `events`) and the database travels in the request, so
`{db}` and `{table}` render as quoted identifiers only for files that want them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from tsload._errors import ConfigError
from tsload._units import utc_iso_time

__all__ = ["DIALECTS", "Dialect", "dialect_for_api", "parse_end_time"]

TABLE_PICK_ROWS = 50  # as the Timestream path (query/params.py)
_UNITS = {"ns": "nanoseconds", "us": "microseconds", "ms": "milliseconds", "s": "seconds"}
_UNITS.update({"m": "minutes", "h": "hours", "d": "days"})
_DURATION = r"(\d+)(ns|us|ms|s|m|h|d)"
_NOW = re.compile(rf"^now\(\)(?:\s*([-+])\s*{_DURATION})?$", re.IGNORECASE)
_AGO = re.compile(rf"^ago\({_DURATION}\)(?:\s*([-+])\s*{_DURATION})?$", re.IGNORECASE)


@dataclass(frozen=True)
class EndTime:
    """`--query-end-time` parsed once: an absolute UTC time, or now() plus an offset in ns."""

    iso: str | None  # "2026-11-28T05:00:00Z" or None for now()
    offset: tuple[tuple[str, int, str], ...] = ()  # (sign, amount, unit) terms applied to now()


def parse_end_time(text: str | None) -> EndTime:
    """None/empty → now(); `now()`, `now() - 1h`, `ago(1h)`, `ago(1h) + 30m` or an ISO-8601 time."""
    if text is None or not text.strip():
        return EndTime(None)
    t = text.strip()
    m = _NOW.match(t)
    if m:
        return EndTime(None, ((m.group(1), int(m.group(2)), m.group(3)),) if m.group(1) else ())
    m = _AGO.match(t)
    if m:
        terms = [("-", int(m.group(1)), m.group(2))]
        if m.group(3):
            terms.append((m.group(3), int(m.group(4)), m.group(5)))
        return EndTime(None, tuple(terms))
    return EndTime(utc_iso_time(text, "query_end_time"))


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ConfigError("query parameter values must not contain NUL characters")


@dataclass(frozen=True)
class Dialect:
    name: str  # "influxql" | "influxdb-sql"
    folder: str  # the workload's query folder

    def literal(self, value: str) -> str:
        _no_nul(value)
        if self.name == "influxql":
            # InfluxQL string literals escape with a backslash (a doubled quote is not an escape)
            return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + value.replace("'", "''") + "'"

    def identifier(self, name: str) -> str:
        _no_nul(name)
        if self.name == "influxql":
            return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return '"' + name.replace('"', '""') + '"'

    def end(self, end: EndTime) -> str:
        """The expression for `{end}`; templates subtract their window from it."""
        if self.name == "influxql":
            base = "now()" if end.iso is None else self.literal(end.iso)
            return base + "".join(f" {s} {n}{u}" for s, n, u in end.offset)
        # DataFusion's TIMESTAMP literal is naive; InfluxDB 3 stores time as naive UTC
        base = "now()" if end.iso is None else f"TIMESTAMP {self.literal(end.iso.rstrip('Z'))}"
        return base + "".join(f" {s} INTERVAL '{n} {_UNITS[u]}'" for s, n, u in end.offset)

    def end_expression(self, query_end_time: str | None) -> str:
        """`--query-end-time` (None: now()) as this dialect's expression for `{end}`."""
        return self.end(parse_end_time(query_end_time))

    def render(
        self, template: str, *, database: str, table: str = "metrics", end: str, params: Mapping[str, str]
    ) -> str:
        """Fill a template; `end` is `end_expression`'s result. The measurements are fixed names,
        so `{table}` (a Timestream notion) renders as the `metrics` measurement."""
        values = {k: self.literal(v) for k, v in params.items()}
        values["db"] = self.identifier(database)
        values["table"] = self.identifier("metrics")
        values["end"] = end
        return template.format_map(values)

    def datapoints(self, database: str, table: str, end: str) -> str:
        """Points (lines) of both measurements in the 15 minutes up to `end`.

        A point is one emission, as a multi-measure record is in Timestream; InfluxQL's count()
        counts one field's values, which every point of its measurement has (one row per
        measurement: the log shows both)."""
        if self.name == "influxql":
            window = f"time >= {end} - 15m AND time <= {end}"
            return (
                f"SELECT count(cpu_user) AS num_data_points FROM metrics WHERE {window}; "
                f"SELECT count(gc_pause) AS num_data_points FROM events WHERE {window}"
            )
        window = f"time BETWEEN {end} - INTERVAL '15 minutes' AND {end}"
        return (
            f"SELECT (SELECT count(*) FROM metrics WHERE {window}) + "
            f"(SELECT count(*) FROM events WHERE {window}) AS num_data_points"
        )

    def event_rows(self, database: str, table: str, end: str) -> str:
        """Recent event points a session picks its host from (`--params table`)."""
        if self.name == "influxql":
            # InfluxQL answers no query that selects tags only: gc_pause rides along
            return (
                "SELECT gc_pause, instance_name, process_name, jdk_version FROM events"
                f" WHERE time >= {end} - 12h AND time <= {end} LIMIT {TABLE_PICK_ROWS}"
            )
        return (
            "SELECT instance_name, process_name, jdk_version FROM events"
            f" WHERE time BETWEEN {end} - INTERVAL '12 hours' AND {end} LIMIT {TABLE_PICK_ROWS}"
        )

    def metric_row(self, database: str, table: str, end: str, instance_name: str) -> str:
        tags = "region, cell, silo, availability_zone, microservice_name, instance_type, os_version"
        if self.name == "influxql":
            return (
                f"SELECT cpu_user, {tags} FROM metrics WHERE instance_name = {self.literal(instance_name)}"
                f" AND time >= {end} - 12h AND time <= {end} LIMIT 1"
            )
        return (
            f"SELECT {tags} FROM metrics WHERE instance_name = {self.literal(instance_name)}"
            f" AND time BETWEEN {end} - INTERVAL '12 hours' AND {end} LIMIT 1"
        )

    def row_count(self, query: str) -> str:
        """The sample's row_count mode. InfluxQL: every statement wrapped in count() of a subquery
        is not expressible (count takes one field), so the query runs as it is and the client
        counts rows; SQL wraps it as the Timestream path does."""
        if self.name == "influxql":
            return query
        body = query.strip().rstrip(";").rstrip()
        return f"SELECT COUNT(*) FROM (\n{body}\n)\n"


INFLUXQL = Dialect("influxql", "influxql")
INFLUXDB_SQL = Dialect("influxdb-sql", "influxdb-sql")
DIALECTS = {d.name: d for d in (INFLUXQL, INFLUXDB_SQL)}


def dialect_for_api(api: str) -> Dialect:
    """`--influx-api`: v1 and v2 query with InfluxQL (/query), v3 with SQL (/api/v3/query_sql)."""
    if api in ("v1", "v2"):
        return INFLUXQL
    if api == "v3":
        return INFLUXDB_SQL
    raise ConfigError("target.influx_api", "v1, v2 or v3", got=api)
