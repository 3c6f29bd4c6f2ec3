"""The simulated device against the real meshtastic library over TCP on 127.0.0.1."""

from __future__ import annotations

import os
import socket
import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from meshtastic.protobuf import mesh_pb2
from meshtastic.tcp_interface import TCPInterface
from pubsub import pub

from node.sim.device_thread import DeviceMesh
from node.sim.mesh import NODE_NUM
from node.sim.streamapi import MAX_FRAME, FrameDecoder, encode_frame


class Inbox:
    """Collects pypubsub packets for one interface (topics are process-global)."""

    def __init__(self, iface: TCPInterface, topic: str = "meshtastic.receive") -> None:
        self.iface = iface
        self.packets: list[dict[str, Any]] = []
        self.event = threading.Event()
        self.topic = topic
        pub.subscribe(self.on_receive, topic)  # pubsub holds a weak ref: self keeps it alive

    def on_receive(self, packet: dict[str, Any], interface: Any) -> None:
        if interface is self.iface:
            self.packets.append(packet)
            self.event.set()

    def wait_for(self, pred: Any, timeout: float = 10.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for p in self.packets:
                if pred(p):
                    return p
            self.event.wait(0.05)
            self.event.clear()
        raise AssertionError(f"no matching packet in {self.packets!r}")

    def close(self) -> None:
        pub.unsubscribe(self.on_receive, self.topic)


def connect(dm: DeviceMesh, num: int) -> TCPInterface:
    return TCPInterface("127.0.0.1", portNumber=dm.port(num), timeout=10)


def test_tcp_interface_handshake_reads_radio_and_nodes(device_mesh: DeviceMesh) -> None:
    iface = connect(device_mesh, NODE_NUM)
    try:
        assert iface.myInfo.my_node_num == NODE_NUM
        assert iface.metadata.firmware_version.startswith("2.7")
        ids = set(iface.nodes)
        assert {f"!{n:08x}" for n in device_mesh.mesh.radios} <= ids
        lora = iface.localNode.localConfig.lora
        assert lora.hop_limit == 3
        assert lora.region == lora.RegionCode.Value("EU_868")
        assert lora.modem_preset == lora.ModemPreset.Value("SHORT_TURBO")
        assert iface.localNode.channels[0].role == iface.localNode.channels[0].Role.Value("PRIMARY")
        assert iface.getMyNodeInfo()["user"]["id"] == f"!{NODE_NUM:08x}"
    finally:
        iface.close()


def test_send_text_reaches_another_radio_with_radio_metadata(device_mesh: DeviceMesh) -> None:
    player = device_mesh.mesh.players[0]
    node_if = connect(device_mesh, NODE_NUM)
    player_if = connect(device_mesh, player)
    inbox = Inbox(node_if, "meshtastic.receive.text")
    try:
        player_if.sendText("look", destinationId=NODE_NUM)
        got = inbox.wait_for(lambda p: p["decoded"]["text"] == "look")
        assert got["from"] == player and got["fromId"] == f"!{player:08x}"
        assert got["hopStart"] == 3 and got["hopLimit"] == 2  # via the relay
        assert -30 < got["rxSnr"] < 20 and got["rxRssi"] < -80
    finally:
        inbox.close()
        player_if.close()
        node_if.close()


def test_binary_with_want_ack_gets_implicit_then_real_ack(device_mesh: DeviceMesh) -> None:
    player = device_mesh.mesh.players[1]
    node_if = connect(device_mesh, NODE_NUM)
    player_if = connect(device_mesh, player)
    inbox = Inbox(player_if, "meshtastic.receive.data.PRIVATE_APP")
    routing = Inbox(node_if, "meshtastic.receive.routing")
    acks: list[dict[str, Any]] = []
    done = threading.Event()

    def on_ack(packet: dict[str, Any]) -> None:
        acks.append(packet)
        done.set()

    try:
        sent = node_if.sendData(b"\x01\x02\x03", destinationId=player, portNum=256,
                                wantAck=True, onResponse=on_ack, onResponseAckPermitted=True)
        got = inbox.wait_for(lambda p: p["decoded"]["payload"] == b"\x01\x02\x03")
        assert got["from"] == NODE_NUM
        assert done.wait(10)
        # Two hops out: hearing the relay pass it on is the firmware's implicit ack, which
        # the library sees as an ack from our own radio...
        assert acks[0]["from"] == NODE_NUM
        assert acks[0]["decoded"]["routing"].get("errorReason", "NONE") == "NONE"
        # ...and the destination's own routing ack follows.
        real = routing.wait_for(lambda p: p["from"] == player)
        assert real["decoded"]["requestId"] == sent.id
    finally:
        routing.close()
        inbox.close()
        player_if.close()
        node_if.close()


def test_garbage_on_the_socket_does_not_crash_the_device(device_mesh: DeviceMesh) -> None:
    port = device_mesh.port(NODE_NUM)
    rnd = os.urandom(4096)
    junk = [
        rnd,
        bytes([0x94, 0xC3, 0x00, 0x05]) + b"\xff\xff\xff\xff\xff",  # framed, not a protobuf
        bytes([0x94, 0xC3, 0xFF, 0xFF]),  # absurd length
        encode_frame(mesh_pb2.ToRadio(packet=mesh_pb2.MeshPacket(to=0)).SerializeToString()),
        encode_frame(b"\x12\x03\x08\x01\x10"),  # truncated nested message
    ]
    for blob in junk:
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(blob)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(2)
            with pytest.raises((TimeoutError, ConnectionError)):
                while s.recv(4096):
                    pass
                raise ConnectionError("closed by device")  # the device may close: fine
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(rnd[:100])  # a half-sent frame, then the client vanishes
    stats = device_mesh.call(device_mesh.devices[NODE_NUM].stats)
    assert stats["bad_frames"] >= 1
    iface = connect(device_mesh, NODE_NUM)  # and it still serves the real library
    try:
        assert iface.myInfo.my_node_num == NODE_NUM
    finally:
        iface.close()


@given(st.lists(st.binary(max_size=600), max_size=5), st.lists(st.integers(1, 64), max_size=5),
       st.binary(max_size=300))
def test_frame_decoder_round_trips_between_noise(bodies: list[bytes], cuts: list[int],
                                                 noise: bytes) -> None:
    bodies = [b for b in bodies if len(b) <= MAX_FRAME]
    noise = noise.replace(b"\x94", b"")  # noise must not contain a frame start
    stream = noise + b"".join(encode_frame(b) + noise for b in bodies)
    dec = FrameDecoder()
    out: list[bytes] = []
    pos = 0
    for cut in cuts + [len(stream)]:
        out += dec.feed(stream[pos:pos + cut])
        pos += cut
    out += dec.feed(stream[pos:])
    assert out == bodies


@given(st.binary(max_size=2000))
def test_frame_decoder_survives_any_bytes(data: bytes) -> None:
    dec = FrameDecoder()
    for body in dec.feed(data):
        assert len(body) <= MAX_FRAME


packets = st.builds(
    lambda to, port, payload, hop, ack, ch, pid: mesh_pb2.ToRadio(packet=mesh_pb2.MeshPacket(
        to=to, id=pid, channel=ch, hop_limit=hop, want_ack=ack,
        decoded=mesh_pb2.Data(portnum=port, payload=payload))),
    st.sampled_from([0, 0xFFFFFFFF, NODE_NUM, 0x0D0F0001, 0x12345678]),
    st.integers(0, 600), st.binary(max_size=300), st.integers(0, 7), st.booleans(),
    st.integers(0, 12), st.integers(0, 2**32 - 1),
)
messages = st.lists(st.one_of(
    packets,
    st.builds(lambda i: mesh_pb2.ToRadio(want_config_id=i), st.integers(0, 2**32 - 1)),
    st.just(mesh_pb2.ToRadio(heartbeat=mesh_pb2.Heartbeat())),
), max_size=25)


@settings(max_examples=10, deadline=None)
@given(messages)
def test_any_to_radio_sequence_leaves_the_device_serving(msgs: list[mesh_pb2.ToRadio]) -> None:
    from node.sim.device_thread import start_device_mesh, stop_device_mesh
    from node.sim.mesh import Mesh

    dm = start_device_mesh(lambda: Mesh.build(players=1, preset="SHORT_TURBO", seed=0))
    try:
        port = dm.port(NODE_NUM)
        with socket.create_connection(("127.0.0.1", port)) as s:
            s.sendall(b"".join(encode_frame(m.SerializeToString()) for m in msgs))
            s.sendall(encode_frame(mesh_pb2.ToRadio(want_config_id=7).SerializeToString()))
            s.settimeout(5)
            dec = FrameDecoder()
            complete = False
            while not complete:
                chunk = s.recv(65536)
                assert chunk, "the device hung up"
                for body in dec.feed(chunk):
                    complete |= mesh_pb2.FromRadio.FromString(body).config_complete_id == 7
        assert dm.call(dm.devices[NODE_NUM].stats)["handler_errors"] == 0
    finally:
        stop_device_mesh(dm)
