"""The one small transport interface every radio implements, plus an in-process loopback.

Shaped like httpx's transports: a base class with start/send/close, a real
implementation (meshtastic_transport), a simulated one (sim), and LoopbackTransport
here, which tests and `--radio sim` use to inject and capture packets.
"""

from __future__ import annotations

import abc
import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

TEXT_PORT = 1  # TEXT_MESSAGE_APP
GAME_PORT = 256  # PRIVATE_APP: binary game frames; not throttled by the firmware
BROADCAST = 0xFFFFFFFF
MAX_PAYLOAD = 200  # our own budget per packet; the firmware's hard limit is 231/233 B


class TransportError(Exception):
    """The radio refused or could not send; str(err) is one line."""


@dataclass(frozen=True, slots=True)
class Packet:
    """One received (or sent) mesh packet, as the game sees it."""

    sender: int
    to: int
    port: int
    payload: bytes
    channel: int = 0
    id: int = 0
    rx_time: float = 0.0
    rx_snr: float = 0.0
    rx_rssi: int = 0
    hop_start: int = 0
    hop_limit: int = 0
    want_ack: bool = False
    # The sender's key, set only on a PKI direct message the radio decrypted with it
    # (firmware 2.5+): the one piece of a packet that proves who sent it.
    public_key: bytes | None = None
    signed: bool = False  # firmware 2.8 verified the sender's signature (xeddsa_signed)


@dataclass(frozen=True, slots=True)
class RadioInfo:
    node_num: int
    region: str = "EU_868"
    preset: str = "LONG_FAST"
    channels: tuple[str, ...] = ("",)
    hop_limit: int = 3
    firmware: str = ""  # the radio's firmware version ("2.7.26.54e0d8d"), "" when unknown


OnPacket = Callable[[Packet], None]


class Transport(abc.ABC):
    """A radio link. on_packet is called on the event loop's thread, never another."""

    info: RadioInfo

    @abc.abstractmethod
    async def start(self, on_packet: OnPacket) -> None: ...

    @abc.abstractmethod
    async def send(
        self, to: int, port: int, payload: bytes, *, channel: int = 0, want_ack: bool = False
    ) -> None:
        """Queue one packet on the radio; raise TransportError if it is refused."""

    @abc.abstractmethod
    async def close(self) -> None: ...

    def stats(self) -> dict[str, float]:
        """What the radio reports about the channel (utilisation, its own airtime)."""
        return {}


@dataclass
class LoopbackTransport(Transport):
    """An in-process radio: sent packets are recorded, inject() delivers packets to the node."""

    info: RadioInfo = field(default_factory=lambda: RadioInfo(node_num=0x0D0D0001))
    sent: list[Packet] = field(default_factory=list)
    _on_packet: OnPacket | None = None

    async def start(self, on_packet: OnPacket) -> None:
        self._on_packet = on_packet

    async def send(
        self, to: int, port: int, payload: bytes, *, channel: int = 0, want_ack: bool = False
    ) -> None:
        if len(payload) > MAX_PAYLOAD:
            raise TransportError(f"payload of {len(payload)} B exceeds {MAX_PAYLOAD} B")
        loop = asyncio.get_running_loop()
        self.sent.append(
            Packet(self.info.node_num, to, port, bytes(payload), channel, rx_time=loop.time(),
                   want_ack=want_ack)
        )

    def inject(self, packet: Packet) -> None:
        if self._on_packet is None:
            raise TransportError("transport not started")
        self._on_packet(packet)

    async def close(self) -> None:
        self._on_packet = None
