"""End to end: a node on the sim radio, the relay, fake Gemini and the Discord bridge under dpytest.

1. A Discord user links a character and attacks a goblin; it resolves on the node, syncs
   back, and the summary shows in Discord.
2. Gemini picks a monster's action, which resolves.
3. The relay is killed and restarted mid-session: no event lost or duplicated.
4. The node's network is cut for 30 simulated minutes (its clock jumps 1800 s): play goes on
   with the fallback AI, Discord is told the node is offline, and the backlog then syncs.
"""

import asyncio
import random
from types import SimpleNamespace
from unittest.mock import AsyncMock

import discord
import discord.ext.test as dpytest
import httpx
import pytest
from synchelpers import SECRET, SECRETS

from node.config import load_config
from node.pipeline import Command
from node.radio.factory import make_transport
from node.tactician import FallbackTactician
from node.wiring import build_node
from rules import intents as it
from sync.node_sync import NodeSync
from sync.relay.bridge import BridgeService
from sync.relay.discord_bot import DungeonBot
from sync.relay.gemini import GeminiTactician
from sync.relay.runner import start_relay
from sync.relay.server import Relay, RelayConfig
from sync.relay.storage import SqliteStorage
from sync.tactician import RelayTactician

pytestmark = pytest.mark.timeout(120)


class Cable(httpx.AsyncHTTPTransport):
    """The node's network link; unplug() makes every request fail like a dead uplink."""

    plugged = True

    async def handle_async_request(self, request):
        if not self.plugged:
            raise httpx.ConnectError("network unreachable", request=request)
        return await super().handle_async_request(request)


async def until(cond, timeout=15.0, what="condition"):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not cond():
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def pick_attack(ids):
    return next((i for i in ids if i.startswith(("a", "w")) and ":" in i),
                next((i for i in ids if i.startswith("close:")), ids[0]))


def interaction(channel_id, user_id, iid):
    return SimpleNamespace(id=iid, channel_id=channel_id, user=SimpleNamespace(id=user_id),
                           response=SimpleNamespace(defer=AsyncMock()),
                           followup=SimpleNamespace(send=AsyncMock()))


async def start_relay_on(tmp_path, fake, port=0):
    relay = Relay(SqliteStorage(tmp_path / "relay.db"), RelayConfig(dict(SECRETS), offline_after_s=2.5))
    relay.gemini = GeminiTactician("test-key", base_url=fake.url, metrics=relay.metrics)
    return await start_relay(relay, port=port)


def commands_by(store, pred):
    return [r for r in store.iter_events() if r.type == "command" and pred(r.payload)]


