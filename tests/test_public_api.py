"""The embeddable library: `__all__` is exactly the public names and what a type checker sees,
`import tsload` and building a configuration import no database client, an embedding example
passes `mypy --strict`, and one experiment runs in-process."""

from __future__ import annotations

import ast
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

import tsload

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "docs" / "examples" / "embed.py"
# module-level names of tsload/__init__.py that are machinery, not API
MACHINERY = {"TYPE_CHECKING", "Any", "annotations", "importlib"}


def _type_checking_names() -> set[str]:
    """The names tsload/__init__.py imports under `if TYPE_CHECKING:` (what mypy sees)."""
    tree = ast.parse((REPO / "tsload" / "__init__.py").read_text())
    names: set[str] = set()
    for node in tree.body:
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for imp in node.body:
                assert isinstance(imp, ast.ImportFrom)
                names.update(a.asname or a.name for a in imp.names)
    return names


def test_all_is_the_public_names() -> None:
    # httpx's tests/test_exported_members.py, for a package whose names load lazily
    assert tsload.__all__ == sorted(tsload.__all__)
    public = {n for n in vars(tsload) if not n.startswith("_")} - MACHINERY
    public |= set(tsload._EXPORTS) | {"__version__"}
    public -= {n for n, v in vars(tsload).items() if type(v) is type(tsload)}  # loaded subpackages
    assert set(tsload.__all__) == public
    assert _type_checking_names() | {"__version__"} == set(tsload.__all__)
    assert sorted(dir(tsload)) == sorted(tsload.__all__)


def test_every_exported_name_resolves() -> None:
    for name in tsload.__all__:
        assert getattr(tsload, name) is not None, name
    from tsload.experiment.runner import run_experiment
    from tsload.ingest.runner import ingest

    assert tsload.run_experiment is run_experiment and tsload.run_ingest is ingest
    for fn in (tsload.run_ingest, tsload.run_query, tsload.run_experiment):
        assert asyncio.iscoroutinefunction(fn), fn
    with pytest.raises(AttributeError):
        tsload.no_such_name  # noqa: B018


def test_one_error_tree() -> None:
    from tsload.targets.base import CallError

    for err in (tsload.ConfigError, tsload.WorkloadError, tsload.LimitError, tsload.TargetError,
                tsload.QueryError, CallError):
        assert issubclass(err, tsload.TsloadError), err
    assert issubclass(tsload.WorkloadError, tsload.ConfigError)
    assert issubclass(tsload.QueryError, tsload.TargetError) and issubclass(CallError, tsload.QueryError)
    e = tsload.ConfigError("concurrency", "a positive integer", got=0.0)
    assert str(e) == "concurrency: a positive integer, got 0"  # fields, not flags; 0 as typed
    assert str(e.within("ingest")) == "ingest.concurrency: a positive integer, got 0"


def test_import_and_configs_are_lazy() -> None:
    # the CLI imports the package: `tsload --help` must not pull aioboto3/duckdb/numpy in; and an
    # embedding program builds its configuration before any database client is loaded
    code = (
        "import sys, tsload; heavy = ('aioboto3', 'botocore', 'aiohttp', 'duckdb', 'numpy');"
        "print(sorted(m for m in heavy if m in sys.modules));"
        "t = tsload.TargetConfig(endpoint='http://127.0.0.1:1');"
        "i = tsload.IngestConfig(target=t); q = tsload.QueryConfig(target=t);"
        "tsload.RunConfig(ingest=i, query=q); i.validate(); q.validate(); tsload.ConfigError;"
        "print(sorted(m for m in heavy[:4] if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["[]", "[]"]


def test_embedding_example_passes_mypy_strict(tmp_path: Path) -> None:
    def mypy(path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path / "c"),
             str(path)],
            capture_output=True, text=True, cwd=REPO, timeout=300,
        )

    ok = mypy(EXAMPLE)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    # and the checker really sees the types: a wrong one is an error, not Any
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import tsload\n"
        "async def f() -> None:\n"
        "    n: int = await tsload.run_ingest(tsload.IngestConfig())\n"
    )
    wrong = mypy(bad)
    assert wrong.returncode == 1 and 'has type "IngestSummary"' in wrong.stdout, wrong.stdout


def test_an_experiment_embedded(tmp_path: Path) -> None:
    phases: list[str] = []
    cfg = tsload.RunConfig(
        ingest=tsload.IngestConfig(
            target=tsload.TargetConfig(local_data=tmp_path / "data"),
            host_scale=1,
            interval_millis=60_000,
            backfill_s=120,
            duration_s=3,
            stats_interval_s=1,
        ),
        query=tsload.QueryConfig(concurrency=1, think_time_ms=100, params="model"),
        out_dir=tmp_path / "out",
    )
    result = asyncio.run(tsload.run_experiment(cfg, on_phase=phases.append))
    assert phases == ["backfill", "live", "report"]
    assert result.balanced and result.backfill is not None and result.live is not None
    assert result.backfill.ingested == 2 * (1000 * 20 + 1200 * 5)  # two emissions of the fleet
    assert result.report is not None and result.report.ingest is not None
    assert result.report.ingest.ingested == result.live.ingested
    assert result.queries is not None
    ran = sum(q.total for q in result.queries.queries.values())
    assert ran > 0 and ran == sum(r.total for r in result.report.queries)
    assert (tmp_path / "out" / "report.json").is_file()
