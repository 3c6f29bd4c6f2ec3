"""Floods: one radio must not take the node off the air, fill the join list or grow the party."""

from __future__ import annotations

import asyncio
from pathlib import Path

from nodehelpers import ALICE, join

from node.config import load_config
from node.obs.metrics import Metrics
from node.pipeline import MAX_JOINS_PER_SENDER, MAX_PENDING_JOINS, Command, Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, LoopbackTransport, Packet
from node.radio.budget import ERRORS, PLAYER, STRANGER, Budgets
from node.sim.mesh import NODE_NUM
from node.sim.virtual_loop import run_virtual
from node.wiring import build_node
from protocol.airtime import airtime_s
from rules import intents as it

FLOODER = 0x0BAD0001
GAP_S = 2.1  # a stock radio sends one text per 2 s from its app link, at most


def _air(packets: list[Packet], to: int) -> float:
    return sum(airtime_s(len(p.payload), "LONG_FAST") for p in packets if p.to == to)


def test_a_hundred_garbage_texts_cost_the_node_at_most_five_seconds(tmp_path: Path):
    """Through the node as shipped (build_node: channels, outbox, LONG_FAST), in virtual time."""

    async def main() -> tuple[float, list[Packet], int]:
        cfg = load_config(env={}, data_dir=tmp_path / "n", auto_approve=True, game_seed=7)
        radio = LoopbackTransport()
        app = build_node(cfg, radio, control=False, backups=False)
        await app.start()
        try:
            radio.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=1))
            for n in range(100):
                garbage = f"xyzzy{n} plugh".encode() if n % 3 else b"\xff\xfe%d" % n
                radio.inject(Packet(FLOODER, NODE_NUM if n % 2 else BROADCAST, TEXT_PORT,
                                    garbage, id=1000 + n))
                if n == 50:  # a real player acts mid-flood
                    looked_at = len(radio.sent)
                    radio.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=2))
                await asyncio.sleep(GAP_S)
            await asyncio.sleep(120)
            return _air(radio.sent, FLOODER), list(radio.sent), looked_at
        finally:
            await app.stop()

    air, sent, looked_at = run_virtual(main())
    assert air <= 5.0, air  # before: a reply to each, ~0.9 s apiece
    # the look's result went to the table; the flooder's budget was spent long before
    after = sent[looked_at:]
    first_table = next(i for i, p in enumerate(after) if p.to == BROADCAST)
    assert "Mossy" in after[first_table].payload.decode()
    assert not [p for p in after[:first_table] if p.to == FLOODER]


def test_budgets_player_stranger_and_errors():
    b = Budgets(known=lambda num: num == 0xA1)
    t = 0.0
    spent = {0xA1: 0.0, 0xC3: 0.0}
    for _ in range(100):  # 100 answers of 0.9 s at once, to a player and to a stranger
        for to in spent:
            if b.allow(to, 0.9, t):
                spent[to] += 0.9
    assert spent[0xA1] <= PLAYER.burst_s and spent[0xC3] <= STRANGER.burst_s
    assert spent[0xA1] > spent[0xC3]
    errors = sum(0.9 for _ in range(50) if b.allow(0xD4, 0.9, t, error=True))
    assert errors <= ERRORS.burst_s
    # the budget refills with time, slowly
    assert b.allow(0xC3, 0.9, t + 0.9 / STRANGER.refill_per_s + 1)


def test_many_made_up_numbers_share_one_strangers_budget():
    b = Budgets(known=lambda num: False)
    granted = sum(0.9 for n in range(1000) if b.allow(0x7000 + n, 0.9, 0.0))
    assert granted <= 20.0  # not 4 s for each of 1000 invented senders


async def test_one_radio_holds_at_most_two_pending_joins_newest_kept(pipeline: Pipeline):
    pipeline.auto_approve = False
    for n in range(10):  # one number, ten keys (an attacker trying to fill the list)
        pipeline.rate_burst = 100
        await pipeline.submit(Command("text", "!000000e1", it.Join(f"Evil{n}", "rogue"),
                                      public_key=bytes([n]) * 32))
    mine = [j.name for j in pipeline.pending_joins() if j.sender == "!000000e1"]
    assert mine == [f"Evil{n}" for n in range(10 - MAX_JOINS_PER_SENDER, 10)]


async def test_a_full_join_list_makes_room_and_a_real_player_still_gets_in(pipeline: Pipeline):
    pipeline.auto_approve = False
    for n in range(40):  # 40 made-up numbers, channel text: no key
        await pipeline.submit(Command("text", f"!7000{n:04x}", it.Join(f"Fake{n}", "rogue")))
    assert len(pipeline.joins) == MAX_PENDING_JOINS
    out = await pipeline.submit(Command("text", ALICE, it.Join("Thorin", "fighter"),
                                        public_key=b"T" * 32))
    assert out.ok and "sent to the DM" in out.text  # before: "too many join requests"
    thorin = next(j for j in pipeline.pending_joins() if j.name == "Thorin")
    assert (await pipeline.approve_join(thorin.id)).ok and pipeline.eids_of(ALICE)
    assert pipeline.metrics.get("dungeon_joins_evicted_total", reason="full") >= 9


async def test_stale_join_requests_expire_and_do_not_survive_a_restart(pipeline: Pipeline):
    pipeline.auto_approve = False
    for n in range(MAX_PENDING_JOINS):
        await pipeline.submit(Command("text", f"!7000{n:04x}", it.Join(f"Fake{n}", "rogue")))
    assert len(pipeline.joins) == MAX_PENDING_JOINS
    pipeline.clock.offset += 31 * 60  # the node is restarted half an hour later
    again = Pipeline(pipeline.store, node_id="test", clock=pipeline.clock, metrics=Metrics())
    assert again.joins == {}
    out = await again.submit(Command("text", ALICE, it.Join("Thorin", "fighter")))
    assert out.ok and [j.name for j in again.pending_joins()] == ["Thorin"]


async def test_auto_approve_stops_at_the_party_size_the_dm_sets(pipeline: Pipeline):
    pipeline.party_max = 2
    await join(pipeline, "!000000a1", "Thorin")
    await join(pipeline, "!000000a2", "Mira")
    out = await pipeline.submit(Command("text", "!000000a3", it.Join("Ilse", "wizard")))
    assert out.ok and out.seq is None and "sent to the DM" in out.text
    assert len(list(pipeline.game.party_eids())) == 2
    (req,) = pipeline.pending_joins()
    assert (await pipeline.approve_join(req.id)).ok  # the DM may still let a third in
    assert len(list(pipeline.game.party_eids())) == 3


async def test_an_unlinked_discord_user_cannot_make_a_character_even_with_auto_approve(
        pipeline: Pipeline):
    assert pipeline.auto_approve
    out = await pipeline.submit(Command("relay", "discord:42", it.Join("Eve", "rogue"), "d:1"))
    assert out.seq is None and "DM" in (out.text or "")
    assert not pipeline.eids_of("discord:42") and not list(pipeline.game.party_eids())
