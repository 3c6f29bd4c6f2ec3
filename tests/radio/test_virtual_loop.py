"""The virtual-time loop: idle waits cost no wall time, timers keep their order."""

from __future__ import annotations

import asyncio
import time

import pytest

from node.sim.virtual_loop import VirtualTimeLoop, run_virtual


def test_an_hour_of_sleep_takes_milliseconds() -> None:
    async def hour() -> float:
        loop = asyncio.get_running_loop()
        for _ in range(3600):
            await asyncio.sleep(1.0)
        return loop.time()

    wall = time.perf_counter()
    assert run_virtual(hour()) == pytest.approx(3600.0)
    assert time.perf_counter() - wall < 5.0  # generous: the point is it is not an hour


def test_start_offset_and_timer_order() -> None:
    async def scenario() -> list[tuple[str, float]]:
        loop = asyncio.get_running_loop()
        fired: list[tuple[str, float]] = []
        loop.call_later(5.0, lambda: fired.append(("c", loop.time())))
        loop.call_later(0.5, lambda: fired.append(("a", loop.time())))
        loop.call_later(2.0, lambda: fired.append(("b", loop.time())))
        loop.call_at(loop.time() + 2.0, lambda: fired.append(("b2", loop.time())))
        await asyncio.sleep(10)
        return fired

    fired = run_virtual(scenario(), start=1000.0)
    assert [name for name, _ in fired] == ["a", "b", "b2", "c"]
    assert [t for _, t in fired] == pytest.approx([1000.5, 1002.0, 1002.0, 1005.0])


def test_wait_for_times_out_in_virtual_time() -> None:
    async def scenario() -> tuple[float, bool]:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.wait_for(asyncio.sleep(100), timeout=30)
        except TimeoutError:
            return loop.time(), True
        return loop.time(), False

    now, timed_out = run_virtual(scenario())
    assert timed_out
    assert now == pytest.approx(30.0)


def test_concurrent_tasks_interleave_by_virtual_time() -> None:
    async def ticker(name: str, period: float, out: list[str]) -> None:
        for _ in range(3):
            await asyncio.sleep(period)
            out.append(name)

    async def scenario() -> list[str]:
        out: list[str] = []
        await asyncio.gather(ticker("fast", 1.0, out), ticker("slow", 2.5, out))
        return out

    assert run_virtual(scenario()) == ["fast", "fast", "slow", "fast", "slow", "slow"]


def test_threads_can_still_wake_the_loop() -> None:
    async def scenario() -> int:
        return await asyncio.to_thread(lambda: 41 + 1)

    assert run_virtual(scenario()) == 42


def test_loop_time_does_not_move_while_busy() -> None:
    loop = VirtualTimeLoop(start=7.0)
    try:
        async def busy() -> float:
            before = asyncio.get_running_loop().time()
            sum(range(100_000))
            await asyncio.sleep(0)
            return asyncio.get_running_loop().time() - before

        assert loop.run_until_complete(busy()) == 0.0
    finally:
        loop.close()


def test_thread_work_takes_no_virtual_time() -> None:
    async def scenario() -> tuple[float, list[str]]:
        loop = asyncio.get_running_loop()
        order: list[str] = []
        loop.call_later(0.5, lambda: order.append("timer"))

        def slow() -> str:
            time.sleep(0.2)  # real work in a thread, longer in real time than the timer's delay
            return "thread"

        order.append(await asyncio.wait_for(asyncio.to_thread(slow), timeout=0.1))
        at = loop.time()
        await asyncio.sleep(1)
        return at, order

    at, order = run_virtual(scenario())
    assert at == 0.0
    assert order == ["thread", "timer"]
