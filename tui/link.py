"""The console's line to the node: a ControlClient that reconnects with back-off and says when it is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.control import ControlClient, ControlError

log = logging.getLogger(__name__)

BACKOFF_S: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
REQUEST_TIMEOUT_S = 15.0


@dataclass(frozen=True)
class LinkStatus:
    """Whether the console sees the node live, and if not, why and when it tries again."""

    live: bool
    attempt: int = 0
    retry_in_s: float = 0.0
    error: str = ""
    hello: dict[str, Any] = field(default_factory=dict)


class NodeLink:
    """Owns one ControlClient at a time; pushes go to callbacks, requests fail fast when offline."""

    def __init__(
        self,
        path: str | Path,
        *,
        on_state: Callable[[dict[str, Any]], None],
        on_events: Callable[[dict[str, Any]], None],
        on_status: Callable[[LinkStatus], None],
        backoff: Sequence[float] = BACKOFF_S,
    ) -> None:
        self.path = Path(path)
        self.on_state = on_state
        self.on_events = on_events
        self.on_status = on_status
        self.backoff = tuple(backoff)
        self.client: ControlClient | None = None
        self._closing = False

    @property
    def connected(self) -> bool:
        return self.client is not None

    async def request(self, op: str, **args: Any) -> Any:
        """One round trip; ControlError with a one-line reason when the node refuses or is gone."""
        client = self.client
        if client is None:
            raise ControlError("the node is not connected")
        try:
            return await asyncio.wait_for(client.request(op, **args), REQUEST_TIMEOUT_S)
        except (ConnectionError, OSError) as err:
            raise ControlError(f"lost the node: {err}") from None
        except TimeoutError:
            raise ControlError(f"the node did not answer {op} in {REQUEST_TIMEOUT_S:.0f} s") from None

    async def run(self) -> None:
        """Connect, subscribe, relay pushes; on any loss report it and retry with back-off."""
        attempt = 0
        while not self._closing:
            error = ""
            try:
                client = await ControlClient(self.path).connect()
            except OSError as err:
                error = _why(err, self.path)
            else:
                attempt = 0
                error = await self._session(client)
            if self._closing:
                break
            delay = self.backoff[min(attempt, len(self.backoff) - 1)]
            attempt += 1
            self.on_status(LinkStatus(False, attempt, delay, error))
            await asyncio.sleep(delay)

    async def _session(self, client: ControlClient) -> str:
        self.client = client
        try:
            hello = await asyncio.wait_for(client.request("hello"), REQUEST_TIMEOUT_S)
            self.on_status(LinkStatus(True, hello=hello))
            async for msg in client.subscribe():
                kind = msg.get("push")
                if kind == "state" and isinstance(msg.get("state"), dict):
                    self.on_state(msg["state"])
                elif kind == "events":
                    self.on_events(msg)
            return "the node closed the connection"
        except (ConnectionError, OSError, ControlError, ValueError, TimeoutError) as err:
            return f"lost the node: {str(err) or type(err).__name__}"
        finally:
            self.client = None
            with contextlib.suppress(Exception):
                await client.close()

    async def close(self) -> None:
        self._closing = True
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                await client.close()


def _why(err: OSError, path: Path) -> str:
    if isinstance(err, FileNotFoundError):
        return f"no node socket at {path}"
    if isinstance(err, ConnectionRefusedError):
        return "the node is not running (socket refused)"
    if isinstance(err, PermissionError):
        return f"no permission to open {path} (the DM owns the socket)"
    return str(err) or type(err).__name__
