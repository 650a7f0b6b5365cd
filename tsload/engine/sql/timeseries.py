"""Timestream's TIMESERIES type on DuckDB: `create_time_series`, `interpolate_linear`,
`interpolate_locf` and `UNNEST` of a time series.

A TIMESERIES value is a DuckDB list of structs with the fields `__ts_time` and `__ts_value`, sorted
by time (Timestream: "an array of rows of timestamps and measure values, sorted in ascending order
of time"). The distinctive field names let the renderer recognise the type (and report it as
`TimeSeriesMeasureValueColumnInfo` / `TimeSeriesValue`) and make DuckDB's binder refuse most misuse.

Where a time series may appear is checked on the parsed query: a TIMESERIES expression (one of the
functions above, or a column that resolves to a sub-query's or CTE's series output) is accepted only
as a select-list column, as the first argument of an interpolation function or as the argument of
UNNEST in FROM/JOIN. Anything else is refused by name rather than given to DuckDB, whose list
functions would otherwise answer questions Timestream refuses.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

import sqlglot
from sqlglot import exp

from tsload.engine.sql.errors import QueryValidationError

TS_TIME = "__ts_time"
TS_VALUE = "__ts_value"
CREATE = "create_time_series"
INTERPOLATE = frozenset({"interpolate_linear", "interpolate_locf", "interpolate_fill"})
FILL = "interpolate_fill"  # the one interpolation with a third argument, the fill value
DERIVATIVE = frozenset({"derivative_linear", "non_negative_derivative_linear"})
INTEGRAL = "integral_trapezoidal"
PEARSON, SPEARMAN = "correlate_pearson", "correlate_spearman"
CORRELATE = frozenset({PEARSON, SPEARMAN})  # both arguments are time series
# functions whose first argument is a time series
SERIES_ARG = INTERPOLATE | DERIVATIVE | CORRELATE | {INTEGRAL}
OWN = frozenset({CREATE, *SERIES_ARG})

_ARG0, _ARG1, _ARG2 = "__tsload_arg0", "__tsload_arg1", "__tsload_arg2"

# The value of the series `{s}` at the time `{t}`. Both are names bound by an enclosing lambda, so
# the (possibly large) user expressions are evaluated once: `list_transform([x], lambda w: …)[1]`
# is a `let`. The series is sorted: with k points at or before t, `a` (the k-th) is the last point
# at or before t and `b` the first after it (out-of-range indexes give NULL).
_NEIGHBOURS = (
    "list_transform([len(list_filter({s}, lambda __tsload_p: __tsload_p.__ts_time <= {t}))],"
    " lambda __tsload_k: list_transform([struct_pack(a := {s}[__tsload_k], b := {s}[__tsload_k + 1])],"
    " lambda __tsload_n: {body})[1])[1]"
)
# Linear: the exact point if there is one, else the straight line between the neighbours; no value
# (NULL, so no point) before the first or after the last point: no extrapolation. The ratio is a
# DOUBLE division on purpose (the query cursor runs with integer division). A series that is not
# numeric is an error (a VARCHAR '1.5' must not be cast and interpolated).
_LINEAR = (
    "CASE WHEN NOT (typeof(__tsload_n.a.__ts_value) IN ('DOUBLE', 'FLOAT', 'BIGINT', 'INTEGER', 'SMALLINT',"
    " 'TINYINT', 'HUGEINT') OR typeof(__tsload_n.a.__ts_value) LIKE 'DECIMAL%')"
    " THEN error('interpolate_linear: the time series must be numeric (DOUBLE or BIGINT)')"
    " WHEN __tsload_n.a IS NULL THEN NULL"
    " WHEN __tsload_n.a.__ts_time = {t} THEN CAST(__tsload_n.a.__ts_value AS DOUBLE)"
    " WHEN __tsload_n.b IS NULL THEN NULL"
    " ELSE CAST(__tsload_n.a.__ts_value AS DOUBLE)"
    " + (CAST(__tsload_n.b.__ts_value AS DOUBLE) - CAST(__tsload_n.a.__ts_value AS DOUBLE))"
    " * (CAST(epoch_ns({t}) - epoch_ns(__tsload_n.a.__ts_time) AS DOUBLE)"
    " / CAST(epoch_ns(__tsload_n.b.__ts_time) - epoch_ns(__tsload_n.a.__ts_time) AS DOUBLE)) END"
)
# Last observation carried forward: the last point at or before t (none before the first point).
_LOCF = "CASE WHEN __tsload_n.a IS NULL THEN NULL ELSE __tsload_n.a.__ts_value END"

# Fill: the series' value where it has a point at t, else the fill value (the enclosing lambda
# binds it as __tsload_w.f). Our reading of "fills in missing data using the fill value".
_FILL = (
    "CASE WHEN __tsload_n.a IS NOT NULL AND __tsload_n.a.__ts_time = {t} THEN __tsload_n.a.__ts_value"
    " ELSE __tsload_w.f END"
)

_BODIES = {"interpolate_linear": _LINEAR, "interpolate_locf": _LOCF, "interpolate_fill": _FILL}


def _value_at(kind: str, s: str, t: str) -> str:
    return _NEIGHBOURS.format(s=s, t=t, body=_BODIES[kind].format(t=t))


def _series_template(kind: str) -> str:
    # One point per requested time that has a value, sorted by time as a TIMESERIES is.
    value = _value_at(kind, "__tsload_w.s", "__tsload_t")
    point = f"struct_pack({TS_TIME} := __tsload_t, {TS_VALUE} := {value})"
    return (
        f"list_transform([struct_pack(s := {_ARG0}, q := {_ARG1}{_fill_arg(kind)})],"
        " lambda __tsload_w: list_sort(list_filter("
        f"list_transform(__tsload_w.q, lambda __tsload_t: {point}),"
        f" lambda __tsload_p: __tsload_p.{TS_VALUE} IS NOT NULL)))[1]"
    )


def _scalar_template(kind: str) -> str:
    value = _value_at(kind, "__tsload_w.s", "__tsload_w.t")
    return (
        f"list_transform([struct_pack(s := {_ARG0}, t := {_ARG1}{_fill_arg(kind)})],"
        f" lambda __tsload_w: {value})[1]"
    )


def _fill_arg(kind: str) -> str:
    return f", f := {_ARG2}" if kind == FILL else ""


# Timestream: "The second parameter cannot be null" — a NULL measure value is an error, not skipped.
_CREATE = (
    f"CASE WHEN bool_or({_ARG1} IS NULL) THEN error('create_time_series: the measure value must not be NULL')"
    f" ELSE list_sort(list(struct_pack({TS_TIME} := {_ARG0}, {TS_VALUE} := {_ARG1}))) END"
)

# The rate between consecutive points, per `{ARG1}` (an interval), at the later point's time: the
# first point has none. non_negative_derivative_linear drops the negative rates. Our reading of the
# Timestream documentation ("the derivative of each point in the timeseries for the specified
# interval"), not verified against AWS.
_PAIR_DT = (
    "CAST(epoch_ns(__tsload_s[__tsload_i].__ts_time)"
    " - epoch_ns(__tsload_s[__tsload_i - 1].__ts_time) AS DOUBLE)"
)
# Two points at the same time (a series built over several hosts) have no rate: dropped (DuckDB
# would fail on the division by zero).
_RATE = (
    f"CASE WHEN {_PAIR_DT} = 0 THEN NULL ELSE"
    " (CAST(__tsload_s[__tsload_i].__ts_value AS DOUBLE)"
    " - CAST(__tsload_s[__tsload_i - 1].__ts_value AS DOUBLE))"
    f" / {_PAIR_DT} * (CAST(epoch_us({_ARG1}) AS DOUBLE) * 1000.0) END"
)
_DERIVATIVE = (
    f"list_transform([{_ARG0}], lambda __tsload_s: list_filter(list_transform(range(2, len(__tsload_s) + 1),"
    f" lambda __tsload_i: struct_pack({TS_TIME} := __tsload_s[__tsload_i].{TS_TIME}, {TS_VALUE} := {_RATE})),"
    " lambda __tsload_p: {keep}))[1]"
)
# The trapezoidal rule over consecutive points, in units of `{ARG1}`; NULL for fewer than two points.
_INTEGRAL = (
    f"list_transform([{_ARG0}], lambda __tsload_s: list_sum(list_transform(range(2, len(__tsload_s) + 1),"
    " lambda __tsload_i: (CAST(__tsload_s[__tsload_i].__ts_value AS DOUBLE)"
    " + CAST(__tsload_s[__tsload_i - 1].__ts_value AS DOUBLE)) / 2.0"
    f" * {_PAIR_DT} / (CAST(epoch_us({_ARG1}) AS DOUBLE) * 1000.0))))[1]"
)


# Pearson's r over the points paired by position; Timestream requires the two series to have the
# same times, so different times (or lengths) are an error rather than a silently misaligned answer.
def _ranks(values: str) -> str:
    """Average ranks (1-based, ties share their mean rank) of a list of DOUBLEs, O(n²)."""
    below = f"CAST(len(list_filter({values}, lambda __tsload_o: __tsload_o < __tsload_r)) AS DOUBLE)"
    equal = f"CAST(len(list_filter({values}, lambda __tsload_o: __tsload_o = __tsload_r)) AS DOUBLE)"
    return f"list_transform({values}, lambda __tsload_r: {below} + ({equal} + 1.0E0) / 2.0E0)"


def _correlation(name: str) -> str:
    """Pearson's r of the values (correlate_pearson) or of their ranks (correlate_spearman), paired
    by position; Timestream requires the two series to have the same times, so different times (or
    lengths) are an error rather than a silently misaligned answer."""
    xs = "list_transform(__tsload_w.a, lambda __tsload_p: CAST(__tsload_p.__ts_value AS DOUBLE))"
    ys = "list_transform(__tsload_w.b, lambda __tsload_p: CAST(__tsload_p.__ts_value AS DOUBLE))"
    if name == SPEARMAN:
        xs, ys = _ranks(xs), _ranks(ys)
    return (
        f"list_transform([struct_pack(a := {_ARG0}, b := {_ARG1})], lambda __tsload_w:"
        " CASE WHEN list_transform(__tsload_w.a, lambda __tsload_p: __tsload_p.__ts_time)"
        " IS DISTINCT FROM list_transform(__tsload_w.b, lambda __tsload_p: __tsload_p.__ts_time)"
        f" THEN error('{name}: the two time series must have the same times')"
        f" ELSE list_transform([struct_pack(x := {xs}, y := {ys})],"
        " lambda __tsload_v: list_transform("
        "[struct_pack(mx := list_avg(__tsload_v.x), my := list_avg(__tsload_v.y))],"
        " lambda __tsload_m: list_sum(list_transform(range(1, len(__tsload_v.x) + 1), lambda __tsload_i:"
        " (__tsload_v.x[__tsload_i] - __tsload_m.mx) * (__tsload_v.y[__tsload_i] - __tsload_m.my)))"
        " / sqrt(list_sum(list_transform(__tsload_v.x,"
        " lambda __tsload_e: (__tsload_e - __tsload_m.mx) ^ 2))"
        " * list_sum(list_transform(__tsload_v.y,"
        " lambda __tsload_e: (__tsload_e - __tsload_m.my) ^ 2))))[1])[1]"
        " END)[1]"
    )


_UNNEST = (
    f"SELECT __tsload_pt.{TS_TIME} AS {{time}}, __tsload_pt.{TS_VALUE} AS {{value}}"
    f" FROM (SELECT UNNEST({_ARG0}) AS __tsload_pt)"
)


@functools.cache
def _parsed(template: str) -> exp.Expr:
    return sqlglot.parse_one(template, read="duckdb")


def _fill(template: str, *args: exp.Expr) -> exp.Expr:
    tree = _parsed(template).copy()
    names = (_ARG0, _ARG1, _ARG2)
    for col in list(tree.find_all(exp.Column)):
        if not col.table and col.name in names:
            col.replace(args[names.index(col.name)].copy())
    return tree


def _fn_name(node: exp.Expr) -> str:
    return str(node.this).lower() if isinstance(node, exp.Anonymous) else ""


def is_series_call(node: exp.Expr) -> bool:
    """create_time_series(…) or interpolate_*(series, array of timestamps)."""
    name = _fn_name(node)
    if name == CREATE:
        return True
    if name in INTERPOLATE and len(node.expressions) in (2, 3):
        return _is_array_arg(node)
    return name in DERIVATIVE


def _is_array_arg(node: exp.Expr) -> bool:
    # interpolate_*(series, array[timestamp]) returns a series, interpolate_*(series, timestamp) a
    # value. Only literal arrays and sequence(…) are taken as arrays; anything else is treated as a
    # timestamp (an array there is then refused by DuckDB's binder, never misread). Decided on the
    # parsed query and remembered, as the argument is rewritten before the call is.
    if _FORM not in node.meta:
        node.meta[_FORM] = isinstance(node.expressions[1], (exp.Array, exp.GenerateSeries))
    return bool(node.meta[_FORM])


_FORM = "tsload_series_form"
_SEQUENCE_MAX = 10_000
_SEQUENCE = (
    f"list_transform([{_ARG0}], lambda __tsload_q: CASE WHEN len(__tsload_q) > {_SEQUENCE_MAX}"
    f" THEN error('sequence: the result must not have more than {_SEQUENCE_MAX} entries')"
    " ELSE __tsload_q END)[1]"
)


def limit_sequence(node: exp.GenerateSeries) -> exp.Expr:
    """Trino's sequence(…) refuses more than 10,000 entries; DuckDB would build any size."""
    return _fill(_SEQUENCE, node)


