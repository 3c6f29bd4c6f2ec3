"""Shared helpers for node tests."""

from __future__ import annotations

from node.pipeline import Command, Pipeline
from rules import intents as it

ALICE = "!000000a1"
BOB = "!000000b2"


async def join(p: Pipeline, sender: str, name: str, cls: str = "fighter") -> int:
    out = await p.submit(Command("text", sender, it.Join(name, cls)))
    assert out.ok, out.error
    return p.bindings[sender][-1]
