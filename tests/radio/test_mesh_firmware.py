"""The simulator against firmware v2.7.26, one row of issue 18's fidelity table per test."""

from __future__ import annotations

import asyncio

import pytest

from node.radio import firmware as fw
from node.radio.base import BROADCAST, GAME_PORT, TEXT_PORT, TransportError
from node.sim import phy
from node.sim.mesh import NODE_NUM, Frame, Mesh
from node.sim.virtual_loop import run_virtual


def _transmissions(mesh: Mesh) -> list[tuple[float, str, Frame]]:
    """Every transmission as (start, radio name, frame)."""
    log: list[tuple[float, str, Frame]] = []
    mesh.watch_transmissions(lambda num, f: log.append((mesh.now(), mesh.radios[num].name, f)))
    return log


def _alone(seed: int = 0) -> Mesh:
    mesh = Mesh("LONG_FAST", seed=seed)
    mesh.add_radio(1, 0.0)
    mesh.add_radio(2, 5000.0)  # out of range: nobody will ever ack radio 1
    return mesh


def test_the_retransmission_timer_runs_from_the_hand_off_not_the_end_of_sending() -> None:
    async def scenario() -> tuple[float, float, float]:
        mesh = _alone()
        log = _transmissions(mesh)
        handed = mesh.now()
        mesh.send(1, BROADCAST, GAME_PORT, bytes(50), want_ack=True)
        await asyncio.sleep(60)
        air = mesh._airtime(log[0][2])
        return handed, log[1][0], air

    handed, retry, air = run_virtual(scenario())
    timeout = fw.retransmission_timeout_s(air, "LONG_FAST", 0.0)
    slots = 2 ** fw.CW_MAX * phy.slot_time_s("LONG_FAST")
    # The retry is handed over at hand-off + timeout and waits at most one contention window.
    assert handed + timeout <= retry <= handed + timeout + slots
    # The old timer (from the end of the transmission) could not fire this early.
    assert retry < handed + air + timeout


def test_the_random_wait_is_drawn_again_when_a_packet_is_heard(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fw, "tx_delay_s", lambda rng, preset, util: 5.0)

    async def scenario() -> tuple[float, float]:
        mesh = Mesh("LONG_FAST", seed=3)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 300.0)
        log = _transmissions(mesh)
        mesh.send(1, BROADCAST, GAME_PORT, b"mine")  # wait drawn: 5 s
        await asyncio.sleep(1.0)
        mesh.transmit_now(2, BROADCAST, GAME_PORT, b"heard")
        await asyncio.sleep(1.5)
        mesh.send(1, BROADCAST, GAME_PORT, b"queued behind")  # keeps the pending wait
        await asyncio.sleep(30)
        heard_end = log[0][0] + mesh._airtime(log[0][2])
        mine = next(t for t, name, f in log if f.payload == b"mine")
        return heard_end, mine

    heard_end, mine = run_virtual(scenario())
    # RX done redrew the 5 s wait from the end of the reception; the later enqueue did not.
    assert mine == pytest.approx(heard_end + 5.0)


def test_the_transmit_queue_sends_acks_then_texts_then_the_rest() -> None:
    async def scenario() -> list[int]:
        mesh = _alone()
        log = _transmissions(mesh)
        mesh.send(1, BROADCAST, GAME_PORT, b"binary first in")
        mesh.send(1, BROADCAST, TEXT_PORT, b"text second in")
        await asyncio.sleep(10)
        return [f.port for _, _, f in log]

    assert run_virtual(scenario()) == [TEXT_PORT, GAME_PORT]
    assert fw.priority(fw.ROUTING_PORT, False, 1) > fw.priority(TEXT_PORT, True, 0) > \
        fw.priority(GAME_PORT, True, 0) > fw.priority(GAME_PORT, False, 0)


def test_the_snr_maps_to_a_contention_window_as_arduino_map_does() -> None:
    assert fw.cw_size_for_snr(-20) == fw.CW_MIN
    assert fw.cw_size_for_snr(10) == fw.CW_MAX
    assert fw.cw_size_for_snr(20) == 9  # unclamped: above CW_MAX
    assert fw.cw_size_for_snr(-9.5) == 4  # truncated to -9 before the integer arithmetic
    assert fw.cw_size_for_snr(-26) == 2  # and below CW_MIN


