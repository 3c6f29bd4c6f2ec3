"""The mesh simulator: propagation, collisions, flooding and the firmware's limits."""

from __future__ import annotations

import asyncio
from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.radio import firmware as fw
from node.radio.base import BROADCAST, GAME_PORT, TEXT_PORT, Packet, TransportError
from node.sim import phy
from node.sim.mesh import NODE_NUM, Mesh
from node.sim.virtual_loop import run_virtual


def collect(mesh: Mesh) -> dict[int, list[Packet]]:
    got: dict[int, list[Packet]] = {num: [] for num in mesh.radios}
    for num in mesh.radios:
        mesh.attach(num, got[num].append)
    return got


def hops_from(mesh: Mesh, start: int) -> dict[int, int]:
    dist = {start: 0}
    todo = deque([start])
    while todo:
        cur = todo.popleft()
        for nb in mesh.neighbours(cur):
            if nb not in dist:
                dist[nb] = dist[cur] + 1
                todo.append(nb)
    return dist


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), hops=st.integers(1, 4), players=st.integers(1, 6),
       preset=st.sampled_from(["LONG_FAST", "MEDIUM_FAST", "SHORT_FAST", "LONG_SLOW"]),
       side=st.integers(1, 3))
def test_build_puts_players_exactly_h_hops_away(seed: int, hops: int, players: int,
                                               preset: str, side: int) -> None:
    mesh = Mesh.build(players=players, hops=hops, preset=preset, seed=seed,
                      relays_per_hop=side)
    dist = hops_from(mesh, NODE_NUM)
    assert [dist.get(p) for p in mesh.players] == [hops] * players
    assert len(mesh.relays) == (hops - 1) * side
    # every relay on hop k hears every radio on hops k-1 and k+1: side paths, not detours
    for relay in mesh.relays:
        k = dist[relay]
        near = {n for n, d in dist.items() if abs(d - k) == 1}
        assert near <= set(mesh.neighbours(relay))


def test_hop_limit_bounds_the_flood() -> None:
    async def flood(hop_limit: int) -> dict[int, list[Packet]]:
        mesh = Mesh.line(5, hop_limit=hop_limit, seed=3)
        got = collect(mesh)
        mesh.send(NODE_NUM, BROADCAST, GAME_PORT, b"flood")
        await asyncio.sleep(120)
        return {num: got[num] for num in mesh.relays + mesh.players}

    limited = run_virtual(flood(3))
    relays, player = list(limited.values())[:-1], list(limited.values())[-1]
    # Hop limit 3 = the original transmission plus three relays: four radio hops.
    assert [p[0].hop_limit for p in relays] == [3, 2, 1, 0]
    assert all(p[0].hop_start == 3 for p in relays)
    assert player == []
    assert len(run_virtual(flood(4))[Mesh.line(5).players[0]]) == 1


def _pair_at(rx_to_a: float, rx_to_b: float, seed: int = 0) -> Mesh:
    mesh = Mesh("LONG_FAST", seed=seed)
    mesh.add_radio(1, 0.0)
    mesh.add_radio(2, rx_to_a)
    mesh.add_radio(3, -rx_to_b)
    return mesh


def _capture(first: int, second: int) -> tuple[list[bytes], float, dict[str, float]]:
    async def scenario() -> tuple[list[Packet], float, dict[str, float]]:
        mesh = _pair_at(200.0, 900.0)
        rx = mesh.radios[1]
        margin = mesh.link(mesh.radios[2], rx).rssi - mesh.link(mesh.radios[3], rx).rssi
        got = collect(mesh)
        mesh.transmit_now(first, BROADCAST, GAME_PORT, b"first")
        await asyncio.sleep(0.05)
        mesh.transmit_now(second, BROADCAST, GAME_PORT, b"second")
        await asyncio.sleep(10)
        return got[1], margin, mesh.radio_stats(1)

    heard, margin, stats = run_virtual(scenario())
    return [p.payload for p in heard], margin, stats