async def test_discord_to_node_and_back_with_gemini_restart_and_offline(tmp_path, fake_gemini):
    fake_gemini.pick = pick_attack
    running = await start_relay_on(tmp_path, fake_gemini)

    # Discord side: the bridge service under a dpytest bot
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    bridge = BridgeService(running.relay, {}, ttl_s=600)
    bot = DungeonBot(bridge, intents=intents, interval_s=0.05)
    await bot._async_setup_hook()
    dpytest.configure(bot)
    cfg_d = dpytest.get_config()
    chan, member = cfg_d.channels[0], cfg_d.members[0]
    bridge.channels[chan.id] = "node-1"
    bridge._by_node["node-1"] = [chan.id]

    # the node, on the simulated mesh, syncing through a pluggable cable
    cable = Cable()
    cfg = load_config(env={}, node_id="node-1", data_dir=tmp_path / "node", radio="sim",
                      auto_approve=True, coalesce_s=0.05, game_seed=7, turn_timeout_s=3.0,
                      ai_budget_s=3.0)
    sync = NodeSync(running.url, SECRET, transport=cable, poll_wait_s=0.5, rng=random.Random(5))
    rt = RelayTactician(sync, FallbackTactician(), budget_s=2.5)
    app = build_node(cfg, make_transport("sim:players=1"), tactician=rt, control=False)
    await app.start()
    await sync.start(app)
    up = sync.uplink
    sync_backoff_fast(up)
    try:
        p = app.pipeline
        dm = await p.submit(Command("dm", "dm", it.Join("Thorin", "fighter")))
        assert dm.ok, dm.error
        thorin = dm.events[0].eid
        assert (await p.submit(Command("dm", "dm", it.Dm("spawn", text="goblin", value=3)))).ok
        app.loop.pause_ai(True)  # the DM holds the monsters until the Discord player is in

        # 1. link from Discord with the DM's one-time code, then attack from Discord
        code = p.link_codes.issue(thorin).code
        sender = f"discord:{member.id}"
        await bot.tree.get_command("link").callback(interaction(chan.id, member.id, 9001), code=code)
        await until(lambda: thorin in p.bindings.get(sender, []), what="the link to bind")
        assert (await p.submit(Command("dm", "dm", it.Dm("start_combat")))).ok
        while p.game.current_turn() != thorin:  # monsters first in the order: let the DM pass
            assert (await p.submit(Command("dm", "dm", it.Dm("next_turn")))).ok
        await dpytest.empty_queue()
        await dpytest.message("attack goblin", channel=chan, member=member)
        assert dpytest.verify().message().content("Sent to the table.")

        def my_attacks():
            return commands_by(app.store, lambda pl: pl.get("sender") == sender
                               and pl["intent"]["type"] == "Attack")
        await until(lambda: my_attacks(), what="the Discord attack to resolve on the node")
        attack = my_attacks()[0]
        assert attack.payload["source"] == "relay"
        assert any(e["type"] == "Attacked" and e["eid"] == thorin for e in attack.payload["events"])
        await until(lambda: running.relay.mirror.game("node-1").last_seq >= attack.seq,
                    what="events to sync back")
        await bridge.batcher.drain()
        await until(lambda: not dpytest.sent_queue.empty(), what="a summary embed")
        embeds = []
        while not dpytest.sent_queue.empty():
            msg = dpytest.get_message()
            embeds += [e.description for e in msg.embeds]
        assert any("Thorin" in (d or "") and "Goblin" in (d or "") for d in embeds), embeds

        # 2. Gemini chooses a monster action; the node resolves it with its own dice
        if p.game.current_turn() == thorin:
            assert (await p.submit(Command("dm", "dm", it.Dm("next_turn")))).ok
        app.loop.pause_ai(False)
        await until(lambda: rt.metrics.get("node_ai_choices_total", source="gemini") >= 1,
                    timeout=20, what="a Gemini-chosen monster turn")
        assert fake_gemini.requests
        ai_rows = commands_by(app.store, lambda pl: pl.get("source") == "ai")
        assert ai_rows and any(ev_["type"] in ("Attacked", "Moved") for r in ai_rows
                               for ev_ in r.payload["events"])
        assert running.relay.metrics.get("relay_ai_requests_total", outcome="ok") >= 1

        # 3. kill the relay mid-session; the node plays on; restart on the same port and DB
        port = running.port
        await running.stop()
        before = app.store.max_seq()
        await until(lambda: app.store.max_seq() >= before + 2, timeout=20,
                    what="play to continue while the relay is down")
        running = await start_relay_on(tmp_path, fake_gemini, port=port)
        bridge.relay = running.relay
        running.relay.hooks.append(bridge.on_lines)
        await until(lambda: up.acked == app.store.max_seq() and up.online, timeout=30,
                    what="the uplink to catch up after the restart")
        await assert_relay_matches_node(running.relay, app.store)

        # 4. the node's network goes for 30 simulated minutes
        cable.plugged = False
        cut = app.store.max_seq()
        cut_ts = app.store.events_after(cut - 1, 1)[0].ts
        fallback_before = rt.metrics.get("node_ai_choices_total", source="fallback")
        app.clock.offset += 1800.0  # the node's clock: half an hour passes for the game
        await until(lambda: not running.relay.online("node-1"), timeout=10, what="relay to see offline")
        await dpytest.empty_queue()
        queued = await dpytest.message("look", channel=chan, member=member)
        told = dpytest.get_message().content
        assert "offline" in told and "queued for 10 min" in told
        await until(lambda: rt.metrics.get("node_ai_choices_total", source="fallback")
                    >= fallback_before + 2, timeout=30, what="fallback monster turns")
        assert app.store.max_seq() > up.acked  # a backlog built up
        cable.plugged = True
        await until(lambda: up.acked == app.store.max_seq() and up.online, timeout=30,
                    what="the backlog to sync")
        await assert_relay_matches_node(running.relay, app.store)
        offline = await running.relay.storage.events_after("node-1", cut, 100_000)
        assert offline and all(e.ts - cut_ts >= 1800 for e in offline)  # played in the lost half hour
        # the command queued while offline reached the node through the same path
        key = f"discord-msg:{queued.id}"
        await until(lambda: key in sync.results, timeout=15, what="the queued command to arrive")
        assert sync.results[key].ok, sync.results[key].error
    finally:
        for step in (sync.stop(), app.stop(), running.stop(), dpytest.empty_queue()):
            await asyncio.wait_for(step, 10)


def sync_backoff_fast(up):
    # keep the real back-off but with small steps so the test runs in seconds
    for b in (up.backoff, up.pull_backoff):
        b.base_s, b.cap_s = 0.05, 0.5


async def assert_relay_matches_node(relay, store):
    node = [(r.seq, r.type, r.payload) for r in store.iter_events()]
    got = [(e.seq, e.type, e.payload) for e in await relay.storage.events_after("node-1", 0, 100_000)]
    assert [g[0] for g in got] == list(range(1, len(node) + 1))  # none lost, none twice
    assert got == node
