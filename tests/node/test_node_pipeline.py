"""The command path: idempotency, authorisation, rejections leave no trace in the game, floods."""

from __future__ import annotations

import asyncio

from nodehelpers import ALICE, BOB, join

from node.channels.text import TextChannel
from node.obs.metrics import Metrics
from node.pipeline import Command, Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from rules import intents as it


async def test_duplicate_key_is_answered_from_the_stored_reply_and_applied_once(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    cmd = Command("relay", ALICE, it.Say("for the crypt!"), idempotency_key="discord:1:msg9")
    first = await pipeline.submit(cmd)
    assert first.ok and not first.duplicate
    events, digest = pipeline.store.count_events(), pipeline.game.digest()
    again = await pipeline.submit(cmd)
    assert again.duplicate and again.ok
    assert again.seq == first.seq and again.text == first.text
    assert [type(e) for e in again.events] == [type(e) for e in first.events]
    assert pipeline.store.count_events() == events
    assert pipeline.game.digest() == digest
    assert pipeline.metrics.get("dungeon_commands_duplicate_total", source="relay") == 1


async def test_event_row_carries_what_sync_needs(pipeline: Pipeline):
    eid = await join(pipeline, ALICE, "Thorin")
    out = await pipeline.submit(Command("text", ALICE, it.Say("hi")))
    row = pipeline.store.events_after(out.seq - 1, 1)[0]
    assert row.seq == out.seq and row.node_id == "test" and row.type == "command"
    assert row.payload["source"] == "text" and row.payload["sender"] == ALICE
    assert row.payload["actor"] == eid
    assert row.payload["intent"] == {"type": "Say", "text": "hi"}
    assert row.payload["digest"] == pipeline.game.digest()
    assert all("type" in e for e in row.payload["events"])


def _unchanged(p: Pipeline):
    before = (p.store.count_events(), p.game.digest())
    return lambda: (p.store.count_events(), p.game.digest()) == before


async def test_cannot_act_for_another_players_character(pipeline: Pipeline):
    thorin = await join(pipeline, ALICE, "Thorin")
    await join(pipeline, BOB, "Mira", "cleric")
    same = _unchanged(pipeline)
    out = await pipeline.submit(Command("text", BOB, it.Say("I am Thorin now"), actor=thorin))
    assert not out.ok and "own character" in out.error
    assert "\n" not in out.error and len(out.error.encode()) <= 200
    assert same()
    assert pipeline.store.audit_rows(1)[0]["sender"] == BOB


async def test_dm_commands_need_the_dm_role(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    same = _unchanged(pipeline)
    for source in ("text", "binary", "relay"):
        out = await pipeline.submit(Command(source, ALICE, it.Dm("narrate", text="I win")))
        assert not out.ok and out.error == "only the DM can do that"
    assert same()
    out = await pipeline.submit(Command("dm", "dm", it.Dm("narrate", text="A cold wind.")))
    assert out.ok and out.seq is not None


async def test_unjoined_sender_and_unknown_source_are_refused(pipeline: Pipeline):
    same = _unchanged(pipeline)
    out = await pipeline.submit(Command("text", BOB, it.Look()))
    assert not out.ok and "join" in out.error
    out = await pipeline.submit(Command("carrier", BOB, it.Look()))
    assert not out.ok and "source" in out.error
    assert same()


async def test_query_is_answered_privately_without_persisting(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    same = _unchanged(pipeline)
    out = await pipeline.submit(Command("text", ALICE, it.Query("hp")))
    assert out.ok and out.private and out.seq is None and out.text
    assert same()


async def test_joins_wait_for_the_dm_unless_auto_approved(pipeline: Pipeline):
    pipeline.auto_approve = False
    seen = []
    pipeline.on_join_request(seen.append)
    same = _unchanged(pipeline)
    out = await pipeline.submit(Command("text", ALICE, it.Join("Thorin", "fighter")))
    assert out.ok and out.private and "DM" in out.text
    assert same() and len(seen) == 1 and pipeline.joins
    res = await pipeline.approve_join(seen[0].id)
    assert res.ok and pipeline.eids_of(ALICE)
    assert pipeline.store.bindings()[ALICE] == pipeline.eids_of(ALICE)


async def test_a_pending_join_survives_a_restart(pipeline: Pipeline):
    pipeline.auto_approve = False
    out = await pipeline.submit(Command("text", ALICE, it.Join("Thorin", "fighter")))
    assert out.ok and pipeline.joins
    (req_id,) = pipeline.joins
    # A new pipeline on the same database: the node restarted before the DM answered.
    again = Pipeline(pipeline.store, node_id="test", clock=pipeline.clock, metrics=Metrics())
    assert [(r.id, r.name, r.sender) for r in again.joins.values()] == [(req_id, "Thorin", ALICE)]
    repeat = await again.submit(Command("text", ALICE, it.Join("Thorin", "fighter")))
    assert "waiting for the DM" in repeat.text
    assert (await again.approve_join(req_id)).ok and again.eids_of(ALICE)
    assert Pipeline(pipeline.store, node_id="test", clock=pipeline.clock,
                    metrics=Metrics()).joins == {}


async def test_rate_limit_drops_and_counts_a_flood(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    before = pipeline.store.count_events()
    outs = [await pipeline.submit(Command("text", ALICE, it.Say(f"spam {i}"))) for i in range(30)]
    dropped = [o for o in outs if o.dropped]
    accepted = [o for o in outs if o.ok]
    assert dropped and accepted
    assert len(accepted) <= pipeline.rate_burst
    assert pipeline.metrics.get("dungeon_commands_dropped_total", reason="rate") == len(dropped)
    assert pipeline.store.count_events() == before + len(accepted)
    # DM and system commands are never rate limited
    out = await pipeline.submit(Command("dm", "dm", it.Dm("narrate", text="Enough.")))
    assert out.ok


async def test_listeners_see_the_game_as_the_command_left_it_and_nothing_is_rendered(
        pipeline: Pipeline):
    got = []

    def listener(seq, cmd, events, out):
        # under the lock: the log and the game are exactly at this command
        got.append((seq, pipeline.store.max_seq(), pipeline.lock.locked(), cmd.sender, out))

    pipeline.subscribe(listener)
    await join(pipeline, ALICE, "Thorin")
    (seq, logged, locked, sender, out), = got
    assert seq == logged and locked and sender == ALICE
    assert out.events and out.text is None and not hasattr(out, "lines")


class Recorder:
    """Stands in for the outbox: records what the node would transmit."""

    def __init__(self):
        self.texts = []

    def submit_text(self, to, text, *, priority, channel=0, **_kw):
        self.texts.append((to, text, int(priority)))


async def test_garbage_text_gets_one_line_and_changes_nothing(pipeline: Pipeline):
    pipeline.rate_burst = 10  # within the rate: each gets its line (see the flood test below)
    await join(pipeline, ALICE, "Thorin")
    rec = Recorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=0.01)
    same = _unchanged(pipeline)
    for i, payload in enumerate([b"\xff\xfe\xfd", b"frobnicate the lich", b"look " * 42,
                                 b"atk", b"\x00\x01look"]):
        await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, payload, id=100 + i))
    # beyond what any radio can carry: dropped unanswered, but counted
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, "é".encode() * 300, id=200))
    assert pipeline.metrics.get("dungeon_text_dropped_total", reason="oversize") == 1
    assert same()
    assert len(rec.texts) == 5
    for to, text, _prio in rec.texts:
        assert to == 0xA1
        assert "\n" not in text and 0 < len(text.encode()) <= 200


