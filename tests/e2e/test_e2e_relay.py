"""README relay recipe: `dungeon relay` on loopback, `dungeon node` with a relay URL and secret syncs to it."""

from __future__ import annotations

import asyncio
import json
import secrets
import urllib.request

import pytest
from e2ehelpers import Device, Node, Proc, dungeon, free_port, short_dir

pytestmark = pytest.mark.timeout(120)


def relay_up(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2) as r:
            return json.loads(r.read()).get("ok") is True
    except OSError:
        return False


async def until(pred, what: str, tries: int = 600) -> None:  # type: ignore[no-untyped-def]
    for _ in range(tries):
        if await asyncio.to_thread(pred):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_a_node_with_a_relay_url_pushes_its_events_to_dungeon_relay():
    secret = secrets.token_urlsafe(32)
    work = short_dir("dd-e2e-relay-")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    relay = Proc("relay", "--host", "127.0.0.1", "--port", str(port),
                 "--db", str(work / "relay.db"), env={"DUNGEON_RELAY_SECRETS": f"node-1={secret}"})
    device = Device("--nodes", "2", "--seed", "6")
    node = None
    try:
        await until(lambda: relay_up(url), "the relay")
        node = Node(device.radio("node"), work / "node", "--node-id", "node-1",
                    env={"DUNGEON_RELAY_URL": url, "DUNGEON_RELAY_SECRET": secret})
        dm = await node.control()
        out = await dm.request("command", intent={"type": "Join", "name": "Thorin",
                                                  "cls": "fighter"})
        seq = out["seq"]

        def synced() -> bool:
            st = json.loads(dungeon("sync", "status", "--data-dir", str(work / "node"),
                                    "--relay", url, "--json").stdout)
            return st["acked"] is not None and st["acked"] >= seq

        await until(synced, "the relay to acknowledge the node's events", tries=200)
        status = await dm.request("status")
        assert status["uplink"] is not None  # the node's own status shows its uplink
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
            assert "relay_events_ingested_total" in r.read().decode()
        await dm.close()
    finally:
        if node is not None:
            assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
        relay.stop()
