"""Crash safety: `dungeon node` killed with SIGKILL at random points never loses an acknowledged seq."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from nodehelpers import connect_control

from node.control_client import ControlError
from node.replay import verify
from node.store import Store

KILLS = 20


def _script(key: str, hero: int | None) -> dict:
    """The scripted session: a DM-made hero, then narration, speech and looks in turn."""
    n = int(key.split("-")[1])
    if n == 1:
        return {"intent": {"type": "Join", "name": "Brom", "cls": "fighter"}}
    if n % 3 == 0:
        return {"intent": {"type": "Look"}, "actor": hero}
    if n % 3 == 1:
        return {"intent": {"type": "Dm", "op": "narrate", "text": key}}
    return {"intent": {"type": "Say", "text": key}, "actor": hero}


def _mark(intent: dict) -> str | None:
    return intent.get("text") if intent["type"] in ("Dm", "Say") else None


def _spawn(data_dir: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir",
         str(data_dir), "--auto-approve", "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )


@pytest.mark.timeout(120)
async def test_kill_9_loses_no_acknowledged_command(tmp_path):
    data = tmp_path / "node"
    sock = data / "control.sock"
    rng = random.Random(1234)
    acked: dict[str, int] = {}  # idempotency key -> seq the node acknowledged
    n = 0
    pending: str | None = None  # a command sent but not acknowledged when the node died
    hero: int | None = None
    for _round in range(KILLS):
        proc = _spawn(data)
        client = await connect_control(sock, proc)
        kill_after = rng.uniform(0.02, 0.25)
        loop = asyncio.get_running_loop()
        loop.call_later(kill_after, os.kill, proc.pid, signal.SIGKILL)
        try:
            while True:
                if pending is None:
                    n += 1
                    pending = f"crash-{n}"
                res = await client.request("command", key=pending, **_script(pending, hero))
                acked[pending] = res["seq"]
                if pending == "crash-1":
                    hero = next(e["eid"] for e in res["events"] if e["type"] == "Joined")
                pending = None
        except (ConnectionError, ControlError, OSError):
            pass
        await client.close()
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL
        # after every kill: every acknowledged seq is in the log, intact, and replays
        store = Store(data / "dungeon.db")
        try:
            assert store.integrity(quick=False) == "ok"
            for key, seq in acked.items():
                reply = store.reply_for(key)
                assert reply is not None and reply["seq"] == seq, key
            keys = [r[0] for r in store.conn.execute("SELECT key FROM commands")]
            assert len(keys) == len(set(keys))
        finally:
            store.conn.close()
        rep = verify(data / "dungeon.db")
        assert rep.ok, rep.reason
    assert len(acked) >= KILLS  # the script really made progress between kills
    # a final clean run: the retried command after the last kill applies exactly once
    proc = _spawn(data)
    client = await connect_control(sock, proc)
    if pending is not None:
        res = await client.request("command", key=pending, **_script(pending, hero))
        acked[pending] = res["seq"]
    await client.close()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(10) == 0
    store = Store(data / "dungeon.db")
    marks = [_mark(r.payload["intent"]) for r in store.iter_events() if r.type == "command"]
    store.close()
    # each command took effect exactly once: a retry after a crash was answered, not re-applied
    assert sorted(m for m in marks if m) == sorted(k for k in acked if _script(k, 0)["intent"]["type"] in ("Dm", "Say"))