async def test_public_results_are_one_broadcast_per_batch(pipeline: Pipeline, monkeypatch):
    from node.channels import text as tc_module

    monkeypatch.setattr(tc_module, "JOIN_GATHER_S", 0.02)  # a join's answer waits that long
    rec = Recorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=0.01)
    await join(pipeline, ALICE, "Thorin")
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"say hello", id=1))
    await tc.handle(Packet(0xB2, BROADCAST, TEXT_PORT, b"join Mira cleric", id=2))
    await asyncio.sleep(0.05)
    broadcasts = [t for to, t, _ in rec.texts if to == BROADCAST]
    assert len(broadcasts) == 1
    assert "Thorin" in broadcasts[0] and "Mira" in broadcasts[0]
    assert len(broadcasts[0].encode()) <= 200


async def test_garbage_spends_the_rate_limit_like_commands(pipeline: Pipeline):
    rec = Recorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=0.01)
    for i in range(20):  # a burst far beyond the rate, all at once
        await tc.handle(Packet(0xC3, BROADCAST, TEXT_PORT, b"frobnicate %d" % i, id=300 + i))
    assert len(rec.texts) == pipeline.rate_burst  # before: one error line for each of 20
    assert pipeline.metrics.get("dungeon_commands_dropped_total", reason="rate") == \
        20 - pipeline.rate_burst
