"""The text channel: a command sent as a DM to the node is answered by DM and still broadcast."""

from __future__ import annotations

import asyncio

from nodehelpers import ALICE, join, text_channel

from node.pipeline import Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from node.sim.mesh import NODE_NUM


async def test_a_dm_command_gets_its_result_by_dm_and_the_table_by_broadcast(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    out = await tc.handle(Packet(0xA1, NODE_NUM, TEXT_PORT, b"look", id=801))
    await asyncio.sleep(0.05)
    lines = tc.lines(out)
    assert out is not None and out.ok and lines
    direct = [t for to, t, _ in rec.texts if to == 0xA1]
    public = [t for to, t, _ in rec.texts if to == BROADCAST]
    assert len(direct) == 1 and all(line in direct[0] for line in lines)
    assert len(public) == 1 and all(line in public[0] for line in lines)


async def test_a_channel_command_gets_no_dm(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=802))
    await asyncio.sleep(0.05)
    assert out is not None and out.ok
    assert [to for to, _, _ in rec.texts] == [BROADCAST]


async def test_a_retyped_dm_command_is_answered_by_dm_not_applied_again(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    await tc.handle(Packet(0xA1, NODE_NUM, TEXT_PORT, b"look", id=803))
    seq = pipeline.store.max_seq()
    again = await tc.handle(Packet(0xA1, NODE_NUM, TEXT_PORT, b"look", id=804))
    await asyncio.sleep(0.05)
    assert again is not None and again.duplicate
    assert pipeline.store.max_seq() == seq
    assert len([to for to, _, _ in rec.texts if to == 0xA1]) == 2


async def test_a_say_that_was_cut_tells_the_speaker_what_did_not_go_out(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    words = " ".join(f"word{n:03d}" for n in range(19))  # 151 characters: over the say limit
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, f"say {words}".encode(), id=805))
    await asyncio.sleep(0.05)
    assert out is not None and out.ok
    (note,) = [t for to, t, _ in rec.texts if to == 0xA1]
    said = next(e.text for e in out.events if type(e).__name__ == "Said")
    assert note.startswith(f"Your say was cut to {len(said.encode())} B; not sent: ")
    assert note.endswith(words[len(said):]) and len(note.encode()) <= 200
    # a say that fits gets no note
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"say hello all", id=806))
    await asyncio.sleep(0.05)
    assert len([t for to, t, _ in rec.texts if to == 0xA1]) == 1


async def test_a_refusal_reaches_the_player_as_a_sentence(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"attack gob9", id=804))
    await asyncio.sleep(0.05)
    assert out is not None and not out.ok
    said = [t for to, t, _ in rec.texts if to == 0xA1]
    assert said and said[-1].endswith(".") and out.error.rstrip(".") in said[-1]
