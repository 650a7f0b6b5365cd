"""Flag groups (tsload/cli/_groups.py): typer sees the fields, the command gets the group back."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Annotated

import pytest
import typer
from typer.testing import CliRunner

from tsload.cli._groups import IngestFlags, TargetFlags, with_groups


@dataclass(frozen=True)
class Pair:
    left: Annotated[int, typer.Option("--left", help="Left.")] = 1
    right: Annotated[str, typer.Option("--right", help="Right.")] = "r"


def test_typer_sees_the_fields_in_place_with_the_commands_defaults() -> None:
    def command(first: Annotated[int, typer.Option("--first")] = 0, pair: Pair = Pair(left=5)) -> None: ...

    params = inspect.signature(with_groups(command)).parameters
    assert [(p.name, p.default) for p in params.values()] == [("first", 0), ("left", 5), ("right", "r")]


def test_the_command_gets_the_group_back_from_the_flags() -> None:
    seen: list[object] = []

    @with_groups
    def command(pair: Pair = Pair(), last: Annotated[bool, typer.Option("--last")] = False) -> None:
        seen.append((pair, last))

    app = typer.Typer()
    app.command()(command)
    app.command("other")(lambda: None)  # two commands: typer keeps the subcommand name
    result = CliRunner().invoke(app, ["command", "--right", "x", "--last"])
    assert result.exit_code == 0, result.output
    assert seen == [(Pair(left=1, right="x"), True)]
    assert "--left" in CliRunner().invoke(app, ["command", "--help"]).output


def test_a_flag_not_passed_keeps_the_commands_default() -> None:
    @with_groups
    def command(pair: Pair = Pair(left=5)) -> Pair:
        return pair

    assert command(right="x") == Pair(left=5, right="x")
    assert command() == Pair(left=5)


def test_a_flag_declared_twice_fails_at_import() -> None:
    def command(pair: Pair = Pair(), left: int = 0) -> None: ...

    with pytest.raises(ValueError, match="duplicate parameter name"):
        with_groups(command)


def test_run_defaults_differ_only_where_given() -> None:
    run = IngestFlags(host_scale=1, interval_millis=60000, backfill="1h", duration="30s", stats_interval=2.0)
    assert run.batch_size_for("timestream") == 100
    assert run.batch_size_for("influxdb") == 5000
    assert (run.memory_store_retention_hours, run.drain_timeout) == (2, 10.0)
    assert TargetFlags().config().kind == "timestream"
