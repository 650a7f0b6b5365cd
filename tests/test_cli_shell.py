"""The CLI shell: help with examples, one-line errors with exit 2, honest placeholders."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tsload.cli import _COMMANDS


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tsload", *args], capture_output=True, text=True, timeout=60)


def test_root_help_shows_examples() -> None:
    r = run("--help")
    assert r.returncode == 0
    assert "Examples:" in r.stdout
    for name in _COMMANDS:
        assert name in r.stdout


@pytest.mark.parametrize("name", sorted(_COMMANDS))
def test_every_subcommand_help_has_an_example(name: str) -> None:
    r = run(name, "--help")
    assert r.returncode == 0, r.stderr
    assert f"tsload {name}" in r.stdout


@pytest.mark.parametrize("args", [["no-such-command"], ["model", "--no-such-flag"]])
def test_usage_errors_are_one_line_exit_2(args: list[str]) -> None:
    r = run(*args)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr
    assert len(r.stderr.strip().splitlines()) == 1
    assert r.stderr.startswith("tsload")
