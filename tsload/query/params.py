"""Query parameters: the host a session fixes at start, and filling templates safely.

Values are only ever substituted as SQL string literals (single quotes, ``'`` doubled) and the
database/table as double-quoted identifiers (``"`` doubled), so a dimension value holding quotes
or SQL stays one harmless literal. ``{end}`` is an expression tsload builds itself.
"""

from __future__ import annotations

import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tsload._errors import ConfigError
from tsload._units import utc_iso_time

PARAM_SOURCES = ("table", "model", "fixed")


@dataclass(frozen=True)
class QueryParams:
    region: str
    cell: str
    silo: str
    az: str
    microservice: str
    instance_type: str
    os_version: str
    instance_name: str
    process_name: str
    jdk_version: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


#: The sample's `--fixed-params` host (spec §5).
FIXED_PARAMS = QueryParams(
    region="eu-west-1",
    cell="eu-west-1-cell-8",
    silo="eu-west-1-cell-8-silo-1",
    az="eu-west-1-1",
    microservice="apollo",
    instance_type="r5.4xlarge",
    os_version="AL2",
    instance_name="i-ojtoEEXU-apollo-eu-west-1-cell-8-silo-1-00000033.amazonaws.com",
    process_name="host_manager",
    jdk_version="JDK_8",
)


def sql_literal(value: str) -> str:
    """A SQL string literal: single-quoted, embedded quotes doubled."""
    if "\x00" in value:
        raise ConfigError("query parameter values must not contain NUL characters")
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(name: str) -> str:
    """A double-quoted SQL identifier, embedded double quotes doubled."""
    if "\x00" in name:
        raise ConfigError("database and table names must not contain NUL characters")
    return '"' + name.replace('"', '""') + '"'


_DURATION = r"\d+(?:ns|us|ms|s|m|h|d)"
_EXPRESSION = re.compile(rf"^(?:now\(\)|ago\({_DURATION}\))(?:\s*[-+]\s*{_DURATION})?$", re.IGNORECASE)


def end_expression(query_end_time: str | None) -> str:
    """The SQL for ``{end}``: ``now()`` by default; an ISO-8601 time becomes
    ``from_iso8601_timestamp('…')``; ``now()``/``ago(…)`` expressions (the sample's form) pass as they are."""
    if query_end_time is None or not query_end_time.strip():
        return "now()"
    text = query_end_time.strip()
    if _EXPRESSION.match(text):
        return text
    return f"from_iso8601_timestamp({sql_literal(utc_iso_time(query_end_time, 'query_end_time'))})"


def render(template: str, *, database: str, table: str, end: str, params: QueryParams) -> str:
    """Fill a workload template (placeholders checked when it was loaded)."""
    values: dict[str, str] = {k: sql_literal(v) for k, v in params.as_dict().items()}
    values["db"] = sql_identifier(database)
    values["table"] = sql_identifier(table)
    values["end"] = end
    return template.format_map(values)


ROW_COUNT_TEMPLATE = "SELECT COUNT(*)\nFROM (\n{}\n)\n"


def row_count(sql: str) -> str:
    """The sample's row_count mode: the query as a subquery of ``SELECT COUNT(*)``."""
    body = sql.strip().rstrip(";").rstrip()
    return ROW_COUNT_TEMPLATE.format(body)


def datapoints_sql(database: str, table: str, end: str) -> str:
    """The data points of the last 15 minutes (logged at a session's start and end)."""
    return (
        f"SELECT COUNT(*) AS num_data_points FROM {sql_identifier(database)}.{sql_identifier(table)}"
        f" WHERE time BETWEEN {end} - 15m AND {end}"
    )


# -- parameters from the model ------------------------------------------------------------------


def event_set_range(fleet: Any, hosts: range) -> range:
    """The event sets of a contiguous host range: event sets are enumerated in host order, so they
    form one contiguous id range too (found by bisection: nothing per event set is materialised)."""
    import bisect

    import numpy as np

    def owner(event_id: int) -> int:
        return int(fleet.host_of_event_set(np.asarray([event_id], dtype=np.int64))[0])

    ids = range(int(fleet.n_event_sets))
    lo = bisect.bisect_left(ids, hosts.start, key=owner)
    return range(lo, bisect.bisect_left(ids, hosts.stop, lo=lo, key=owner))


def model_params(fleet: Any, rng: random.Random, events: range | None = None) -> QueryParams:
    """A random event set of the model (`tsload.model.fleet.Fleet`) and the host it belongs to.

    `events` narrows the draw to a shard's event sets (`event_set_range`); None = the whole fleet.
    Drawing an event set rather than a host weights hosts by their number of processes.
    """
    import numpy as np

    ids = events if events is not None else range(int(fleet.n_event_sets))
    if not ids:
        raise ConfigError("shard", "a shard holding hosts of the model fleet ({params} model)")
    event_id = ids[rng.randrange(len(ids))]
    host_id = int(fleet.host_of_event_set(np.asarray([event_id], dtype=np.int64))[0])
    m = dict(fleet.metric_dimensions(host_id))
    e = dict(fleet.event_dimensions(event_id))
    return QueryParams(
        region=m["region"],
        cell=m["cell"],
        silo=m["silo"],
        az=m["availability_zone"],
        microservice=m["microservice_name"],
        instance_type=m["instance_type"],
        os_version=m["os_version"],
        instance_name=m["instance_name"],
        process_name=e["process_name"],
        jdk_version=e["jdk_version"],
    )


# -- parameters from the table (the sample's default) -------------------------------------------

#: How many recent event rows a session picks its host from (the sample took the first one; a
#: random pick among a few spreads concurrent sessions over more hosts).
TABLE_PICK_ROWS = 50


def event_rows_sql(database: str, table: str, end: str, multi: bool) -> str:
    measure = "events" if multi else "task_completed"
    return (
        "SELECT instance_name, process_name, jdk_version"
        f" FROM {sql_identifier(database)}.{sql_identifier(table)}"
        f" WHERE measure_name = {sql_literal(measure)} AND time BETWEEN {end} - 12h AND {end}"
        f" LIMIT {TABLE_PICK_ROWS}"
    )


def metric_row_sql(database: str, table: str, end: str, multi: bool, instance_name: str) -> str:
    measure = "metrics" if multi else "cpu_user"
    return (
        "SELECT region, cell, silo, availability_zone, microservice_name, instance_type, os_version"
        f" FROM {sql_identifier(database)}.{sql_identifier(table)}"
        f" WHERE measure_name = {sql_literal(measure)} AND instance_name = {sql_literal(instance_name)}"
        f" AND time BETWEEN {end} - 12h AND {end} LIMIT 1"
    )


def rows_as_dicts(
    columns: Sequence[str], values: Sequence[Sequence[str | None]]
) -> list[dict[str, str | None]]:
    """Rows of a `Page` (cells as text, None for NULL) as {column: value}."""
    return [dict(zip(columns, row, strict=False)) for row in values]


def params_from_rows(event: Mapping[str, str | None], metric: Mapping[str, str | None]) -> QueryParams:
    def need(row: Mapping[str, str | None], key: str) -> str:
        value = row.get(key)
        if value is None:
            raise KeyError(key)
        return value

    return QueryParams(
        region=need(metric, "region"),
        cell=need(metric, "cell"),
        silo=need(metric, "silo"),
        az=need(metric, "availability_zone"),
        microservice=need(metric, "microservice_name"),
        instance_type=need(metric, "instance_type"),
        os_version=need(metric, "os_version"),
        instance_name=need(event, "instance_name"),
        process_name=need(event, "process_name"),
        jdk_version=need(event, "jdk_version"),
    )
