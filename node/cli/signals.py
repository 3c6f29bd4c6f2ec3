"""Stop a long-running command cleanly on SIGINT or SIGTERM, whatever dispositions it inherited.

A process started in the background by a non-interactive shell inherits SIGINT as ignored,
and Python then never raises KeyboardInterrupt: only a handler of our own stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def on_stop_signals(callback: Callable[[], object]) -> None:
    """Call `callback` on the running loop when SIGINT or SIGTERM arrives."""
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, callback)


async def until_stopped(timeout: float | None = None) -> None:
    """Wait for SIGINT or SIGTERM (or `timeout` seconds, if given)."""
    stop = asyncio.Event()
    on_stop_signals(stop.set)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout)
