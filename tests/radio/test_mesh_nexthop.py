"""Firmware 2.7 NextHopRouter in the mesh: learned routes, per-hop repair of DMs, fallback."""

from __future__ import annotations

import asyncio

from node.radio import firmware as fw
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from node.sim import phy
from node.sim.mesh import NODE_NUM, Mesh
from node.sim.virtual_loop import run_virtual


def _arrivals(mesh: Mesh, num: int) -> list[tuple[float, Packet]]:
    got: list[tuple[float, Packet]] = []
    mesh.attach(num, lambda p: got.append((mesh.now(), p)))
    return got


async def _learn_routes(mesh: Mesh) -> None:
    """A player's command, its answer and a second command, each a want_ack DM."""
    player = mesh.players[0]
    mesh.send(player, NODE_NUM, TEXT_PORT, b"join Ann fighter", want_ack=True)
    await asyncio.sleep(60)
    mesh.send(NODE_NUM, player, TEXT_PORT, b"welcome, Ann!", want_ack=True)
    await asyncio.sleep(60)
    mesh.send(player, NODE_NUM, TEXT_PORT, b"look", want_ack=True)
    await asyncio.sleep(60)


def _second_hop_dm(fade: bool) -> tuple[float, int, dict[str, float], dict[str, float]]:
    """Seconds a routed DM player -> relay -> node takes, with its relay -> node hop faded once."""
    async def scenario() -> tuple[float, int, dict[str, float], dict[str, float]]:
        mesh = Mesh.line(2, seed=4)
        relay, player = mesh.relays[0], mesh.players[0]
        await _learn_routes(mesh)
        got = _arrivals(mesh, NODE_NUM)
        if fade:
            mesh.fade(relay, NODE_NUM)
        before = {n: mesh.radio_stats(n) for n in (relay, player)}
        sent = mesh.now()
        mesh.send(player, NODE_NUM, TEXT_PORT, b"attack goblin", want_ack=True)
        await asyncio.sleep(30)  # less than the time an ack-forwarding retry would take
        texts = [t for t, p in got if p.payload == b"attack goblin"]
        delta = [{k: v - before[n][k] for k, v in mesh.radio_stats(n).items()}
                 for n in (relay, player)]
        return texts[0] - sent, len(texts), delta[0], delta[1]

    return run_virtual(scenario())


def test_routes_are_learned_from_acks_both_ways() -> None:
    async def scenario() -> Mesh:
        mesh = Mesh.line(2, seed=3)
        await _learn_routes(mesh)
        return mesh

    mesh = run_virtual(scenario())
    relay, player = mesh.relays[0], mesh.players[0]
    assert mesh.radios[player].routes[NODE_NUM] == fw.relay_byte(relay)
    assert mesh.radios[NODE_NUM].routes[player] == fw.relay_byte(relay)
    assert mesh.radios[relay].routes[NODE_NUM] == fw.relay_byte(NODE_NUM)
    # The ack to a text DM is itself want_ack (ReliableRouter.cpp:102-106): the player
    # answers the node's ack, routed to it by the relay, with a 0-hop ack (:111-116), which
    # stops the relay carrying it and teaches the relay that the player is its neighbour.
    assert mesh.radios[relay].routes[player] == fw.relay_byte(player)
    assert mesh.radio_stats(relay)["hop_retransmissions"] == 0


def test_a_dm_lost_on_its_second_hop_is_repaired_by_the_relay() -> None:
    clean, n_clean, _, _ = _second_hop_dm(fade=False)
    faded, n_faded, relay, player = _second_hop_dm(fade=True)
    assert n_clean == 1 and n_faded == 1  # delivered once, not lost and not doubled
    assert relay["hop_retransmissions"] == 1
    assert player["retransmissions"] == 0  # the player heard the relay: implicit ack
    # the repair costs one retransmission timeout (plus contention), not a human retry
    air = phy.packet_airtime_s(len(b"attack goblin"), "LONG_FAST", TEXT_PORT)
    timeout = fw.retransmission_timeout_s(air, "LONG_FAST", 0.0)
    assert timeout <= faded - clean <= timeout + 6.0


def test_a_flooded_broadcast_lost_on_its_second_hop_is_not_repaired() -> None:
    async def scenario() -> tuple[int, dict[str, float]]:
        mesh = Mesh.line(2, seed=4)
        relay, player = mesh.relays[0], mesh.players[0]
        got = _arrivals(mesh, NODE_NUM)
        mesh.fade(relay, NODE_NUM)
        mesh.send(player, BROADCAST, TEXT_PORT, b"attack goblin", want_ack=True)
        await asyncio.sleep(120)
        return len(got), mesh.radio_stats(relay)

    n, relay = run_virtual(scenario())
    assert n == 0 and relay["hop_retransmissions"] == 0


def test_only_the_next_hop_relays_a_routed_dm() -> None:
    async def scenario() -> tuple[int | None, set[int], int]:
        mesh = Mesh.line(2, seed=5)
        relay, player = mesh.relays[0], mesh.players[0]
        # a second router in range of both ends: with flooding both would relay every packet
        mesh.add_radio(0x0D0E00F0, mesh.radios[relay].x, 100.0, role="router", name="bystander")
        await _learn_routes(mesh)
        sent: list[tuple[int, bytes]] = []
        transmit = mesh._transmit

        def spy(radio, item):  # type: ignore[no-untyped-def]
            sent.append((radio.num, item.frame.payload))
            transmit(radio, item)

        mesh._transmit = spy  # type: ignore[method-assign]
        got = _arrivals(mesh, NODE_NUM)
        pid = mesh.send(player, NODE_NUM, TEXT_PORT, b"inv", want_ack=True)
        await asyncio.sleep(60)
        carriers = {num for num, payload in sent if payload == b"inv"}
        return pid, carriers - {player}, len(got)

    pid, relayers, n = run_virtual(scenario())
    assert n == 1 and pid is not None
    assert len(relayers) == 1  # flooding, both routers would relay it

def test_a_dead_route_falls_back_to_flooding_and_is_forgotten() -> None:
    async def scenario() -> tuple[list[bool], Mesh]:
        mesh = Mesh.line(2, seed=6)
        relay, player = mesh.relays[0], mesh.players[0]
        await _learn_routes(mesh)
        oks: list[bool] = []
        mesh.attach_acks(player, lambda pid, ok, by: oks.append(ok))
        mesh.fade(player, relay, 2)  # the routed first try and its routed retry are lost
        mesh.send(player, NODE_NUM, TEXT_PORT, b"rest", want_ack=True)
        await asyncio.sleep(120)
        return oks, mesh

    oks, mesh = run_virtual(scenario())
    player = mesh.players[0]
    assert oks and oks[0] is True  # the flooded last try got through
    assert mesh.radio_stats(player)["route_fallbacks"] == 1
