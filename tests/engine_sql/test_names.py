"""Database and table names Timestream would refuse are refused by every command taking -d/-t
before any network call (the endpoint below refuses connections: reaching it is another error)."""

from __future__ import annotations

import pytest

from tsload.cli import main
from tsload.model.limits import resource_name_ok

BAD = ["ab", "a b", "x/y", "dé_vops", "a" * 257, "tab;le"]
GOOD = ["abc", "a-b.c_d", "A1_" * 85]


@pytest.mark.parametrize("name", GOOD)
def test_good_names(name: str) -> None:
    assert resource_name_ok(name)


@pytest.mark.parametrize("name", BAD)
def test_bad_names(name: str) -> None:
    assert not resource_name_ok(name)


@pytest.mark.parametrize("command", ["ingest", "query", "run", "cleanup"])
@pytest.mark.parametrize(("flag", "label"), [("-d", "-d/--database-name"), ("-t", "-t/--table-name")])
@pytest.mark.parametrize("name", ["ab", "x/y", "a" * 257])
def test_every_command_refuses_bad_names_before_any_call(
    command: str, flag: str, label: str, name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main([command, "-e", "http://127.0.0.1:1", flag, name])
    out, err = capsys.readouterr()
    assert exc.value.code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"tsload: error: {label}: 3 to 256 characters of letters, digits")
    assert "Traceback" not in err and out == ""
