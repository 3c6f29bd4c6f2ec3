"""SimTransport: the Transport interface on one radio of an in-process simulated mesh."""

from __future__ import annotations

from collections.abc import Callable

from node.radio.base import OnPacket, Packet, RadioInfo, Transport, TransportError
from node.radio.firmware import ROUTING_PORT
from node.sim.mesh import Mesh


class SimTransport(Transport):
    """A radio on `mesh` at node number `node_num`; the app link of a simulated device."""

    def __init__(self, mesh: Mesh, node_num: int) -> None:
        if node_num not in mesh.radios:
            raise TransportError(f"no radio !{node_num:08x} in the simulated mesh")
        self.mesh = mesh
        self.node_num = node_num
        self.info = RadioInfo(node_num=node_num, region=mesh.region, preset=mesh.preset,
                              hop_limit=mesh.hop_limit, firmware=mesh.firmware)
        self._on_packet: OnPacket | None = None
        self._detach: Callable[[], None] | None = None

    async def start(self, on_packet: OnPacket) -> None:
        if self._detach is not None:
            self._detach()
        self._on_packet = on_packet
        self._detach = self.mesh.attach(self.node_num, self._deliver)

    def _deliver(self, packet: Packet) -> None:
        # Routing acks are the firmware's business; the game sees only app ports.
        if packet.port != ROUTING_PORT and self._on_packet is not None:
            self._on_packet(packet)

    async def send(
        self, to: int, port: int, payload: bytes, *, channel: int = 0, want_ack: bool = False
    ) -> None:
        if self._on_packet is None:
            raise TransportError("transport not started")
        self.mesh.send(self.node_num, to, port, payload, channel=channel, want_ack=want_ack)

    def watch_acks(self, on_ack: Callable[[int, bool, int], None]) -> None:
        """Tell on_ack(request_id, ok, from_num) what the app shows as a DM's delivery state."""
        self.mesh.attach_acks(self.node_num, on_ack)

    async def close(self) -> None:
        if self._detach is not None:
            self._detach()
        self._detach = None
        self._on_packet = None

    def stats(self) -> dict[str, float]:
        return self.mesh.radio_stats(self.node_num)
