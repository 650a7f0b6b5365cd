"""The engine's write-ahead log: acknowledged rows survive a SIGKILL.

WriteRecords is acknowledged from memory (rows reach DuckDB in batches), so before the
acknowledgement the accepted rows are appended to `<data>/wal-<n>.log` with one write(2) per
request: the bytes are then in the kernel's page cache, which outlives the process (there is no
fsync per request: a power cut can still lose the last writes, a killed engine cannot). Each
DuckDB flush records, in the same transaction as its rows, the log position it covers
(`_tsload.wal_state`); at start the entries after that position are replayed through the normal
write path, whose duplicate checks make a replay idempotent. Files wholly before the committed
position are deleted; a file is rotated when it passes `ROTATE_BYTES`. The entry format (one
JSON line per request: its rows, a `Segment`'s columns, or the request body itself when all of
it was accepted as one segment) is written and read back here too.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import orjson

from tsload.engine.doubles import value_list
from tsload.engine.records import Dims, Row, dimension_bytes, parse_write_request

log = logging.getLogger(__name__)

ROTATE_BYTES = 64 * 1024 * 1024
# An entry of a `Segment`: db, table, now, dims and the segment's 5 columns (10: one written
# before segments stopped carrying record sizes, which a replay now recomputes).
SEGMENT_ENTRY_LENS = (9, 10)


def segment_entry(database: str, table: str, now_ns: int, seg: Any) -> bytes:
    """The log line of a `Segment` (one series, its columns as they are)."""
    dims, names, times, kind, values, versions = seg
    entry = [database, table, now_ns, dims, names, times, kind, value_list(values), versions]
    return orjson.dumps(entry) + b"\n"


def request_entry(database: str, table: str, now_ns: int, body: bytes) -> bytes | None:
    """The log line of a request accepted whole: its body as received, inside the entry's JSON
    array (no encoding: that cost a twentieth of the event loop's time per request). None when
    the body cannot sit on one line (a newline in it, or not an object as its first byte)."""
    if body[:1] != b"{" or b"\n" in body:
        return None
    return orjson.dumps([database, table, now_ns])[:-1] + b"," + body + b"]\n"


def rows_entry(database: str, table: str, now_ns: int, rows: list[Row]) -> bytes:
    """The log line of accepted rows."""
    # Rows of one request usually share one dimensions tuple (CommonAttributes): log it once.
    d0 = rows[0][0]
    if all(r[0] is d0 for r in rows):
        entry = [database, table, now_ns, d0, [r[2:] for r in rows]]
    else:
        entry = [database, table, now_ns, None, [(r[0], *r[2:]) for r in rows]]
    return orjson.dumps(entry) + b"\n"


def single_record_bytes(dims: Dims, names: list[str], kind: str, values: list[Any]) -> list[int]:
    """The sizes `records._parse_rows` gives single-measure records of one series."""
    fixed = dimension_bytes(dims) + 16
    if kind == "VARCHAR":
        return [fixed + len(mn) + len(v) for mn, v in zip(names, values, strict=True)]
    return [fixed + len(mn) for mn in names]


def entry_rows(entry: list[Any]) -> tuple[str, str, int, list[Row]]:
    """(database, table, acceptance time, rows) of a decoded log line."""
    db, table, now_ns, common = entry[:4]
    if len(entry) == 4 and isinstance(common, dict):  # a request body (`request_entry`)
        return db, table, now_ns, parse_write_request(common).rows
    shared: Dims | None = None if common is None else tuple((str(k), str(v)) for k, v in common)
    if len(entry) in SEGMENT_ENTRY_LENS:
        assert shared is not None
        names, times, kind, values, versions = entry[4:9]
        nbytes = entry[9] if len(entry) == 10 else single_record_bytes(shared, names, kind, values)
        dh = hash(frozenset(shared))
        zipped = zip(names, times, values, versions, nbytes, strict=True)
        return db, table, now_ns, [(shared, dh, mn, t, kind, v, ver, nb) for mn, t, v, ver, nb in zipped]
    rows: list[Row] = []
    for raw in entry[4]:
        if shared is None:
            dims: Dims = tuple((str(k), str(v)) for k, v in raw[0])
            raw = raw[1:]
        else:
            dims = shared
        mn, t, kind, value, ver, nbytes = raw
        if kind == "MULTI":
            value = tuple((str(n), str(typ), v) for n, typ, v in value)
        rows.append((dims, hash(frozenset(dims)), mn, t, kind, value, ver, nbytes))
    return db, table, now_ns, rows


def _name(directory: Path, number: int) -> Path:
    return directory / f"wal-{number:08d}.log"


class WriteAheadLog:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.file_no = 0
        self.offset = 0
        self._fd: int | None = None

    def files(self) -> list[int]:
        out = []
        for p in self.directory.glob("wal-*.log"):
            try:
                out.append(int(p.stem.removeprefix("wal-")))
            except ValueError:
                continue
        return sorted(out)

    def read_after(self, file_no: int, offset: int) -> list[Any]:
        """Entries after the committed position (a torn last line from a kill is ignored)."""
        entries: list[Any] = []
        for n in self.files():
            if n < file_no:
                continue
            data = _name(self.directory, n).read_bytes()
            start = offset if n == file_no else 0
            for line in data[start:].split(b"\n"):
                if not line:
                    continue
                try:
                    entries.append(orjson.loads(line))
                except orjson.JSONDecodeError:
                    log.warning("ignoring a torn write-ahead log entry in %s", _name(self.directory, n).name)
        return entries

    def open(self, committed_file: int) -> None:
        """Start appending to a fresh file after the existing ones and the committed one."""
        files = self.files()
        self.file_no = max((files[-1] + 1) if files else 0, committed_file + 1)
        self._open_current()

    def _open_current(self) -> None:
        path = _name(self.directory, self.file_no)
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self.offset = os.fstat(self._fd).st_size

    def append(self, entry: bytes) -> None:
        assert self._fd is not None
        view = memoryview(entry)
        while view:
            n = os.write(self._fd, view)
            view = view[n:]
        self.offset += len(entry)

    def position(self) -> tuple[int, int]:
        return self.file_no, self.offset

    def rotate_if_large(self) -> None:
        if self.offset >= ROTATE_BYTES and self._fd is not None:
            os.close(self._fd)
            self.file_no += 1
            self._open_current()

    def discard_before(self, file_no: int) -> None:
        for n in self.files():
            if n < file_no:
                _name(self.directory, n).unlink(missing_ok=True)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
