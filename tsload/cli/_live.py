"""What the long-running commands (ingest, query, run) share: Ctrl-C handling and the live view.

The library installs no signal handlers; the CLI does, here: the first SIGINT/SIGTERM sets the
`stop` event the library drains on, the second cancels the run at once (exit 130).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from tsload.cli._slo import SloGate

T = TypeVar("T")


def run_until_signalled(
    body: Callable[[asyncio.Event], Awaitable[T]], *, on_first_signal: Callable[[], None]
) -> T:
    """Run `body(stop)` on a uvloop loop; raises asyncio.CancelledError after a second signal."""
    import uvloop

    async def main() -> T:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        task = asyncio.current_task()
        assert task is not None
        signals = {"count": 0}

        def on_signal() -> None:
            signals["count"] += 1
            if signals["count"] == 1:
                on_first_signal()
                stop.set()
            else:
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, on_signal)
        try:
            return await body(stop)
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)

    return uvloop.run(main())


def run_command(
    body: Callable[[asyncio.Event], Awaitable[T]], *, on_first_signal: Callable[[], None]
) -> T | None:
    """`run_until_signalled` for a command: None (after saying so) when a second signal quit it."""
    from tsload.cli._console import info

    try:
        return run_until_signalled(body, on_first_signal=on_first_signal)
    except asyncio.CancelledError:
        info("tsload: interrupted")
        return None


def run_watched(
    view: LiveView,
    gate: SloGate,
    work: Callable[[asyncio.Event], Awaitable[T]],
    *,
    stopping: str,
) -> T | None:
    """`run_command` for ingest, query and run: `work(stop)` runs with the live `view` open and the
    SLO `gate` watching (--abort-on-fail sets `stop`); the first signal notes `stopping`."""

    async def body(stop: asyncio.Event) -> T:
        gate.watch(stop)
        with view:
            return await work(stop)

    return run_command(body, on_first_signal=lambda: view.note(stopping))


class LiveView:
    """A rich Live area on a terminal (`show` replaces it); messages print above it either way."""

    def __init__(self, console: Any, *, live: bool) -> None:
        from rich.live import Live

        self._console = console
        self._live: Any = Live(console=console, auto_refresh=False, transient=False) if live else None

    @property
    def is_live(self) -> bool:
        return self._live is not None

    def __enter__(self) -> LiveView:
        if self._live is not None:
            self._live.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._live is not None:
            self._live.__exit__(exc_type, exc, tb)

    def note(self, text: str) -> None:
        self._console.print(text, markup=False, highlight=False, soft_wrap=True)

    def show(self, renderable: Any) -> None:
        if self._live is not None:
            self._live.update(renderable, refresh=True)
