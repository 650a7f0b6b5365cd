"""The write-ahead log file mechanics (the end-to-end SIGKILL test is in test_process.py)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tsload.engine import wal as wal_mod
from tsload.engine.wal import WriteAheadLog


def test_append_read_rotate_discard(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    log = WriteAheadLog(tmp_path)
    log.open(committed_file=0)
    first = log.file_no
    log.append(orjson.dumps(["a", 1]) + b"\n")
    pos = log.position()
    log.append(orjson.dumps(["b", 2]) + b"\n")
    assert log.read_after(*pos) == [["b", 2]]
    assert log.read_after(first, 0) == [["a", 1], ["b", 2]]
    monkeypatch.setattr(wal_mod, "ROTATE_BYTES", 1)  # force a rotation
    log.rotate_if_large()
    assert log.file_no == first + 1 and log.position() == (first + 1, 0)
    log.append(b'["c", 3]\n["torn"')  # a kill in the middle of a write
    assert log.read_after(first, 0) == [["a", 1], ["b", 2], ["c", 3]]
    log.discard_before(first + 1)
    assert log.files() == [first + 1]
    log.close()
    again = WriteAheadLog(tmp_path)
    again.open(committed_file=7)  # never reuses a number at or below the committed file
    assert again.file_no == 8
    again.close()
