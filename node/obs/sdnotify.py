"""A tiny stdlib sd_notify client: READY, WATCHDOG and STATUS messages to systemd."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Callable

log = logging.getLogger(__name__)


class Notifier:
    """Sends sd_notify datagrams to $NOTIFY_SOCKET; every call is a no-op outside systemd.

    Failures are logged, never raised: a node must keep playing even if systemd
    stops listening (the watchdog will then restart it, which is the point).
    """

    def __init__(self, address: str | None = None) -> None:
        raw = os.environ.get("NOTIFY_SOCKET", "") if address is None else address
        # A leading "@" names a Linux abstract socket; its address starts with a NUL byte.
        self.address: str | None = ("\0" + raw[1:]) if raw.startswith("@") else (raw or None)
        self._sock: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def notify(self, message: str) -> bool:
        """Send one newline-separated list of KEY=VALUE assignments; True if sent."""
        if self.address is None:
            return False
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._sock.sendto(message.encode(), self.address)
            return True
        except OSError as err:
            log.warning("sd_notify failed: %s", err)
            return False

    def ready(self, status: str | None = None) -> bool:
        return self.notify("READY=1" + (f"\nSTATUS={status}" if status else ""))

    def watchdog(self) -> bool:
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        return self.notify("STOPPING=1")

    def status(self, text: str) -> bool:
        return self.notify(f"STATUS={text}")

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None


def watchdog_interval_s() -> float | None:
    """Half of systemd's WatchdogSec (from $WATCHDOG_USEC), or None if no watchdog is armed.

    Pinging at half the timeout is systemd's own advice. $WATCHDOG_PID, when set,
    must be this process, otherwise the watchdog belongs to someone else.
    """
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or not usec.isdigit() or int(usec) <= 0:
        return None
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    return int(usec) / 2_000_000


async def watchdog_loop(
    notifier: Notifier, interval_s: float, healthy: Callable[[], bool] = lambda: True
) -> None:
    """Ping the watchdog from the event loop while `healthy()` says so; run it as a task.

    Because the ping rides on the node's own event loop, a wedged loop (a blocking
    call, a deadlock on the store) stops the pings and systemd restarts the node.
    """
    while True:
        try:
            ok = healthy()
        except Exception:  # a broken health probe counts as unhealthy, not as a crash
            log.exception("health probe failed")
            ok = False
        if ok:
            notifier.watchdog()
        await asyncio.sleep(interval_s)
