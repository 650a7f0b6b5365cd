"""`tsload compare BASELINE CANDIDATE`: two runs side by side, changes beyond noise marked."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from tsload._errors import ConfigError

HELP = """Compare two runs: per query and for ingestion, the baseline and the candidate side by
side (p50, p99, q/s, errors; records/s, write latency, lag), with the absolute and relative
change. A change is marked * when the two runs' 95% confidence intervals do not overlap (for a
percentile, the order-statistic interval read from the run's own histogram; for counts and
rates, Poisson): anything unmarked is within noise.

Each argument is anything `tsload report` takes: a `tsload run` directory, a folder of shard
directories, sample-format session directories.

Examples:

\b
  tsload compare runs/baseline tsload-runs/latest
  tsload compare runs/a runs/b --format html -o compare.html   # both latency distributions on one chart
  tsload compare runs/a runs/b --format json
"""

FORMATS = ("table", "md", "json", "html")
_SUFFIX = {".md": "md", ".json": "json", ".html": "html", ".htm": "html", ".txt": "table"}


def command(
    baseline: Annotated[Path, typer.Argument(metavar="BASELINE", help="The run compared against.")],
    candidate: Annotated[Path, typer.Argument(metavar="CANDIDATE", help="The run being judged.")],
    fmt: Annotated[str | None, typer.Option(
        "-f", "--format", metavar="FORMAT", help="table, md, json or html (default: from the -o suffix, "
        "else table).")] = None,
    output_file: Annotated[str | None, typer.Option(
        "-o", "--output-file", metavar="FILE", help="Write to this file; its directory must exist.")] = None,
) -> None:
    from tsload.report import load_report
    from tsload.report.compare import compare_reports, to_html, to_json, to_markdown, to_renderable

    for name, p in (("BASELINE", baseline), ("CANDIDATE", candidate)):
        if not p.is_dir():
            raise ConfigError(name, "an existing run directory", got=p)
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError("-f/--format", f"one of {', '.join(FORMATS)}", got=fmt)
    out = Path(output_file) if output_file is not None else None
    if out is not None and not out.parent.is_dir():
        raise ConfigError("-o/--output-file", "a file in an existing directory", got=out)
    if fmt is None:
        fmt = _SUFFIX.get(out.suffix.lower(), "table") if out is not None else "table"
    base, _ = load_report([baseline])
    cand, _ = load_report([candidate])
    cmp = compare_reports(base, cand)
    if fmt == "table":
        from rich.console import Console

        console = Console(highlight=False) if out is None and sys.stdout.isatty() else None
        if console is not None:
            console.print(to_renderable(cmp))
            return
        import io

        buf = io.StringIO()
        Console(file=buf, width=160, no_color=True, highlight=False).print(to_renderable(cmp))
        text = buf.getvalue()
    else:
        text = {"md": to_markdown, "json": to_json, "html": to_html}[fmt](cmp)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError("-o/--output-file", f"a writable file ({exc.strerror or exc})", got=out) from exc
    from tsload.cli._console import info

    info(f"comparison written to {out}")
