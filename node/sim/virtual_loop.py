"""An asyncio event loop whose clock is virtual: idle waits jump straight to the next timer."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")
THREAD_POLL_S = 0.05  # real seconds to wait for a worker thread before looking again


class _VirtualSelector:
    """Wraps the loop's real selector: polls without blocking and turns waits into clock jumps.

    The real selector is still consulted (with timeout 0) so call_soon_threadsafe from
    worker threads keeps working. While executor work (asyncio.to_thread) is in flight the
    clock stands still and the loop waits for real, so thread work takes no virtual time
    instead of letting every pending timer fire first. When nothing at all is scheduled it
    blocks for real, because then only another thread can wake the loop.
    """

    def __init__(self, real: selectors.BaseSelector, loop: VirtualTimeLoop) -> None:
        self._real = real
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        events = self._real.select(0)
        if events:
            return events
        if timeout is None:
            return self._real.select(None)
        if self._loop.threads_in_flight:
            return self._real.select(THREAD_POLL_S)
        if timeout > 0:
            self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose time() starts at `start` and only moves when idle.

    Never give it real sockets to wait on: their readiness is only polled, so a slow
    peer would be skipped over in virtual time. Threads of its own that a library starts
    (rather than the executor) are not waited for.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._vtime = float(start)
        super().__init__(selectors.DefaultSelector())
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[assignment]
        # Float rounding in `now + (when - now)` must not leave a due timer unfired.
        self._clock_resolution = 1e-6

    threads_in_flight: int = 0

    def time(self) -> float:
        return self._vtime

    def run_in_executor(self, executor: Any, func: Any, *args: Any) -> asyncio.Future[Any]:
        fut = super().run_in_executor(executor, func, *args)
        self.threads_in_flight += 1
        fut.add_done_callback(self._thread_done)
        return fut

    def _thread_done(self, _fut: asyncio.Future[Any]) -> None:
        self.threads_in_flight -= 1

    def advance(self, seconds: float) -> None:
        """Move the virtual clock forward (the selector calls this when the loop is idle)."""
        if seconds > 0:
            self._vtime += seconds


def new_virtual_loop(start: float = 0.0) -> VirtualTimeLoop:
    return VirtualTimeLoop(start)


def run_virtual(coro: Coroutine[Any, Any, T], *, start: float = 0.0) -> T:
    """Run `coro` to completion on a fresh VirtualTimeLoop (like asyncio.run)."""
    with asyncio.Runner(loop_factory=lambda: VirtualTimeLoop(start)) as runner:
        return runner.run(coro)
