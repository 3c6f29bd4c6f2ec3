"""The sans-I/O binary session: both sides driven by plain calls and a fake clock."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import codec, frames
from protocol.session import Apply, ClientSession, NodeSession, Result, Send
from protocol.session import node as ns
from protocol.session.client import Acked, GaveUp, Shown, Welcomed
from protocol.session.common import BROADCAST
from rules import intents as it
from rules.events import Joined

SECRET = b"node-secret"
NODE = 0x0D0D0001
MIRA, THORIN = 0x0D0F0001, 0x0D0F0002


@dataclass
class FakeTable:
    """Who has joined, and a game that is only a digest and a turn."""

    members: dict[int, int] = field(default_factory=dict)  # radio -> eid
    turn: int | None = None

    def eid_of(self, client: int) -> int | None:
        return self.members.get(client)

    def owner(self, eid: int) -> int | None:
        return next((c for c, e in self.members.items() if e == eid), None)

    def digest(self) -> int | None:
        return 0xDEADBEEF

    def current_turn(self) -> int | None:
        return self.turn

    def canonical(self) -> bytes | None:
        return b'{"room": 1}' * 40


def client(name: str = "Mira", nonce: bytes = b"\x00\x00\x00\x01", **kw) -> ClientSession:
    return ClientSession(name, nonce, rng=random.Random(1), **kw)


def welcome(node: NodeSession, cs: ClientSession, num: int, table: FakeTable,
            now: float = 0.0) -> list:
    """HELLO from cs as radio num; feed the node's answer back; the client's notes."""
    out = node.receive(num, cs.hello().data, now, table)
    if not sends(out):  # under firmware 2.8 the WELCOME waits for the batch's quiet spell
        out += run_until(node, table, now + ns.MAX_HOLD_S)
    notes = []
    for send in out:
        notes += cs.receive(NODE, send.to, num, send.data, now)
    return notes


def sends(outputs: list) -> list[Send]:
    return [o for o in outputs if isinstance(o, Send)]


def applies(outputs: list) -> list[Apply]:
    return [o for o in outputs if isinstance(o, Apply)]


def run_until(node: NodeSession, table: FakeTable, end: float) -> list:
    """Tick the node at each deadline up to `end`; everything it output."""
    out = []
    while (due := node.next_deadline()) is not None and due <= end:
        out += node.tick(due, table)
    return out


def test_hello_gives_the_client_its_own_key_and_the_table_key():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client()
    (note,) = welcome(node, cs, MIRA, table)
    assert note == Welcomed(None) and cs.node == NODE
    assert cs.key == frames.client_key(SECRET, MIRA, cs.nonce) and cs.table_key != cs.key
    other = client("Thorin", b"\x00\x00\x00\x02")
    welcome(node, other, THORIN, table)
    assert other.key != cs.key  # nobody can sign as anyone else


def test_a_stranger_gets_no_slot_and_a_joined_player_gets_one_with_its_ack():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client()
    welcome(node, cs, MIRA, table)
    assert cs.slot is None
    (seq,), packets = cs.send([it.Join("Mira", "cleric")], 1.0)
    (apply,) = applies(node.receive(MIRA, packets[0].data, 1.0, table))
    assert (apply.client, apply.seq) == (MIRA, seq)
    table.members[MIRA] = 1
    node.publish([Joined(1, "Mira", "cleric", 1)], 1.0)
    node.applied(MIRA, seq, Result(ok=True, public=True), 1.0, table)
    out = sends(run_until(node, table, 30.0))
    notes = [n for s in out for n in cs.receive(NODE, s.to, MIRA, s.data, 5.0)]
    assert Acked(seq, True) in notes and cs.slot == 1
    assert any(isinstance(n, Shown) and n.broadcast == 1 for n in notes)


def test_a_frame_with_a_bad_tag_is_dropped_counted_and_moves_no_window():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    mira = client()
    welcome(node, mira, MIRA, table)
    # Forged "from Mira" with the last possible seq, under a key that is not hers.
    forged = frames.encode_frame(frames.Frame(kind=frames.Kind.INTENT, sender_seq=frames.MAX_SEQ,
                                              payload=codec.encode_intent(it.Look())),
                                 frames.client_key(b"guess", MIRA, mira.nonce))
    assert node.receive(MIRA, forged, 1.0, table) == []
    assert node.stats()["bad_tag"] == 1
    (seq,), packets = mira.send([it.Look()], 2.0)
    assert [a.seq for a in applies(node.receive(MIRA, packets[0].data, 2.0, table))] == [seq]
    assert node.stats()["replays"] == 0


def test_a_hello_forged_in_a_players_name_does_not_lock_them_out():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    mira = client()
    welcome(node, mira, MIRA, table)
    forger = client("Mira", b"\x66\x66\x66\x66")
    out = node.receive(MIRA, forger.hello().data, 100.0, table)
    # the WELCOME goes to the real Mira, who ignores an answer to a HELLO she never sent
    assert [s.to for s in sends(out)] == [MIRA]
    assert mira.receive(NODE, MIRA, MIRA, out[0].data, 100.0) == []
    (seq,), packets = mira.send([it.Look()], 101.0)
    assert [a.seq for a in applies(node.receive(MIRA, packets[0].data, 101.0, table))] == [seq]


def test_a_rebooted_client_starts_again_at_seq_1_and_is_applied():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    first = client()
    welcome(node, first, MIRA, table)
    for now in (1.0, 2.0):
        _, packets = first.send([it.Look()], now)
        node.receive(MIRA, packets[0].data, now, table)
    rebooted = client(nonce=b"\x00\x00\x00\x09")
    welcome(node, rebooted, MIRA, table, now=50.0)
    got = []
    for now in (51.0, 52.0):
        _, packets = rebooted.send([it.Look()], now)
        got += applies(node.receive(MIRA, packets[0].data, now, table))
    assert [a.seq for a in got] == [1, 2]
    # and under new idempotency keys, so the store does not take them for repeats
    assert all(a.key.split(":")[1] == "00000009" for a in got)
    assert node.stats()["new_sessions"] == 1


def test_a_stranger_asking_for_state_is_refused_cheaply():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client()
    welcome(node, cs, MIRA, table)
    for i in range(20):
        assert node.receive(MIRA, cs.resync(b"").data, 10.0 + i, table) == []
    assert run_until(node, table, 1000.0) == []
    assert node.stats()["refused"] == 20 and node.stats()["snapshots"] == 0


def test_a_member_gets_a_snapshot_at_most_every_so_often():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    first = node.receive(MIRA, cs.resync(b"").data, 10.0, table)
    assert first and all(frames.decode_frame(s.data).kind == frames.Kind.SNAPSHOT for s in first)
    assert node.receive(MIRA, cs.resync(b"").data, 11.0, table) == []
    assert node.receive(MIRA, cs.resync(b"").data, 10.0 + ns.SNAPSHOT_GAP_S, table)


def test_hellos_from_made_up_radios_spend_a_small_shared_budget():
    node, table = NodeSession(SECRET), FakeTable()
    answered = sum(bool(node.receive(0x1000 + i, client(nonce=bytes(4)).hello().data, 0.0, table))
                   for i in range(30))
    assert answered == ns.STRANGER_WELCOMES
    assert node.stats()["hello_over_budget"] == 30 - ns.STRANGER_WELCOMES
    # the budget refills slowly
    assert node.receive(0x2000, client().hello().data, ns.STRANGER_REFILL_S, table)


def test_30_strangers_cannot_hold_the_slots_and_a_player_who_joins_gets_one():
    node, table = NodeSession(SECRET), FakeTable()
    for i in range(30):
        for send in sends(node.receive(0x1000 + i, client(nonce=bytes(4)).hello().data,
                                       i * ns.STRANGER_REFILL_S, table)):
            assert frames.decode_frame(send.data).flags == 0  # no slot for a stranger
    mira = client()
    table.members[MIRA] = 1
    welcome(node, mira, MIRA, table, now=1000.0)
    assert mira.slot == 1


def test_slots_go_back_from_players_who_left_or_went_idle():
    node, table = NodeSession(SECRET), FakeTable()
    players = [0x3000 + i for i in range(ns.MAX_SLOTS)]
    for i, num in enumerate(players):
        table.members[num] = i + 1
        welcome(node, client(nonce=bytes(4)), num, table)
    assert sorted(c.slot for c in node.clients.values()) == list(range(1, ns.MAX_SLOTS + 1))
    late = client(nonce=bytes(4))
    table.members[0x4000] = 99
    welcome(node, late, 0x4000, table, now=10.0)
    assert late.slot is None  # every slot is held by a joined, active player
    del table.members[players[3]]  # that player left the game
    latest = client(nonce=bytes(4))
    table.members[0x4001] = 100
    welcome(node, latest, 0x4001, table, now=20.0)
    assert latest.slot == 4 and node.clients[players[3]].slot == 0
    idle = client(nonce=b"\x00\x00\x00\x05")
    welcome(node, idle, 0x4000, table, now=ns.IDLE_S + 1.0)  # the others have said nothing
    assert idle.slot is not None


def test_an_intent_that_waits_for_a_lost_one_is_released_after_a_while():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    packets = [cs.send([it.Look()], float(i))[1][0].data for i in range(3)]
    assert [a.seq for a in applies(node.receive(MIRA, packets[0], 1.0, table))] == [1]
    assert applies(node.receive(MIRA, packets[2], 2.0, table)) == []  # 2 was lost
    assert node.next_deadline() == 2.0 + ns.IN_ORDER_WAIT_S
    assert [a.seq for a in applies(run_until(node, table, 100.0))] == [3]
    # 2 arriving after 3 went ahead is too late to apply in order: answered, not applied
    assert applies(node.receive(MIRA, packets[1], 101.0, table)) == []
    assert node.stats()["late"] == 1


def test_the_client_resends_unacked_intents_then_gives_up():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client(retry_s=10.0, max_tries=3)
    welcome(node, cs, MIRA, table)
    (seq,), _ = cs.send([it.Look()], 0.0)
    resends = []
    while (due := cs.next_deadline()) is not None:
        resends += cs.tick(due)
    assert len([r for r in resends if isinstance(r, Send)]) == 2
    assert resends[-1] == GaveUp((seq,)) and cs.need_hello and cs.pending() == []


def test_the_client_drops_broadcasts_not_signed_by_the_node():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client()
    welcome(node, cs, MIRA, table)
    # signed with a player's key, not the node's
    forged = frames.encode_frame(frames.Frame(kind=frames.Kind.EVENTS, sender_seq=frames.MAX_SEQ,
                                              payload=b""), cs.key)
    assert cs.receive(NODE, BROADCAST, MIRA, forged, 1.0) == []
    assert cs.gaps.latest == 0 and cs.bad_tags == 1


def test_a_client_that_needs_pki_refuses_a_plain_welcome_and_pins_the_node():
    node, table = NodeSession(SECRET), FakeTable()
    cs = client(require_pki=True)
    (send,) = node.receive(MIRA, cs.hello().data, 0.0, table)
    assert cs.receive(NODE, MIRA, MIRA, send.data, 0.0) == [] and cs.key is None
    assert cs.receive(NODE, MIRA, MIRA, send.data, 0.0, public_key=b"k" * 32)
    assert cs.key is not None and cs.node_public_key == b"k" * 32
    pinned = client()  # even without require_pki, a pinned node key must match from then on
    (send,) = node.receive(THORIN, pinned.hello().data, 0.0, table)
    assert pinned.receive(NODE, THORIN, THORIN, send.data, 0.0, public_key=b"k" * 32)
    for other in (None, b"x" * 32):
        assert pinned.receive(NODE, THORIN, THORIN, send.data, 9.0, public_key=other) == []
    assert pinned.refused_welcomes == 2


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 5), st.floats(0.0, 30.0)),
                                    max_size=25))
def test_any_order_loss_or_duplication_applies_each_intent_at_most_once_in_order(n, deliveries):
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    packets = [cs.send([it.Look()], 0.0)[1][0].data for _ in range(n)]
    got: list[int] = []
    now = 1.0
    for index, wait in deliveries:
        now += wait
        got += [a.seq for a in applies(run_until(node, table, now))]
        got += [a.seq for a in applies(node.receive(MIRA, packets[index % n], now, table))]
    got += [a.seq for a in applies(run_until(node, table, now + 1000.0))]
    assert got == sorted(set(got))
    if [i % n for i, _ in deliveries[:n]] == list(range(n)):
        assert got == list(range(1, n + 1))  # nothing lost or reordered: all of them


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=220), st.integers(0, 2**32 - 1))
def test_arbitrary_packets_from_anyone_never_apply_anything(data, sender):
    node, table = NodeSession(SECRET), FakeTable({sender: 1})
    assert applies(node.receive(sender, data, 0.0, table)) == []


def joined_pair(table: FakeTable) -> tuple[NodeSession, ClientSession, ClientSession]:
    """A node with Mira and Thorin welcomed and in the game (both told their slots)."""
    node = NodeSession(SECRET)
    mira, thorin = client(), client("Thorin", b"\x00\x00\x00\x02")
    table.members.update({MIRA: 1, THORIN: 2})
    welcome(node, mira, MIRA, table)
    welcome(node, thorin, THORIN, table)
    return node, mira, thorin


def broadcast(node: NodeSession, table: FakeTable, events: list, now: float) -> list[Send]:
    node.publish(events, now)
    return [s for s in sends(run_until(node, table, now + ns.MAX_HOLD_S)) if s.to == BROADCAST]


def test_a_silent_player_gets_the_frame_that_started_its_turn_again_until_it_acts():
    from rules.events import TurnStarted

    table = FakeTable()
    node, mira, _ = joined_pair(table)
    table.turn = 1
    (start,) = broadcast(node, table, [TurnStarted(1, 1)], 0.0)
    nudges = sends(run_until(node, table, ns.NUDGE_S + ns.MAX_HOLD_S + 1))
    assert [s.data for s in nudges] == [start.data] and node.stats()["nudges"] == 1
    _, packets = mira.send([it.Look()], 40.0)
    assert applies(node.receive(MIRA, packets[0].data, 40.0, table))  # she is alive
    assert sends(run_until(node, table, 500.0)) == [] and node.stats()["nudges"] == 1


def test_frames_asked_for_again_ride_with_the_next_broadcast_in_one_bundle():
    from rules.events import Said

    table = FakeTable()
    node, mira, thorin = joined_pair(table)
    (first,) = broadcast(node, table, [Said(1, "one")], 0.0)
    node.receive(THORIN, thorin.resync(frames.encode_rerequest(1, [])).data, 10.0, table)
    (packet,) = broadcast(node, table, [Said(1, "two")], 12.0)
    outer = frames.decode_frame(packet.data)
    old, new = frames.parse_bundle(outer.payload)
    assert outer.kind == frames.Kind.BUNDLE and old == first.data
    assert frames.decode_frame(new).sender_seq == 2 and node.stats()["resent"] == 1


def test_after_a_node_restart_the_same_secret_and_nonce_give_the_same_key_and_dedupe():
    table = FakeTable({MIRA: 1})
    before, mira = NodeSession(SECRET), client()
    welcome(before, mira, MIRA, table)
    (seq,), packets = mira.send([it.Look()], 1.0)
    (first,) = applies(before.receive(MIRA, packets[0].data, 1.0, table))
    after = NodeSession(SECRET)  # restarted: it knows no client
    assert after.receive(MIRA, packets[0].data, 2.0, table) == []
    assert after.stats()["bad_tag"] == 1
    key = mira.key
    welcome(after, mira, MIRA, table, now=3.0)  # the client says HELLO again, same nonce
    assert mira.key == key
    (again,) = applies(after.receive(MIRA, packets[0].data, 4.0, table))
    assert again.key == first.key  # so the store answers it as the repeat it is


def test_the_node_remembers_a_bounded_number_of_strangers_and_every_player():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    welcome(node, client(), MIRA, table)
    for i in range(3 * ns.MAX_CLIENTS):
        node.receive(0x5000 + i, client(nonce=bytes(4)).hello().data,
                     (i + 1) * ns.STRANGER_REFILL_S, table)
    assert len(node.clients) == ns.MAX_CLIENTS and MIRA in node.clients


def test_a_client_missing_snapshot_fragments_gets_just_those_again():
    from protocol.session.client import Snapshot

    table = FakeTable({MIRA: 1})
    node, cs = NodeSession(SECRET), client()
    welcome(node, cs, MIRA, table)
    state = random.Random(3).randbytes(700)  # does not deflate: several fragments
    table.canonical = lambda: state
    fragments = node.receive(MIRA, cs.snapshot_request(1.0).data, 1.0, table)
    assert len(fragments) >= 3
    for send in fragments[1:-1]:  # the first and the last were lost
        assert cs.receive(NODE, MIRA, MIRA, send.data, 2.0) == []
    ask = cs.snapshot_request(30.0)
    assert frames.decode_frame(ask.data).flags == frames.RESYNC_FRAGMENTS
    again = node.receive(MIRA, ask.data, 30.0, table)
    assert [s.data for s in again] == [fragments[0].data, fragments[-1].data]
    notes = [n for s in again for n in cs.receive(NODE, MIRA, MIRA, s.data, 31.0)]
    assert [type(n) for n in notes] == [Snapshot]
    assert node.stats()["snapshots"] == 1 and node.stats()["fragments_resent"] == 2


def test_decisions_queued_together_and_their_repeats_share_a_packet():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client(retry_s=10.0)
    welcome(node, cs, MIRA, table)
    for word in ("amber", "basalt", "cinder"):
        cs.queue([it.Say(word)], 0.0)
    (packet,) = cs.outgoing()
    assert cs.outgoing() == []  # sent once
    assert [a.seq for a in applies(node.receive(MIRA, packet.data, 1.0, table))] == [1, 2, 3]
    (again,) = [s for s in cs.tick(10.0) if isinstance(s, Send)]
    assert [f.sender_seq for f in frames.received(again.data, cs.key)] == [1, 2, 3]


def test_an_intent_dropped_for_its_senders_rate_is_applied_again_later_in_order():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    for word in ("a", "b", "c"):
        cs.queue([it.Say(word)], 0.0)
    (packet,) = cs.outgoing()
    first = applies(node.receive(MIRA, packet.data, 1.0, table))
    node.applied(MIRA, 1, Result(ok=True, public=True), 1.0, table)
    for item in first[1:]:  # the sender's burst ran out
        node.applied(MIRA, item.seq, Result(ok=False, dropped=True), 1.0, table)
    again = applies(run_until(node, table, 1.0 + ns.FLOOD_RETRY_S))
    assert again == first[1:]  # the same intents, same idempotency keys, in order
    tries = len(again)
    while again:  # a real flood: given up after a few tries
        for item in again:
            node.applied(MIRA, item.seq, Result(ok=False, dropped=True), 10.0 * tries, table)
        again = applies(run_until(node, table, 10.0 * tries + ns.FLOOD_RETRY_S))
        tries += len(again)
    assert tries == 2 * ns.FLOOD_RETRIES


def test_a_repeat_whose_acking_broadcast_was_lost_gets_an_ack_frame_as_well():
    from rules.events import Said

    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    seqs = [cs.queue([it.Say(word)], 0.0)[0] for word in ("amber", "basalt", "cinder")]
    (packet,) = cs.outgoing()
    for item in applies(node.receive(MIRA, packet.data, 1.0, table)):
        node.applied(MIRA, item.seq, Result(ok=True, public=True), 1.0, table)
        node.publish([Said(1, item.intent.text)], 1.0)
    lost = sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))  # the acking broadcast: lost
    assert [s.to for s in lost] == [BROADCAST] and cs.pending() == seqs
    (repeat,) = [s for s in cs.tick(cs.next_deadline()) if isinstance(s, Send)]
    node.receive(MIRA, repeat.data, 17.0, table)
    answer = sends(run_until(node, table, 17.0 + ns.MAX_HOLD_S))
    # The resent broadcast is lost at a relay again; the small ACK frame gets through.
    (ack,) = [s for s in answer if s.to == MIRA]
    assert [s.to for s in answer].count(BROADCAST) == 1
    notes = cs.receive(NODE, ack.to, MIRA, ack.data, 24.0)
    assert [n.seq for n in notes if isinstance(n, Acked)] == seqs and cs.pending() == []
    # Its header names the broadcast the client missed: it asks for the results itself.
    assert cs.gaps.missing() == [1] and cs.next_deadline() is not None


def test_a_player_whose_welcomes_keep_getting_lost_is_answered_every_16_s():
    # Over lossy hops several WELCOMEs in a row can be lost; the same HELLO (the key the
    # radio already has) is answered again after two gaps at most, not 8 * 2**5 s later.
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    mira = client()
    answered_at = []
    for t in range(0, 200, 4):  # the client repeats its HELLO every 4 s; every answer is lost
        if sends(node.receive(MIRA, mira.hello().data, float(t), table)):
            answered_at.append(t)
    gaps = [b - a for a, b in zip(answered_at, answered_at[1:], strict=False)]
    assert len(answered_at) >= 10 and max(gaps) <= 2 * ns.WELCOME_GAP_S
    # HELLOs inside the gap are still refused: a replayed HELLO buys one WELCOME a gap
    assert node.stats()["hello_too_soon"] > 0


def test_a_repeated_query_whose_private_answer_was_lost_gets_that_answer_again():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    (seq,), (packet,) = cs.send([it.Query("hp")], 1.0)
    (item,) = applies(node.receive(MIRA, packet.data, 1.0, table))
    node.applied(MIRA, item.seq, Result(ok=True, text="Mira: 9/9 HP"), 1.0, table)
    lost = sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))  # the private answer: lost
    assert [s.to for s in lost] == [MIRA] and cs.pending() == [seq]
    (repeat,) = [s for s in cs.tick(cs.next_deadline()) if isinstance(s, Send)]
    node.receive(MIRA, repeat.data, 17.0, table)
    answer = sends(run_until(node, table, 17.0 + ns.MAX_HOLD_S))
    notes = [n for s in answer for n in cs.receive(NODE, s.to, MIRA, s.data, 24.0)]
    # Acked, and shown: a bare ACK frame would end the wait with nothing to show
    assert Acked(seq, False) in notes and cs.pending() == []
    shown = [ev.text for n in notes if isinstance(n, Shown) for ev in n.events]
    assert shown == ["Mira: 9/9 HP"]


def test_decisions_sent_a_moment_apart_are_resent_together_in_one_packet():
    # A script's lines are read one at a time: each went in its own packet, then fell due
    # for a resend a moment after the one before, and every resend pair met at the relay.
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    seqs = []
    for i, line in enumerate((it.Look(), it.Query("hp"), it.Say("hello table"))):
        seq, _ = cs.send([line], 0.3 * i)
        seqs += seq
    packets = []
    while (due := cs.next_deadline()) is not None and due < 40.0:
        packets += [s for s in cs.tick(due) if isinstance(s, Send)]
    first = packets[0]
    assert [f.sender_seq for f in frames.received(first.data, cs.key)] == seqs
    assert len(packets) == 2  # one packet per retry, not one per decision


def test_a_line_told_to_one_client_reaches_it_alone_as_a_private_answer():
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1, THORIN: 2})
    mira, thorin = client(), client("Thorin", b"\x00\x00\x00\x02")
    welcome(node, mira, MIRA, table)
    welcome(node, thorin, THORIN, table)
    assert node.tell(0x0BADBEEF, "nobody", 1.0) == [] and node.next_deadline() is None
    node.tell(MIRA, "Mira, 20 s left in your turn.", 1.0)
    out = sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))
    assert [s.to for s in out] == [MIRA]
    notes = mira.receive(NODE, MIRA, MIRA, out[0].data, 5.0)
    assert [ev.text for n in notes if isinstance(n, Shown) for ev in n.events] == [
        "Mira, 20 s left in your turn."]
    assert thorin.receive(NODE, MIRA, THORIN, out[0].data, 5.0) == []


def test_under_firmware_28_a_broadcast_is_grown_past_the_signed_size_where_that_is_cheaper():
    from rules.events import Said

    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    node.signed_up_to = 166  # the driver's radio signs broadcasts of 166 B or less
    mira = client()
    welcome(node, mira, MIRA, table)
    packets = []
    for i, words in enumerate(("a" * 10, "b" * 90, "c" * 5)):
        node.publish([Said(1, words)], 10.0 * i)
        packets += sends(run_until(node, table, 10.0 * i + ns.MAX_HOLD_S))
    first, second, third = (p.data for p in packets)
    # short: its signature (66 B more on air) costs less than growing it to 167 B
    assert len(first) < 40 and len(third) < 40 and frames.split(third) == [third]
    # 110 B: 57 B more make it long enough not to be signed; the frame before it rides in them
    assert len(second) == 167
    notes = mira.receive(NODE, BROADCAST, MIRA, second, 30.0)  # the first one was lost
    assert [n.broadcast for n in notes if isinstance(n, Shown)] == [1, 2]
    assert mira.gaps.missing() == [] and node.stats()["carried"] == 1
    # A radio that signs nothing (firmware 2.7) sends its broadcasts as they are.
    plain = NodeSession(SECRET)
    welcome(plain, client(), MIRA, table)
    plain.publish([Said(1, "b" * 90)], 0.0)
    assert len(sends(run_until(plain, table, ns.MAX_HOLD_S))[0].data) < 120


def test_a_player_is_warned_of_its_turn_timing_out_only_if_silent_since_it_began():
    from rules.events import TurnStarted

    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    mira = client()
    welcome(node, mira, MIRA, table)
    node.publish([TurnStarted(1, 1)], 1.0)
    run_until(node, table, 1.0 + ns.MAX_HOLD_S)
    node.warn(MIRA, "Mira, 20 s left in your turn.", 70.0)
    (warning,) = sends(run_until(node, table, 70.0 + ns.MAX_HOLD_S))
    shown = [n for n in mira.receive(NODE, MIRA, MIRA, warning.data, 75.0) if isinstance(n, Shown)]
    assert [ev.text for n in shown for ev in n.events] == ["Mira, 20 s left in your turn."]
    # Next turn she answers (her command lost on the way): no warning, it would not help.
    node.publish([TurnStarted(2, 1)], 100.0)
    run_until(node, table, 100.0 + ns.MAX_HOLD_S)
    _, (packet,) = mira.send([it.EndTurn()], 110.0)
    node.receive(MIRA, packet.data, 111.0, table)
    run_until(node, table, 111.0 + ns.MAX_HOLD_S)
    assert node.warn(MIRA, "Mira, 20 s left in your turn.", 170.0) == []
    assert node.stats()["warnings_skipped"] == 1
    # Her packet also asked for the frames she missed (resync.ALONE_AFTER_S): what is left
    # to do is their resend to the table, nothing for her alone.
    assert node.stats()["resyncs"] == 1
    assert {s.to for s in sends(run_until(node, table, 200.0))} == {BROADCAST}
    assert node.next_deadline() is None


def test_a_clients_private_answer_and_its_ack_go_in_one_packet():
    from rules.events import Said

    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    cs.queue([it.Query("hp")], 0.0)
    cs.queue([it.Say("onward")], 0.0)
    (packet,) = cs.outgoing()
    hp, say = applies(node.receive(MIRA, packet.data, 1.0, table))
    node.applied(MIRA, hp.seq, Result(ok=True, text="Mira: 9/9 HP"), 1.0, table)
    node.publish([Said(1, "onward")], 1.0)
    node.applied(MIRA, say.seq, Result(ok=True, public=True), 1.0, table)
    sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))  # the answer and the broadcast: lost
    (repeat,) = [s for s in cs.tick(cs.next_deadline()) if isinstance(s, Send)]
    node.receive(MIRA, repeat.data, 30.0, table)
    (direct,) = [s for s in sends(run_until(node, table, 30.0 + ns.MAX_HOLD_S)) if s.to == MIRA]
    notes = cs.receive(NODE, MIRA, MIRA, direct.data, 40.0)
    assert {n.seq for n in notes if isinstance(n, Acked)} == {hp.seq, say.seq}
    assert [ev.text for n in notes if isinstance(n, Shown) for ev in n.events] == ["Mira: 9/9 HP"]


def plain_hello(node: NodeSession, cs: ClientSession, num: int, table: FakeTable) -> None:
    """A HELLO as clients sent it before HELLO_DM_FRAMES (no flags); its WELCOME fed back."""
    hello = frames.encode_frame(frames.Frame(kind=frames.Kind.HELLO, payload=frames.hello_payload(
        cs.name, cs.nonce)))
    out = node.receive(num, hello, 0.0, table) + run_until(node, table, ns.MAX_HOLD_S)
    for send in sends(out):
        cs.receive(NODE, send.to, num, send.data, 0.0)
    assert cs.key is not None


@pytest.mark.parametrize(("signed_up_to", "reads_dm_frames", "alone"), [
    (166, True, True),  # firmware 2.8: 21 B + 12 B of PKI cost less than 21 B + 66 B signed
    (0, True, False),  # firmware 2.7: the broadcast costs 12 B less than a DM
    (166, False, False),  # a client from before HELLO_DM_FRAMES would drop it as a bad tag
])
def test_a_silent_players_turn_frame_goes_to_it_alone_when_a_dm_is_cheaper(
        signed_up_to, reads_dm_frames, alone):
    from rules.events import TurnStarted

    table = FakeTable({MIRA: 1})
    node, mira = NodeSession(SECRET), client()
    if reads_dm_frames:
        welcome(node, mira, MIRA, table)
        assert frames.decode_frame(mira.hello().data).flags == frames.HELLO_DM_FRAMES
    else:
        plain_hello(node, mira, MIRA, table)
    node.signed_up_to = signed_up_to
    table.turn = 1
    (start,) = broadcast(node, table, [TurnStarted(1, 1)], 0.0)
    (nudge,) = sends(run_until(node, table, ns.NUDGE_S + ns.MAX_HOLD_S + 1))
    assert nudge.data == start.data and node.stats()["nudges"] == 1
    assert nudge.to == (MIRA if alone else BROADCAST)
    assert node.stats()["resent_direct"] == int(alone)
    # Mira missed the broadcast: the copy, DM or not, is broadcast frame 1 and starts her turn
    notes = mira.receive(NODE, nudge.to, MIRA, nudge.data, 40.0)
    assert [(n.broadcast, n.events[0]) for n in notes if isinstance(n, Shown)] == [
        (1, TurnStarted(1, 1))]
    assert mira.gaps.missing() == [] and mira.bad_tags == 0


@pytest.mark.parametrize("signed_up_to", [166, 0])
def test_under_firmware_28_acks_the_flags_cannot_carry_ride_in_the_broadcast(signed_up_to):
    from rules.events import Said

    table = FakeTable()
    node, mira, thorin = joined_pair(table)
    node.signed_up_to = signed_up_to
    seqs = {}
    for num, cs in ((MIRA, mira), (THORIN, thorin)):
        (seq,), (packet,) = cs.send([it.Say(cs.name)], 1.0)
        (item,) = applies(node.receive(num, packet.data, 1.0, table))
        node.publish([Said(1, cs.name)], 1.0)
        node.applied(num, item.seq, Result(ok=True, public=True), 1.0, table)
        seqs[num] = seq
    out = sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))
    # The broadcast's flags carry Mira's ack; Thorin's rides in it (2.8) or goes by DM (2.7).
    assert [s.to for s in out] == [BROADCAST] if signed_up_to else [BROADCAST, THORIN]
    assert node.stats()["acks_riding"] == (1 if signed_up_to else 0)
    for num, cs in ((MIRA, mira), (THORIN, thorin)):
        notes = [n for s in out for n in cs.receive(NODE, s.to, num, s.data, 5.0)]
        assert Acked(seqs[num], True) in notes and cs.pending() == []
        assert cs.bad_tags == 0  # the other's ACK in the broadcast is not a forgery
        assert [n.broadcast for n in notes if isinstance(n, Shown)] == [1]


@pytest.mark.parametrize("signed_up_to", [166, 0])
def test_under_firmware_28_a_welcome_waits_for_the_batchs_quiet_spell(signed_up_to):
    node, table, cs = NodeSession(SECRET), FakeTable(), client()
    node.signed_up_to = signed_up_to
    now = sends(node.receive(MIRA, cs.hello().data, 0.0, table))
    later = sends(run_until(node, table, ns.MAX_HOLD_S))
    (welcome_,) = later if signed_up_to else now
    assert not (later if not signed_up_to else now)
    assert welcome_.to == MIRA and not welcome_.charged
    assert any(isinstance(n, Welcomed) for n in cs.receive(NODE, MIRA, MIRA, welcome_.data, 9.0))


def missing_one(table: FakeTable) -> tuple[NodeSession, ClientSession]:
    """A joined pair whose Mira heard the node's first and third broadcasts, not the second."""
    from rules.events import Said

    node, mira, _ = joined_pair(table)
    first, _, third = (broadcast(node, table, [Said(1, w)], t)[0]
                       for w, t in (("a", 0.0), ("b", 10.0), ("c", 20.0)))
    for packet in (first, third):
        mira.receive(NODE, BROADCAST, MIRA, packet.data, 30.0)
    assert mira.gaps.missing() == [node.bseq - 1]
    return node, mira