def test_capture_keeps_the_stronger_packet_whose_preamble_came_first() -> None:
    heard, margin, stats = _capture(2, 3)  # radio 2 is the strong one
    assert margin >= phy.CAPTURE_DB
    assert heard == [b"first"]
    assert stats["collisions"] == 1


def test_a_stronger_packet_arriving_second_cannot_capture_the_receiver() -> None:
    # The receiver is locked on the weak packet's preamble: the strong one is lost, and
    # the weak one does not survive the overlap either (it is not the stronger).
    heard, margin, stats = _capture(3, 2)
    assert margin >= phy.CAPTURE_DB
    assert heard == []
    assert stats["collisions"] == 2


def test_overlap_within_6_db_loses_both() -> None:
    async def scenario() -> tuple[list[Packet], float, dict[str, float]]:
        mesh = _pair_at(500.0, 520.0, seed=5)
        rx = mesh.radios[1]
        margin = mesh.link(mesh.radios[2], rx).rssi - mesh.link(mesh.radios[3], rx).rssi
        got = collect(mesh)
        mesh.transmit_now(2, BROADCAST, GAME_PORT, b"one")
        await asyncio.sleep(0.1)
        mesh.transmit_now(3, BROADCAST, GAME_PORT, b"two")
        await asyncio.sleep(10)
        return got[1], margin, mesh.radio_stats(1)

    heard, margin, stats = run_virtual(scenario())
    assert abs(margin) < phy.CAPTURE_DB
    assert heard == []
    assert stats["collisions"] == 2


def test_half_duplex_transmitter_hears_nothing() -> None:
    async def scenario() -> tuple[list[Packet], list[Packet]]:
        mesh = _pair_at(200.0, 200.0)
        got = collect(mesh)
        mesh.transmit_now(1, BROADCAST, GAME_PORT, b"x" * 100)  # long: ~1.2 s on air
        await asyncio.sleep(0.2)
        mesh.transmit_now(2, BROADCAST, GAME_PORT, b"unheard")
        await asyncio.sleep(10)
        return got[1], got[3]

    at_tx, bystander = run_virtual(scenario())
    assert at_tx == []
    assert b"unheard" not in [p.payload for p in at_tx]


def _triangle(seed: int = 0) -> Mesh:
    mesh = Mesh("LONG_FAST", seed=seed)
    mesh.add_radio(1, 0.0, 0.0)
    mesh.add_radio(2, 150.0, 0.0)
    mesh.add_radio(3, 75.0, 120.0)
    return mesh


def test_relay_cancels_rebroadcast_when_it_hears_another() -> None:
    async def scenario() -> dict[str, object]:
        mesh = _triangle()
        got = collect(mesh)
        mesh.send(1, BROADCAST, GAME_PORT, b"hello")
        await asyncio.sleep(60)
        s = mesh.stats()
        s["got"] = {n: len(v) for n, v in got.items()}
        return s

    s = run_virtual(scenario())
    assert s["got"] == {1: 0, 2: 1, 3: 1}
    assert s["rebroadcasts"] == 1
    assert s["rebroadcasts_cancelled"] == 1
    assert s["transmissions"] == 2


def test_dm_want_ack_is_acked_implicitly_then_by_destination() -> None:
    async def scenario() -> tuple[int, list[tuple[int, bool, int]], dict[str, object]]:
        mesh = Mesh.build(players=1, hops=2, seed=11)
        acks: list[tuple[int, bool, int]] = []
        mesh.attach_acks(NODE_NUM, lambda pid, ok, by: acks.append((pid, ok, by)))
        pid = mesh.send(NODE_NUM, mesh.players[0], GAME_PORT, b"private", want_ack=True)
        await asyncio.sleep(120)
        assert pid is not None
        return pid, acks, mesh.stats()

    pid, acks, s = run_virtual(scenario())
    player = Mesh.build(players=1, hops=2).players[0]
    # First the relay is heard passing it on (the firmware's implicit ack, reported as from
    # ourselves), then the destination's routing ack arrives.
    assert acks == [(pid, True, NODE_NUM), (pid, True, player)]
    assert s["implicit_acks"] == 1 and s["acks_received"] == 1
    assert s["retransmissions"] == 0 and s["ack_failures"] == 0


