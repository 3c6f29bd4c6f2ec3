"""Shared helpers for node tests."""

from __future__ import annotations

import subprocess
from pathlib import Path

from node.channels.text import TextChannel
from node.control_client import ControlClient
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
    try:
        return await ControlClient.when_ready(sock, alive=lambda: proc.poll() is None)
    except ConnectionError as err:
        tail = proc.stderr.read().decode()[-500:] if proc.poll() is not None else ""
        raise AssertionError(f"{err}: {tail}") from None


class OutboxRecorder:
    """Stands in for the outbox: records (to, text, priority) for what the node would send."""

    def __init__(self) -> None:
        self.texts: list[tuple[int, str, int]] = []
        self.unacked: list[str] = []  # texts sent without want_ack

    def submit_text(self, to: int, text: str, *, priority: int, channel: int = 0,
                    reliable: bool = True, error: bool = False) -> None:
        self.texts.append((to, text, int(priority)))
        if not reliable:
            self.unacked.append(text)


def text_channel(pipeline: Pipeline) -> tuple[TextChannel, OutboxRecorder]:
    """A text channel on the pipeline whose transmissions are recorded, not sent."""
    rec = OutboxRecorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=0.01)
    return tc, rec


async def fight(pipeline: Pipeline) -> tuple[int, list[int]]:
    """Thorin (ALICE's) and two goblins in a fight, on Thorin's turn; (Thorin, goblins)."""
    eid = await join(pipeline, ALICE, "Thorin")
    await pipeline.submit(Command("dm", "dm", it.Dm("spawn", text="goblin", value=2)))
    await pipeline.submit(Command("dm", "dm", it.Dm("start_combat")))
    for _ in range(4):
        if pipeline.game.current_turn() == eid:
            break
        await pipeline.submit(Command("dm", "dm", it.Dm("next_turn")))
    assert pipeline.game.current_turn() == eid
    goblins = [e.eid for e in pipeline.game.entities.values() if e.side == "monsters"]
    return eid, goblins
