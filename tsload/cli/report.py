"""`tsload report`: merge run directories into one report (table, CSV, Markdown, JSON or HTML)."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tsload._errors import ConfigError
from tsload.cli import _options as o

if TYPE_CHECKING:
    from tsload.report.merge import Report
    from tsload.report.sample_csv import AveragedTable

HELP = """Merge query sessions and ingest runs found under DIR... into one report.

Latency histograms (HDR) are merged, never averaged, so percentiles are right across
sessions, processes and machines.

Examples:

\b
  tsload report ./tsload-runs/latest                      # table on the terminal
  tsload report shard-*/ --slo 'queries.p99<1s' --slo 'ingest.rejected<0.1%'   # CI gate: exit 3 on a failure
  tsload report runs/host-a runs/host-b --format md       # several machines, Markdown
  tsload report runs/ --format json > report.json
  tsload report runs/ --format html -o report.html        # one self-contained page with charts
  tsload report runs/ -o summary.csv                      # the sample's CSV columns first
  tsload report -d ~/timestream_perf -o summary.csv       # like the sample's summarize_results
  tsload report -d ~/timestream_perf -o summary.csv --averaged   # and its averaged table beside

With -d, the output file is written inside DIR (as the sample's summariser did) and -p
(default *.csv) selects the per-session summary CSVs whose directories are merged.
"""

_SUFFIX_FORMATS = {".csv": "csv", ".md": "md", ".markdown": "md", ".json": "json", ".html": "html",
                   ".htm": "html", ".txt": "table"}


def _print_table(report: Report, avg: AveragedTable | None) -> None:
    from tsload.cli._console import out_console
    from tsload.report.render import to_renderable, to_text

    if out_console.is_terminal:
        out_console.print(to_renderable(report, avg))
    else:  # piped or redirected: wide enough that no column gets squeezed
        sys.stdout.write(to_text(report, avg))


def command(
    dirs: Annotated[list[Path] | None, typer.Argument(
        metavar="DIR...", help="Run directories to search (recursively).", show_default=False)] = None,
    directory: Annotated[Path | None, typer.Option(
        "-d", "--directory", metavar="DIR",
        help="Summariser-compatible mode: search DIR, write -o inside it.")] = None,
    output_file: Annotated[str | None, typer.Option(
        "-o", "--output-file", metavar="FILE",
        help="Write the report to this file (inside DIR with -d); its directory must exist.")] = None,
    pattern: Annotated[str | None, typer.Option(
        "-p", "--pattern", metavar="PATTERN",
        help="File pattern of the per-session summary CSVs (default *.csv with -d; "
        "without -d, sessions are found by session.json/.hdr).")] = None,
    fmt: Annotated[str | None, typer.Option(
        "-f", "--format", metavar="FORMAT",
        help="table, csv, md, json or html (default: from the -o suffix, else table; "
        "csv with -d).")] = None,
    averaged: Annotated[bool, typer.Option(
        "--averaged", help="Also print the sample's column-wise averaged table, for comparison.")] = False,
    slo: o.Slo = None,
) -> None:
    from tsload.cli._console import err_console, info, warn
    from tsload.report.merge import build_report
    from tsload.report.render import (
        FORMATS,
        averaged_renderable,
        to_csv,
        to_json,
        to_markdown,
        to_text,
    )
    from tsload.report.rundirs import find_run_dirs
    from tsload.report.sample_csv import averaged_csv, averaged_table

    roots = list(dirs or [])
    if directory is not None:
        if not directory.is_dir():
            raise ConfigError("-d/--directory", "an existing directory", got=directory)
        roots.insert(0, directory)
    if not roots:
        raise ConfigError("DIR", "one or more run directories (or -d DIR)", got="none")
    for r in roots:
        if not r.is_dir():
            raise ConfigError("DIR", "an existing directory", got=r)
    if fmt is not None and fmt not in FORMATS:
        raise ConfigError("-f/--format", f"one of {', '.join(FORMATS)}", got=fmt)

    out_path: Path | None = None
    if output_file is not None:
        out_path = directory / output_file if directory is not None else Path(output_file)
        if out_path.is_dir():
            raise ConfigError("-o/--output-file", "a file name, not a directory", got=out_path)
        if not out_path.parent.is_dir():
            # made no directories: a typo in the path would otherwise scatter reports around
            raise ConfigError("-o/--output-file", "a file in an existing directory", got=out_path)
    if fmt is None:
        if out_path is not None:
            fmt = _SUFFIX_FORMATS.get(out_path.suffix.lower(), "csv" if directory is not None else "table")
        else:
            fmt = "table"
    if pattern is None and directory is not None:
        pattern = "*.csv"
    from tsload.report.slo import check_subjects, evaluate, parse_slos

    slos = parse_slos(slo or ())  # a malformed threshold fails before any directory is read

    found = find_run_dirs(roots, pattern=pattern, exclude=[out_path] if out_path is not None else [])
    if not found.sessions and not found.ingests:
        where = ", ".join(str(r) for r in roots)
        what = f"summary CSVs matching {pattern!r}" if pattern else "query session or ingest run directories"
        raise ConfigError("DIR", f"directories holding {what}", got=where)
    report = build_report(found, [str(r) for r in roots])
    if slos:
        check_subjects(slos, report)
        # on the exactly merged histograms of every session, process, shard and machine found
        report = dataclasses.replace(report, slo=evaluate(slos, report))
    for w in report.warnings:
        warn(w)

    avg = None
    if averaged:
        files = [s.summary for s in found.sessions if s.summary is not None]
        if files:
            avg = averaged_table(files)
        else:
            warn("--averaged: no per-session summary CSVs found; nothing to average")

    if fmt == "html":
        from tsload.report.html import render_html

        text = render_html(report, found)
    elif fmt == "csv":
        text = to_csv(report)
    elif fmt == "md":
        text = to_markdown(report, avg)
    elif fmt == "json":
        text = to_json(report)
    else:
        text = to_text(report, avg)

    if out_path is not None:
        try:
            out_path.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                "-o/--output-file", f"a writable file ({exc.strerror or exc})", got=out_path
            ) from exc
        _print_table(report, avg)
        if avg is not None and fmt == "csv":
            avg_path = out_path.with_name(out_path.stem + "-averaged" + out_path.suffix)
            avg_path.write_text(averaged_csv(avg), encoding="utf-8")
            info(f"averaged table (the sample's arithmetic) written to {avg_path}")
        info(f"merged {report.sessions} query session(s) and "
             f"{report.ingest.runs if report.ingest else 0} ingest run(s); report written to {out_path}")
    elif fmt == "table":
        _print_table(report, avg)
    else:
        sys.stdout.write(text)
        if avg is not None and fmt in ("csv", "json", "html"):
            err_console.print(averaged_renderable(avg))  # stdout carries the data; the comparison goes aside
    if slos:
        from tsload.cli._slo import finish

        code = finish(report.slo, block_to_stderr=out_path is None and fmt != "table")
        if code:
            raise typer.Exit(code)
