"""`dungeon play`'s client over the real meshtastic library against simulated devices."""

from __future__ import annotations

import asyncio

import pytest

from node.client.player import PlayerClient
from node.config import NodeConfig
from node.radio.base import LoopbackTransport, RadioInfo
from node.radio.factory import make_transport
from node.wiring import build_node


async def wait_for(pred, timeout=30.0):
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not pred():
        if loop.time() > end:
            raise AssertionError("timed out")
        await asyncio.sleep(0.05)


@pytest.mark.timeout(120)
async def test_play_client_joins_acts_and_renders_locally(device_mesh, tmp_path):
    mesh = device_mesh.mesh
    node = make_transport(f"tcp:127.0.0.1:{device_mesh.port(mesh.node_num)}")
    app = build_node(NodeConfig(data_dir=tmp_path, auto_approve=True, game_seed=5,
                                preset="SHORT_TURBO"), node,
                  control=False)
    await app.start()
    channel = app.binary
    lines: list[str] = []
    radio = make_transport(f"tcp:127.0.0.1:{device_mesh.port(mesh.players[0])}")
    client = PlayerClient(radio, name="Mira", cls="cleric", out=lines.append, retry_s=3.0)
    try:
        await client.start()
        assert await client.join()
        await wait_for(lambda: any("Mira joins" in line for line in lines))
        assert client.node_num == mesh.node_num and client.slot
        await wait_for(lambda: client.view.game is not None, 120)  # the snapshot, parsed

        sent_before = client.seq
        await client.submit_line("help")
        assert client.seq == sent_before and "atk" in lines[-1]  # answered locally

        await client.submit_line("look")
        await wait_for(lambda: any("exits" in line for line in lines))
        await client.submit_line("atk nobody")
        await wait_for(lambda: channel.stats()["rejected"] >= 1)
        await client.submit_line("flarp")  # bad grammar never reaches the radio
        assert lines[-1].startswith("? ")
        # two commands in one line: both applied, their frames in one packet (a BUNDLE)
        from protocol import frames

        intents, sent = channel.stats()["intents"], []
        send = radio.send

        async def recording_send(to, port, payload, **kw):
            sent.append(frames.decode_frame(payload))
            return await send(to, port, payload, **kw)

        radio.send = recording_send
        await client.submit_line("look; say onward")
        await wait_for(lambda: channel.stats()["intents"] == intents + 2)
        radio.send = send
        carrying = [f for f in sent if f.kind in (frames.Kind.INTENT, frames.Kind.BUNDLE)]
        assert [f.kind for f in carrying] == [frames.Kind.BUNDLE]
        assert len(frames.parse_bundle(carrying[0].payload)) == 2
        assert client.gaps.missing() == []
        assert client.digests[client.gaps.latest] == app.game.digest()
        assert "Mira" in client.completions("Mi")
        assert "in sync" in client.status_line()
    finally:
        await client.close()
        await app.stop()


async def test_only_frames_the_node_signed_are_read():
    from node.radio.base import BROADCAST, GAME_PORT, Packet
    from protocol import codec, frames
    from protocol.session import NodeSession
    from rules.events import Joined

    lines: list[str] = []
    radio = LoopbackTransport(info=RadioInfo(node_num=0x22))
    client = PlayerClient(radio, name="Mira", cls="cleric", out=lines.append, node_num=0x11)
    await client.start()
    node = NodeSession(b"secret")

    class Nobody:
        def eid_of(self, client): return None
        def owner(self, eid): return None
        def digest(self): return None
        def current_turn(self): return None
        def canonical(self): return None

    (welcome,) = node.receive(0x22, client.session.hello().data, 0.0, Nobody())
    radio.inject(Packet(0x11, 0x22, GAME_PORT, welcome.data))
    assert client.session.welcomed

    def bogus(key):
        return frames.encode_frame(frames.Frame(kind=frames.Kind.EVENTS, sender_seq=1, payload=(
            codec.encode_events([Joined(9, "Eve", "rogue", 1)]))), key)

    radio.inject(Packet(0x33, BROADCAST, GAME_PORT, bogus(node.table_key)))  # another radio
    radio.inject(Packet(0x11, BROADCAST, GAME_PORT, bogus(None)))  # unsigned
    radio.inject(Packet(0x11, BROADCAST, GAME_PORT, bogus(client.session.key)))  # a player's key
    assert lines == [] and client.gaps.latest == 0 and client.session.bad_tags == 2
    radio.inject(Packet(0x11, BROADCAST, GAME_PORT, bogus(node.table_key)))
    assert lines and "Eve" in lines[0]
    await client.close()


def test_play_cli_rejects_a_bad_radio_spec_in_one_line():
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "node.cli", "play", "--radio", "pigeon:1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and "pigeon" in out.stderr
