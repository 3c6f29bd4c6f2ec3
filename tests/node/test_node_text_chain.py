"""The text channel: several commands in one message ("atk gob1; end") run in order."""

from __future__ import annotations

import asyncio

from nodehelpers import ALICE, fight, join, text_channel

from node.pipeline import Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet


async def test_each_command_of_a_message_runs_and_is_answered(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    seq = pipeline.store.max_seq()
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look; hp", id=801))
    await asyncio.sleep(0.05)
    assert out is not None and out.ok and out.private  # the last one: hp
    assert pipeline.store.max_seq() == seq + 1  # look is an event; hp only an answer
    private = [t for to, t, _ in rec.texts if to == 0xA1]
    public = [t for to, t, _ in rec.texts if to == BROADCAST]
    assert any("Thorin" in t and "HP" in t for t in private)
    assert any("exits" in t for t in public)


async def test_a_failing_command_stops_the_rest_of_the_message(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    seq = pipeline.store.max_seq()
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"atk gob1; look", id=802))
    await asyncio.sleep(0.05)
    assert out is not None and not out.ok
    assert pipeline.store.max_seq() == seq  # look never ran
    assert [to for to, _, _ in rec.texts] == [0xA1]  # only the error, privately


async def test_a_resent_message_is_applied_once(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, _rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look; say hi", id=803))
    seq = pipeline.store.max_seq()
    again = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look ;say hi", id=804))
    assert again is not None and again.duplicate
    assert pipeline.store.max_seq() == seq and tc.repeats == 1


async def test_a_garbled_part_names_itself_and_nothing_runs(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    seq = pipeline.store.max_seq()
    assert await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look; fly away", id=805)) is None
    assert pipeline.store.max_seq() == seq
    assert rec.texts[0][1].startswith("command 2: unknown command")


async def test_a_turn_resent_after_it_ended_is_a_repeat_not_an_error(pipeline: Pipeline):
    await fight(pipeline)
    tc, rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"dodge; end", id=901))
    seq = pipeline.store.max_seq()
    again = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"dodge; end", id=902))
    assert again is not None and again.duplicate and tc.repeats == 1
    assert pipeline.store.max_seq() == seq
    await asyncio.sleep(0.05)
    assert not any("not your turn" in t for _, t, _ in rec.texts)


async def test_a_question_asked_again_later_in_the_fight_gets_a_fresh_answer(pipeline: Pipeline):
    from node.pipeline import Command
    from rules.intents import Dm

    eid, _ = await fight(pipeline)
    tc, rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"end", id=903))
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"hp", id=904))
    await pipeline.submit(Command("dm", "dm", Dm("damage", eid, 3)))
    await pipeline.submit(Command("dm", "dm", Dm("next_turn")))  # still not Thorin's turn
    assert pipeline.game.current_turn() != eid
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"hp", id=905))
    answers = [t for to, t, _ in rec.texts if to == 0xA1 and "HP" in t]
    assert len(answers) == 2 and answers[0] != answers[1] and tc.repeats == 0