def _dm_acks(port: int) -> list[Frame]:
    async def scenario() -> list[Frame]:
        mesh = Mesh.line(2, seed=2)
        log = _transmissions(mesh)
        mesh.send(mesh.players[0], NODE_NUM, port, b"attack", want_ack=True)
        await asyncio.sleep(60)
        return [f for _, name, f in log if name == "node" and f.port == fw.ROUTING_PORT]

    return run_virtual(scenario())


def test_a_text_dm_is_acked_with_a_want_ack_ack_and_other_dms_with_a_plain_one() -> None:
    text_acks, binary_acks = _dm_acks(TEXT_PORT), _dm_acks(GAME_PORT)
    assert text_acks and all(a.want_ack for a in text_acks)
    assert binary_acks and not any(a.want_ack for a in binary_acks)
    # One hop used: the response hop limit is the default (RoutingModule.cpp:62-78).
    assert text_acks[0].hop_start == fw.DEFAULT_HOP_LIMIT


def test_a_repeated_dm_is_acked_again_with_hop_limit_zero() -> None:
    async def scenario() -> list[Frame]:
        mesh = Mesh("LONG_FAST", seed=0)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 300.0)
        log = _transmissions(mesh)
        mesh.fade(2, 1, count=1)  # 1 misses 2's first ack and retransmits
        mesh.send(1, 2, GAME_PORT, b"hello", want_ack=True)
        await asyncio.sleep(60)
        return [f for _, name, f in log if f.port == fw.ROUTING_PORT and f.sender == 2]

    acks = run_virtual(scenario())
    assert len(acks) == 2
    assert acks[0].hop_start > 0 and acks[1].hop_start == 0


def test_an_ack_is_29_bytes_and_a_pki_dm_12_more_than_a_broadcast() -> None:
    ack = Frame(1, 2, 3, fw.ROUTING_PORT, bytes(fw.ROUTING_ACK_BYTES), 0, 3, 3, False, 2,
                request_id=7)
    assert ack.air_bytes == 29
    bc = Frame(1, 2, BROADCAST, TEXT_PORT, bytes(100), 0, 3, 3, False, 2)
    dm = Frame(1, 2, 3, TEXT_PORT, bytes(100), 0, 3, 3, False, 2, pki=True)
    assert dm.air_bytes - bc.air_bytes == fw.PKC_OVERHEAD_BYTES

    async def scenario() -> int:
        mesh = _alone()
        pid = mesh.send(1, 2, TEXT_PORT, bytes(220))  # the longest text DM that fits
        await asyncio.sleep(3)
        with pytest.raises(TransportError, match="220 B for a PKI direct message"):
            mesh.send(1, 2, TEXT_PORT, bytes(221))
        return pid

    assert run_virtual(scenario()) > 0


def test_a_bystander_that_did_not_relay_the_original_learns_no_route() -> None:
    async def scenario() -> dict[int, int]:
        # node - relay - player, and a mute bystander beside the relay hearing everything.
        mesh = Mesh.line(2, seed=3)
        step = mesh.radios[mesh.players[0]].x / 2
        mesh.add_radio(0x0D0C0077, step, 50.0, role="client_mute", name="bystander")
        mesh.send(mesh.players[0], NODE_NUM, TEXT_PORT, b"join Ann fighter", want_ack=True)
        await asyncio.sleep(60)
        return dict(mesh.radios[0x0D0C0077].routes)

    assert run_virtual(scenario()) == {}


def _late(role: str) -> dict[str, float]:
    async def scenario() -> dict[str, float]:
        mesh = Mesh("LONG_FAST", seed=0)
        mesh.add_radio(1, 0.0, 0.0)
        mesh.add_radio(2, 150.0, 0.0, role="router")
        mesh.add_radio(3, 75.0, 120.0, role=role)
        mesh.send(1, BROADCAST, GAME_PORT, b"hello")
        await asyncio.sleep(60)
        return mesh.radio_stats(3)

    return run_virtual(scenario())


