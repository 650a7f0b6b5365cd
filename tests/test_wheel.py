"""The built wheel (not the editable install) ships the workload folder and the price file, and the
installed package finds them with no repository around it."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
         str(REPO)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    [built] = out.glob("tsload-*.whl")
    return built


def test_wheel_holds_the_workload_and_prices(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {"tsload/_workloads/devops/config.ini", "tsload/_workloads/devops/config_row_count.ini",
                "tsload/model/prices/us-east-1.json", "tsload/model/prices/influxdb-us-east-1.json",
                "tsload/py.typed"}
    folders = ("single", "multi", "influxql", "influxdb-sql")
    expected |= {f"tsload/_workloads/devops/queries/{m}/do-q{i}.sql" for m in folders for i in range(1, 7)}
    assert expected <= names, sorted(expected - names)
    assert not any(n.startswith(("tests/", "scripts/")) for n in names)


def test_installed_wheel_finds_its_data(wheel: Path, tmp_path: Path) -> None:
    site = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        check=True, capture_output=True, text=True, timeout=300,
    )
    code = (
        "import tsload, tsload.query.workload as w, tsload.model.cost as c; "
        "wl = w.load_workload(None, multi=True); "
        "print(tsload.__file__); print(w.default_workload_dir()); print(c.load_prices().region); "
        "print(sorted(wl.templates))"
    )
    env = {**os.environ, "PYTHONPATH": str(site)}  # ahead of the editable install
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True,
                         capture_output=True, text=True, timeout=120).stdout.splitlines()
    assert Path(out[0]).is_relative_to(site)
    assert Path(out[1]) == site / "tsload" / "_workloads" / "devops"
    assert out[2] == "us-east-1"
    assert out[3] == str([f"do-q{i}" for i in range(1, 7)])
