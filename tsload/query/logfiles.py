"""One session's run directory (spec §5 layout; the sample's file formats in `samplefmt` and
docs/query.md, "What a session writes").

``<log-dir>/<run-prefix>-<YYYY-mm-dd-HH-MM-SS>-<process>-<session>/`` holds (with ``--shard K/N``
the run prefix ends in ``-shardKofN``, so N shards can share one log directory)

- ``<query>.sql``, ``<query>.log``, ``<query>.err`` (both created for every query of the mix at
  session start), ``numDatapoints-<stage>.log``/``.err``/``-result.txt`` and
  ``<dir name>-summary.csv``: the sample's files, line for line (see `tsload.query.samplefmt`);
- ``<query>.hdr``: the latencies of the successful executions (µs, HDR base64 V2, one line);
- ``<query>.hlog``: the same latencies as interval histograms (HdrHistogram log format);
- ``session.json``: tag, indexes, start/end, per-query counts, parameters and configuration.

What the sample gets wrong stays fixed: the run prefix is made safe for a directory name (the
sample's default, the endpoint URL, breaks its summary path) and the directory is created with
``exist_ok`` (the sample's check-then-create races between processes).
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

from tsload.query import samplefmt

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_prefix(text: str) -> str:
    """A run prefix usable as (part of) a directory name: no separators, no URL punctuation."""
    cleaned = _UNSAFE.sub("_", text).strip("._") or "run"
    return cleaned[:100]


def run_prefix(text: str, shard: tuple[int, int] | None) -> str:
    """The directory-name prefix: the sanitised run prefix, then ``-shardKofN`` for a shard.

    The shard is appended to an explicit --run-prefix too: N machines started with the same
    command line and clock second would otherwise write into the same session directories.
    """
    prefix = safe_prefix(text)
    return prefix if shard is None else f"{prefix}-shard{shard[0]}of{shard[1]}"


def dir_name(prefix: str, started: dt.datetime, process: int, session: int) -> str:
    return f"{prefix}-{started.strftime('%Y-%m-%d-%H-%M-%S')}-{process}-{session}"


def utc_iso(t: dt.datetime | None = None) -> str:
    """session.json's times: ISO 8601 UTC to the millisecond."""
    t = t or dt.datetime.now(dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class SessionFiles:
    """Open files of one session.

    Session directories hold host names, query texts and timings: user-only (0700, files 0600),
    whatever the umask. ``tag`` is the session's ``<process>-<session>``; lines carry it as the
    sample's log prefix ``[<process>-<session>]``.
    """

    def __init__(self, directory: Path, tag: str, clock: Callable[[], dt.datetime] | None = None) -> None:
        self.directory = directory
        self.tag = tag
        self.prefix = f"[{tag}]"
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        self._logs: dict[str, IO[str]] = {}
        self._errs: dict[str, IO[str]] = {}

    def open_queries(self, names: Sequence[str]) -> None:
        """Create ``<query>.log`` and ``<query>.err`` for every query of the mix, as the sample does
        at session start (an empty ``.err`` says that query never failed)."""
        for name in names:
            self._log(name)
            self._err(name)

    def write_sql(self, name: str, sql: str) -> None:
        self.write_text(f"{name}.sql", sql)

    def _open(self, file_name: str) -> IO[str]:
        # kept open for the whole session (closed in close()), hence no context manager
        return open(self.directory / file_name, "w", encoding="utf-8", opener=_private)

    def _log(self, name: str) -> IO[str]:
        f = self._logs.get(name)
        if f is None:
            f = self._logs[name] = self._open(f"{name}.log")
        return f

    def _err(self, name: str) -> IO[str]:
        f = self._errs.get(name)
        if f is None:
            f = self._errs[name] = self._open(f"{name}.err")
        return f

    def success(self, name: str, execution: int, query_id: str | None, elapsed_s: float, rows: int) -> None:
        line = samplefmt.log_line(self.prefix, execution, self._now(), query_id, elapsed_s, rows)
        self._log(name).write(line)

    def failure(
        self,
        name: str,
        execution: int,
        *,
        query_id: str | None,
        request_id: str | None,
        elapsed_s: float,
        error: str,
        code: str | None = None,
        retries: int = 0,
        timed_out: bool = False,
        cancelled: bool = False,
    ) -> None:
        """A failed execution: its ``.err`` block, then its ``.log`` line (``Rows: None``), in
        the sample's order."""
        now = self._now()
        self._err(name).write(samplefmt.err_block(
            now, error=error, code=code, query_id=query_id, request_id=request_id, elapsed_s=elapsed_s,
            retries=retries, timed_out=timed_out, cancelled=cancelled,
        ))
        self._log(name).write(samplefmt.log_line(self.prefix, execution, now, query_id, elapsed_s, None))

    def flush(self) -> None:
        for f in (*self._logs.values(), *self._errs.values()):
            f.flush()

    def close(self) -> None:
        for f in (*self._logs.values(), *self._errs.values()):
            f.close()
        self._logs.clear()
        self._errs.clear()

    def write_text(self, file_name: str, text: str) -> None:
        self.write_bytes(file_name, text.encode("utf-8"))

    def write_bytes(self, file_name: str, data: bytes) -> None:
        with open(self.directory / file_name, "wb", opener=_private) as f:
            f.write(data)

    def write_json(self, file_name: str, data: Mapping[str, Any]) -> None:
        self.write_bytes(file_name, orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n")

    def restrict(self) -> None:
        """Files written by others' writers (the .hlog interval logs) become user-only too."""
        for p in self.directory.iterdir():
            if p.is_file():
                os.chmod(p, 0o600)
