"""An asyncio event loop whose clock is virtual: idle waits jump straight to the next timer."""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _VirtualSelector:
    """Wraps the loop's real selector: polls without blocking and turns waits into clock jumps.

    The real selector is still consulted (with timeout 0) so call_soon_threadsafe from
    worker threads keeps working; only when nothing at all is scheduled does it block for
    real, because then only another thread can wake the loop.
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
        if timeout > 0:
            self._loop.advance(timeout)
        return []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose time() starts at `start` and only moves when idle.

    Never give it real sockets to wait on: their readiness is only polled, so a slow
    peer would be skipped over in virtual time.
    """

    def __init__(self, start: float = 0.0) -> None:
        self._vtime = float(start)
        super().__init__(selectors.DefaultSelector())
        self._selector = _VirtualSelector(self._selector, self)  # type: ignore[assignment]
        # Float rounding in `now + (when - now)` must not leave a due timer unfired.
        self._clock_resolution = 1e-6

    def time(self) -> float:
        return self._vtime

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
