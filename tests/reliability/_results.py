"""Figures the suites measure, for `scripts/reliability-report`.

When `TSLOAD_RELIABILITY_RESULTS` names a file, `record()` appends one JSON line per call; otherwise
it does nothing (a plain `pytest` run writes nothing outside its temp dirs).
"""

from __future__ import annotations

import json
import os
from typing import Any


def record(scenario: str, **figures: Any) -> None:
    path = os.environ.get("TSLOAD_RELIABILITY_RESULTS")
    if not path:
        return
    with open(path, "a") as f:
        f.write(json.dumps({"scenario": scenario, **figures}, default=str) + "\n")
