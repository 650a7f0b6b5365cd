"""`-p N`: spawned worker processes (each with its own uvloop loop) and their pipes.

Children send interval snapshots and, at the end, their sessions' results; the parent sends
"stop". Children ignore SIGINT: the parent owns Ctrl-C and forwards the stop.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import multiprocessing
import signal
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any

from tsload._errors import TargetError, TsloadError
from tsload.query.session import SessionResult
from tsload.query.worker import ProcessPlan, make_transport, run_process, session_for_wire


async def _child_async(plan: ProcessPlan, conn: Connection) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()

    def on_parent() -> None:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            msg = "stop"  # the parent is gone
            loop.remove_reader(conn.fileno())
        if msg == "stop":
            stop.set()

    loop.add_reader(conn.fileno(), on_parent)
    try:
        session = session_for_wire(plan.wire)
        transport = await make_transport(
            session, plan.wire.region, plan.wire.endpoint, plan.cfg.transport, plan.cfg.concurrency
        )
        try:
            results = await run_process(plan, transport, stop, conn.send)
        finally:
            await transport.aclose()
        conn.send({"process": plan.process, "final": [dataclasses.asdict(r) for r in results]})
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())


def child_main(plan: ProcessPlan, conn: Connection) -> None:
    """Entry point of a spawned query process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import uvloop

    try:
        uvloop.run(_child_async(plan, conn))
    except BaseException as exc:
        error: BaseException = exc
        if isinstance(exc, BaseExceptionGroup):
            leaves = list(_leaves(exc))
            error = next((e for e in leaves if isinstance(e, TsloadError)), leaves[0] if leaves else exc)
        with contextlib.suppress(Exception):
            conn.send({"process": plan.process, "fatal": str(error), "type": type(error).__name__})
        raise SystemExit(1) from None
    finally:
        conn.close()


def _leaves(group: BaseExceptionGroup[Any]) -> Any:
    for e in group.exceptions:
        if isinstance(e, BaseExceptionGroup):
            yield from _leaves(e)
        else:
            yield e


class Children:
    def __init__(self, plans: list[ProcessPlan]) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self.plans = plans
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        self.finished: set[int] = set()
        self.fatal: str | None = None
        self.results: list[SessionResult] = []

    def start(self) -> None:
        for plan in self.plans:
            parent_end, child_end = self._ctx.Pipe(duplex=True)
            proc = self._ctx.Process(
                target=child_main, args=(plan, child_end), name=f"tsload-query-{plan.process}"
            )
            proc.daemon = True
            proc.start()
            child_end.close()
            self.procs.append(proc)
            self.conns.append(parent_end)

    async def run(self, on_message: Callable[[dict[str, Any]], None]) -> list[SessionResult]:
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()

        def finish(i: int) -> None:
            self.finished.add(i)
            if len(self.finished) == len(self.conns) and not done.done():
                done.set_result(None)

        def reader(i: int, conn: Connection) -> None:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                loop.remove_reader(conn.fileno())
                if i not in self.finished:
                    self.fatal = self.fatal or f"query process {i + 1} exited without its results"
                    finish(i)
                return
            if "fatal" in msg:
                self.fatal = self.fatal or str(msg["fatal"])
                self.stop()
                finish(i)
                return
            if "final" in msg:
                self.results.extend(SessionResult(**r) for r in msg["final"])
                finish(i)
                return
            on_message(msg)

        for i, conn in enumerate(self.conns):
            loop.add_reader(conn.fileno(), reader, i, conn)
        try:
            await done
        finally:
            for conn in self.conns:
                with contextlib.suppress(Exception):
                    loop.remove_reader(conn.fileno())
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(10.0):
                    for proc in self.procs:
                        while proc.is_alive():  # noqa: ASYNC110 - spawn's processes are not awaitable
                            await asyncio.sleep(0.05)
            self.kill()
        if self.fatal:
            raise TargetError(self.fatal)
        return self.results

    def stop(self) -> None:
        for i, conn in enumerate(self.conns):
            if i not in self.finished:
                with contextlib.suppress(Exception):
                    conn.send("stop")

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
            proc.join(1)
