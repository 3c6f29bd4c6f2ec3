"""The control API's client (node/CONTROL.md), for the console and `dungeon status`: JSON lines over the node's unix socket."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

MAX_LINE = 64 * 1024


class ControlError(Exception):
    """A control request failed; str(err) is the server's one-line error."""


def dumps(obj: Any) -> bytes:
    return (json.dumps(obj, separators=(",", ":"), default=str) + "\n").encode()



class ControlClient:
    """Async client: `await c.request("state")`; `async for msg in c.subscribe(): ...`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._pushes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._reader_task: asyncio.Task[None] | None = None

    async def connect(self) -> ControlClient:
        self._reader, self._writer = await asyncio.open_unix_connection(str(self.path),
                                                                        limit=16 * MAX_LINE)
        self._reader_task = asyncio.get_running_loop().create_task(self._read())
        return self

    @classmethod
    async def when_ready(cls, path: str | Path, *, alive: Callable[[], bool] = lambda: True,
                         tries: int = 1000, pause_s: float = 0.01) -> ControlClient:
        """A connected client once the node at `path` answers hello (a node still starting has
        no socket yet, or one that refuses); ConnectionError once `alive()` says the node is
        gone or the tries run out."""
        sock = Path(path)
        for _ in range(tries):
            if not alive():
                raise ConnectionError(f"the node at {sock} exited")
            if sock.exists():
                client = cls(sock)
                try:
                    await client.connect()
                    await client.request("hello")
                    return client
                except (OSError, ConnectionError):
                    await client.close()
            await asyncio.sleep(pause_s)
        raise ConnectionError(f"no node answered at {sock}")

    async def __aenter__(self) -> ControlClient:
        return await self.connect()

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            with contextlib.suppress(Exception):
                await self._writer.wait_closed()
        if self._reader_task is not None:
            self._reader_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader_task

    async def _read(self) -> None:
        assert self._reader is not None
        try:
            while line := await self._reader.readline():
                msg = json.loads(line)
                if "push" in msg:
                    await self._pushes.put(msg)
                    continue
                fut = self._waiting.pop(msg.get("id"), None) if msg.get("id") is not None else None
                if fut is not None and not fut.done():
                    fut.set_result(msg)
                elif msg.get("id") is None:
                    await self._pushes.put(msg)
        finally:
            for fut in self._waiting.values():
                if not fut.done():
                    fut.set_exception(ConnectionError("node closed the control socket"))
            await self._pushes.put({"push": "closed"})

    async def request(self, op: str, **args: Any) -> Any:
        """The op's result; ControlError with the node's one-line error when it fails."""
        if self._writer is None:
            await self.connect()
        assert self._writer is not None
        if self._reader_task is not None and self._reader_task.done():
            # The reader has gone, so nothing would ever answer: fail now, not never.
            raise ConnectionError("node closed the control socket")
        rid = next(self._ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[rid] = fut
        self._writer.write(dumps({"id": rid, "op": op, "args": args}))
        await self._writer.drain()
        msg = await fut
        if not msg.get("ok"):
            raise ControlError(msg.get("error") or "failed")
        return msg.get("result")

    async def subscribe(self) -> AsyncIterator[dict[str, Any]]:
        """Pushes ({"push": "events"|"state", ...}) until the node closes the socket."""
        await self.request("subscribe")
        while True:
            msg = await self._pushes.get()
            if msg.get("push") == "closed":
                return
            yield msg
