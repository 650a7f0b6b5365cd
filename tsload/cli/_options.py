"""Options every command that talks to a database shares: the same names, defaults and help."""

from __future__ import annotations

import typer

DATABASE = typer.Option("devops", "-d", "--database-name", help="Timestream database.")
TABLE = typer.Option("host_metrics", "-t", "--table-name", help="Timestream table.")
REGION = typer.Option(None, "-r", "--region", help="AWS region (alone: AWS with discovery).")
ENDPOINT = typer.Option(None, "-e", "--endpoint", help="Endpoint URL (signed for -r or us-east-1).")
PROFILE = typer.Option(None, "--profile", help="AWS profile for credentials.")
LOCAL_DATA = typer.Option("./tsload-data", "--local-data", help="Local engine data directory.")