class _Resolver:
    """Which columns hold a time series: a column is resolved against the FROM/JOIN items of its
    SELECT (stored tables, CTEs, sub-queries), then of the enclosing SELECTs (correlation), and a
    sub-query's or CTE's output is a series if its select-list expression is one."""

    def __init__(self, tree: exp.Expr) -> None:
        self.ctes = {c.alias_or_name.lower(): c.this for c in tree.find_all(exp.CTE)}
        self.memo: dict[int, dict[str, bool]] = {}
        self.active: set[int] = set()

    def outputs(self, query: exp.Expr) -> dict[str, bool]:
        """Output column name (lower case) → whether it holds a time series."""
        if isinstance(query, exp.Subquery):
            return self.outputs(query.this)
        key = id(query)
        if key in self.memo:
            return self.memo[key]
        if key in self.active:  # a recursive CTE: not a series source
            return {}
        self.active.add(key)
        out: dict[str, bool] = {}
        if isinstance(query, exp.SetOperation):
            for side in (query.this, query.expression):
                for name, series in self.outputs(side).items():
                    out[name] = out.get(name, False) or series
        elif isinstance(query, exp.Select):
            for item in query.expressions:
                inner = item.this if isinstance(item, exp.Alias) else item
                star = isinstance(inner, exp.Star) or (isinstance(inner, exp.Column) and inner.is_star)
                if star:
                    table = inner.table.lower() if isinstance(inner, exp.Column) else ""
                    for alias, source in self.sources(query).items():
                        if not table or alias == table:
                            out.update(source)
                    continue
                series = is_series_call(inner) or (isinstance(inner, exp.Column) and self.is_series(inner))
                out[item.alias_or_name.lower()] = series
        self.active.discard(key)
        self.memo[key] = out
        return out

    def sources(self, select: exp.Select) -> dict[str, dict[str, bool]]:
        """The FROM/JOIN items of `select` by alias → their outputs ({} for stored tables, UNNEST)."""
        from_ = select.args.get("from_")
        items = [from_.this] if isinstance(from_, exp.From) else []
        items += [join.this for join in select.args.get("joins") or []]
        out: dict[str, dict[str, bool]] = {}
        for item in items:
            alias = item.alias_or_name.lower()
            if isinstance(item, exp.Table) and not item.db and item.name.lower() in self.ctes:
                out[alias] = self.outputs(self.ctes[item.name.lower()])
            elif isinstance(item, exp.Subquery):
                out[alias] = self.outputs(item.this)
            else:
                out[alias] = {}
        return out

    def is_series(self, col: exp.Column) -> bool:
        name, table = col.name.lower(), col.table.lower()
        select = col.find_ancestor(exp.Select)
        if select is not None and _in_clause(col, select, ("order", "having")):
            # ORDER BY / HAVING may name an output of the same SELECT
            mine = self.outputs(select)
            if not table and mine.get(name):
                return True
        while select is not None:
            sources = self.sources(select)
            if table:
                if table in sources:
                    return sources[table].get(name, False)
            else:
                derived = [o[name] for o in sources.values() if name in o]
                if derived:
                    return any(derived)
                if any(not o for o in sources.values()):
                    return False  # a stored table's column (or UNNEST's): never a series
            select = select.find_ancestor(exp.Select)
        return False


