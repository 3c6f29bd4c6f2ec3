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
from rules import intents as it

pytestmark = pytest.mark.timeout(120)


async def test_a_binary_frame_to_dungeon_node_reaches_its_binary_channel():
    device = Device("--nodes", "2", "--seed", "3")
    data = short_dir("dd-e2e-port-")
    node = Node(device.radio("node"), data)
    radio = make_transport(device.radio("player1"))  # the real meshtastic library
    heard: asyncio.Queue[frames.Frame] = asyncio.Queue()
    node_num = device.radios["node"]["num"]

    def on_packet(packet: Packet) -> None:
        if packet.port == GAME_PORT and packet.sender == node_num:
            for frame in frames.received(packet.payload, None):
                heard.put_nowait((packet.to, frame))

    async def next_frame(kind: frames.Kind) -> tuple[int, frames.Frame]:
        while True:
            to, frame = await asyncio.wait_for(heard.get(), 30)
            if frame.kind == kind:
                return to, frame

    try:
        await (await node.control()).close()
        await radio.start(on_packet)
        hello = frames.Frame(kind=frames.Kind.HELLO, sender_seq=0,
                             payload=frames.hello_payload("Mira"))
        await radio.send(node_num, GAME_PORT, frames.encode_frame(hello, None))
        to, welcome = await next_frame(frames.Kind.WELCOME)
        assert to == radio.info.node_num and welcome.flags  # a slot of our own

        join = frames.Frame(kind=frames.Kind.INTENT, sender_seq=1,
                            payload=codec.encode_intent(it.Join("Mira", "cleric")))
        await radio.send(node_num, GAME_PORT, frames.encode_frame(join, None))
        to, events = await next_frame(frames.Kind.EVENTS)
        assert to == BROADCAST and events.flags == welcome.flags and events.ack == 1
        assert "Joined" in [type(e).__name__ for e in codec.decode_events(events.payload)]

        metrics = node.metrics()
        assert re.search(r'dungeon_packets_in_total\{port="256"\} [1-9]', metrics)
        assert 'reason="port"' not in metrics
        status = json.loads(dungeon("status", "--data-dir", str(data), "--json").stdout)
        assert [p["senders"] for p in status["players"]] == [[f"!{radio.info.node_num:08x}"]]
    finally:
        await radio.close()
        assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
