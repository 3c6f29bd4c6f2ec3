"""SimTransport and the radio factory: the node's view of the simulated mesh."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest

from node.radio.base import (
    BROADCAST,
    GAME_PORT,
    TEXT_PORT,
    LoopbackTransport,
    Packet,
    TransportError,
)
from node.radio.factory import make_transport
from node.sim.mesh import NODE_NUM, Mesh
from node.sim.transport import SimTransport
from node.sim.virtual_loop import run_virtual


def test_sim_transport_round_trip_between_node_and_player() -> None:
    async def scenario() -> tuple[list[Packet], list[Packet], dict[str, float]]:
        mesh = Mesh.build(players=2, hops=2, seed=4)
        node = SimTransport(mesh, NODE_NUM)
        player = SimTransport(mesh, mesh.players[0])
        at_node: list[Packet] = []
        at_player: list[Packet] = []
        await node.start(at_node.append)
        await player.start(at_player.append)
        await player.send(NODE_NUM, TEXT_PORT, b"look", want_ack=True)
        await asyncio.sleep(30)
        await node.send(BROADCAST, GAME_PORT, b"\x01\x02frame")
        await asyncio.sleep(30)
        stats = node.stats()
        await node.close()
        await player.close()
        return at_node, at_player, stats

    at_node, at_player, stats = run_virtual(scenario())
    assert [(p.sender, p.port, p.payload) for p in at_node] == [
        (Mesh.build(players=2, hops=2, seed=4).players[0], TEXT_PORT, b"look")
    ]
    look = at_node[0]
    assert (look.hop_start, look.hop_limit) == (3, 2)  # one relay in between
    assert look.rx_rssi < -100 and -20 < look.rx_snr < 15
    assert look.want_ack
    # The routing ack the node's radio sent back is not shown to the game.
    assert [p.payload for p in at_player] == [b"\x01\x02frame"]
    assert stats["channel_util"] > 0 and stats["air_util_tx"] > 0


def test_sim_transport_refuses_when_not_started_or_oversize() -> None:
    async def scenario() -> None:
        mesh = Mesh.build(players=1)
        t = SimTransport(mesh, NODE_NUM)
        with pytest.raises(TransportError):
            await t.send(BROADCAST, GAME_PORT, b"x")
        await t.start(lambda p: None)
        with pytest.raises(TransportError):
            await t.send(BROADCAST, GAME_PORT, bytes(300))

    run_virtual(scenario())
    with pytest.raises(TransportError):
        SimTransport(Mesh.build(players=1), 0x1234)


def test_factory_specs() -> None:
    assert isinstance(make_transport("loopback"), LoopbackTransport)
    sim = make_transport("sim")
    assert isinstance(sim, SimTransport)
    assert sim.info.node_num == NODE_NUM and len(sim.mesh.players) == 3
    custom = make_transport("sim:players=5,hops=2,preset=MEDIUM_FAST,loss=0.1,seed=7")
    assert isinstance(custom, SimTransport)
    assert custom.info.preset == "MEDIUM_FAST" and len(custom.mesh.relays) == 1
    assert custom.mesh.loss == 0.1
    mesh = Mesh.build(players=2, hops=3)
    assert make_transport("sim", mesh=mesh).mesh is mesh  # type: ignore[attr-defined]
    # Real radios are only described here; nothing connects until start().
    assert make_transport("tcp:10.0.0.5").describe == "tcp:10.0.0.5:4403"  # type: ignore[attr-defined]
    assert make_transport("tcp:127.0.0.1:4404").describe == "tcp:127.0.0.1:4404"  # type: ignore[attr-defined]
    # A serial path is checked at once (one line naming the USB radios found), opened at start().
    assert make_transport("serial:/dev/null").describe == "serial:/dev/null"  # type: ignore[attr-defined]
    for bad in ("carrier-pigeon", "sim:color=red", "sim:hops=x", "tcp:", "tcp:host:port",
                "serial:/dev/no-such-radio"):
        with pytest.raises(TransportError):
            make_transport(bad)


def test_sim_and_loopback_do_not_import_meshtastic() -> None:
    code = (
        "import sys\n"
        "from node.radio.factory import make_transport\n"
        "make_transport('sim'); make_transport('loopback')\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('meshtastic', 'google', 'textual', 'discord'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
