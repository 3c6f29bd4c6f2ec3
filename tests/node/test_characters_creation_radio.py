"""A character made from scratch over the radio text grammar: few messages, one packet each."""

from __future__ import annotations

from nodehelpers import text_channel

from node.pipeline import Pipeline
from node.radio.base import TEXT_PORT, Packet
from node.sim.mesh import NODE_NUM
from protocol.text import MAX_BYTES
from rules.creation import Draft

CONVERSATION = [
    "make Mira class wizard",
    "make Mira race high elf",
    "make Mira stats 8 14 13 15 12 10",
    "make Mira skills arcana history",
    "join Mira wizard",
]


async def test_a_stock_app_player_creates_a_character_in_five_messages(pipeline: Pipeline):
    tc, rec = text_channel(pipeline)
    for n, line in enumerate(CONVERSATION, start=1):
        await tc.handle(Packet(0xA1, NODE_NUM, TEXT_PORT, line.encode(), 0, id=n))
    replies = [t for to, t, _ in rec.texts if to == 0xA1]
    assert len(CONVERSATION) == 5 and replies
    largest = max(len(t.encode()) for t in replies)
    assert largest <= MAX_BYTES, largest
    (eid,) = pipeline.eids_of("!000000a1")
    mira = pipeline.game.entities[eid]
    # high elf: +2 DEX +1 INT on the chosen scores; darkvision; skills chosen + Acolyte's
    assert mira.abilities["dex"] == 16 and mira.abilities["int"] == 16 and mira.darkvision == 60
    assert {"arcana", "history", "insight", "religion"} <= set(mira.skills)
    assert not pipeline.game.state.get("drafts")  # the draft is spent by the join


async def test_a_bad_step_answers_one_line_and_keeps_the_draft(pipeline: Pipeline):
    tc, rec = text_channel(pipeline)
    for n, line in enumerate(["make Bo class fighter", "make Bo stats 18 18 18 18 18 18"], 1):
        await tc.handle(Packet(0xB2, NODE_NUM, TEXT_PORT, line.encode(), 0, id=n))
    errors = [t for to, t, _ in rec.texts if to == 0xB2 and "point buy" in t]
    assert errors and all("\n" not in t for t in errors)
    (d,) = [Draft.from_dict(x) for x in pipeline.game.state["drafts"]]
    assert d.cls == "fighter" and not d.scores