def test_dm_to_a_neighbour_is_acked_by_it_directly() -> None:
    async def scenario() -> tuple[list[tuple[bool, int]], dict[str, float]]:
        mesh = Mesh.build(players=1, hops=1, seed=2)
        acks: list[tuple[bool, int]] = []
        mesh.attach_acks(NODE_NUM, lambda pid, ok, by: acks.append((ok, by)))
        mesh.send(NODE_NUM, mesh.players[0], GAME_PORT, b"private", want_ack=True)
        await asyncio.sleep(60)
        return acks, mesh.radio_stats(NODE_NUM)

    acks, s = run_virtual(scenario())
    assert acks == [(True, Mesh.build(players=1, hops=1).players[0])]
    assert s["implicit_acks"] == 0 and s["transmissions"] == 1


def test_want_ack_gives_up_after_two_retransmissions() -> None:
    # Firmware 2.7: NUM_RELIABLE_RETX = 3 counts the first send (PendingPacket subtracts one).
    async def scenario() -> tuple[list[bool], dict[str, float]]:
        mesh = Mesh("LONG_FAST", seed=0)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 50_000.0)  # far out of range: nobody hears, relays or acks
        oks: list[bool] = []
        mesh.attach_acks(1, lambda pid, ok, by: oks.append(ok))
        mesh.send(1, 2, GAME_PORT, b"nobody home", want_ack=True)
        await asyncio.sleep(600)
        return oks, mesh.radio_stats(1)

    oks, s = run_virtual(scenario())
    assert oks == [False]
    assert s["retransmissions"] == 2
    assert s["ack_failures"] == 1
    assert s["transmissions"] == 3


def test_broadcast_want_ack_is_implicitly_acked_by_a_rebroadcast() -> None:
    async def scenario() -> tuple[list[bool], dict[str, float]]:
        mesh = Mesh.line(2, seed=2)
        oks: list[bool] = []
        mesh.attach_acks(NODE_NUM, lambda pid, ok, by: oks.append(ok))
        mesh.send(NODE_NUM, BROADCAST, GAME_PORT, b"round 3", want_ack=True)
        await asyncio.sleep(120)
        return oks, mesh.radio_stats(NODE_NUM)

    oks, s = run_virtual(scenario())
    assert oks == [True]
    assert s["retransmissions"] == 0


def test_lossy_dm_recovers_by_retransmission() -> None:
    async def scenario(seed: int) -> dict[str, object]:
        mesh = Mesh.build(players=1, hops=1, seed=seed, loss=0.5)
        got = collect(mesh)
        for i in range(20):
            mesh.send(NODE_NUM, mesh.players[0], GAME_PORT, bytes([i]), want_ack=True)
            await asyncio.sleep(60)
        s = mesh.stats()
        s["distinct"] = len({p.payload for p in got[mesh.players[0]]})
        return s

    s = run_virtual(scenario(4))
    assert s["retransmissions"] > 0
    # With 50 % loss each way a try succeeds 25 % of the time; 4 tries deliver most.
    assert s["distinct"] > 10


def test_second_text_within_two_seconds_is_refused_with_a_rate_limit_error() -> None:
    async def scenario() -> tuple[list[object], list[bytes], dict[str, float]]:
        mesh = _triangle()
        got = collect(mesh)
        ids: list[object] = [mesh.send(1, BROADCAST, TEXT_PORT, b"first")]
        await asyncio.sleep(1.0)
        with pytest.raises(fw.RateLimitedError, match="RATE_LIMIT_EXCEEDED"):
            mesh.send(1, BROADCAST, TEXT_PORT, b"too soon")
        ids.append(mesh.send(1, BROADCAST, GAME_PORT, b"binary is not throttled"))
        await asyncio.sleep(1.5)
        ids.append(mesh.send(1, BROADCAST, TEXT_PORT, b"later"))
        await asyncio.sleep(60)
        return ids, [p.payload for p in got[2]], mesh.radio_stats(1)

    ids, heard, s = run_virtual(scenario())
    assert None not in ids
    assert sorted(heard) == sorted([b"first", b"binary is not throttled", b"later"])
    assert s["text_drops"] == 1


