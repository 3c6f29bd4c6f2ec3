"""The node's injectable clock: timers use the event loop's time, timestamps derive from it.

Under the simulator the loop runs in virtual time, so every timer and every timestamp
the node writes is virtual too; in production the offset ties loop time to the epoch.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass


@dataclass
class Clock:
    """now() is epoch seconds; monotonic() is the loop's time, used for timers and budgets."""

    loop: asyncio.AbstractEventLoop
    offset: float

    @classmethod
    def for_loop(cls, loop: asyncio.AbstractEventLoop, epoch: float | None = None) -> Clock:
        """Tie the loop's clock to `epoch` (default: the wall clock now)."""
        start = time.time() if epoch is None else epoch
        return cls(loop, start - loop.time())

    def monotonic(self) -> float:
        return self.loop.time()

    def now(self) -> float:
        return self.offset + self.loop.time()
