"""The one process fan-out (tsload/_procs.py): results in plan order, messages forwarded, `stop`
forwarded to the children, a failing child stops the others and its error reaches the caller."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from tsload._errors import ConfigError, TargetError
from tsload._procs import Children


async def counting(plan: int, stop: asyncio.Event, emit: Any) -> dict[str, int]:
    for i in range(3):
        emit({"plan": plan, "tick": i})
    return {"plan": plan, "squared": plan * plan}


async def until_stopped(plan: int, stop: asyncio.Event, emit: Any) -> str:
    emit({"ready": plan})
    await stop.wait()
    return f"stopped {plan}"


async def failing(plan: int, stop: asyncio.Event, emit: Any) -> str:
    if plan == 1:
        async with asyncio.TaskGroup() as tg:  # a group, as a real worker fails: its leaf is reported
            tg.create_task(asyncio.sleep(0))
            raise ConfigError("bad plan 1")
    await stop.wait()
    return "stopped by the failure"


async def test_results_in_plan_order_and_messages_forwarded() -> None:
    seen: list[dict[str, int]] = []
    results = await Children("test", counting, [3, 1, 2]).run(seen.append, asyncio.Event())
    assert results == [{"plan": 3, "squared": 9}, {"plan": 1, "squared": 1}, {"plan": 2, "squared": 4}]
    assert sorted((m["plan"], m["tick"]) for m in seen) == [(p, i) for p in (1, 2, 3) for i in range(3)]


async def test_stop_is_forwarded() -> None:
    stop = asyncio.Event()
    ready: set[int] = set()

    def on_message(msg: dict[str, int]) -> None:
        ready.add(msg["ready"])
        if len(ready) == 2:
            stop.set()

    async with asyncio.timeout(60):
        results = await Children("test", until_stopped, [1, 2]).run(on_message, stop)
    assert results == ["stopped 1", "stopped 2"]


async def test_a_failing_child_stops_the_others_and_raises() -> None:
    async with asyncio.timeout(60):
        with pytest.raises(TargetError, match=r"^bad plan 1$"):
            await Children("test", failing, [0, 1, 2]).run(lambda _: None, asyncio.Event())
