"""The Discord bridge: the service directly, message commands under dpytest, slash commands mocked."""

from types import SimpleNamespace
from unittest.mock import AsyncMock

import discord
import discord.ext.test as dpytest
import pytest_asyncio

from rules import intents as I
from sync.relay.bridge import BridgeService, SummaryBatcher, parse_channels
from sync.relay.discord_bot import DungeonBot

CHANNEL = 4242


@pytest_asyncio.fixture
async def relay(relay_factory):
    r = await relay_factory()
    return r.relay


def make_bridge(relay, **kw):
    return BridgeService(relay, {CHANNEL: "node-1"}, **kw)


async def test_parse_channels():
    assert parse_channels("1=node-a, 22=node-b junk") == {1: "node-a", 22: "node-b"}


async def test_commands_queue_with_their_idempotency_key(relay):
    relay._heard("node-1")
    b = make_bridge(relay)
    r = await b.submit(CHANNEL, 7, I.Attack("gob1"), "discord-int:1")
    assert r.ok and not r.queued
    again = await b.submit(CHANNEL, 7, I.Attack("gob1"), "discord-int:1")
    assert again.text == "Already received."
    items = await relay.storage.pending("node-1", 0, relay.clock())
    assert len(items) == 1 and items[0].key == "discord-int:1"
    assert items[0].body == {"kind": "command", "sender": "discord:7",
                             "intent": {"type": "Attack", "target": "gob1", "weapon": None}}


async def test_offline_node_queues_with_a_stated_expiry_or_refuses(relay):
    b = make_bridge(relay, ttl_s=600)
    r = await b.submit(CHANNEL, 7, I.Look(), "k1")
    assert r.queued and "offline" in r.text and "10 min" in r.text and "UTC" in r.text
    strict = BridgeService(relay, {CHANNEL: "node-1"}, queue_offline=False)
    refused = await strict.submit(CHANNEL, 7, I.Look(), "k2")
    assert not refused.ok and "offline" in refused.text
    assert [i.key for i in await relay.storage.pending("node-1", 0, relay.clock())] == ["k1"]


async def test_link_and_unknown_channel(relay):
    b = make_bridge(relay)
    assert not (await b.link(CHANNEL, 7, "no!", "k")).ok
    await b.link(CHANNEL, 7, "ab12cd", "k-link")
    item = (await relay.storage.pending("node-1", 0, relay.clock()))[0]
    assert item.body == {"kind": "link", "sender": "discord:7", "code": "AB12CD"}
    assert not (await b.submit(999, 7, I.Look(), "k9")).ok


async def test_plain_text_uses_the_radio_grammar(relay):
    b = make_bridge(relay)
    assert await b.text(999, 7, 1, "attack gob1") is None  # not a game channel
    bad = await b.text(CHANNEL, 7, 2, "@@@ nonsense")
    assert bad is not None and not bad.ok
    ok = await b.text(CHANNEL, 7, 3, "attack gob1")
    assert ok is not None and ok.ok
    item = (await relay.storage.pending("node-1", 0, relay.clock()))[0]
    assert item.key == "discord-msg:3" and item.body["intent"]["type"] == "Attack"


async def test_summaries_are_batched_per_channel_and_spaced():
    posts = []
    t = [0.0]

    async def post(chan, title, lines):
        posts.append((chan, title, list(lines), t[0]))

    batcher = SummaryBatcher(post, interval_s=0.05, clock=lambda: t[0])
    batcher.add(1, "Round 1", ["a", "b"])
    batcher.add(1, "Round 1", ["c"])
    batcher.add(2, "Round 1", ["x"])
    await batcher.drain()
    assert sorted((c, ls) for c, _, ls, _ in posts) == [(1, ["a", "b", "c"]), (2, ["x"])]
    batcher.add(1, "Round 2", ["long " * 900, "tail"])  # > 4000 chars: split in two embeds
    await batcher.drain()
    assert [len(p[2]) for p in posts[2:]] == [1, 1]


# -- discord.py under dpytest ---------------------------------------------------------------

@pytest_asyncio.fixture
async def bot(relay):
    intents = discord.Intents.default()
    intents.members = True
    intents.message_content = True
    bridge = BridgeService(relay, {})
    b = DungeonBot(bridge, intents=intents, interval_s=0.01)
    await b._async_setup_hook()
    dpytest.configure(b)
    chan = dpytest.get_config().channels[0]
    bridge.channels[chan.id] = "node-1"
    bridge._by_node["node-1"] = [chan.id]
    yield b
    await dpytest.empty_queue()


async def test_dpytest_plain_message_becomes_a_node_command(bot, relay):
    relay._heard("node-1")
    await dpytest.message("attack gob1")
    assert dpytest.verify().message().content("Sent to the table.")
    items = await relay.storage.pending("node-1", 0, relay.clock())
    assert items[0].body["intent"] == {"type": "Attack", "target": "gob1", "weapon": None}
    assert items[0].body["sender"].startswith("discord:")


async def test_dpytest_bad_grammar_gets_a_one_line_hint(bot, relay):
    await dpytest.message("@@@ nonsense")
    msg = dpytest.get_message()
    assert msg.content and "\n" not in msg.content
    assert await relay.storage.pending("node-1", 0, relay.clock()) == []


