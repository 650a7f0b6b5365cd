"""One experiment: backfill, then live ingestion and query sessions side by side, then the report.

    import tsload
    from tsload.experiment import run_ingest_defaults

    result = await tsload.run_experiment(
        tsload.RunConfig(ingest=run_ingest_defaults(backfill_s=600, duration_s=30)))
    print(result.out_dir, result.report.queries if result.report else None)

`tsload run` is a thin shell over this. The package holds the configuration only; the run itself
is `tsload.experiment.runner.run_experiment` (exported as `tsload.run_experiment`).
"""

from __future__ import annotations

from tsload.experiment.config import RunConfig, default_out_dir, run_ingest_defaults, run_query_defaults

__all__ = ["RunConfig", "default_out_dir", "run_ingest_defaults", "run_query_defaults"]