def test_duty_cycle_refuses_past_ten_percent_in_eu868() -> None:
    async def scenario(region: str) -> tuple[int, dict[str, float]]:
        mesh = Mesh("LONG_FAST", region, seed=1)
        mesh.add_radio(1, 0.0)
        sent = 0
        try:
            for _ in range(400):
                mesh.send(1, BROADCAST, GAME_PORT, bytes(200))
                sent += 1
                await asyncio.sleep(4.0)
        except TransportError as err:
            assert "duty cycle" in str(err)
        return sent, mesh.radio_stats(1)

    sent, s = run_virtual(scenario("EU_868"))
    air = phy.packet_airtime_s(200, "LONG_FAST", GAME_PORT)
    # Router.cpp:304-326 refuses once the hour is already over 10%: the packet that
    # crosses the limit still goes.
    assert sent == int(360.0 / air) + 1
    assert s["duty_refusals"] == 1
    assert s["air_util_tx"] == pytest.approx(0.10, abs=air / 3600)
    sent_us, s_us = run_virtual(scenario("US"))
    assert sent_us == 400 and s_us["duty_refusals"] == 0


def test_oversize_payload_rejected() -> None:
    async def scenario() -> dict[str, float]:
        mesh = _triangle()
        assert mesh.send(1, BROADCAST, GAME_PORT, bytes(231)) is not None
        with pytest.raises(TransportError, match="231"):
            mesh.send(1, BROADCAST, GAME_PORT, bytes(232))
        return mesh.radio_stats(1)

    assert run_virtual(scenario())["oversize_rejects"] == 1


async def _busy_traffic(seed: int, loss: float) -> tuple[dict[str, object], list[tuple]]:
    mesh = Mesh.build(players=4, hops=2, seed=seed, loss=loss)
    log: list[tuple] = []
    for num in mesh.radios:
        mesh.attach(num, lambda p, n=num: log.append((n, p.sender, p.payload, p.rx_time)))
    for i in range(30):
        src = mesh.players[i % 4] if i % 3 else NODE_NUM
        mesh.send(src, BROADCAST, GAME_PORT, bytes([i]) * 20, want_ack=i % 2 == 0)
        await asyncio.sleep(3.0)
    await asyncio.sleep(120)
    s = mesh.stats()
    s.pop("radios")
    return s, log


def test_same_seed_same_outcome() -> None:
    a = run_virtual(_busy_traffic(9, 0.2))
    b = run_virtual(_busy_traffic(9, 0.2))
    c = run_virtual(_busy_traffic(10, 0.2))
    assert a == b
    assert a[1] != c[1]


def test_loss_parameter_drops_the_expected_fraction() -> None:
    async def scenario(loss: float) -> float:
        mesh = Mesh("SHORT_FAST", seed=21, loss=loss)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 100.0)
        got = collect(mesh)
        n = 400
        for i in range(n):
            mesh.send(1, 2, GAME_PORT, i.to_bytes(2, "big"))
            await asyncio.sleep(1.0)
        await asyncio.sleep(5)
        return len(got[2]) / n

    assert run_virtual(scenario(0.0)) == 1.0
    assert run_virtual(scenario(0.3)) == pytest.approx(0.7, abs=0.08)


