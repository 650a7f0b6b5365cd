"""Start the embedded local engine (`tsload serve`) in a child process.

Commands given neither a region nor an endpoint use this: the engine runs in its own process
(DuckDB allows one writer per database file, and the load generator must not share its CPU
with the engine's event loop), on a free loopback port, and is stopped on exit.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import sys
from pathlib import Path
from types import TracebackType

from tsload._errors import ConfigError, TargetError

_LISTENING = re.compile(rb"tsload engine listening on (http://127\.0\.0\.1:\d+)")


class LocalEngine:
    """`async with LocalEngine(Path("./tsload-data")) as engine: engine.endpoint_url`."""

    def __init__(
        self,
        data_dir: Path,
        *,
        extra_args: tuple[str, ...] = (),
        start_timeout: float = 60.0,
        stop_timeout: float = 30.0,
    ) -> None:
        self.data_dir = data_dir
        self.extra_args = extra_args
        self.start_timeout = start_timeout
        self.stop_timeout = stop_timeout
        self.endpoint_url = ""
        self._proc: asyncio.subprocess.Process | None = None

    async def __aenter__(self) -> LocalEngine:
        if self.data_dir.exists() and not self.data_dir.is_dir():
            raise ConfigError("target.local_data", "a directory", got=self.data_dir)
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tsload",
            "serve",
            "--data",
            str(self.data_dir),
            "--port",
            "0",
            *self.extra_args,
            stdout=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            # The engine must not see the user's Ctrl-C directly: we stop it after draining.
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        try:
            async with asyncio.timeout(self.start_timeout):
                assert self._proc.stdout is not None
                while True:
                    line = await self._proc.stdout.readline()
                    if not line:
                        code = await self._proc.wait()
                        raise TargetError(f"the local engine exited with status {code} before listening")
                    m = _LISTENING.search(line)
                    if m:
                        self.endpoint_url = m.group(1).decode()
                        break
        except BaseException:
            await self._stop()
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stop()

    async def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(self.stop_timeout):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
