"""Helpers for console tests: the node's config, the console under a pilot, waiting on the node or the screen."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from node.app import NodeApp
from node.config import load_config
from node.control_client import ControlClient
from tui.app import DungeonConsole

PARTY = (("Thorin", "fighter"), ("Mira", "cleric"))


def node_config(data_dir: Path) -> Any:
    return load_config(env={}, data_dir=data_dir, auto_approve=False, coalesce_s=0.05,
                       game_seed=7, turn_timeout_s=600.0, ai_delay_s=0.05)


async def until(pilot: Any, pred: Callable[[], Any], timeout: float = 5.0, what: str = "") -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        if pred():
            return
        await pilot.pause(0.02)
    raise AssertionError(f"timed out waiting for {what or pred}")


async def node_until(dm: ControlClient, pred: Callable[[dict[str, Any]], Any],
                     timeout: float = 5.0) -> dict[str, Any]:
    """Poll the node's state view until pred holds; return it (or fail with the last state)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    state: dict[str, Any] = {}
    while loop.time() < end:
        state = await dm.request("state")
        if pred(state):
            return state
        await asyncio.sleep(0.02)
    raise AssertionError(f"node state never matched; last: {state.get('session')}")


@contextlib.asynccontextmanager
async def console(node: NodeApp, size: tuple[int, int] = (120, 40),
                  backoff: tuple[float, ...] = (0.05, 0.1)) -> AsyncIterator[tuple[DungeonConsole, Any]]:
    app = DungeonConsole(node.config.control_path, tick=False, backoff=backoff)
    async with app.run_test(size=size) as pilot:
        await until(pilot, lambda: app.live, what="the console to go live")
        yield app, pilot


async def type_text(pilot: Any, text: str) -> None:
    """Type into the focused input: key by key for short text, pasted for longer (keeps the suite fast)."""
    focused = pilot.app.focused
    if len(text) > 2 and hasattr(focused, "insert_text_at_cursor"):
        focused.insert_text_at_cursor(text)
        await pilot.pause()
        return
    await pilot.press(*[{" ": "space"}.get(ch, ch) for ch in text])


def eid_of(state: dict[str, Any], name: str) -> int:
    for row in state["party"] + state["monsters"]:
        if row["name"] == name:
            return row["eid"]
    raise KeyError(name)


def row_of(state: dict[str, Any], name: str) -> dict[str, Any]:
    for row in state["party"] + state["monsters"]:
        if row["name"] == name:
            return row
    raise KeyError(name)
