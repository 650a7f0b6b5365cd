"""The `tsload` command line: a thin shell over the library.

Each command lives in its own module (`tsload/cli/<command>.py`) exposing `HELP` and `command`;
this module only registers them and owns the error boundary: a `TsloadError` or a usage
error becomes one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import sys
from types import ModuleType

import typer

from tsload import __version__
from tsload._errors import ConfigError, TsloadError
from tsload.cli import cleanup, compare, ingest, model, query, report, run, serve

APP_HELP = """tsload: the Amazon Timestream DevOps workload, as a fast asyncio load generator.

Examples:

\b
  tsload run                                   # whole experiment on the embedded local engine
  tsload model --host-scale 100 --interval-millis 60000
  tsload serve --data ./tsload-data --port 0   # local Timestream-compatible engine
  tsload ingest --host-scale 10 --duration 60  # ingest into the local engine
  tsload ingest -r us-east-1 -d perf -t devops # ingest into Amazon Timestream
  tsload query --think-time-milliseconds 1000 -c 8
  tsload report ./tsload-runs/latest --format md
"""

app = typer.Typer(
    help=APP_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

_COMMANDS: dict[str, ModuleType] = {
    "model": model,
    "serve": serve,
    "ingest": ingest,
    "query": query,
    "report": report,
    "compare": compare,
    "run": run,
    "cleanup": cleanup,
}

for _name, _module in _COMMANDS.items():
    app.command(
        name=_name,
        help=_module.HELP,
    )(_module.command)


@app.callback(invoke_without_command=True)
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        print(f"tsload {__version__}")
        raise typer.Exit(0)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point; `argv` defaults to `sys.argv[1:]`."""
    from tsload.cli._usage import config_error_line, usage_error_line

    args = (sys.argv[1:] if argv is None else argv) or ["--help"]
    command = typer.main.get_command(app)
    try:
        rv = command.main(args=args, prog_name="tsload", standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        print("tsload: interrupted", file=sys.stderr)
        sys.exit(130)
    except ConfigError as exc:
        print(config_error_line(exc, args), file=sys.stderr)
        sys.exit(2)
    except TsloadError as exc:
        print(f"tsload: error: {' '.join(str(exc).split())}", file=sys.stderr)
        sys.exit(exc.exit_code)
    except typer.TyperException as exc:  # typer's usage errors: a bad flag value, an unknown option
        print(usage_error_line(exc, args, list(_COMMANDS)), file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("tsload: interrupted", file=sys.stderr)
        sys.exit(130)
    sys.exit(rv if isinstance(rv, int) else 0)
