"""Turn prompts on the text channel: folded into the broadcast, private ones unacked and reminded."""

from __future__ import annotations

import asyncio

from nodehelpers import ALICE, OutboxRecorder, fight, join, text_channel

from node.channels import text as tc_module
from node.pipeline import Command, Outcome, Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from rules import events as ev
from rules import intents as it


async def test_a_skipped_turn_does_not_hide_the_next_players_announcement(pipeline: Pipeline):
    eid = await join(pipeline, ALICE, "Thorin")
    ilse = await join(pipeline, "!000000c3", "Ilse")
    tc, rec = text_channel(pipeline)
    # Ilse is down, so her turn passes at once and the broadcast goes on to Thorin's.
    events = [ev.TurnStarted(1, ilse), ev.TurnStarted(1, eid)]
    assert "Next: Ilse. Next: Thorin." in tc.render(events)[0]
    tc._on_outcome(9, Command("ai", "ai", it.EndTurn()), events, Outcome(True, 9, events))
    tc.prompt(eid, "Your turn, Thorin!")
    assert tc.prompts_folded == 1
    assert [to for to, _, _ in rec.texts if to != BROADCAST] == []
    await tc.close()


async def test_a_slow_table_s_reminder_waits_half_its_turn(pipeline: Pipeline):
    from node.channels.text import TextChannel

    quick = TextChannel(pipeline, object(), clock=pipeline.clock, metrics=pipeline.metrics)
    slow = TextChannel(pipeline, object(), clock=pipeline.clock, metrics=pipeline.metrics,
                       turn_timeout_s=180.0)
    # a person thinks 15-90 s over a turn: at 60 s nearly half of them were reminded
    assert (quick.remind_s, slow.remind_s) == (20.0, 90.0)
    await quick.close()
    await slow.close()


async def test_a_private_prompt_goes_without_want_ack(pipeline: Pipeline):
    eid = await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    tc.prompt(eid, "Your turn, Thorin!")
    assert [(to, t) for to, t, _ in rec.texts] == [(0xA1, "Your turn, Thorin!")]
    assert rec.unacked == ["Your turn, Thorin!"]
    await tc.close()


async def test_an_unanswered_prompt_is_sent_again_and_an_answered_one_is_not(
        pipeline: Pipeline, monkeypatch):
    monkeypatch.setattr(tc_module, "PROMPT_REMIND_S", 0.1)
    eid, _ = await fight(pipeline)
    tc, rec = text_channel(pipeline)
    tc.prompt(eid, "Your turn, Thorin!")
    await asyncio.sleep(0.3)
    assert [to for to, t, _ in rec.texts if t.startswith("Your turn")] == [0xA1, 0xA1]
    # the reminder says why it came: whatever they sent was not heard
    assert rec.texts[-1][1] == f"Your turn, Thorin! {tc_module.NOTHING_HEARD}"

    rec.texts.clear()
    tc.prompt(eid, "Your turn, Thorin!")
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"dodge", id=901))  # they are playing
    await asyncio.sleep(0.3)
    assert [to for to, t, _ in rec.texts if t.startswith("Your turn")] == [0xA1]
    await tc.close()


async def test_a_slower_table_waits_longer_before_reminding(pipeline: Pipeline, monkeypatch):
    monkeypatch.setattr(tc_module, "PROMPT_REMIND_S", 0.1)
    eid, _ = await fight(pipeline)
    rec = text_channel(pipeline)[1]
    monkeypatch.setattr(tc_module, "DEFAULT_TURN_S", 1.0)
    # a third of a 1.5 s turn, longer than the default: 0.5 s, not 0.1 s
    tc = tc_module.TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics,
                               coalesce_s=0.01, turn_timeout_s=1.5)
    tc.prompt(eid, "Your turn, Thorin!")
    await asyncio.sleep(0.3)
    assert _prompts(rec) == 1
    await asyncio.sleep(0.5)
    assert _prompts(rec) == 2
    await tc.close()


def _prompts(rec) -> int:
    return sum(t.startswith("Your turn, Thorin!") for _, t, _ in rec.texts)


