"""Shared helpers for node tests."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

from node.control import ControlClient
from node.pipeline import Command, Pipeline
from rules import intents as it

ALICE = "!000000a1"
BOB = "!000000b2"


async def join(p: Pipeline, sender: str, name: str, cls: str = "fighter") -> int:
    out = await p.submit(Command("text", sender, it.Join(name, cls)))
    assert out.ok, out.error
    return p.bindings[sender][-1]


async def connect_control(sock: Path, proc: subprocess.Popen) -> ControlClient:
    """A control client on a `dungeon node` subprocess, once its socket answers."""
    for _ in range(1000):
        if proc.poll() is not None:
            raise AssertionError(f"node exited: {proc.stderr.read().decode()[-500:]}")
        if sock.exists():
            try:
                c = await ControlClient(sock).connect()
                await c.request("hello")
                return c
            except (OSError, ConnectionError):
                pass
        await asyncio.sleep(0.01)
    raise AssertionError("node did not become ready")
