"""Bot players against the real NodeApp over a small simulated mesh."""

from __future__ import annotations

import asyncio
import random

from node.channels.text import NOTHING_HEARD
from node.clock import Clock
from node.config import NodeConfig
from node.radio.base import BROADCAST, TEXT_PORT, LoopbackTransport, Packet, RadioInfo
from node.sim.binary_bot import BinaryBot
from node.sim.bots import TextBot
from node.sim.mesh import NODE_NUM, Mesh
from node.sim.transport import SimTransport
from node.sim.virtual_loop import run_virtual
from node.wiring import build_node


def play(tmp_path, kind, *, seconds=240.0, loss=0.0, **bot_kw):
    async def main():
        mesh = Mesh.build(players=1, hops=1, preset="LONG_FAST", loss=loss, seed=2)
        app = build_node(NodeConfig(data_dir=tmp_path, auto_approve=True, game_seed=2),
                      SimTransport(mesh, NODE_NUM),
                      clock=Clock.for_loop(asyncio.get_running_loop(), 1.7e9), control=False)
        await app.start()
        bot = kind(SimTransport(mesh, mesh.players[0]), NODE_NUM, name="Mira", cls="cleric",
                   rng=random.Random(1), eyes=lambda: app.game, **bot_kw)
        await bot.start()
        task = asyncio.create_task(bot.run())
        await asyncio.sleep(seconds)
        bot.active = False
        await asyncio.sleep(30)
        await app.pipeline.set_status("paused")  # the DM stops the table; views then compare
        played = (bot.stats.sent, len(bot.stats.latencies))
        view = await bot.final_view()
        bot.played = played  # what play had counted before the simulator's check
        truth = bot.expected_view(app.game)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        party = [e.name for e in app.game.party()]
        await app.stop()
        return bot, party, view, truth

    return run_virtual(main())


def test_text_bot_joins_explores_and_measures_latency(tmp_path):
    bot, party, view, truth = play(tmp_path, TextBot)
    assert party == ["Mira"]
    assert bot.stats.sent >= 3 and bot.stats.lost == 0
    assert bot.stats.applied >= 1
    # one hop on LONG_FAST: a command and its answer take seconds, not minutes
    assert all(1.0 < lat < 20.0 for lat in bot.stats.latencies)
    assert view is not None and view == truth
    assert any(direct for _, direct, _ in bot.inbox) and any(not d for _, d, _ in bot.inbox)
    # the check of views asks "hp" over the radio, but it is the simulator's, not play
    assert (bot.stats.sent, len(bot.stats.latencies)) == bot.played


def test_text_bot_retries_the_same_text_when_nothing_comes_back(tmp_path):
    bot, party, view, truth = play(tmp_path, TextBot, seconds=120, loss=0.9, retry_s=10.0,
                                   max_tries=2)
    s = bot.stats
    assert s.retries >= 1 and s.lost >= 1 and s.packets > s.sent
    # every action is accounted for, except one the run was cancelled in the middle of
    assert 0 <= s.sent - (s.applied + s.answered + s.lost) <= 1


def test_binary_bot_joins_with_acks_and_matches_the_node_digest(tmp_path):
    bot, party, view, truth = play(tmp_path, BinaryBot)
    assert party == ["Mira"]
    assert bot.slot is not None and bot.eid is not None
    assert bot.stats.applied >= 1 and bot.stats.lost == 0
    assert bot.gaps.missing() == []
    assert view == truth


def test_binary_bot_recovers_from_loss_by_resync_and_retries(tmp_path):
    bot, party, view, truth = play(tmp_path, BinaryBot, loss=0.35,
                                   seconds=600)
    assert party == ["Mira"]  # joined exactly once despite retries
    assert bot.stats.retries >= 1
    assert view == truth


def test_a_text_bot_reads_its_turn_off_the_channel_but_not_someone_elses():
    from node.radio.base import LoopbackTransport

    bot = TextBot(LoopbackTransport(), 1, name="Mira", cls="cleric", rng=random.Random(1),
                  eyes=lambda: None)
    assert bot._named_next("Next: Mira")
    assert bot._named_next("Goblin1 misses Vex (7 vs AC13). Next: Mira")
    assert not bot._named_next("Next: Mira2")
    assert not bot._named_next("Next: Goblin1 | Mira hits")
    assert not bot._named_next("Mira says Next: Mira")
    # a downed player's turn passes at once: the turn is the last one announced
    assert bot._named_next("Next: Ilse Next: Mira")
    assert not bot._named_next("Next: Mira Next: Goblin2")


NODE = 0x0D0D0001
REMINDER = f"Your turn, Mira! {NOTHING_HEARD}".encode()


async def lone_bot() -> tuple[TextBot, LoopbackTransport]:
    """Mira on a loopback radio (number 0xA1), waiting a minute before she re-types."""
    radio = LoopbackTransport(info=RadioInfo(node_num=0xA1))
    bot = TextBot(radio, NODE, name="Mira", cls="cleric", rng=random.Random(1),
                  eyes=lambda: None, retry_s=60.0)
    await bot.start()
    return bot, radio


def test_text_bot_sends_again_at_once_when_the_node_says_it_heard_nothing():
    # The node's turn reminder ends "Nothing heard from you yet." (node/channels/text.py): a
    # person waiting on an answer then re-sends at once rather than after retry_s.
    async def main():
        bot, radio = await lone_bot()
        acting = asyncio.create_task(bot.act("atk Goblin1", bot._mine))
        await asyncio.sleep(5.0)
        assert [p.payload for p in radio.sent] == [b"atk Goblin1"]
        radio.inject(Packet(NODE, 0xA1, TEXT_PORT, REMINDER))
        await asyncio.sleep(3.0)  # the app's 2.5 s between texts, no more
        assert [p.payload for p in radio.sent] == [b"atk Goblin1"] * 2
        radio.inject(Packet(NODE, BROADCAST, TEXT_PORT, b"Mira hits Goblin1 (17 vs AC15) 6 pi."))
        assert await acting is True
        assert bot.stats.retries == 1 and bot.stats.applied == 1

    run_virtual(main())


def test_a_turn_of_its_own_tells_a_joining_bot_it_is_in():
    # A person whose join answer went missing learns they are in from the node's reminder
    # of their turn: they stop re-sending the join (the node would only say "you already
    # play Mira").
    async def main():
        bot, radio = await lone_bot()
        joining = asyncio.create_task(bot.act("join Mira cleric", bot._mine))
        await asyncio.sleep(5.0)
        radio.inject(Packet(NODE, 0xA1, TEXT_PORT, REMINDER))
        assert await joining is True
        assert [p.payload for p in radio.sent] == [b"join Mira cleric"]
        assert bot.stats.retries == 0 and bot.my_turn.is_set()

    run_virtual(main())