def _in_clause(node: exp.Expr, select: exp.Select, keys: tuple[str, ...]) -> bool:
    while node.parent is not None and node.parent is not select:
        node = node.parent
    return node.parent is select and node.arg_key in keys


def _allowed(node: exp.Expr) -> bool:
    parent = node.parent
    if isinstance(parent, exp.Anonymous) and _fn_name(parent) in SERIES_ARG:
        return node.arg_key == "expressions" and (node.index == 0 or _fn_name(parent) in CORRELATE)
    if isinstance(parent, exp.Unnest):
        return True
    holder = parent if isinstance(parent, exp.Alias) else node
    return isinstance(holder.parent, exp.Select) and holder.arg_key == "expressions"


def check(tree: exp.Expr) -> None:
    """Refuse time series in places the local engine does not support."""
    for node in tree.walk():
        if isinstance(node, exp.Explode):
            raise QueryValidationError("UNNEST is not supported by the local engine in this position")
        name = _fn_name(node)
        if name == CREATE and len(node.expressions) != 2:
            raise QueryValidationError(f"Function {CREATE} expects 2 arguments, got {len(node.expressions)}")
        if name in CORRELATE and len(node.expressions) != 2:
            raise QueryValidationError(f"Function {name} expects 2 arguments, got {len(node.expressions)}")
        if name == FILL and len(node.expressions) != 3:
            raise QueryValidationError(f"Function {name} expects 3 arguments, got {len(node.expressions)}")
        if name in (INTERPOLATE - {FILL}) | DERIVATIVE and len(node.expressions) != 2:
            raise QueryValidationError(f"Function {name} expects 2 arguments, got {len(node.expressions)}")
        if name == INTEGRAL and len(node.expressions) not in (1, 2):
            got = len(node.expressions)
            raise QueryValidationError(f"Function {name} expects 1 or 2 arguments, got {got}")
    resolver = _Resolver(tree)

    def holds_series(node: exp.Expr) -> bool:
        return is_series_call(node) or (isinstance(node, exp.Column) and resolver.is_series(node))

    for node in tree.walk():
        if isinstance(node, exp.Unnest):
            _check_unnest(node, holds_series)
        if holds_series(node) and not _allowed(node):
            what = _fn_name(node) or f"column {node.sql('trino')}"
            raise QueryValidationError(
                f"TIMESERIES value ({what}) is only supported by the local engine as a select-list column,"
                " the first argument of interpolate_*/derivative_*/integral_trapezoidal"
                " or the argument of UNNEST"
            )
        if _fn_name(node) in SERIES_ARG:
            series_args = node.expressions[: 2 if _fn_name(node) in CORRELATE else 1]
            for arg in series_args:
                if _fn_name(arg) != CREATE and not (isinstance(arg, exp.Column) and holds_series(arg)):
                    which = "first" if arg is series_args[0] else "second"
                    raise QueryValidationError(
                        f"Function {_fn_name(node)}: the {which} argument must be create_time_series(…) or a"
                        " column holding a time series in the local engine"
                    )


