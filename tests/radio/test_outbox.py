"""The outbox: pacing, coalescing, priority, broadcast-once, duty cycle and channel back-off."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.clock import Clock
from node.obs.metrics import Metrics
from node.radio import outbox
from node.radio.base import (
    BROADCAST,
    GAME_PORT,
    TEXT_PORT,
    LoopbackTransport,
    Packet,
    RadioInfo,
)
from node.radio.outbox import SEPARATOR, Outbox, Priority
from node.sim.phy import slot_time_s
from node.sim.virtual_loop import run_virtual
from protocol.airtime import airtime_s


@dataclass
class BusyRadio(LoopbackTransport):
    """A loopback radio whose reported channel utilisation and own airtime the test sets."""

    util: float = 0.0
    air_util_tx: float = 0.0

    def stats(self) -> dict[str, float]:
        return {"channel_util": self.util, "air_util_tx": self.air_util_tx}


def drive(script, transport=None, *, region="EU_868", run_for=60.0):
    """Run `script(outbox)` with the drain task on a virtual-time loop for run_for seconds."""
    radio = transport or LoopbackTransport()

    async def main():
        loop = asyncio.get_running_loop()
        ob = Outbox(radio, clock=Clock.for_loop(loop, 0.0), metrics=Metrics(), region=region)
        task = asyncio.create_task(ob.run())
        await script(ob)
        await asyncio.sleep(run_for)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ob

    ob = run_virtual(main())
    return ob, radio.sent


def texts(sent: list[Packet]) -> list[Packet]:
    return [p for p in sent if p.port == TEXT_PORT]


def test_texts_are_spaced_beyond_the_firmware_window():
    async def script(ob):
        for n in range(6):
            ob.submit_text(0x100 + n, f"reply {n}", priority=Priority.REPLY)

    ob, sent = drive(script)
    t = [p.rx_time for p in texts(sent)]
    assert len(t) == 6
    gaps = [b - a for a, b in zip(t, t[1:], strict=False)]
    assert min(gaps) > 2.0
    assert ob.stats()["sent"] == 6


def test_texts_for_one_recipient_coalesce_into_one_packet():
    async def script(ob):
        ob.submit_text(0x100, "first", priority=Priority.REPLY)  # goes at once
        for n in range(4):
            ob.submit_text(0x200, f"line {n}", priority=Priority.RESULT)

    ob, sent = drive(script)
    to_200 = [p for p in texts(sent) if p.to == 0x200]
    assert len(to_200) == 1
    assert to_200[0].payload.decode() == SEPARATOR.join(f"line {n}" for n in range(4))
    assert ob.stats()["coalesced"] == 3


def test_coalescing_never_exceeds_one_packet():
    async def script(ob):
        ob.submit_text(0x100, "first", priority=Priority.REPLY)
        for n in range(6):
            ob.submit_text(0x200, f"{n}" + "x" * 60, priority=Priority.RESULT)

    _, sent = drive(script)
    to_200 = [p for p in texts(sent) if p.to == 0x200]
    assert all(len(p.payload) <= 200 for p in to_200)
    joined = SEPARATOR.join(p.payload.decode() for p in to_200)
    assert [part[0] for part in joined.split(SEPARATOR)] == [str(n) for n in range(6)]
    assert 1 < len(to_200) < 6


def test_prompt_goes_before_queued_chatter():
    async def script(ob):
        ob.submit_text(0x100, "busy", priority=Priority.REPLY)
        await asyncio.sleep(0.1)  # "busy" holds the text slot while the rest queue up
        for n in range(3):
            ob.submit_text(0x300 + n, f"chatter {n}", priority=Priority.CHATTER)
        ob.submit_text(0x400, "Your turn, Mira", priority=Priority.PROMPT)

    _, sent = drive(script)
    order = [p.payload.decode() for p in texts(sent)]
    assert order[:2] == ["busy", "Your turn, Mira"]


def test_the_same_broadcast_is_queued_once():
    async def script(ob):
        ob.submit_text(0x100, "busy", priority=Priority.REPLY)
        for _ in range(4):
            ob.submit_text(BROADCAST, "Thorin hits Gob1", priority=Priority.RESULT)

    _, sent = drive(script)
    bcast = [p for p in texts(sent) if p.to == BROADCAST]
    assert [p.payload.decode() for p in bcast] == ["Thorin hits Gob1"]


def test_binary_is_not_held_by_text_pacing_and_acks_are_asked_where_needed():
    async def script(ob):
        ob.submit_text(0x100, "one", priority=Priority.REPLY)
        ob.submit_text(0x101, "two", priority=Priority.REPLY)
        ob.submit_binary(BROADCAST, b"\x01\x02", priority=Priority.RESULT)
        ob.submit_binary(0x100, b"\x03", priority=Priority.REPLY)

    direct = LoopbackTransport()
    direct.info = RadioInfo(node_num=0x0D0D0001, hop_limit=0)  # no relays to wait for
    _, sent = drive(script, direct)
    assert [p.port for p in sent] == [TEXT_PORT, GAME_PORT, GAME_PORT, TEXT_PORT]
    # texts ask the firmware for (implicit) acks; binary frames are acked by the protocol
    assert [(p.to, p.want_ack) for p in sent[1:3]] == [(0x100, False), (BROADCAST, False)]
    assert sent[0].want_ack and sent[3].want_ack


def test_binary_over_one_packet_is_a_bug():
    async def script(ob):
        with pytest.raises(ValueError, match="exceeds"):
            ob.submit_binary(BROADCAST, bytes(201), priority=Priority.RESULT)

    ob, sent = drive(script, run_for=1)
    assert sent == [] and ob.stats()["queue"] == 0


def rolling_hour_max(sent: list[Packet]) -> float:
    worst = 0.0
    for i, p in enumerate(sent):
        window = [q for q in sent[i:] if q.rx_time < p.rx_time + 3600]
        worst = max(worst, sum(airtime_s(len(q.payload)) for q in window))
    return worst


def test_duty_cycle_budget_holds_over_any_rolling_hour():
    async def script(ob):
        for _ in range(400):  # about 700 s of airtime asked for
            ob.submit_binary(BROADCAST, bytes(180), priority=Priority.CHATTER)

    ob, sent = drive(script, run_for=3 * 3600)
    stats = ob.stats()
    assert stats["duty_budget_s"] <= 360
    assert stats["deferred_for_duty"] > 0
    assert len(sent) == 400  # deferred, not dropped
    assert rolling_hour_max(sent) <= stats["duty_budget_s"] + 1e-6


def test_regions_without_a_limit_have_no_budget():
    async def script(ob):
        for _ in range(300):
            ob.submit_binary(BROADCAST, bytes(180), priority=Priority.CHATTER)

    ob, sent = drive(script, region="US", run_for=3600)
    assert ob.stats()["duty_budget_s"] is None
    assert ob.stats()["deferred_for_duty"] == 0
    assert len(sent) == 300
    assert rolling_hour_max(sent) > 360


def test_busy_channel_holds_chatter_but_not_what_players_wait_for():
    radio = BusyRadio(util=0.4)

    async def script(ob):
        ob.submit_text(0x100, "someone says hi", priority=Priority.CHATTER)
        ob.submit_text(0x200, "Your turn", priority=Priority.PROMPT)
        ob.submit_binary(BROADCAST, b"result", priority=Priority.RESULT)
        await asyncio.sleep(10)
        assert [p.payload for p in radio.sent] == [b"result", b"Your turn"]
        radio.util = 0.1

    ob, sent = drive(script, radio, run_for=10)
    # the prompt after the result it follows from: the prompted player answers at once
    assert [p.payload for p in sent] == [b"result", b"Your turn", b"someone says hi"]
    assert sent[2].rx_time >= 10
    assert ob.stats()["deferred_for_util"] >= 1


def test_busy_channel_does_not_stall_the_game_forever():
    radio = BusyRadio(util=55.0)  # firmware-style percent

    async def script(ob):
        ob.submit_binary(BROADCAST, b"x", priority=Priority.CHATTER)

    ob, sent = drive(script, radio, run_for=120)
    assert len(sent) == 1 and sent[0].rx_time >= 25
    assert ob.stats()["channel_util"] == pytest.approx(0.55)


def test_stats_report_airtime_and_last_packets():
    async def script(ob):
        ob.submit_binary(0x42, bytes(60), priority=Priority.REPLY)

    ob, _ = drive(script, run_for=5)
    st_ = ob.stats()
    assert st_["airtime_used_s"] == pytest.approx(airtime_s(60), abs=1e-3)
    assert st_["last_packets"] == [{"to": 0x42, "port": GAME_PORT, "bytes": 60, "t": 0.0}]


submissions = st.lists(
    st.tuples(
        st.sampled_from([0x100, 0x200, BROADCAST]),
        st.text(min_size=1, max_size=60),
        st.sampled_from(list(Priority)),
        st.floats(min_value=0, max_value=20),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(submissions)
def test_every_text_is_delivered_whole_within_one_packet_and_paced(subs):
    async def script(ob):
        for to, text, prio, delay in sorted(subs, key=lambda s: s[3]):
            await asyncio.sleep(delay - asyncio.get_running_loop().time())
            ob.submit_text(to, text, priority=prio)

    ob, sent = drive(script, run_for=600)
    assert all(len(p.payload) <= 200 for p in sent)
    t = [p.rx_time for p in sent]
    assert all(b - a >= 2.0 for a, b in zip(t, t[1:], strict=False))
    for to in {s[0] for s in subs}:
        want = sorted(s[1] for s in subs if s[0] == to)
        got = SEPARATOR.join(p.payload.decode() for p in sent if p.to == to)
        for text in set(want):
            assert text in got
    assert ob.stats()["queue"] == 0


def test_a_long_text_is_cut_on_a_utf8_boundary():
    long = "Mira ⚔ " * 60  # multi-byte characters, far over one packet

    async def script(ob):
        ob.submit_text(0x100, long, priority=Priority.REPLY)

    _, sent = drive(script, run_for=5)
    (pkt,) = sent
    assert len(pkt.payload) <= 200
    text = pkt.payload.decode("utf-8")  # raises if a character was split
    assert long.startswith(text.rstrip("…").rstrip())


def test_the_radios_own_airtime_counts_against_the_budget():
    # Firmware retransmissions and relaying spend airtime the outbox never sent itself.
    radio = BusyRadio(air_util_tx=0.08)  # 288 s of the last hour: the whole budget

    async def script(ob):
        ob.submit_binary(BROADCAST, bytes(180), priority=Priority.PROMPT)
        await asyncio.sleep(60)
        assert radio.sent == []
        radio.air_util_tx = 0.05

    ob, sent = drive(script, radio, run_for=60)
    assert len(sent) == 1 and sent[0].rx_time >= 60
    assert ob.stats()["deferred_for_duty"] >= 1


def _send_times(hop_limit):
    radio = LoopbackTransport()
    radio.info = RadioInfo(node_num=0x0D0D0001, hop_limit=hop_limit)

    async def script(ob):
        for i in range(3):
            ob.submit_binary(BROADCAST, bytes([i]) * 60, priority=Priority.RESULT)

    ob, _ = drive(script, radio)
    return [p["t"] for p in ob.last_packets]


def test_the_next_packet_waits_for_the_relays_to_repeat_the_last():
    air = airtime_s(60, "LONG_FAST")
    window = outbox.RELAY_WINDOW_SLOTS * slot_time_s("LONG_FAST")
    alone, one_relay, many = _send_times(0), _send_times(1), _send_times(5)
    assert len(alone) == len(one_relay) == len(many) == 3
    gaps = [[b - a for a, b in zip(ts, ts[1:], strict=False)] for ts in (alone, one_relay, many)]
    assert all(g == pytest.approx(air, abs=0.01) for g in gaps[0])
    assert all(g == pytest.approx(2 * air + window, abs=0.01) for g in gaps[1])
    # only the relays within earshot of us can be talked over
    assert all(g == pytest.approx(3 * air + 2 * window, abs=0.01) for g in gaps[2])


def test_a_want_ack_dm_to_us_keeps_the_next_packet_off_its_routing_ack():
    """Our radio acks such a DM at once and the relays repeat the ack: the next packet
    waits for that, as it would for a repeat of our own packet."""
    me = 0x0D0D0001

    def first_send(packet: Packet) -> float:
        radio = LoopbackTransport()
        radio.info = RadioInfo(node_num=me, hop_limit=3)

        async def script(ob):
            ob.heard(packet)
            ob.submit_binary(BROADCAST, b"result", priority=Priority.RESULT)

        ob, _ = drive(script, radio)
        return ob.last_packets[0]["t"]

    ack_air = airtime_s(outbox.ROUTING_ACK_BYTES, "LONG_FAST", portnum=outbox.ROUTING_PORT)
    window = outbox.RELAY_WINDOW_SLOTS * slot_time_s("LONG_FAST")
    assert first_send(Packet(0xA1, me, TEXT_PORT, b"atk gob1", want_ack=True)) == \
        pytest.approx(3 * ack_air + 2 * window, abs=0.01)
    # nothing owed: a channel message, or a DM sent without want_ack
    assert first_send(Packet(0xA1, BROADCAST, TEXT_PORT, b"atk gob1", want_ack=True)) == 0.0
    assert first_send(Packet(0xA1, me, TEXT_PORT, b"atk gob1")) == 0.0


def test_a_text_the_radio_rate_limits_is_sent_again_and_counted():
    """PhoneAPI.cpp:851-858: the radio answers a text within 2 s of the last with
    RATE_LIMIT_EXCEEDED; the outbox waits out the window, sends it again and counts it."""
    from node.sim.mesh import Mesh
    from node.sim.transport import SimTransport

    async def main():
        loop = asyncio.get_running_loop()
        mesh = Mesh("LONG_FAST", seed=1, hop_limit=0)  # no relays' repeats to wait out
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 300.0)
        heard: list[bytes] = []
        mesh.attach(2, lambda p: heard.append(p.payload) if p.port == TEXT_PORT else None)
        radio = SimTransport(mesh, 1)
        await radio.start(lambda p: None)
        # No pacing of our own, so the second text reaches the radio inside its window.
        ob = Outbox(radio, clock=Clock.for_loop(loop, 0.0), metrics=Metrics(), text_gap_s=0.0)
        task = asyncio.create_task(ob.run())
        ob.submit_text(BROADCAST, "first", priority=Priority.RESULT)
        await asyncio.sleep(0.01)
        ob.submit_text(2, "second", priority=Priority.REPLY)
        await asyncio.sleep(60)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return ob, heard, mesh.radio_stats(1)

    ob, heard, radio = run_virtual(main())
    assert sorted(heard) == [b"first", b"second"]
    assert ob.rate_limited == 1 and ob.stats()["rate_limited"] == 1
    assert radio["text_drops"] == 1
    assert ob.send_errors == 0 and ob.sent == 2


def test_binary_dms_are_charged_to_their_recipients_airtime_budget():
    from node.radio.budget import PLAYER, Budgets

    flooded, other = 0x100, 0x101
    frame = bytes(150)  # ~1.7 s on LONG_FAST: a player's burst holds about 17

    async def script(ob):
        ob.budgets = Budgets(known=lambda num: True)
        for _ in range(40):
            ob.submit_binary(flooded, frame, priority=Priority.REPLY)
            ob.submit_binary(BROADCAST, frame, priority=Priority.RESULT)  # never charged
        ob.submit_binary(flooded, b"\x01", priority=Priority.REPLY, charged=False)
        ob.submit_binary(other, b"\x02", priority=Priority.REPLY)

    ob, sent = drive(script, run_for=3600.0)
    to_flooded = [p for p in sent if p.to == flooded]
    air = sum(airtime_s(len(p.payload), "LONG_FAST", portnum=GAME_PORT) for p in to_flooded)
    assert air <= PLAYER.burst_s and ob.stats()["dropped_for_budget"] == 40 - len(to_flooded) + 1
    assert [p.payload for p in to_flooded][-1] == b"\x01"  # a frame the session limits itself
    assert sum(p.to == BROADCAST for p in sent) == 40 and any(p.to == other for p in sent)


def test_past_the_budget_what_players_wait_for_goes_on_and_the_rest_waits():
    # The radio reports 300 s of its own airtime this hour: past the node's 288 s budget
    # (80% of EU_868's 360 s), inside the 95% reserve that answers and results may use.
    radio = BusyRadio(air_util_tx=300 / 3600)

    async def script(ob):
        ob.submit_text(0x100, "someone says hi", priority=Priority.CHATTER)
        ob.submit_text(0x200, "Your turn", priority=Priority.PROMPT)
        ob.submit_text(BROADCAST, "Mira hits Gob1", priority=Priority.TABLE)
        ob.submit_text(0x300, "? not your turn.", priority=Priority.REPLY)

    ob, sent = drive(script, radio, run_for=20)
    assert [p.payload for p in sent] == [b"Mira hits Gob1", b"? not your turn."]
    assert ob.stats()["reserve_sent"] == 2 and ob.stats()["deferred_for_duty"] >= 1
    # ...and past the reserve nothing goes, the players' answers included
    radio2 = BusyRadio(air_util_tx=350 / 3600)
    ob2, sent2 = drive(script, radio2, run_for=20)
    assert sent2 == [] and ob2.stats()["reserve_sent"] == 0
