"""One experiment: backfill, then live ingestion and query sessions side by side, then the report.

    from tsload.experiment import RunConfig, run_experiment
    result = await run_experiment(RunConfig(host_scale=1, backfill_s=600, duration_s=30))
    print(result.out_dir, result.report.queries if result.report else None)

`tsload run` is a thin shell over this.
"""

from __future__ import annotations

from tsload.experiment.config import RunConfig, default_out_dir
from tsload.experiment.runner import RunResult, run_experiment

__all__ = ["RunConfig", "RunResult", "default_out_dir", "run_experiment"]
