"""A simulated Meshtastic radio serving the real TCP stream API on 127.0.0.1, backed by the mesh.

The real `meshtastic` library connects to it as to a device on the network: the config
handshake, ToRadio packets into the simulated mesh, queue status, routing acks, and
FromRadio packets with the mesh's SNR, RSSI and hop counts. It runs on a normal event
loop, so the mesh it serves advances in real time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import DecodeError
from meshtastic.protobuf import (
    channel_pb2,
    config_pb2,
    mesh_pb2,
    portnums_pb2,
    telemetry_pb2,
)

from node.radio.base import BROADCAST, Packet, TransportError
from node.radio.firmware import ROUTING_PORT, RateLimitedError
from node.sim.mesh import Mesh
from node.sim.streamapi import FrameDecoder, encode_frame

log = logging.getLogger(__name__)

FIRMWARE_VERSION = {"2.7": "2.7.26.sim", "2.8": "2.8.0.sim"}
QUEUE_MAXLEN = 16
MAX_CHANNELS = 8
TELEMETRY_PORT = portnums_pb2.PortNum.TELEMETRY_APP


@dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    configured: bool = False


@dataclass
class DeviceCounters:
    connections: int = 0
    frames_in: int = 0
    bad_frames: int = 0
    packets_in: int = 0
    packets_out: int = 0
    heartbeats: int = 0
    handler_errors: int = 0
    skipped_bytes: int = 0


@dataclass(eq=False)
class SimDevice:
    """Radio `num` of `mesh` as a Meshtastic device on host:port (port 0 picks a free one)."""

    mesh: Mesh
    num: int
    host: str = "127.0.0.1"
    port: int = 0
    telemetry_interval_s: float = 60.0
    counters: DeviceCounters = field(default_factory=DeviceCounters)
    _server: asyncio.Server | None = None
    _clients: set[_Client] = field(default_factory=set)
    _detach: list[Callable[[], None]] = field(default_factory=list)
    _telemetry: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.num not in self.mesh.radios:
            raise TransportError(f"no radio !{self.num:08x} in the simulated mesh")
        self._server = await asyncio.start_server(self._serve, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        self._detach = [self.mesh.attach(self.num, self._from_mesh),
                        self.mesh.attach_acks(self.num, self._ack_from_mesh)]
        if self.telemetry_interval_s > 0:
            self._telemetry = asyncio.create_task(self._telemetry_loop())
        log.info("simulated radio !%08x listening on %s:%d", self.num, self.host, self.port)

    async def stop(self) -> None:
        """Power the radio off: drop every client and stop listening (start() again to reboot)."""
        for detach in self._detach:
            detach()
        self._detach = []
        if self._telemetry is not None:
            self._telemetry.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._telemetry
            self._telemetry = None
        if self._server is not None:
            self._server.close()
        for client in list(self._clients):
            client.writer.close()
        self._clients.clear()
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    def stats(self) -> dict[str, Any]:
        return {**vars(self.counters), "clients": len(self._clients), "port": self.port}

    # ----- connection ---------------------------------------------------------------
    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.add(client)
        self.counters.connections += 1
        decoder = FrameDecoder()
        try:
            while True:
                data = await reader.read(4096)
                if not data:
                    break
                for body in decoder.feed(data):
                    self.counters.frames_in += 1
                    if not self._handle_frame(client, body):
                        return
                self.counters.skipped_bytes = decoder.skipped
        except (ConnectionError, OSError):
            pass
        finally:
            self._clients.discard(client)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    def _handle_frame(self, client: _Client, body: bytes) -> bool:
        """Act on one ToRadio; False means the client asked to disconnect."""
        try:
            msg = mesh_pb2.ToRadio.FromString(body)
        except DecodeError:
            self.counters.bad_frames += 1
            return True
        try:
            which = msg.WhichOneof("payload_variant")
            if which == "want_config_id":
                self._send_config(client, msg.want_config_id)
            elif which == "packet":
                self._packet_from_client(client, msg.packet)
            elif which == "heartbeat":
                self.counters.heartbeats += 1
                self._write(client, mesh_pb2.FromRadio(queueStatus=self._queue_status(0)))
            elif which == "disconnect":
                return False
        except Exception:  # garbage that parses as protobuf must not take the radio down
            self.counters.handler_errors += 1
            log.exception("simulated radio !%08x could not handle a frame", self.num)
        return True

    def _write(self, client: _Client, msg: mesh_pb2.FromRadio) -> None:
        if client.writer.is_closing():
            return
        client.writer.write(encode_frame(msg.SerializeToString()))

    def _broadcast(self, msg: mesh_pb2.FromRadio) -> None:
        for client in list(self._clients):
            if client.configured:
                self._write(client, msg)

    # ----- the config handshake -----------------------------------------------------
    def _send_config(self, client: _Client, config_id: int) -> None:
        client.configured = False
        w = self._write
        w(client, mesh_pb2.FromRadio(my_info=mesh_pb2.MyNodeInfo(
            my_node_num=self.num, reboot_count=1, min_app_version=30200,
            nodedb_count=len(self.mesh.radios))))
        w(client, mesh_pb2.FromRadio(metadata=mesh_pb2.DeviceMetadata(
            firmware_version=FIRMWARE_VERSION[self.mesh.firmware], device_state_version=24, hasBluetooth=False,
            hasWifi=True, hw_model=mesh_pb2.HardwareModel.PORTDUINO)))
        for num in [self.num] + [n for n in self.mesh.radios if n != self.num]:
            w(client, mesh_pb2.FromRadio(node_info=self._node_info(num)))
        lora = config_pb2.Config.LoRaConfig(
            use_preset=True, modem_preset=self.mesh.preset, region=self.mesh.region,
            hop_limit=self.mesh.hop_limit, tx_enabled=True, tx_power=20)
        w(client, mesh_pb2.FromRadio(config=config_pb2.Config(lora=lora)))
        w(client, mesh_pb2.FromRadio(config=config_pb2.Config(device=config_pb2.Config.DeviceConfig(
            role=config_pb2.Config.DeviceConfig.Role.CLIENT))))
        for index in range(MAX_CHANNELS):
            if index == 0:
                ch = channel_pb2.Channel(index=0, role=channel_pb2.Channel.Role.PRIMARY,
                                         settings=channel_pb2.ChannelSettings(psk=b"\x01"))
            else:
                ch = channel_pb2.Channel(index=index, role=channel_pb2.Channel.Role.DISABLED)
            w(client, mesh_pb2.FromRadio(channel=ch))
        w(client, mesh_pb2.FromRadio(config_complete_id=config_id))
        client.configured = True

    def _node_info(self, num: int) -> mesh_pb2.NodeInfo:
        radio = self.mesh.radios[num]
        user = mesh_pb2.User(id=f"!{num:08x}", long_name=radio.name, short_name=f"{num & 0xFFFF:04x}",
                             hw_model=mesh_pb2.HardwareModel.PORTDUINO,
                             public_key=radio.public_key)
        info = mesh_pb2.NodeInfo(num=num, user=user, last_heard=int(time.time()))
        if num == self.num:
            info.device_metrics.CopyFrom(self._device_metrics())
        return info

    def _device_metrics(self) -> telemetry_pb2.DeviceMetrics:
        return telemetry_pb2.DeviceMetrics(
            channel_utilization=100.0 * self.mesh.channel_util(self.num),
            air_util_tx=100.0 * self.mesh.air_util_tx(self.num), uptime_seconds=int(self.mesh.elapsed()))

    # ----- packets --------------------------------------------------------------------
    def _queue_status(self, packet_id: int) -> mesh_pb2.QueueStatus:
        return mesh_pb2.QueueStatus(res=0, free=QUEUE_MAXLEN - 1, maxlen=QUEUE_MAXLEN,
                                    mesh_packet_id=packet_id)

    def _packet_from_client(self, client: _Client, p: mesh_pb2.MeshPacket) -> None:
        pid = p.id or self.mesh.rng.getrandbits(32) or 1
        # Every packet is taken off the client's queue, or the library resends it forever.
        self._write(client, mesh_pb2.FromRadio(queueStatus=self._queue_status(pid)))
        if not p.HasField("decoded") or p.to == self.num:
            return  # encrypted-by-client and admin-to-self packets are not simulated
        self.counters.packets_in += 1
        to = p.to or BROADCAST
        port = p.decoded.portnum
        try:
            self.mesh.send(self.num, to, port, p.decoded.payload, channel=p.channel,
                                  want_ack=p.want_ack, packet_id=pid,
                                  hop_limit=p.hop_limit or None)
        except RateLimitedError:
            # PhoneAPI.cpp:851-858: a text within 2 s of the last is answered with a routing
            # error, not sent.
            self._routing_to_client(pid, "RATE_LIMIT_EXCEEDED", self.num)
        except TransportError as err:
            reason = "DUTY_CYCLE_LIMIT" if "duty" in str(err) else "TOO_LARGE"
            self._routing_to_client(pid, reason, self.num)

    def _routing_to_client(self, request_id: int, reason: str, sender: int) -> None:
        routing = mesh_pb2.Routing(error_reason=mesh_pb2.Routing.Error.Value(reason))
        data = mesh_pb2.Data(portnum=ROUTING_PORT, payload=routing.SerializeToString(),
                             request_id=request_id)
        packet = mesh_pb2.MeshPacket(to=self.num, id=self.mesh.rng.getrandbits(32) or 1,
                                     decoded=data, rx_time=int(time.time()))
        setattr(packet, "from", sender)  # noqa: B010 - `from` is a Python keyword
        self._broadcast(mesh_pb2.FromRadio(packet=packet))

    def _ack_from_mesh(self, request_id: int, ok: bool, by: int) -> None:
        self._routing_to_client(request_id, "NONE" if ok else "MAX_RETRANSMIT",
                                by if ok else self.num)

    def _from_mesh(self, pkt: Packet) -> None:
        if pkt.port == ROUTING_PORT:
            return  # acks reach the client through _ack_from_mesh, with their request id
        data = mesh_pb2.Data(portnum=pkt.port, payload=pkt.payload)
        packet = mesh_pb2.MeshPacket(
            to=pkt.to, id=pkt.id, channel=pkt.channel, decoded=data, rx_time=int(time.time()),
            rx_snr=pkt.rx_snr, rx_rssi=pkt.rx_rssi, hop_limit=pkt.hop_limit,
            hop_start=pkt.hop_start, want_ack=pkt.want_ack, public_key=pkt.public_key or b"",
            pki_encrypted=pkt.public_key is not None)
        setattr(packet, "from", pkt.sender)  # noqa: B010 - `from` is a Python keyword
        self.counters.packets_out += 1
        self._broadcast(mesh_pb2.FromRadio(packet=packet))

    async def _telemetry_loop(self) -> None:
        """The firmware reports its own device metrics to the phone now and then."""
        while True:
            await asyncio.sleep(self.telemetry_interval_s)
            tel = telemetry_pb2.Telemetry(time=int(time.time()), device_metrics=self._device_metrics())
            data = mesh_pb2.Data(portnum=TELEMETRY_PORT, payload=tel.SerializeToString())
            packet = mesh_pb2.MeshPacket(to=self.num, id=self.mesh.rng.getrandbits(32) or 1,
                                         decoded=data, rx_time=int(time.time()))
            setattr(packet, "from", self.num)  # noqa: B010
            self._broadcast(mesh_pb2.FromRadio(packet=packet))


async def serve_mesh(
    mesh: Mesh, *, port_base: int = 4403, host: str = "127.0.0.1",
    telemetry_interval_s: float = 60.0,
) -> list[SimDevice]:
    """Expose every radio of `mesh` on consecutive ports: the node, the players, then relays.

    port_base 0 gives every radio its own ephemeral port instead.
    """
    first = [mesh.node_num] if mesh.node_num in mesh.radios else []
    rest = [n for n in mesh.radios if n not in first + mesh.players + mesh.relays]
    order = first + mesh.players + mesh.relays + rest
    devices = []
    try:
        for i, num in enumerate(order):
            dev = SimDevice(mesh, num, host=host, port=port_base + i if port_base else 0,
                            telemetry_interval_s=telemetry_interval_s)
            await dev.start()
            devices.append(dev)
    except BaseException:
        for dev in devices:
            await dev.stop()
        raise
    return devices