def test_router_late_and_client_base_move_a_relay_to_the_late_window_instead_of_cancelling() -> None:
    client = _late("client")  # hears the router relay first and cancels
    assert client["rebroadcasts"] == 0 and client["rebroadcasts_cancelled"] == 1
    for role in ("router_late", "client_base"):
        late = _late(role)
        assert late["rebroadcasts"] == 1 and late["late_clamps"] == 1
        assert late["rebroadcasts_cancelled"] == 0


def test_the_duty_cycle_counts_the_hour_in_one_minute_buckets() -> None:
    # At 61.5 min the oldest of the 60 buckets is minute 2 (minutes 2..61).
    assert fw.duty_bucket_start(61 * 60 + 30) == 2 * 60.0
    assert fw.duty_bucket_start(59.0) == -59 * 60.0


def test_a_2_8_radio_signs_short_broadcasts_and_the_app_sees_them_signed() -> None:
    async def scenario(firmware: str, size: int) -> tuple[bool, int]:
        mesh = Mesh.build(players=1, hops=1, firmware=firmware, seed=1)
        got: list = []
        mesh.attach(mesh.players[0], got.append)
        log = _transmissions(mesh)
        assert mesh.node_num is not None
        mesh.send(mesh.node_num, BROADCAST, GAME_PORT, bytes(size))
        await asyncio.sleep(20)
        return got[0].signed, log[0][2].air_bytes

    signed, air = run_virtual(scenario("2.8", 100))
    plain, air27 = run_virtual(scenario("2.7", 100))
    assert signed and not plain and air - air27 == fw.XEDDSA_SIGNATURE_BYTES
    too_long, _ = run_virtual(scenario("2.8", 170))  # no room for the signature
    assert not too_long


def test_a_copy_with_more_hops_left_replaces_the_queued_relay_of_a_poorer_one() -> None:
    """FloodingRouter.cpp:30-37, 67-88: the hop-limit upgrade, not a duplicate to cancel on."""

    async def scenario() -> tuple[list[int], list[int], float]:
        mesh = Mesh("LONG_FAST", seed=2)
        for num, x in ((1, 0.0), (2, 9000.0), (3, 9300.0), (4, 9600.0)):
            mesh.add_radio(num, x)
        client = mesh.radios[2]

        def copy(hop_limit: int, relayer: int) -> Frame:
            return Frame(77, 1, BROADCAST, GAME_PORT, bytes(20), 0, 3, hop_limit, False, relayer)

        mesh._receive(client, copy(1, 3), -100.0, 5.0)  # queued: a relay with 0 hops left
        first = [item.frame.hop_limit for item in client.queue]
        mesh._receive(client, copy(2, 4), -100.0, 5.0)  # more hops left: relay this one
        upgraded = [item.frame.hop_limit for item in client.queue]
        return first, upgraded, client.counters.get("upgrades", 0)

    first, upgraded, upgrades = run_virtual(scenario())
    assert first == [0] and upgraded == [1] and upgrades == 1


def test_a_copy_with_no_more_hops_left_is_a_duplicate_that_cancels_the_relay() -> None:
    async def scenario() -> list[int]:
        mesh = Mesh("LONG_FAST", seed=2)
        for num, x in ((1, 0.0), (2, 9000.0), (3, 9300.0), (4, 9600.0)):
            mesh.add_radio(num, x)
        client = mesh.radios[2]
        frame = Frame(78, 1, BROADCAST, GAME_PORT, bytes(20), 0, 3, 2, False, 3)
        mesh._receive(client, frame, -100.0, 5.0)
        mesh._receive(client, Frame(78, 1, BROADCAST, GAME_PORT, bytes(20), 0, 3, 1, False, 4),
                      -100.0, 5.0)
        return [item.frame.hop_limit for item in client.queue]

    assert run_virtual(scenario()) == []  # a CLIENT stands down (FloodingRouter.cpp:138-145)