async def test_dpytest_round_summary_posts_an_embed(bot, relay):
    await bot.bridge.on_lines("node-1", ["Thorin hits Gob1 (17 vs AC 15, longsword).",
                                         "Gob1 takes 7 slashing (0 HP)."])
    await bot.bridge.batcher.drain()
    embed = dpytest.get_embed()
    assert "Thorin hits Gob1" in embed.description and "0 HP" in embed.description


# -- slash commands with mocked interactions -------------------------------------------------

def interaction(channel_id, user_id=7, iid=555):
    order = []
    resp = SimpleNamespace(defer=AsyncMock(side_effect=lambda **kw: order.append("defer")))
    follow = SimpleNamespace(send=AsyncMock(side_effect=lambda *a, **kw: order.append("send")))
    return SimpleNamespace(id=iid, channel_id=channel_id, user=SimpleNamespace(id=user_id),
                           response=resp, followup=follow, order=order)


async def test_slash_attack_defers_first_then_queues(bot, relay):
    chan = dpytest.get_config().channels[0].id
    it = interaction(chan)
    await bot.tree.get_command("attack").callback(it, target="gob1")
    assert it.order == ["defer", "send"]
    items = await relay.storage.pending("node-1", 0, relay.clock())
    assert items[0].key == "discord-int:555"
    assert items[0].body["intent"]["type"] == "Attack"


async def test_slash_commands_all_registered_and_link_is_private(bot, relay):
    names = {c.name for c in bot.tree.get_commands()}
    assert names == {"link", "look", "attack", "cast", "roll", "sheet", "status"}
    chan = dpytest.get_config().channels[0].id
    it = interaction(chan, iid=556)
    await bot.tree.get_command("link").callback(it, code="QX7K2P")
    assert it.response.defer.call_args.kwargs["ephemeral"] is True
    assert it.followup.send.call_args.kwargs["ephemeral"] is True
    it2 = interaction(chan, iid=557)
    await bot.tree.get_command("status").callback(it2)
    assert it2.order == ["defer", "send"]
    assert isinstance(it2.followup.send.call_args.kwargs["embed"], discord.Embed)


async def test_slash_cast_and_roll_build_intents(bot, relay):
    chan = dpytest.get_config().channels[0].id
    await bot.tree.get_command("cast").callback(interaction(chan, iid=1), spell="fire bolt", target="2")
    await bot.tree.get_command("roll").callback(interaction(chan, iid=2), what="stealth")
    bodies = [i.body["intent"] for i in await relay.storage.pending("node-1", 0, relay.clock())]
    assert bodies == [{"type": "Cast", "spell": "fire bolt", "target": 2, "level": None,
                       "meta": [], "twin": None},
                      {"type": "Roll", "what": "stealth"}]


async def test_discord_reads_who_a_spell_landed_on(relay):
    game = relay.mirror.game("node-1")
    lines = game.apply(1, {"events": [
        {"type": "Joined", "eid": 1, "name": "Thorin", "cls": "fighter", "level": 2},
        {"type": "SpellCast", "eid": 1, "spell": "bless", "level": 1},
        {"type": "Affected", "spell": "bless", "targets": [1]}]})
    assert lines[-2:] == ["Thorin casts bless.", "bless on Thorin."]


async def test_sheet_answers_the_linked_player_privately(relay):
    b = make_bridge(relay)
    assert not b.sheet(CHANNEL, 7).ok  # nothing linked yet
    game = relay.mirror.game("node-1")
    game.apply(1, {"events": [{"type": "Joined", "eid": 1, "name": "Thorin", "cls": "fighter",
                               "level": 2}]})
    game.apply(2, {"sender": "discord:7", "eid": 1, "role": "player", "via": "link"})
    reply = b.sheet(CHANNEL, 7)
    assert reply.ok and reply.ephemeral and reply.text == "Thorin, fighter 2: HP ?"


# -- nobody gets pinged ----------------------------------------------------------------------

async def test_an_everyone_echo_is_sent_with_no_mentions_allowed(bot, relay):
    sent = []
    real = bot.http.send_message

    async def spy(channel_id, *, params):
        sent.append(params.payload)
        channel = bot.get_channel(channel_id)  # noqa: F841 - dpytest reads its caller's `channel`
        return await real(channel_id, params=params)

    bot.http.send_message = spy
    await dpytest.message("@everyone")  # the parser's error echoes the text back
    await bot.bridge.on_lines("node-1", ["@here Thorin hits <@&123>"])
    await bot.bridge.batcher.drain()
    echo, summary = sent
    assert "@everyone" in echo["content"]
    assert echo["allowed_mentions"] == {"parse": []}
    assert summary["allowed_mentions"] == {"parse": []}
    await dpytest.empty_queue()


async def test_slash_follow_ups_allow_no_mentions(bot, relay):
    chan = dpytest.get_config().channels[0].id
    it = interaction(chan, iid=601)
    await bot.tree.get_command("roll").callback(it, what="@everyone")
    it2 = interaction(chan, iid=602)
    await bot.tree.get_command("status").callback(it2)
    for call in (it.followup.send.call_args, it2.followup.send.call_args):
        assert call.kwargs["allowed_mentions"].to_dict() == {"parse": []}
    fresh = DungeonBot(BridgeService(relay, {}), intents=discord.Intents.default())
    assert fresh.allowed_mentions.to_dict() == {"parse": []}  # the client-wide default too
