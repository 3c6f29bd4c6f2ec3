"""The console's line to the node: a ControlClient that reconnects with back-off and says when it is down."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from node.control_client import ControlClient, ControlError

log = logging.getLogger(__name__)

BACKOFF_S: tuple[float, ...] = (0.25, 0.5, 1.0, 2.0, 4.0)
REQUEST_TIMEOUT_S = 15.0
HEARTBEAT_S = 5.0  # a hung node keeps its socket open; only asking shows it is gone
HEARTBEAT_TIMEOUT_S = 3.0


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
        heartbeat_s: float = HEARTBEAT_S,
        heartbeat_timeout_s: float = HEARTBEAT_TIMEOUT_S,
    ) -> None:
        self.path = Path(path)
        self.on_state = on_state
        self.on_events = on_events
        self.on_status = on_status
        self.backoff = tuple(backoff)
        self.heartbeat_s = heartbeat_s
        self.heartbeat_timeout_s = heartbeat_timeout_s
        self.client: ControlClient | None = None
        self.seq: int | None = None  # the event-log seq of the last state delivered
        self.events_seq = 0  # the event-log seq of the last result shown in the log
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
        beat: asyncio.Task[str] | None = None
        try:
            hello = await asyncio.wait_for(client.request("hello"), self.heartbeat_timeout_s)
            self.on_status(LinkStatus(True, hello=hello))
            # What happened before this console attached, or while it was cut off.
            try:
                missed = await asyncio.wait_for(
                    client.request("log", after=self.events_seq, limit=100), self.heartbeat_timeout_s)
            except ControlError:  # an older node without the op: start with an empty log
                missed = []
            for msg in missed:
                self._deliver_events(msg)
            beat = asyncio.get_running_loop().create_task(self._heartbeat(client))
            pushes = asyncio.get_running_loop().create_task(self._pushes(client))
            done, _ = await asyncio.wait({beat, pushes}, return_when=asyncio.FIRST_COMPLETED)
            for task in (beat, pushes):
                if task not in done:
                    task.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
            return next(iter(done)).result()
        except TimeoutError:
            return f"the node did not answer (no reply in {self.heartbeat_timeout_s:g} s)"
        except (ConnectionError, OSError, ControlError, ValueError) as err:
            return f"lost the node: {str(err) or type(err).__name__}"
        finally:
            self.client = None
            with contextlib.suppress(Exception):
                await client.close()

    async def _pushes(self, client: ControlClient) -> str:
        try:
            async for msg in client.subscribe():
                kind = msg.get("push")
                if kind == "state" and isinstance(msg.get("state"), dict):
                    self.seq = msg["state"].get("seq")
                    self.on_state(msg["state"])
                elif kind == "events":
                    self._deliver_events(msg)
        except (ConnectionError, OSError, ControlError, ValueError) as err:
            return f"lost the node: {str(err) or type(err).__name__}"
        return "the node closed the connection"

    def _deliver_events(self, msg: dict[str, Any]) -> None:
        seq = msg.get("seq")
        if isinstance(seq, int):
            if seq <= self.events_seq:
                return  # already shown (history fetched on attach overlaps the pushes)
            self.events_seq = seq
        self.on_events(msg)

    async def _heartbeat(self, client: ControlClient) -> str:
        """Ask the node how far its log is; silence means it hung, a newer seq a missed push."""
        while True:
            await asyncio.sleep(self.heartbeat_s)
            try:
                hello = await asyncio.wait_for(client.request("hello"), self.heartbeat_timeout_s)
                if self.seq is not None and hello.get("seq") not in (None, self.seq):
                    state = await asyncio.wait_for(client.request("state"),
                                                   self.heartbeat_timeout_s)
                    self.seq = state.get("seq")
                    self.on_state(state)
            except TimeoutError:
                return f"the node stopped answering (no reply in {self.heartbeat_timeout_s:g} s)"
            except (ConnectionError, OSError, ControlError, ValueError) as err:
                return f"lost the node: {str(err) or type(err).__name__}"

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
