"""MeshtasticTransport (the real meshtastic library) against the simulated TCP device."""

from __future__ import annotations

import asyncio

import pytest

from node.radio.base import BROADCAST, GAME_PORT, TEXT_PORT, Packet, TransportError
from node.radio.factory import make_transport
from node.radio.meshtastic_transport import MeshtasticTransport
from node.sim.device_thread import DeviceMesh
from node.sim.mesh import NODE_NUM


async def wait_for_packet(box: list[Packet], pred, timeout: float = 10.0) -> Packet:  # type: ignore[no-untyped-def]
    async def poll() -> Packet:
        while True:
            for p in box:
                if pred(p):
                    return p
            await asyncio.sleep(0.02)

    return await asyncio.wait_for(poll(), timeout)


async def test_text_and_binary_both_ways(device_mesh: DeviceMesh) -> None:
    player_num = device_mesh.mesh.players[0]
    node = make_transport(f"tcp:127.0.0.1:{device_mesh.port(NODE_NUM)}")
    player = MeshtasticTransport.tcp("127.0.0.1", device_mesh.port(player_num))
    at_node: list[Packet] = []
    at_player: list[Packet] = []
    await node.start(at_node.append)
    await player.start(at_player.append)
    try:
        assert node.info.node_num == NODE_NUM
        assert (node.info.region, node.info.preset, node.info.hop_limit) == (
            "EU_868", "SHORT_TURBO", 3)
        assert node.info.firmware.startswith("2.7.")  # from the device's metadata
        assert player.info.node_num == player_num
        await player.send(NODE_NUM, TEXT_PORT, "attack goblin ⚔".encode())
        text = await wait_for_packet(at_node, lambda p: p.port == TEXT_PORT)
        assert text.payload.decode() == "attack goblin ⚔"
        assert text.sender == player_num and text.hop_start == 3 and text.hop_limit == 2
        assert text.rx_rssi < 0
        await node.send(BROADCAST, GAME_PORT, b"\x00\x01round", want_ack=True)
        frame = await wait_for_packet(at_player, lambda p: p.port == GAME_PORT)
        assert frame.payload == b"\x00\x01round" and frame.sender == NODE_NUM
        assert frame.to == BROADCAST
    finally:
        await player.close()
        await node.close()


async def test_reconnects_after_the_device_restarts(device_mesh: DeviceMesh) -> None:
    dev = device_mesh.devices[NODE_NUM]
    player_num = device_mesh.mesh.players[1]
    node = MeshtasticTransport.tcp("127.0.0.1", dev.port, backoff_initial_s=0.2)
    player = MeshtasticTransport.tcp("127.0.0.1", device_mesh.port(player_num))
    at_node: list[Packet] = []
    await node.start(at_node.append)
    await player.start(lambda p: None)
    try:
        device_mesh.run(dev.stop())
        # The library retries once after 1 s, fails, and reports the connection lost.
        async def lost() -> None:
            while node.connected.is_set():
                await asyncio.sleep(0.05)

        await asyncio.wait_for(lost(), 10)
        with pytest.raises(TransportError, match="not connected"):
            await node.send(BROADCAST, GAME_PORT, b"while down")
        device_mesh.run(dev.start())
        await asyncio.wait_for(node.connected.wait(), 15)
        await player.send(NODE_NUM, GAME_PORT, b"after restart")
        got = await wait_for_packet(at_node, lambda p: p.payload == b"after restart")
        assert got.sender == player_num
        assert node.counters["connection_lost"] >= 1 and node.counters["reconnects"] >= 1
    finally:
        await player.close()
        await node.close()


async def test_unreachable_radio_is_a_transport_error() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound but not listening: connection refused
        t = MeshtasticTransport.tcp("127.0.0.1", port)
        with pytest.raises(TransportError, match="cannot reach"):
            await t.start(lambda p: None)


async def test_no_serial_radio_is_a_transport_error_not_an_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    import meshtastic.util

    # No physical radio here: make port discovery find none, as on a Pi with the radio unplugged.
    for ports in ([], ["/dev/ttyUSB0", "/dev/ttyACM0"]):
        monkeypatch.setattr(meshtastic.util, "findPorts", lambda *a, found=ports, **k: found)
        t = make_transport("serial")
        with pytest.raises(TransportError, match="serial:auto.*exactly one serial radio"):
            await t.start(lambda p: None)


async def test_stats_report_the_radios_channel_figures_from_telemetry() -> None:
    from node.sim.device_thread import start_device_mesh, stop_device_mesh
    from node.sim.mesh import Mesh

    dm = start_device_mesh(lambda: Mesh.build(players=1, hops=1, preset="LONG_FAST", seed=2),
                           telemetry_interval_s=0.2)
    node = MeshtasticTransport.tcp("127.0.0.1", dm.port(NODE_NUM))
    try:
        await node.start(lambda p: None)
        assert node.stats()["channel_util"] == 0.0  # from the handshake's own node info
        await node.send(BROADCAST, GAME_PORT, bytes(150))  # ~1.5 s on air at LONG_FAST

        async def busy() -> dict[str, float]:
            while node.stats().get("air_util_tx", 0.0) == 0.0:
                await asyncio.sleep(0.05)
            return node.stats()

        stats = await asyncio.wait_for(busy(), 10)
        assert 0 < stats["air_util_tx"] < 0.01  # at most ~1.5 s of the hour so far
        assert 0 < stats["channel_util"] <= 1.0
    finally:
        await node.close()
        stop_device_mesh(dm)


async def test_a_text_the_radio_rate_limits_comes_back_to_the_caller(
        device_mesh: DeviceMesh) -> None:
    """PhoneAPI.cpp:851-858: a second text within 2 s is answered with RATE_LIMIT_EXCEEDED."""
    node = MeshtasticTransport.tcp("127.0.0.1", device_mesh.port(NODE_NUM))
    refused: list[tuple[int, int, bytes, int]] = []
    node.watch_refusals(lambda *sent: refused.append(sent))
    await node.start(lambda p: None)
    try:
        await node.send(BROADCAST, TEXT_PORT, b"first")
        await node.send(BROADCAST, TEXT_PORT, b"too soon")

        async def heard() -> None:
            while not refused:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(heard(), 10)
        assert refused == [(BROADCAST, TEXT_PORT, b"too soon", 0)]
        assert node.counters["rate_limited"] == 1
    finally:
        await node.close()
