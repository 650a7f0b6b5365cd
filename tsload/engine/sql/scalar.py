"""Trino scalar and aggregate functions that DuckDB spells differently (docs/engine-sql.md).

Each template is DuckDB SQL with `{0}`, `{1}`, … for the (already rewritten) arguments; arguments
are parenthesised, so operator precedence inside them is kept.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from tsload.engine.sql.errors import QueryValidationError

_ORDERED_DISTINCT = "list_filter({0}, lambda x, i: list_position({0}, x) = i)"

_DIGITS = "'0123456789abcdefghijklmnopqrstuvwxyz'"
_DIGIT_VALUES = (
    "list_transform(string_split(lower(ltrim({0}, '-')), ''),"
    f" lambda c: CAST(instr({_DIGITS}, c) - 1 AS BIGINT))"
)
# Trino refuses a digit outside the radix (or an empty string) instead of answering something.
_FROM_BASE = (
    "CASE WHEN {0} IN ('', '-')"
    f" OR list_bool_or(list_transform({_DIGIT_VALUES}, lambda v: v < 0 OR v >= {{1}}))"
    " THEN error('from_base: not a valid number in that radix')"
    " ELSE CASE WHEN starts_with({0}, '-') THEN -1 ELSE 1 END"
    f" * list_reduce({_DIGIT_VALUES}, lambda a, x: a * {{1}} + x, CAST(0 AS BIGINT)) END"
)

_UNITS = ", ".join(
    f"struct_pack(v := {value}, u := '{unit}')"
    for value, unit in (
        ("n // 604800", "week"),
        ("n % 604800 // 86400", "day"),
        ("n % 86400 // 3600", "hour"),
        ("n % 3600 // 60", "minute"),
        ("n % 60", "second"),
    )
)
# Trino: whole seconds (rounded) as weeks, days, hours, minutes, seconds, zero parts left out.
_HUMAN_SECONDS = (
    "list_transform([CAST(round(abs({0})) AS BIGINT)], lambda n: CASE WHEN n = 0 THEN '0 seconds'"
    f" ELSE array_to_string(list_filter(list_transform([{_UNITS}], lambda p: CASE WHEN p.v = 0 THEN NULL"
    " ELSE CAST(p.v AS VARCHAR) || ' ' || p.u || CASE WHEN p.v = 1 THEN '' ELSE 's' END END),"
    " lambda x: x IS NOT NULL), ', ') END)[1]"
)

# name -> {arity: template}
TEMPLATES: dict[str, dict[int, str]] = {
    "codepoint": {1: "unicode({0})"},
    "hamming_distance": {
        2: "CASE WHEN length({0}) = length({1}) THEN hamming({0}, {1}) "
        "ELSE error('hamming_distance: the two strings must have the same length') END"
    },
    "array_distinct": {1: _ORDERED_DISTINCT},
    "array_union": {
        2: "list_filter(list_concat({0}, {1}), lambda x, i: list_position(list_concat({0}, {1}), x) = i)"
    },
    "array_except": {2: "list_filter(" + _ORDERED_DISTINCT + ", lambda x: NOT list_contains({1}, x))"},
    "arrays_overlap": {2: "len(list_intersect({0}, {1})) > 0"},
    "bit_count": {
        2: "CASE WHEN {1} = 64 THEN bit_count(CAST({0} AS BIGINT)) "
        "ELSE bit_count(CAST({0} AS BIGINT) & ((CAST(1 AS BIGINT) << {1}) - 1)) END"
    },
    "from_nanoseconds": {1: "make_timestamp_ns(CAST({0} AS BIGINT))"},
    "millisecond": {1: "(millisecond({0}) % 1000)"},
    "to_iso8601": {1: "strftime(CAST({0} AS TIMESTAMP_NS), '%Y-%m-%dT%H:%M:%S.%nZ')"},
    "to_nanoseconds": {1: "epoch_ns({0})"},
    "yow": {1: "isoyear({0})"},
    "nanosecond": {1: "(nanosecond({0}) % 1000000000)"},
    "to_base": {2: "lower(to_base({0}, {1}))"},
    "from_base": {2: _FROM_BASE},
    "human_readable_seconds": {1: _HUMAN_SECONDS},
    # Timestream queries run in UTC
    "current_timezone": {0: "'UTC'"},
    "every": {1: "bool_and({0})"},
    "geometric_mean": {1: "exp(avg(ln({0})))"},
    "e": {0: "exp(1.0)"},
    "infinity": {0: "CAST('Infinity' AS DOUBLE)"},
    "nan": {0: "CAST('NaN' AS DOUBLE)"},
    "is_finite": {1: "isfinite({0})"},
    "is_infinite": {1: "isinf({0})"},
    "is_nan": {1: "isnan({0})"},
}


def rewrite(name: str, args: list[exp.Expr]) -> exp.Expr:
    forms = TEMPLATES[name]
    template = forms.get(len(args))
    if template is None:
        want = " or ".join(str(n) for n in sorted(forms))
        raise QueryValidationError(f"Function {name} expects {want} argument(s), got {len(args)}")
    text = template.format(*(f"({a.sql('duckdb')})" for a in args))
    return sqlglot.parse_one(text, read="duckdb")


def regexp_extract(node: exp.RegexpExtract) -> exp.Expr:
    """Trino's regexp_extract is NULL when nothing matches; DuckDB's is ''."""
    return exp.If(
        this=exp.Anonymous(this="regexp_matches", expressions=[node.this.copy(), node.expression.copy()]),
        true=node,
    )


def array_slice(node: exp.ArraySlice) -> exp.Expr:
    """Trino's slice(x, start, length) takes a length; DuckDB's list_slice an inclusive end."""
    start, length = node.args["start"], node.args["end"]
    end = exp.Sub(
        this=exp.Add(this=exp.Paren(this=start.copy()), expression=exp.Paren(this=length)),
        expression=exp.Literal.number(1),
    )
    return exp.Anonymous(this="list_slice", expressions=[node.this, start, end])