async def test_the_reminder_counts_from_when_the_prompt_left_for_the_radio(
        pipeline: Pipeline, monkeypatch):
    # A prompt that waits in the outbox (behind monster turns, the relays' quiet time) has
    # not reached the player: a reminder counted from the queueing would say "nothing heard"
    # while they are still reading it.
    monkeypatch.setattr(tc_module, "PROMPT_REMIND_S", 0.1)
    eid, _ = await fight(pipeline)

    class HeldOutbox(OutboxRecorder):
        held = True

        def queued_for(self, to: int) -> bool:
            return self.held

    rec = HeldOutbox()
    tc = tc_module.TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics,
                               coalesce_s=0.01)
    tc.prompt(eid, "Your turn, Thorin!")
    await asyncio.sleep(0.5)
    assert _prompts(rec) == 1  # still queued: no reminder however long it waits
    rec.held = False
    await asyncio.sleep(0.05)
    assert _prompts(rec) == 1  # sent just now: the player gets the full remind time
    await asyncio.sleep(0.4)
    assert _prompts(rec) == 2
    await tc.close()


async def test_a_monster_turn_merges_into_its_announcement_a_players_does_not(
        pipeline: Pipeline):
    eid, goblins = await fight(pipeline)
    tc, rec = text_channel(pipeline)
    gob = pipeline.game.name_of(goblins[0])
    tc._on_outcome(9, Command("ai", "ai", it.EndTurn()), [ev.TurnStarted(1, goblins[0])],
                   Outcome(True, 9, []))
    tc._on_outcome(10, Command("ai", "ai", it.EndTurn()),
                   [ev.Attacked(goblins[0], eid, 3, 8, 18, False, False, "scimitar"),
                    ev.TurnStarted(1, eid)], Outcome(True, 10, []))
    tc._on_outcome(11, Command("ai", "ai", it.EndTurn()), [ev.Healed(eid, 2, 12)],
                   Outcome(True, 11, []))
    tc.flush()
    (sent,) = [t for to, t, _ in rec.texts if to == BROADCAST]
    assert sent == (f"Next: {gob} misses Thorin (8 vs AC18). Next: Thorin. | "
                    "Thorin heals 2 (hp 12).")
    await tc.close()


async def test_a_radio_the_binary_client_plays_on_gets_no_text_prompt(pipeline: Pipeline):
    eid = await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    tc.served_elsewhere = lambda num: num == 0xA1  # ALICE plays through `dungeon play`
    tc.prompt(eid, "Your turn, Thorin!")
    tc.warn_turn(eid, "Thorin, 20 s left in your turn.")
    assert rec.texts == []
    tc.served_elsewhere = lambda num: False
    tc.prompt(eid, "Your turn, Thorin!")
    assert [to for to, _, _ in rec.texts] == [0xA1]
    await tc.close()


async def test_the_node_asks_its_binary_channel_which_radios_it_serves(app):
    assert app.text.served_elsewhere(0xA1) is False
    app.binary.session.clients[0xA1] = object()  # a client that said HELLO from that radio
    assert app.text.served_elsewhere(0xA1) is True


async def test_joins_a_few_seconds_apart_are_answered_in_one_broadcast(pipeline: Pipeline,
                                                                        monkeypatch):
    # A game starts with its players joining together: each answer waits for a quiet
    # spell (JOIN_GATHER_S) so the burst costs one packet, not one per player.
    monkeypatch.setattr(tc_module, "JOIN_GATHER_S", 0.3)
    monkeypatch.setattr(tc_module, "JOIN_HOLD_MAX_S", 0.9)
    tc, rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=1))
    await asyncio.sleep(0.2)
    await tc.handle(Packet(0xA2, BROADCAST, TEXT_PORT, b"join Ilse wizard", id=2))
    await asyncio.sleep(0.2)
    assert rec.texts == []  # still gathering: Ilse joined 0.2 s ago
    await asyncio.sleep(0.3)
    (sent,) = [t for to, t, _ in rec.texts if to == BROADCAST]
    assert "Thorin joins" in sent and "Ilse joins" in sent

    # a stream of joins is answered by JOIN_HOLD_MAX_S all the same, while it goes on
    rec.texts.clear()
    for n, name in enumerate(["Vex", "Mira", "Bram", "Nyx", "Kael", "Sorrel"]):
        await tc.handle(Packet(0xB1 + n, BROADCAST, TEXT_PORT, f"join {name} rogue".encode(),
                               id=10 + n))
        await asyncio.sleep(0.25)  # 1.25 s after Vex: 0.9 s and a poll step have passed
        if n == 4:
            assert any("Vex joins" in t for to, t, _ in rec.texts if to == BROADCAST)
    await tc.close()
