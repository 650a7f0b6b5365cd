"""Workload folders and INI files: the sample's format, normalised weights, one-line errors."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pytest

from tsload._errors import ConfigError
from tsload.query.workload import default_workload_dir, load_workload, parse_config

REPO = Path(__file__).resolve().parents[2]
KNOWN = frozenset({"do-q1", "do-q2", "do-q3"})


def write(tmp_path: Path, text: str, name: str = "config.ini") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def make_workload(root: Path, names: tuple[str, ...] = ("do-q1", "do-q2"), config: str | None = None) -> Path:
    for model in ("single", "multi"):
        d = root / "queries" / model
        d.mkdir(parents=True)
        for n in names:
            (d / f"{n}.sql").write_text(f"SELECT {{region}} AS r, '{model}' AS m FROM {{db}}.{{table}}\n")
    (root / "config.ini").write_text(
        config or "[query_distribution]\n" + "".join(f"{n} = 1\n" for n in names)
    )
    return root


def test_sample_format_and_normalised_weights(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "[default]\nquery_mode = row_count\nrepetitions = 7\nretries = 3\n"
        "[query_distribution]\ndo-q1 = 60\ndo-q2 = 35\ndo-q3 = 2.9\n",
    )
    cfg = parse_config(p, KNOWN)
    assert (cfg.query_mode, cfg.repetitions, cfg.retries) == ("row_count", 7, 3)
    assert cfg.names == ("do-q1", "do-q2", "do-q3")
    assert math.isclose(sum(w for _, w in cfg.weights), 1.0)
    assert math.isclose(dict(cfg.weights)["do-q1"], 60 / 97.9)


def test_defaults_when_absent(tmp_path: Path) -> None:
    cfg = parse_config(write(tmp_path, "[query_distribution]\ndo-q1 = 1\n"), KNOWN)
    assert (cfg.query_mode, cfg.repetitions, cfg.retries) == ("regular", 100, 0)


def test_bundled_configs_are_the_samples_mix() -> None:
    d = default_workload_dir()
    for name, mode in (("config.ini", "regular"), ("config_row_count.ini", "row_count")):
        cfg = parse_config(d / name)
        assert cfg.query_mode == mode and cfg.repetitions == 10000 and cfg.retries == 10
        raw = {"do-q1": 60, "do-q2": 35, "do-q3": 2.9, "do-q4": 2, "do-q5": 0.05, "do-q6": 0.05}
        total = sum(raw.values())
        assert {k: round(v, 12) for k, v in cfg.weights} == {k: round(v / total, 12) for k, v in raw.items()}


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[default]\nrepetitions = 5\n", "a [query_distribution] section"),
        (
            "[query_distribution]\ndo-q9 = 5\n",
            "[query_distribution]: a query of the workload (do-q1, do-q2, do-q3), got do-q9",
        ),
        ("[query_distribution]\ndo-q1 = lots\n", "[query_distribution] do-q1: a number, got lots"),
        (
            "[query_distribution]\ndo-q1 = -5\ndo-q2 = 10\n",
            "[query_distribution] do-q1: a finite number >= 0, got -5",
        ),
        ("[query_distribution]\ndo-q1 = nan\n", "finite number"),
        (
            "[query_distribution]\ndo-q1 = 0\ndo-q2 = 0\n",
            "[query_distribution]: weights with a positive total, got 0",
        ),
        ("[query_distribution]\n", "[query_distribution]: at least one query"),
        (
            "[default]\nquery_mode = fast\n[query_distribution]\ndo-q1 = 1\n",
            "[default] query_mode: regular or row_count, got fast",
        ),
        (
            "[default]\nrepetitions = many\n[query_distribution]\ndo-q1 = 1\n",
            "[default] repetitions: an integer, got many",
        ),
        (
            "[default]\nrepetitions = 0\n[query_distribution]\ndo-q1 = 1\n",
            "[default] repetitions: an integer >= 1, got 0",
        ),
        (
            "[default]\nretries = -1\n[query_distribution]\ndo-q1 = 1\n",
            "[default] retries: an integer >= 0, got -1",
        ),
        (
            "[default]\nrepetition = 5\n[query_distribution]\ndo-q1 = 1\n",
            "[default]: query_mode, repetitions or retries, got repetition",
        ),
        ("query_distribution\ndo-q1 = 1\n", "a valid INI file"),
        ("[query_distribution]\ndo-q1 = 1\ndo-q1 = 2\n", "a valid INI file"),
    ],
)
def test_bad_config(tmp_path: Path, text: str, needle: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        parse_config(p, KNOWN)
    assert needle in str(err.value)
    assert str(p) in str(err.value)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config_file: an existing INI file, got .*nope.ini"):
        parse_config(tmp_path / "nope.ini", KNOWN)


def test_load_workload_models_and_custom_config(tmp_path: Path) -> None:
    root = make_workload(tmp_path / "wl", ("do-q1", "do-q2", "extra"))
    single = load_workload(root)
    multi = load_workload(root, multi=True)
    assert set(single.templates) == {"do-q1", "do-q2", "extra"}
    assert "'single'" in single.templates["do-q1"] and "'multi'" in multi.templates["do-q1"]
    cfg = write(tmp_path, "[query_distribution]\nextra = 1\n", "only-extra.ini")
    assert list(load_workload(root, config=cfg).templates) == ["extra"]


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT {regoin}", ", got {regoin}"),
        ("SELECT {region", "placeholders in valid syntax"),
        ("SELECT 1 }", "placeholders in valid syntax"),
        ("   \n", "a query (the file is empty)"),
    ],
)
def test_bad_query_file(tmp_path: Path, sql: str, needle: str) -> None:
    root = make_workload(tmp_path / "wl")
    bad = root / "queries" / "single" / "do-q2.sql"
    bad.write_text(sql)
    with pytest.raises(ConfigError) as err:
        load_workload(root)
    assert needle in str(err.value) and str(bad) in str(err.value)


def test_query_without_file_is_unknown(tmp_path: Path) -> None:
    root = make_workload(tmp_path / "wl", ("do-q1",), config="[query_distribution]\ndo-q1 = 1\ndo-q2 = 1\n")
    with pytest.raises(ConfigError, match=r"a query of the workload .*, got do-q2"):
        load_workload(root)


def test_missing_model_folder(tmp_path: Path) -> None:
    root = make_workload(tmp_path / "wl")
    for f in (root / "queries" / "multi").iterdir():
        f.unlink()
    (root / "queries" / "multi").rmdir()
    with pytest.raises(ConfigError, match="workload_dir: a workload folder holding queries/multi/"):
        load_workload(root, multi=True)


def test_default_dir_prefers_the_wheel_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tsload.query.workload as wl

    assert default_workload_dir() in (
        REPO / "workloads" / "devops",
        REPO / "tsload" / "_workloads" / "devops",
    )
    # An installed wheel has tsload/_workloads/devops beside the modules and no repository around it.
    pkg = tmp_path / "site" / "tsload"
    (pkg / "query").mkdir(parents=True)
    (pkg / "_workloads" / "devops").mkdir(parents=True)
    (pkg / "_workloads" / "devops" / "config.ini").write_text("[query_distribution]\ndo-q1 = 1\n")
    monkeypatch.setattr(wl, "__file__", str(pkg / "query" / "workload.py"))
    assert wl.default_workload_dir() == pkg / "_workloads" / "devops"
    (pkg / "_workloads" / "devops" / "config.ini").unlink()
    with pytest.raises(ConfigError, match="workload_dir: a workload folder: the bundled one is missing"):
        wl.default_workload_dir()


@pytest.mark.parametrize(
    "text",
    [
        "[default]\nrepetitions = 5\n",
        "[query_distribution]\ndo-q9 = 5\n",
        "[query_distribution]\ndo-q1 = x\n",
        "[query_distribution]\ndo-q1 = 0\n",
    ],
)
def test_cli_bad_config_one_line_exit_2(tmp_path: Path, text: str) -> None:
    root = make_workload(tmp_path / "wl")
    cfg = write(tmp_path, text, "bad.ini")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tsload",
            "query",
            "--workload",
            str(root),
            "--config",
            str(cfg),
            "-l",
            str(tmp_path / "logs"),
            "--fixed-params",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("tsload: error: ") and str(cfg) in lines[0]
    assert "Traceback" not in proc.stderr and not (tmp_path / "logs").exists()
