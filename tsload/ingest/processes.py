"""`-p N`: one OS process per host range, each with its own uvloop event loop (spawned, not forked:
no inherited loops, sockets or locks).

The parent talks to each child over a duplex `multiprocessing` pipe watched by the parent's event
loop: children send a stats message every stats interval and a final one; the parent sends
"stop" to begin a drain. Children ignore SIGINT: the parent owns Ctrl-C and orchestrates the drain.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import signal
from multiprocessing.connection import Connection
from typing import Any

from tsload._errors import TargetError, TsloadError
from tsload.ingest.plan import WireTarget, WorkerPlan


async def make_writer(session: Any, region: str, endpoint: str | None, *, sdk: bool, concurrency: int) -> Any:
    """The fast path (default) or aioboto3's write_records (`--sdk-writes`)."""
    from tsload.targets.timestream import EndpointDiscovery, FastWriter, SdkWriter

    if sdk:
        return SdkWriter(session, region, endpoint, max_pool=max(10, concurrency))
    credentials = await session.get_credentials()
    if credentials is None:
        raise TargetError(
            "no AWS credentials found "
            "(a profile, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, SSO or an instance role)"
        )
    if endpoint is not None:
        return FastWriter(credentials, region, endpoint_url=endpoint)
    return FastWriter(credentials, region, discovery=EndpointDiscovery(session, region))


def _session_for(wire: WireTarget) -> Any:
    import aioboto3

    if wire.static_keys is not None:
        ak, sk, token = wire.static_keys
        return aioboto3.Session(
            aws_access_key_id=ak, aws_secret_access_key=sk, aws_session_token=token, region_name=wire.region
        )
    return aioboto3.Session(profile_name=wire.profile, region_name=wire.region)


async def _child_async(plan: WorkerPlan, conn: Connection) -> None:
    from tsload.ingest.worker import run_worker

    assert plan.wire is not None
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
        writer = await make_writer(
            _session_for(plan.wire),
            plan.wire.region,
            plan.wire.write_endpoint,
            sdk=plan.cfg.sdk_writes,
            concurrency=plan.cfg.concurrency,
        )
        await run_worker(
            plan.cfg, plan.process_index, plan.live_start_ms, writer, stop, conn.send, model=plan.model
        )
    finally:
        with contextlib.suppress(Exception):
            loop.remove_reader(conn.fileno())


def child_main(plan: WorkerPlan, conn: Connection) -> None:
    """Entry point of a spawned ingest process."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import uvloop

    try:
        uvloop.run(_child_async(plan, conn))
    except BaseException as exc:  # report anything (including ExceptionGroups) to the parent, then exit 1
        error = exc
        if isinstance(exc, BaseExceptionGroup):
            leaves = list(_leaves(exc))
            error = next((e for e in leaves if isinstance(e, TsloadError)), leaves[0] if leaves else exc)
        with contextlib.suppress(Exception):
            conn.send({"process": plan.process_index, "fatal": str(error), "type": type(error).__name__})
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
    """The spawned processes of one run and their pipes."""

    def __init__(self, plans: list[WorkerPlan]) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self.plans = plans
        self.procs: list[Any] = []
        self.conns: list[Connection] = []
        self.finished: set[int] = set()
        self.fatal: str | None = None

    def start(self) -> None:
        for plan in self.plans:
            parent_end, child_end = self._ctx.Pipe(duplex=True)
            proc = self._ctx.Process(
                target=child_main, args=(plan, child_end), name=f"tsload-ingest-{plan.process_index}"
            )
            proc.daemon = True
            proc.start()
            child_end.close()
            self.procs.append(proc)
            self.conns.append(parent_end)

    async def run(self, on_message: Any) -> None:
        """Forward messages until every child has sent its final report (or died)."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        def reader(i: int, conn: Connection) -> None:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                loop.remove_reader(conn.fileno())
                if i not in self.finished:
                    self.finished.add(i)
                    self.fatal = self.fatal or f"ingest process {i} exited without a final report"
                if len(self.finished) == len(self.conns) and not done.done():
                    done.set_result(None)
                return
            if "fatal" in msg:
                self.fatal = self.fatal or str(msg["fatal"])
                self.stop()
                return
            on_message(msg)
            if msg.get("final"):
                self.finished.add(i)
                if len(self.finished) == len(self.conns) and not done.done():
                    done.set_result(None)

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
                    await self._reap()
            self.kill()
            for proc in self.procs:
                proc.join(1)
        if self.fatal:
            raise TargetError(self.fatal)

    async def _reap(self) -> None:
        # process exit is not awaitable on a loop without a child watcher for spawn's processes
        for proc in self.procs:
            while proc.is_alive():  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    def stop(self) -> None:
        for i, conn in enumerate(self.conns):
            if i not in self.finished:
                with contextlib.suppress(Exception):
                    conn.send("stop")

    def kill(self) -> None:
        for proc in self.procs:
            if proc.is_alive():
                proc.kill()