def test_channel_utilisation_tracks_busy_time() -> None:
    async def scenario() -> tuple[dict[str, float], dict[str, float], float]:
        mesh = _triangle()
        await asyncio.sleep(60.0)  # a quiet first minute, so the mean is below the peak
        for _ in range(5):
            mesh.send(1, 2, GAME_PORT, bytes(100))  # a DM: 3 hears it but does not relay
            await asyncio.sleep(6.0)
        return mesh.radio_stats(1), mesh.radio_stats(3), mesh.elapsed()

    tx, listener, _ = run_virtual(scenario())
    # A DM on an app port is PKI-encrypted: 12 B more on the air (Router.cpp:673).
    air = phy.packet_airtime_s(100 + fw.PKC_OVERHEAD_BYTES, "LONG_FAST", GAME_PORT)
    relayed = 2 * air * 5  # radio 2 is the destination; 3 relays each DM once
    assert tx["air_util_tx"] == pytest.approx(5 * air / 3600)
    assert 5 * air / 60 <= tx["channel_util"] <= (5 * air + relayed) / 60 + 1e-9
    assert listener["channel_util"] > 0
    assert 0 < tx["channel_util_mean"] <= tx["channel_util_max"]


def test_routers_relay_even_after_hearing_another_relay() -> None:
    async def scenario() -> dict[str, object]:
        mesh = Mesh("LONG_FAST", seed=0)
        mesh.add_radio(1, 0.0, 0.0)
        mesh.add_radio(2, 150.0, 0.0, role="router")
        mesh.add_radio(3, 75.0, 120.0, role="router")
        mesh.send(1, BROADCAST, GAME_PORT, b"hello")
        await asyncio.sleep(60)
        return mesh.stats()

    # The same triangle of clients relays once (see above); two routers both relay.
    s = run_virtual(scenario())
    assert s["rebroadcasts"] == 2
    assert s["rebroadcasts_cancelled"] == 0


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 1000), players=st.integers(1, 5), hops=st.integers(1, 3),
       loss=st.sampled_from([0.0, 0.2, 0.5]))
def test_flooding_invariants_under_random_traffic(seed: int, players: int, hops: int,
                                                  loss: float) -> None:
    async def scenario() -> tuple[Mesh, list[tuple[int, Packet]]]:
        mesh = Mesh.build(players=players, hops=hops, preset="SHORT_FAST", seed=seed, loss=loss)
        log: list[tuple[int, Packet]] = []
        for num in mesh.radios:
            mesh.attach(num, lambda p, n=num: log.append((n, p)))
        senders = [NODE_NUM, *mesh.players]
        for i in range(40):
            src = senders[i % len(senders)]
            to = BROADCAST if i % 3 else senders[(i + 1) % len(senders)]
            if to != src:
                mesh.send(src, to, GAME_PORT, bytes([i]) * 10, want_ack=i % 2 == 0)
            await asyncio.sleep(0.7)
        await asyncio.sleep(60)
        return mesh, log

    mesh, log = run_virtual(scenario())
    dist = {num: hops_from(mesh, num) for num in mesh.radios}
    seen: set[tuple[int, int, int]] = set()
    for rx, p in log:
        key = (rx, p.sender, p.id)
        assert key not in seen, "a radio delivered the same packet twice"
        seen.add(key)
        assert p.sender != rx
        assert p.to in (BROADCAST, rx)
        # Acks go out with the response hop limit (RoutingModule.cpp:62-78), others with ours.
        assert 0 <= p.hop_limit <= p.hop_start <= mesh.hop_limit
        assert p.port == fw.ROUTING_PORT or p.hop_start == mesh.hop_limit
        # A packet cannot arrive over fewer relays than the graph needs.
        assert p.hop_start - p.hop_limit >= dist[p.sender][rx] - 1