def test_a_missed_frame_is_asked_for_in_the_next_packet_of_intents_not_in_one_of_its_own():
    from protocol.resync import ALONE_AFTER_S, FIRST_WAIT_S, TURN_S

    # Past her turn to ask (slot 1: FIRST_WAIT_S) she waits for a packet to ride in.
    table = FakeTable()
    node, mira = missing_one(table)
    later = 30.0 + FIRST_WAIT_S + TURN_S
    assert mira.tick(later) == []
    _, (packet,) = mira.send([it.Look()], later)
    kinds = [frames.decode_frame(p).kind for p in frames.split(packet.data)]
    assert kinds == [frames.Kind.INTENT, frames.Kind.RESYNC]
    assert applies(node.receive(MIRA, packet.data, later + 1.0, table))
    assert node.stats()["resyncs"] == 1
    # With no intents to carry it, the request goes on its own, ALONE_AFTER_S later.
    _, mira = missing_one(FakeTable())
    due = mira.next_deadline()
    assert due is not None and due >= 30.0 + ALONE_AFTER_S + FIRST_WAIT_S
    (alone,) = mira.tick(due)
    assert frames.decode_frame(alone.data).kind == frames.Kind.RESYNC


def test_a_request_that_would_need_a_packet_of_its_own_does_not_ride():
    _, mira = missing_one(FakeTable())
    ask = mira.resync(mira.gaps.request()[0]).data
    # A command long enough that the request would spill into a second packet right
    # behind the first: it waits for a later packet (or goes alone).
    for size in range(60, frames.MAX_FRAME):
        probe = client()
        probe.key = mira.key
        probe.queue([it.Say("x" * size)], 0.0)
        (alone,) = probe.outgoing(0.0)
        if len(frames.pack([alone.data, ask], 1)) > 1:
            break
    _, packets = mira.send([it.Say("x" * size)], 60.0)
    assert len(packets) == 1
    kinds = [frames.decode_frame(p).kind for p in frames.split(packets[0].data)]
    assert kinds == [frames.Kind.INTENT] and mira.gaps.missing()


def test_a_long_private_answer_reaches_the_client_whole_in_one_packet():
    # A paladin's sheet is about 150 B; private answers were cut at 120 ("lay on hands 5…").
    sheet = ("Pal, paladin 1: HP 11/11, AC 18, STR15 DEX10 CON13 INT8 WIS12 CHA14, prof +2, "
             "XP 0; longsword,javelin; lay on hands 5; carry 88/225 lb.")
    node, table = NodeSession(SECRET), FakeTable({MIRA: 1})
    cs = client()
    welcome(node, cs, MIRA, table)
    (seq,), (packet,) = cs.send([it.Query("sheet")], 1.0)
    (item,) = applies(node.receive(MIRA, packet.data, 1.0, table))
    node.applied(MIRA, item.seq, Result(ok=True, text=sheet), 1.0, table)
    out = sends(run_until(node, table, 1.0 + ns.MAX_HOLD_S))
    assert [s.to for s in out] == [MIRA]
    notes = [n for s in out for n in cs.receive(NODE, s.to, MIRA, s.data, 5.0)]
    assert [ev.text for n in notes if isinstance(n, Shown) for ev in n.events] == [sheet]
    assert Acked(seq, False) in notes
