"""Helpers shared by the reliability suites: tsload as a subprocess, the engine as a subprocess."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_LISTENING = re.compile(r"tsload engine listening on (http://127\.0\.0\.1:(\d+))")


@dataclass(frozen=True)
class Result:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    @property
    def stderr_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.strip()]


def tsload(
    *args: str, timeout: float = 60.0, env: dict[str, str] | None = None, cwd: Path | None = None
) -> Result:
    """Run `python -m tsload ARGS` to completion (killed after `timeout`)."""
    argv = (sys.executable, "-m", "tsload", *args)
    proc = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
        env={**os.environ, **(env or {}), "PYTHONUNBUFFERED": "1"},
        cwd=cwd,
    )
    return Result(tuple(args), proc.returncode, proc.stdout, proc.stderr)


class EngineProcess:
    """`tsload serve` in its own process group; can be SIGKILLed and restarted on the same port/data."""

    def __init__(self, data: Path, *extra: str, port: int = 0, log: Path | None = None) -> None:
        self.data = data
        self.extra = extra
        self.port = port
        self.url = ""
        self.log = log
        self.proc: subprocess.Popen[str] | None = None

    def start(self, timeout: float = 60.0) -> str:
        log_file = open(self.log, "a") if self.log is not None else None  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tsload", "serve", "--data", str(self.data), "--port", str(self.port),
             *self.extra],
            stdout=subprocess.PIPE,
            stderr=log_file if log_file is not None else subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        if log_file is not None:
            log_file.close()
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError(f"tsload serve exited with {self.proc.wait()} before listening")
            m = _LISTENING.search(line)
            if m:
                self.url, self.port = m.group(1), int(m.group(2))
                return self.url
        raise RuntimeError("tsload serve did not report its URL in time")

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/tsload/stats", timeout=10) as resp:
            doc: dict[str, Any] = json.loads(resp.read())
            return doc

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no flush, no checkpoint."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)

    def stop(self, timeout: float = 60.0) -> int | None:
        """SIGTERM and wait (a clean shutdown flushes everything acknowledged)."""
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def __enter__(self) -> EngineProcess:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