def test_sending_another_packet_pushes_back_a_pending_retransmission() -> None:
    """Firmware 2.7 ReliableRouter: while a radio sends something else it cannot hear an ack,
    so each pending retransmission waits that much longer."""

    async def first_retry_at(also_send: bool) -> float:
        mesh = Mesh("LONG_FAST", seed=0)
        mesh.add_radio(1, 0.0)
        mesh.add_radio(2, 50_000.0)  # out of range: no ack will ever come
        times: list[float] = []
        real = mesh._retry

        def spy(radio, pid):
            times.append(mesh.now())
            real(radio, pid)

        mesh._retry = spy  # type: ignore[method-assign]
        t0 = mesh.now()
        mesh.send(1, 2, GAME_PORT, b"x" * 10, want_ack=True)
        if also_send:
            await asyncio.sleep(2.0)  # the first has gone; its retransmission timer runs
            mesh.send(1, BROADCAST, GAME_PORT, b"y" * 150)
        await asyncio.sleep(60)
        return times[0] - t0

    plain = run_virtual(first_retry_at(False))
    pushed = run_virtual(first_retry_at(True))
    air = phy.packet_airtime_s(150, "LONG_FAST", GAME_PORT)
    # the contention delays are random, so compare with a margin well under one airtime
    assert pushed - plain == pytest.approx(air, abs=0.5)


def test_a_retransmission_whose_relay_went_unheard_is_relayed_again() -> None:
    """Firmware 2.6+ FloodingRouter: a copy straight from its sender (hop_start == hop_limit)
    that a relay has already seen is relayed once more, so the sender gets its implicit ack
    and the far side a second chance at the packet."""

    async def scenario() -> tuple[list[Packet], dict[str, float], dict[str, float]]:
        mesh = Mesh.line(2, seed=2)
        relay, player = mesh.relays[0], mesh.players[0]
        got = collect(mesh)
        mesh.fade(relay, NODE_NUM)  # the node misses the relay's first repeat ...
        mesh.fade(relay, player)  # ... and so does the player
        mesh.send(NODE_NUM, BROADCAST, TEXT_PORT, b"round 3", want_ack=True)
        await asyncio.sleep(120)
        return got[player], mesh.radio_stats(NODE_NUM), mesh.radio_stats(relay)

    heard, node, relay = run_virtual(scenario())
    assert node["retransmissions"] == 1 and node["implicit_acks"] == 1
    assert relay["repeat_relays"] == 1 and relay["rebroadcasts"] == 2
    assert [p.payload for p in heard] == [b"round 3"]


def test_a_client_mute_radio_never_relays() -> None:
    async def scenario(role: str) -> tuple[int, dict[str, float]]:
        mesh = Mesh.line(2, seed=2, relay_role=role)
        got = collect(mesh)
        mesh.send(NODE_NUM, BROADCAST, TEXT_PORT, b"hello", want_ack=True)
        await asyncio.sleep(120)
        return len(got[mesh.players[0]]), mesh.radio_stats(mesh.relays[0])

    assert run_virtual(scenario("client"))[0] == 1
    heard, relay = run_virtual(scenario("client_mute"))
    assert heard == 0 and relay["transmissions"] == 0


def test_a_dm_heard_again_through_a_second_relay_is_acked_once() -> None:
    """NextHopRouter acks a duplicate again only when it came straight from its sender (a
    retransmission); the same DM flooded in by a second relay is an echo, not a retry."""

    async def scenario() -> tuple[list[Packet], dict[str, float], list[tuple[bool, int]]]:
        mesh = Mesh.build(players=1, hops=2, seed=5, relays_per_hop=2)
        player = mesh.players[0]
        got = collect(mesh)
        acks: list[tuple[bool, int]] = []
        mesh.attach_acks(NODE_NUM, lambda pid, ok, by: acks.append((ok, by)))
        mesh.send(NODE_NUM, player, TEXT_PORT, b"Your turn", want_ack=True)
        await asyncio.sleep(120)
        return got[player], mesh.radio_stats(player), acks

    heard, player, acks = run_virtual(scenario())
    assert len(heard) == 1 and player["duplicates"] >= 1  # both relays passed it on
    assert player["transmissions"] == 1  # one routing ack, not one per copy
    assert (True, Mesh.build(players=1, hops=2, seed=5).players[0]) in acks


def test_build_rejects_a_topology_it_cannot_lay_out() -> None:
    with pytest.raises(ValueError, match="relays per hop"):
        Mesh.build(players=1, hops=2, relays_per_hop=4)
