"""The embeddable library: every exported name resolves, the packages `tsload.ingest` and
`tsload.query` are callable as their main functions, and one experiment runs in-process."""

from __future__ import annotations

import asyncio
import inspect
import subprocess
import sys
from pathlib import Path

import tsload


def test_every_exported_name_resolves() -> None:
    for name in tsload.__all__:
        assert getattr(tsload, name) is not None, name
    assert sorted(dir(tsload)) == sorted(tsload.__all__)
    assert tsload.run_experiment is __import__("tsload.experiment").experiment.run_experiment
    assert issubclass(tsload.ConfigError, tsload.TsloadError)


def test_import_is_lazy() -> None:
    # the CLI imports the package: it must not pull aioboto3/duckdb/numpy in for `tsload --help`
    code = "import sys, tsload; print(sorted(m for m in ('aioboto3', 'duckdb', 'numpy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_packages_are_callable_as_their_main_function() -> None:
    coro = tsload.query(tsload.QueryConfig())
    assert inspect.iscoroutine(coro) and coro.cr_code.co_name == "run_query_workload"
    coro.close()
    coro = tsload.ingest(tsload.IngestConfig())
    assert inspect.iscoroutine(coro) and coro.cr_code.co_name == "ingest"
    coro.close()


def test_an_experiment_embedded(tmp_path: Path) -> None:
    phases: list[str] = []
    cfg = tsload.RunConfig(
        target=tsload.TargetConfig(local_data=tmp_path / "data"),
        backfill_s=120,
        duration_s=3,
        query_sessions=1,
        think_time_ms=100,
        stats_interval_s=1,
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
