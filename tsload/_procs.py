"""`-p N`: the one process fan-out of ingest and query: plan -> child processes -> results.

Each child is spawned (not forked: no inherited event loops, sockets or locks) and runs one
uvloop event loop with ``await entry(plan, stop, emit)``. The parent talks to each child over a
duplex `multiprocessing` pipe watched by its own event loop:

- a child sends ``("msg", payload)`` for every ``emit(payload)`` (interval statistics), then
  ``("done", value)`` with what ``entry`` returned, or ``("fatal", text)`` if it failed;
- the parent sends ``"stop"`` when its ``stop`` event is set: the children drain and finish.

Children ignore SIGINT: the parent owns Ctrl-C and forwards the stop. A child that fails, or dies
without its result, stops the others and makes `Children.run` raise `TargetError` with the first
failure's text; children still alive after a grace period are killed.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from collections.abc import Awaitable, Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

from tsload._errors import TargetError, first_error

P = TypeVar("P")
R = TypeVar("R")

Emit = Callable[[Any], None]
#: what a child runs: ``entry(plan, stop, emit) -> result`` (module-level, so it pickles)
Entry = Callable[[P, asyncio.Event, Emit], Awaitable[R]]

_REAP_S = 10.0  # children get this long to exit after their result before they are killed


async def _child_async(entry: Entry[P, R], plan: P, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_parent() -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            msg = "stop"  # the parent is gone: drain and leave
            loop.remove_reader(conn.fileno())
        if msg == "stop":
            stop.set()

    loop.add_reader(conn.fileno(), on_parent)
    try:
        result = await entry(plan, stop, lambda payload: conn.send(("msg", payload)))
        conn.send(("done", result))
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())


def child_main(entry: Entry[P, R], plan: P, conn: Connection) -> None:
    """Entry point of a spawned process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import uvloop

    try:
        uvloop.run(_child_async(entry, plan, conn))
    except BaseException as exc:  # report anything (including ExceptionGroups) to the parent, then exit 1
        error = first_error(exc) if isinstance(exc, BaseExceptionGroup) else exc
        with contextlib.suppress(Exception):
            conn.send(("fatal", str(error)))
        raise SystemExit(1) from None
    finally:
        conn.close()


class Children(Generic[P, R]):
    """The spawned processes of one run (one per plan) and their pipes.

    ``name`` ("ingest", "query") names the processes and the messages about them.
    """

    def __init__(self, name: str, entry: Entry[P, R], plans: list[P]) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self.name = name
        self.entry = entry
        self.plans = plans
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        self.results: dict[int, R] = {}
        self.fatal: str | None = None

    def start(self) -> None:
        for i, plan in enumerate(self.plans):
            parent_end, child_end = self._ctx.Pipe(duplex=True)
            proc = self._ctx.Process(
                target=child_main, args=(self.entry, plan, child_end), name=f"tsload-{self.name}-{i + 1}"
            )
            proc.daemon = True
            proc.start()
            child_end.close()
            self.procs.append(proc)
            self.conns.append(parent_end)

    async def run(self, on_message: Callable[[Any], None], stop: asyncio.Event) -> list[R]:
        """Start the children, forward their messages and `stop`, return their results in plan order."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        finished: set[int] = set()

        def finish(i: int) -> None:
            finished.add(i)
            loop.remove_reader(self.conns[i].fileno())
            if len(finished) == len(self.conns) and not done.done():
                done.set_result(None)

        def reader(i: int, conn: Connection) -> None:
            try:
                tag, payload = conn.recv()
            except (EOFError, OSError):
                self.fatal = self.fatal or f"{self.name} process {i + 1} exited without its results"
                self._stop(finished)
                finish(i)
                return
            if tag == "msg":
                on_message(payload)
            elif tag == "done":
                self.results[i] = payload
                finish(i)
            else:
                self.fatal = self.fatal or str(payload)
                self._stop(finished)
                finish(i)

        async def forward_stop() -> None:
            await stop.wait()
            self._stop(finished)

        self.start()
        forwarder = asyncio.create_task(forward_stop())
        try:
            for i, conn in enumerate(self.conns):
                loop.add_reader(conn.fileno(), reader, i, conn)
            await done
        finally:
            forwarder.cancel()
            for conn in self.conns:
                with contextlib.suppress(Exception):
                    loop.remove_reader(conn.fileno())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(_REAP_S):
                    for proc in self.procs:
                        while proc.is_alive():  # noqa: ASYNC110 - spawn's processes are not awaitable
                            await asyncio.sleep(0.05)
            self.kill()
            for conn in self.conns:
                conn.close()
        if self.fatal:
            raise TargetError(self.fatal)
        return [self.results[i] for i in sorted(self.results)]

    def _stop(self, finished: set[int]) -> None:
        for i, conn in enumerate(self.conns):
            if i not in finished:
                with contextlib.suppress(Exception):
                    conn.send("stop")

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
            proc.join(1)
