"""One session's run directory (spec §5 layout; formats in docs/query.md, "What a session writes").

``<log-dir>/<run-prefix>-<YYYY-mm-dd-HH-MM-SS>-<process>-<session>/`` holds (with ``--shard K/N``
the run prefix ends in ``-shardKofN``, so N shards can share one log directory)

- ``<query>.sql``: the query text as executed;
- ``<query>.log``: one line per successful execution,
  ``<session tag>, <execution number>, <UTC ISO time>, <QueryId>, <seconds, 6 decimals>, <rows>``;
- ``<query>.err``: only when an execution failed or timed out (header line as in ``.log`` with
  the QueryId, RequestId and outcome, then the error);
- ``numDatapoints-begin.log`` / ``numDatapoints-end.log`` (same line format) and their
  ``-result.txt`` (the result table), or ``numDatapoints-<stage>.err``;
- ``<dir name>-summary.csv``: the sample's per-session summary, byte for byte;
- ``<query>.hdr``: the latencies of the successful executions (µs, HDR base64 V2, one line);
- ``<query>.hlog``: the same latencies as interval histograms (HdrHistogram log format);
- ``session.json``: tag, indexes, start/end, per-query counts, parameters and configuration.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import orjson

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
    t = t or dt.datetime.now(dt.UTC)
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def log_line(tag: str, execution: int, when: str, query_id: str | None, elapsed_s: float, rows: int) -> str:
    return f"{tag}, {execution}, {when}, {query_id or 'None'}, {elapsed_s:.6f}, {rows}\n"


def result_table(columns: Sequence[str], rows: Sequence[Sequence[str | None]]) -> str:
    """A small result as the sample printed it (a pandas-style table: index column, right-aligned)."""
    names = list(columns)
    values = [["NaN" if cell is None else cell for cell in row] for row in rows]
    index = [str(i) for i in range(len(values))]
    iw = max((len(i) for i in index), default=0)
    widths = [max([len(n)] + [len(r[j]) for r in values if j < len(r)]) for j, n in enumerate(names)]
    lines = [" " * iw + "".join("  " + n.rjust(w) for n, w in zip(names, widths, strict=True))]
    for i, r in zip(index, values, strict=True):
        lines.append(i.ljust(iw) + "".join("  " + c.rjust(w) for c, w in zip(r, widths, strict=False)))
    return "\n".join(lines)


def _private(path: str, flags: int) -> int:
    return os.open(path, flags, 0o600)


class SessionFiles:
    """Open files of one session; `.err` files are created on the first error only.

    Session directories hold host names, query texts and timings: user-only (0700, files 0600),
    whatever the umask.
    """

    def __init__(self, directory: Path, tag: str) -> None:
        self.directory = directory
        self.tag = tag
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        self._logs: dict[str, IO[str]] = {}
        self._errs: dict[str, IO[str]] = {}

    def write_sql(self, name: str, sql: str) -> None:
        self.write_text(f"{name}.sql", sql)

    def _append(self, file_name: str) -> IO[str]:
        # kept open for the whole session (closed in close()), hence no context manager
        return open(self.directory / file_name, "a", encoding="utf-8", opener=_private)

    def _log(self, name: str) -> IO[str]:
        f = self._logs.get(name)
        if f is None:
            f = self._logs[name] = self._append(f"{name}.log")
        return f

    def _err(self, name: str) -> IO[str]:
        f = self._errs.get(name)
        if f is None:
            f = self._errs[name] = self._append(f"{name}.err")
        return f

    def success(self, name: str, execution: int, query_id: str | None, elapsed_s: float, rows: int) -> None:
        self._log(name).write(log_line(self.tag, execution, utc_iso(), query_id, elapsed_s, rows))

    def failure(
        self,
        name: str,
        execution: int,
        *,
        query_id: str | None,
        request_id: str | None,
        elapsed_s: float,
        what: str,
        error: str,
        retries: int,
        cancelled: bool,
    ) -> None:
        f = self._err(name)
        f.write(
            f"{self.tag}, {execution}, {utc_iso()}, QueryId: {query_id or 'None'}, "
            f"RequestId: {request_id or 'None'}, {what} after {elapsed_s:.6f} s, retries {retries}"
            f"{', cancelled' if cancelled else ''}\n"
        )
        f.write(" ".join(error.split()) + "\n\n")

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
