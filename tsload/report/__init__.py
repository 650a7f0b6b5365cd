"""Reports over run directories: merge HDR histograms across sessions, processes and machines.

    from tsload.report import load_report
    report, found = load_report([Path("tsload-runs/2026-11-28T05-00-00Z")])
    print(to_text(report))                       # tsload.report.render
    Path("report.html").write_text(render_html(report, found))   # tsload.report.html
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from tsload.report.merge import IngestRow, QueryRow, Report, build_report
from tsload.report.rundirs import RunDirs, find_run_dirs

__all__ = ["IngestRow", "QueryRow", "Report", "RunDirs", "build_report", "find_run_dirs", "load_report"]


def load_report(
    dirs: Sequence[Path], *, pattern: str | None = None, exclude: Iterable[Path] = ()
) -> tuple[Report, RunDirs]:
    """Find every query session and ingest run under ``dirs`` and merge them (ConfigError if none)."""
    from tsload._errors import ConfigError

    found = find_run_dirs(dirs, pattern=pattern, exclude=exclude)
    if not found.sessions and not found.ingests:
        raise ConfigError("DIR", "directories holding query session or ingest run directories",
                          got=", ".join(str(d) for d in dirs))
    return build_report(found, [str(d) for d in dirs]), found
