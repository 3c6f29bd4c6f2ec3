"""MeshtasticTransport: a real radio through the `meshtastic` library, over serial or TCP.

The library is blocking and calls back on its own threads, so every blocking call runs
in asyncio.to_thread and every callback is handed to the loop with call_soon_threadsafe.
pypubsub topics are process-global: callbacks are filtered by interface identity.
A lost connection is re-established with exponential back-off and jitter.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from typing import Any

from meshtastic.protobuf import channel_pb2, config_pb2, mesh_pb2
from pubsub import pub

from node.radio.base import TEXT_PORT, OnPacket, Packet, RadioInfo, Transport, TransportError
from node.radio.firmware import ROUTING_PORT

# (to, port, payload, channel) of a packet the radio refused after taking it
OnRefused = Callable[[int, int, bytes, int], None]
REFUSAL_GRACE_S = 0.5
RECENT_SENDS = 16  # texts remembered so a late RATE_LIMIT_EXCEEDED can name its packet

log = logging.getLogger(__name__)

CONNECT_TIMEOUT_S = 15  # the library's own default is 300 s
BACKOFF_INITIAL_S = 0.5
BACKOFF_MAX_S = 30.0
PRIVATE_PORTS = range(256, 512)

Interface = Any  # meshtastic.mesh_interface.MeshInterface; kept loose for the library's typing


def _app_packet(raw: Any) -> tuple[int, bytes] | None:
    """(port, payload) of a decoded packet the game cares about, else None."""
    if not raw.HasField("decoded"):
        return None
    port = int(raw.decoded.portnum)
    if port != TEXT_PORT and port not in PRIVATE_PORTS:
        return None  # firmware chatter: routing, telemetry, node info, positions
    return port, bytes(raw.decoded.payload)


class MeshtasticTransport(Transport):
    """The game's radio link through the meshtastic library; `connect` builds an interface."""

    def __init__(
        self, connect: Callable[[], Interface], *, describe: str,
        backoff_initial_s: float = BACKOFF_INITIAL_S, backoff_max_s: float = BACKOFF_MAX_S,
    ) -> None:
        self._connect_fn = connect
        self.describe = describe
        self.info = RadioInfo(node_num=0)
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self._iface: Interface | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._on_packet: OnPacket | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._closing = False
        self._jitter = random.Random()
        self.connected = asyncio.Event()
        self.counters = {"received": 0, "sent": 0, "ignored": 0, "reconnects": 0,
                         "connection_lost": 0, "send_errors": 0, "rate_limited": 0}
        self._sent_texts: dict[int, tuple[int, int, bytes, int]] = {}
        self._on_refused: list[OnRefused] = []

    def watch_refusals(self, on_refused: OnRefused) -> None:
        """Tell on_refused about a text the radio answered with RATE_LIMIT_EXCEEDED
        (PhoneAPI.cpp:851-858): the firmware did not send it, so the caller may again."""
        self._on_refused.append(on_refused)

    @classmethod
    def tcp(cls, host: str, port: int = 4403, **kw: Any) -> MeshtasticTransport:
        def connect() -> Interface:
            from meshtastic.tcp_interface import TCPInterface

            return TCPInterface(host, portNumber=port, timeout=CONNECT_TIMEOUT_S)

        return cls(connect, describe=f"tcp:{host}:{port}", **kw)

    @classmethod
    def serial(cls, path: str | None = None, **kw: Any) -> MeshtasticTransport:
        def connect() -> Interface:
            from meshtastic.serial_interface import SerialInterface
            from meshtastic.util import findPorts

            dev = path
            if dev is None:
                # Discover ports ourselves: with none the library returns a half-built
                # interface, and with several it calls sys.exit().
                ports = findPorts(True)
                if len(ports) != 1:
                    found = ", ".join(ports) or "none"
                    raise TransportError(f"need exactly one serial radio, found {found}; "
                                         "name it as serial:PATH")
                dev = ports[0]
            return SerialInterface(devPath=dev, timeout=CONNECT_TIMEOUT_S)

        return cls(connect, describe=f"serial:{path or 'auto'}", **kw)

    @property
    def interface(self) -> Interface | None:
        """The connected meshtastic interface, for read-only diagnostics (`dungeon doctor`)."""
        return self._iface

    # ----- lifecycle ------------------------------------------------------------------
    async def start(self, on_packet: OnPacket) -> None:
        self._loop = asyncio.get_running_loop()
        self._on_packet = on_packet
        self._closing = False
        pub.subscribe(self._on_receive, "meshtastic.receive")
        pub.subscribe(self._on_lost, "meshtastic.connection.lost")
        try:
            await self._connect()
        except TransportError:
            await self.close()
            raise

    async def _connect(self) -> None:
        try:
            iface = await asyncio.to_thread(self._connect_fn)
        except (Exception, SystemExit) as err:
            # The library raises bare Exceptions and OSErrors alike, and sys.exit()s when
            # no serial radio is plugged in; none of that may end the node.
            raise TransportError(f"cannot reach the radio at {self.describe}: {err}") from None
        self._iface = iface
        self.info = self._read_info(iface)
        self.connected.set()
        log.info("radio !%08x connected via %s (%s, %s)", self.info.node_num, self.describe,
                 self.info.region, self.info.preset)

    @staticmethod
    def _read_info(iface: Interface) -> RadioInfo:
        lora = iface.localNode.localConfig.lora
        lcfg = config_pb2.Config.LoRaConfig
        disabled = channel_pb2.Channel.Role.DISABLED
        channels = tuple(ch.settings.name for ch in (iface.localNode.channels or [])
                         if ch.role != disabled)
        return RadioInfo(
            node_num=int(iface.myInfo.my_node_num),
            region=lcfg.RegionCode.Name(lora.region),
            preset=lcfg.ModemPreset.Name(lora.modem_preset),
            channels=channels or ("",),
            hop_limit=int(lora.hop_limit) or 3,
            firmware=str(getattr(getattr(iface, "metadata", None), "firmware_version", "") or ""),
        )

    async def close(self) -> None:
        self._closing = True
        self.connected.clear()
        for fn, topic in ((self._on_receive, "meshtastic.receive"),
                          (self._on_lost, "meshtastic.connection.lost")):
            with contextlib.suppress(Exception):
                pub.unsubscribe(fn, topic)
        if self._reconnect_task is not None:
            self._reconnect_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reconnect_task
            self._reconnect_task = None
        await self._drop_interface()
        self._on_packet = None

    async def _drop_interface(self) -> None:
        iface, self._iface = self._iface, None
        if iface is not None:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(iface.close)

    # ----- library callbacks (library threads) ------------------------------------
    def _on_receive(self, packet: dict[str, Any], interface: Any = None) -> None:
        if interface is None or interface is not self._iface or self._loop is None:
            return
        raw = packet.get("raw")
        if raw is not None and self._routing_error(raw):
            return
        app = _app_packet(raw) if raw is not None else None
        if app is None:
            self.counters["ignored"] += 1
            return
        port, payload = app
        pkt = Packet(
            sender=int(getattr(raw, "from")), to=int(raw.to), port=port, payload=payload,
            channel=int(raw.channel), id=int(raw.id), rx_snr=float(raw.rx_snr),
            rx_rssi=int(raw.rx_rssi), hop_start=int(raw.hop_start), hop_limit=int(raw.hop_limit),
            want_ack=bool(raw.want_ack),
            public_key=(bytes(raw.public_key) or None) if raw.pki_encrypted else None,
            # firmware 2.8's field; the 2.7 protobufs have no such field, hence getattr
            signed=bool(getattr(raw, "xeddsa_signed", False)),
        )
        self._loop.call_soon_threadsafe(self._deliver, pkt)

    def _routing_error(self, raw: Any) -> bool:
        """A RATE_LIMIT_EXCEEDED routing error for one of our texts (library thread)."""
        if not raw.HasField("decoded") or int(raw.decoded.portnum) != ROUTING_PORT:
            return False
        try:
            routing = mesh_pb2.Routing.FromString(bytes(raw.decoded.payload))
        except Exception:  # a malformed routing payload is firmware chatter to ignore
            return False
        if routing.error_reason != mesh_pb2.Routing.Error.RATE_LIMIT_EXCEEDED:
            return False
        assert self._loop is not None
        self._loop.call_soon_threadsafe(self._refused, int(raw.decoded.request_id))
        return True

    def _refused(self, request_id: int, late: bool = False) -> None:
        sent = self._sent_texts.pop(request_id, None)
        if sent is None:
            if not late and self._loop is not None:
                # The error can overtake sendText's return on the library's thread.
                self._loop.call_later(REFUSAL_GRACE_S, self._refused, request_id, True)
            return
        self.counters["rate_limited"] += 1
        for fn in list(self._on_refused):
            fn(*sent)

    def _on_lost(self, interface: Any = None) -> None:
        if interface is None or interface is not self._iface or self._loop is None:
            return
        self._loop.call_soon_threadsafe(self._connection_lost)

    # ----- loop side ------------------------------------------------------------------
    def _deliver(self, pkt: Packet) -> None:
        if self._on_packet is None:
            return
        assert self._loop is not None
        self.counters["received"] += 1
        self._on_packet(Packet(**{**_fields(pkt), "rx_time": self._loop.time()}))

    def _connection_lost(self) -> None:
        if self._closing or self._reconnect_task is not None:
            return
        self.counters["connection_lost"] += 1
        self.connected.clear()
        log.warning("lost the radio at %s; reconnecting", self.describe)
        self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        await self._drop_interface()
        delay = self.backoff_initial_s
        try:
            while not self._closing:
                # Full jitter between half and all of the delay spreads out many nodes.
                await asyncio.sleep(delay * self._jitter.uniform(0.5, 1.0))
                try:
                    await self._connect()
                except TransportError as err:
                    log.info("radio still unreachable: %s", err)
                    delay = min(self.backoff_max_s, delay * 2)
                    continue
                self.counters["reconnects"] += 1
                return
        finally:
            self._reconnect_task = None

    async def send(
        self, to: int, port: int, payload: bytes, *, channel: int = 0, want_ack: bool = False
    ) -> None:
        iface = self._iface
        if iface is None or not self.connected.is_set():
            raise TransportError(f"the radio at {self.describe} is not connected")
        try:
            if port == TEXT_PORT:
                text = payload.decode("utf-8", errors="replace")
                sent = await asyncio.to_thread(iface.sendText, text, destinationId=to,
                                               wantAck=want_ack, channelIndex=channel)
                pid = int(getattr(sent, "id", 0) or 0)
                if pid:
                    self._sent_texts[pid] = (to, port, bytes(payload), channel)
                    while len(self._sent_texts) > RECENT_SENDS:
                        del self._sent_texts[next(iter(self._sent_texts))]
            else:
                await asyncio.to_thread(iface.sendData, bytes(payload), destinationId=to,
                                        portNum=port, wantAck=want_ack, channelIndex=channel)
        except Exception as err:
            self.counters["send_errors"] += 1
            raise TransportError(f"the radio refused the packet: {err}") from None
        self.counters["sent"] += 1

    def stats(self) -> dict[str, float]:
        """The radio's own channel figures (fractions) plus this link's counters."""
        out: dict[str, float] = {k: float(v) for k, v in self.counters.items()}
        iface = self._iface
        if iface is None:
            return out
        with contextlib.suppress(Exception):
            node = iface.nodesByNum.get(self.info.node_num) or {}
            metrics = node.get("deviceMetrics") or {}
            if "channelUtilization" in metrics:
                out["channel_util"] = float(metrics["channelUtilization"]) / 100.0
            if "airUtilTx" in metrics:
                out["air_util_tx"] = float(metrics["airUtilTx"]) / 100.0
        return out


def _fields(pkt: Packet) -> dict[str, Any]:
    return {name: getattr(pkt, name) for name in Packet.__slots__}