def _check_unnest(node: exp.Unnest, holds_series: Callable[[exp.Expr], bool]) -> None:
    if not isinstance(node.parent, (exp.From, exp.Join)):
        raise QueryValidationError("UNNEST is only supported in FROM / CROSS JOIN by the local engine")
    if node.args.get("offset"):
        raise QueryValidationError("UNNEST … WITH ORDINALITY is not supported by the local engine")
    args = node.expressions
    if len(args) != 1 or not holds_series(args[0]):
        raise QueryValidationError("UNNEST is supported by the local engine only for one TIMESERIES value")
    alias = node.args.get("alias")
    columns = alias.columns if isinstance(alias, exp.TableAlias) else []
    if columns and len(columns) != 2:
        raise QueryValidationError("UNNEST of a TIMESERIES yields two columns (time, value)")


def rewrite(node: exp.Expr) -> exp.Expr:
    """DuckDB form of one (already checked, children already rewritten) time series node."""
    name = _fn_name(node)
    if name == CREATE:
        return _fill(_CREATE, *node.expressions)
    if name in INTERPOLATE:
        template = _series_template(name) if _is_array_arg(node) else _scalar_template(name)
        return _fill(template, *node.expressions)
    if name in DERIVATIVE:
        keep = (
            f"__tsload_p.{TS_VALUE} >= 0"
            if name.startswith("non_negative")
            else f"__tsload_p.{TS_VALUE} IS NOT NULL"
        )
        return _fill(_DERIVATIVE.replace("{keep}", keep), *node.expressions)
    if name in CORRELATE:
        return _fill(_correlation(name), *node.expressions)
    if name == INTEGRAL:
        args = list(node.expressions)
        if len(args) == 1:  # the default unit: one second
            args.append(exp.Interval(this=exp.Literal.string("1"), unit=exp.var("SECOND")))
        return _fill(_INTEGRAL, *args)
    if isinstance(node, exp.Unnest):
        return _unnest(node)
    return node


def _unnest(node: exp.Unnest) -> exp.Expr:
    alias = node.args.get("alias")
    columns = list(alias.columns) if isinstance(alias, exp.TableAlias) else []
    time_name, value_name = (c.name for c in columns) if columns else ("time", "value")
    table = alias.name if isinstance(alias, exp.TableAlias) and alias.name else "__tsload_unnest"
    select = _fill(
        _UNNEST.format(
            time=exp.to_identifier(time_name, quoted=True).sql("duckdb"),
            value=exp.to_identifier(value_name, quoted=True).sql("duckdb"),
        ),
        node.expressions[0],
    )
    # DuckDB resolves the outer column the sub-select names (an implicit LATERAL join).
    return exp.Subquery(this=select, alias=exp.TableAlias(this=exp.to_identifier(table, quoted=True)))
