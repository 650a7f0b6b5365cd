"""Timestream SQL (read as Trino) → DuckDB SQL, as an AST rewrite with sqlglot."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Mapping

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

from tsload.engine.sql import scalar, timeseries
from tsload.engine.sql.errors import QueryValidationError
from tsload.engine.sql.functions import REFUSED
from tsload.engine.sql.prepass import prepass

# Functions sqlglot does not know and that we rewrite ourselves; any other unknown function is refused.
_OWN = {
    "ago",
    "bin",
    "from_milliseconds",
    "to_milliseconds",
    "__tsload_iso8601",
    "time_bucket",
    "epoch_ms",
    *timeseries.OWN,
    *scalar.TEMPLATES,
}
_FORBIDDEN_NODES = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.Command,
    exp.Pragma,
    exp.Copy,
    exp.Set,
    exp.Use,
    exp.Attach,
    exp.Detach,
)


def _ts_literal(now: dt.datetime) -> exp.Expression:
    return exp.cast(exp.Literal.string(now.strftime("%Y-%m-%d %H:%M:%S.%f")), "TIMESTAMP")


def translate(
    sql: str, *, now: dt.datetime, visible: Mapping[tuple[str, str], list[str]]
) -> tuple[str, list[tuple[str, str]]]:
    """Return the DuckDB SQL and the (db, table) pairs it reads.

    `visible` maps every existing user table to its visible (not `_`-prefixed) columns; each table
    reference becomes a sub-select of those columns so hidden columns stay hidden.
    """
    text = prepass(sql)
    try:
        _refuse_unsupported(text)
        trees = sqlglot.parse(text, read="trino")
    except (SqlglotError, ValueError, IndexError, RecursionError) as exc:
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise QueryValidationError(f"Syntax error: {first}") from None
    if len(trees) != 1 or trees[0] is None:
        raise QueryValidationError("Exactly one SQL statement is allowed")
    tree = trees[0]
    if not isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Subquery)):
        raise QueryValidationError(f"Unsupported statement: {tree.key.upper()}")
    for node in tree.walk():
        if isinstance(node, _FORBIDDEN_NODES):
            raise QueryValidationError(f"Unsupported statement: {node.key.upper()}")
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            if name not in _OWN:
                raise QueryValidationError(f"Function {name} not registered")
        elif isinstance(node, exp.Func) and type(node).__name__.startswith("Read"):
            raise QueryValidationError(f"Function {node.sql_name().lower()} not registered")
    _name_expressions(tree)
    timeseries.check(tree)
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    lookup = {(d.lower(), t.lower()): (d, t) for d, t in visible}
    touched: list[tuple[str, str]] = []

    def rewrite(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Table):
            if not isinstance(node.this, exp.Identifier):
                raise QueryValidationError(f"Unsupported table expression: {node.sql('trino')}")
            db, name = node.db, node.name
            if not db:
                if name.lower() in ctes:
                    return node
                raise QueryValidationError(f"Table {name} must be qualified with its database (db.table)")
            if node.catalog:
                raise QueryValidationError(f"Unsupported table reference: {node.sql('trino')}")
            key = lookup.get((db.lower(), name.lower()))
            if key is None:
                raise QueryValidationError(f"The table {db}.{name} does not exist")
            touched.append(key)
            cols = ", ".join(exp.to_identifier(c, quoted=True).sql("duckdb") for c in visible[key])
            src = (
                f"SELECT {cols} FROM {exp.to_identifier(key[0], quoted=True).sql('duckdb')}."
                f"{exp.to_identifier(key[1], quoted=True).sql('duckdb')}"
            )
            alias = node.alias or name
            return exp.Subquery(
                this=sqlglot.parse_one(src, read="duckdb"),
                alias=exp.TableAlias(this=exp.to_identifier(alias, quoted=True)),
            )
        if isinstance(node, exp.CurrentDate):
            return exp.cast(_ts_literal(now), "DATE")
        if isinstance(node, (exp.CurrentTimestamp, exp.Localtimestamp)) or (
            isinstance(node, exp.Anonymous) and str(node.this).lower() == "now"
        ):
            return _ts_literal(now)
        if isinstance(node, exp.Anonymous):
            name = str(node.this).lower()
            args = node.expressions
            if name == "ago":
                _arity(name, args, 1)
                # parenthesised: ago(1h - 30m) is now() - (1h - 30m), not now() - 1h - 30m
                return exp.Sub(this=_ts_literal(now), expression=exp.Paren(this=args[0]))
            if name == "bin":
                _arity(name, args, 2)
                return exp.Anonymous(this="time_bucket", expressions=[args[1], args[0]])
            if name == "from_milliseconds":
                _arity(name, args, 1)
                return exp.Anonymous(this="epoch_ms", expressions=[exp.cast(args[0], "BIGINT")])
            if name == "to_milliseconds":
                _arity(name, args, 1)
                # via nanoseconds: DuckDB's epoch_ms of a TIMESTAMP_NS fails; // floors (integer division)
                return sqlglot.parse_one(
                    f"epoch_ns(CAST(({args[0].sql('duckdb')}) AS TIMESTAMP_NS)) // 1000000", read="duckdb"
                )
            if name == "__tsload_iso8601":
                _arity("from_iso8601_timestamp", args, 1)
                return exp.Anonymous(
                    this="timezone", expressions=[exp.Literal.string("UTC"), exp.cast(args[0], "TIMESTAMPTZ")]
                )
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in scalar.TEMPLATES:
            return scalar.rewrite(str(node.this).lower(), node.expressions)
        if isinstance(node, exp.ArrayDistinct):
            return scalar.rewrite("array_distinct", [node.this])
        if isinstance(node, exp.CurrentTimezone):
            return scalar.rewrite("current_timezone", [])
        if isinstance(node, exp.FromBase):
            return scalar.rewrite("from_base", [node.this, node.expression])
        if isinstance(node, exp.ArrayExcept):
            return scalar.rewrite("array_except", [node.this, node.expression])
        if isinstance(node, exp.RegexpExtract):
            return scalar.regexp_extract(node)
        if isinstance(node, exp.ArraySlice):
            return scalar.array_slice(node)
        if isinstance(node, exp.Reduce) and node.args.get("finish") is not None:
            return _reduce_finish(node)
        if isinstance(node, exp.Anonymous) and str(node.this).lower() in timeseries.OWN:
            return timeseries.rewrite(node)
        if isinstance(node, exp.Unnest):
            return timeseries.rewrite(node)
        if isinstance(node, exp.GenerateSeries):
            return timeseries.limit_sequence(node)
        if isinstance(node, exp.ApproxQuantile):
            # Exact nearest-rank quantile: within any approximation bound Timestream's digest gives.
            return exp.Anonymous(this="quantile_disc", expressions=[node.this, node.args["quantile"]])
        if isinstance(node, exp.Stddev):
            return exp.Anonymous(this="stddev_samp", expressions=[node.this])
        return node

    try:
        out = _bottom_up(tree, rewrite)
        return out.sql("duckdb"), touched
    except (SqlglotError, ValueError, RecursionError) as exc:
        raise QueryValidationError(
            f"Unsupported construct: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"
        ) from None


def _refuse_unsupported(text: str) -> None:
    """Refuse, by name, the Timestream functions the local engine does not implement
    (tsload.engine.sql.functions): a name followed by `(` in the token stream."""
    tokens = sqlglot.tokenize(text, read="trino")
    for tok, nxt in itertools.pairwise(tokens):
        if nxt.token_type == sqlglot.TokenType.L_PAREN and tok.text.lower() in REFUSED:
            raise QueryValidationError(f"Function {tok.text.lower()} is not supported by the local engine")


def _reduce_finish(node: exp.Reduce) -> exp.Expr:
    """reduce(x, init, merge, finish): DuckDB has no finishing function, so finish's body is
    applied to the reduction by substituting its parameter."""
    finish = node.args["finish"]
    node.set("finish", None)
    if not isinstance(finish, exp.Lambda) or len(finish.expressions) != 1:
        raise QueryValidationError("reduce: the output function must be a one-parameter lambda")
    param = finish.expressions[0].name
    body = finish.this.copy()

    def sub(n: exp.Expr) -> exp.Expr:
        if (
            isinstance(n, (exp.Identifier, exp.Column))
            and n.name == param
            and not (isinstance(n, exp.Identifier) and isinstance(n.parent, exp.Column))
        ):
            return exp.Paren(this=node.copy())
        return n

    out: exp.Expr = body.transform(sub)
    return out


def _name_expressions(tree: exp.Expr) -> None:
    """Name unaliased select-list expressions `_col0`, `_col1`, … by position, as Trino (and so
    Timestream) does; DuckDB would name them after the translated expression text."""
    for select in list(tree.find_all(exp.Select)):
        for i, item in enumerate(select.expressions):
            if not isinstance(item, (exp.Alias, exp.Column, exp.Star, exp.Dot)):
                item.replace(exp.alias_(item.copy(), f"_col{i}"))


def _bottom_up(tree: exp.Expr, fn: Callable[[exp.Expr], exp.Expr]) -> exp.Expr:
    """Apply `fn` to every node, children before their parent, so that a rewritten function sees
    rewritten arguments (`ago(now() - 1h)`, `bin(from_milliseconds(x), 1h)`). sqlglot's own
    `transform` is top-down and does not descend into a replacement."""
    root = tree
    for node in reversed(list(tree.dfs())):
        new = fn(node)
        if new is node:
            continue
        if node is root:
            root = new
        else:
            node.replace(new)
    return root


def _arity(name: str, args: list[exp.Expression], n: int) -> None:
    if len(args) != n:
        raise QueryValidationError(f"Function {name} expects {n} argument(s), got {len(args)}")
