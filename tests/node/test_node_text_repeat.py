"""The text channel: a re-sent command is answered from its stored result, never applied twice."""

from __future__ import annotations

import asyncio

from nodehelpers import ALICE, join, text_channel

from node.pipeline import Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet


async def test_a_retyped_command_gets_its_result_again_not_applied_again(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    first = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=501))
    await asyncio.sleep(0.05)
    sent_before = len(rec.texts)
    seq = pipeline.store.max_seq()
    # the same command again under a new packet id, spelled differently: the player's retry
    again = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"LOOK", id=502))
    assert first is not None and first.ok and not first.duplicate
    assert again is not None and again.duplicate
    assert pipeline.store.max_seq() == seq
    assert tc.repeats == 1
    await asyncio.sleep(0.05)
    # the stored public result goes out again as a broadcast: whoever else missed it, too
    again_sent = [t for to, t, _ in rec.texts[sent_before:] if to == BROADCAST]
    assert again_sent and all(line in again_sent[0] for line in tc.lines(first))


async def test_a_retyped_query_is_answered_privately(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    for pid in (701, 702):
        await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"hp", id=pid))
    answers = [t for to, t, _ in rec.texts if to == 0xA1]
    assert len(answers) == 2 and answers[0] == answers[1] and "Thorin" in answers[0]


async def test_a_different_command_in_between_ends_the_repeat(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, _rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=601))
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"hp", id=602))
    seq = pipeline.store.max_seq()
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=603))
    assert out is not None and out.ok and not out.duplicate
    assert pipeline.store.max_seq() == seq + 1
    assert tc.repeats == 0


async def test_a_turn_announced_on_the_channel_is_not_prompted_again_privately(pipeline: Pipeline):
    from node.pipeline import Command, Outcome
    from rules import events as ev
    from rules import intents as it

    eid = await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    tc.prompt(eid, "Your turn, Thorin!")  # nothing announced yet: a direct message
    assert [to for to, _, _ in rec.texts] == [0xA1]
    events = [ev.TurnStarted(1, eid)]
    tc._on_outcome(9, Command("ai", "ai", it.EndTurn()), events, Outcome(True, 9, events))
    tc.prompt(eid, "Your turn, Thorin!")
    assert tc.prompts_folded == 1
    assert [to for to, _, _ in rec.texts] == [0xA1]  # no second direct message
    tc.prompt(eid + 1000, "Your turn, Nobody!")  # a name never announced is not folded
    assert tc.prompts_folded == 1
