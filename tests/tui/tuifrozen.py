"""A deterministic console state for snapshots: a real node, fixed seed, a scripted fight, then frozen."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from node.config import load_config
from node.control_client import ControlClient
from node.radio.base import LoopbackTransport
from node.wiring import build_node

# The radio's figures follow wall-clock pacing of the outbox, so they differ run to run;
# the snapshot pins them to a typical mid-session reading (the layout is what it checks).
PINNED_RADIO: dict[str, Any] = {
    "link": "up", "spec": "sim", "channel_util": 0.043,
    "outbox": {"queue": 2, "airtime_used_s": 61.4, "duty_budget_s": 360.0,
               # two minutes a slice: quiet exploring, then a fight in the last quarter hour
               "airtime_buckets_s": [0.0] * 6 + [0.5, 1.0, 0.5, 0.0, 1.4, 0.9, 0.0, 0.0, 1.9,
                                                 2.4, 1.0, 0.5, 0.0, 0.5, 1.0, 1.9, 4.8, 6.2,
                                                 7.7, 9.1, 6.7, 5.3, 3.4, 4.7],
               "last_packets": [{"to": 0xFFFFFFFF, "port": 1, "bytes": 187, "t": 0},
                                {"to": 0xA1, "port": 1, "bytes": 64, "t": 0},
                                {"to": 0xFFFFFFFF, "port": 256, "bytes": 23, "t": 0}]},
}
PINNED_DEADLINE_S = 41.5

SCRIPT: list[dict[str, Any]] = [
    {"type": "Join", "name": "Thorin", "cls": "fighter"},
    {"type": "Join", "name": "Mira", "cls": "cleric"},
    {"type": "Join", "name": "Vex", "cls": "wizard"},
    {"type": "Dm", "op": "narrate", "text": "Cold air rises from the stair."},
    {"type": "Dm", "op": "spawn", "text": "goblin", "value": 2},
    {"type": "Dm", "op": "start_combat"},
    {"type": "Dm", "op": "damage", "target": "Goblin1", "value": 4, "text": "slashing"},
    {"type": "Dm", "op": "damage", "target": "Vex", "value": 5, "text": "piercing"},
    {"type": "Dm", "op": "condition", "target": "Vex", "value": 1, "text": "poisoned"},
]


async def _build() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    d = Path(tempfile.mkdtemp(prefix="dd-snap-"))
    cfg = load_config(env={}, data_dir=d, game_seed=7, coalesce_s=0.05, turn_timeout_s=600.0)
    app = build_node(cfg, LoopbackTransport())
    await app.start()
    pushes: list[dict[str, Any]] = []
    try:
        async with ControlClient(cfg.control_path) as c:
            await c.request("ai.pause")
            for intent in SCRIPT:
                res = await c.request("command", intent=intent)
                pushes.append({"push": "events", "seq": res["seq"], "source": "dm",
                               "lines": res["lines"], "events": res["events"]})
            state = await c.request("state")
    finally:
        await app.stop()
        shutil.rmtree(d, ignore_errors=True)
    state["radio"] = PINNED_RADIO
    if state["session"]:
        state["session"]["turn_deadline_s"] = PINNED_DEADLINE_S
    state["uplink"] = {"online": False, "backlog": 12}  # the relay is out of reach in the field
    state["joins"] = [{"id": 1, "name": "Grub", "cls": "barbarian", "sender": "!000000b2"}]
    return state, pushes


def frozen_state() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return asyncio.run(_build())
