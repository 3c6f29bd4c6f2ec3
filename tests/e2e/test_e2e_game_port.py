"""The shipped node serves the game port: binary frames to `dungeon node` reach its binary channel."""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from e2ehelpers import Device, Node, dungeon, short_dir

from node.radio.base import BROADCAST, GAME_PORT, Packet
from node.radio.factory import make_transport
from protocol import codec, frames
from protocol.session import ClientSession
from rules import intents as it

pytestmark = pytest.mark.timeout(120)


async def test_a_binary_frame_to_dungeon_node_reaches_its_binary_channel():
    device = Device("--nodes", "2", "--seed", "3")
    data = short_dir("dd-e2e-port-")
    node = Node(device.radio("node"), data)
    radio = make_transport(device.radio("player1"))  # the real meshtastic library
    heard: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
    node_num = device.radios["node"]["num"]

    def on_packet(packet: Packet) -> None:
        if packet.port == GAME_PORT and packet.sender == node_num:
            heard.put_nowait((packet.to, packet.payload))

    async def frames_of(*kinds: frames.Kind) -> dict[frames.Kind, tuple[int, bytes]]:
        """The first packet of each kind, as (to, bytes), once all of them arrived."""
        got: dict[frames.Kind, tuple[int, bytes]] = {}
        while set(kinds) - set(got):
            to, data = await asyncio.wait_for(heard.get(), 30)
            got.setdefault(frames.decode_frame(data).kind, (to, data))
        return got

    try:
        await (await node.control()).close()
        await radio.start(on_packet)
        me = radio.info.node_num
        session = ClientSession("Mira", b"\x00\x00\x00\x01")
        await radio.send(node_num, GAME_PORT, session.hello().data)
        to, welcome = (await frames_of(frames.Kind.WELCOME))[frames.Kind.WELCOME]
        assert to == me  # a direct message: it carries our own key
        assert session.receive(node_num, to, me, welcome, 0.0) and session.key

        _, (join,) = session.send([it.Join("Mira", "cleric")], 0.0)
        await radio.send(node_num, GAME_PORT, join.data)
        got = await frames_of(frames.Kind.ACK, frames.Kind.EVENTS)
        to, ack = got[frames.Kind.ACK]  # the join's ack tells us our slot
        assert to == me and frames.verify(ack, session.key)
        assert frames.decode_frame(ack).ack == 1 and frames.decode_frame(ack).flags
        to, events = got[frames.Kind.EVENTS]
        assert to == BROADCAST and frames.verify(events, session.table_key)
        decoded = codec.decode_events(frames.decode_frame(events).payload)
        assert "Joined" in [type(e).__name__ for e in decoded]

        metrics = node.metrics()
        assert re.search(r'dungeon_packets_in_total\{port="256"\} [1-9]', metrics)
        assert 'reason="port"' not in metrics
        status = json.loads(dungeon("status", "--data-dir", str(data), "--json").stdout)
        assert [p["senders"] for p in status["players"]] == [[f"!{radio.info.node_num:08x}"]]
    finally:
        await radio.close()
        assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
