"""The mesh simulator: radios on a plane exchanging LoRa packets as discrete events in loop time.

Every event is a timer on the running asyncio loop, so the same mesh runs in virtual
time under VirtualTimeLoop (hours in seconds) or 1:1 on a normal loop (the simulated
device). All randomness comes from one seeded random.Random, so a seed replays exactly.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from node.radio import firmware as fw
from node.radio.base import BROADCAST, TEXT_PORT, Packet, TransportError
from node.sim import phy
from node.sim.timeline import Timeline

log = logging.getLogger(__name__)

NODE_NUM = 0x0D0D0001  # the game node in built topologies (LoopbackTransport's default too)
# Relays and players get distinct last bytes (next_hop and relay_node carry only that byte;
# shared bytes would be a rare accident on a real mesh, not the rule).
RELAY_BASE = 0x0D0E00A0
PLAYER_BASE = 0x0D0F0040
LINK_MARGIN_DB = 8.0  # neighbours in built topologies sit this far above sensitivity

AckListener = Callable[[int, bool, int], None]  # (request_id, ok, from_num)
TxListener = Callable[[int, "Frame"], None]  # (transmitting radio, the copy on the air)
LossListener = Callable[[int, "Frame"], None]  # (receiving radio, the copy it did not get)


@dataclass(frozen=True, slots=True)
class Frame:
    """One packet as it travels the air; `relayer` is whoever transmitted this copy."""

    id: int
    sender: int
    to: int
    port: int
    payload: bytes
    channel: int
    hop_start: int
    hop_limit: int
    want_ack: bool
    relayer: int
    request_id: int = 0  # a routing ack names the packet it acknowledges
    next_hop: int = fw.NO_NEXT_HOP  # last byte of the only radio meant to relay this copy
    pki: bool = False  # a PKI-encrypted DM: 12 B more on the air (Router.cpp:673)
    signed: bool = False  # 2.8: an XEdDSA-signed broadcast, 66 B more on the air

    @property
    def air_bytes(self) -> int:
        """Bytes on the air: header, the Data protobuf (with request_id on acks) and any
        PKI or signature overhead. An ack is 29 B, not 24, because of its fixed32 request_id."""
        return (fw.MESH_HEADER_BYTES + fw.data_bytes(len(self.payload), self.port, self.request_id)
                + (fw.PKC_OVERHEAD_BYTES if self.pki else 0)
                + (fw.XEDDSA_SIGNATURE_BYTES if self.signed else 0))

    @property
    def key(self) -> tuple[int, int]:
        return (self.sender, self.id)


@dataclass(slots=True)
class _Reception:
    frame: Frame
    rssi: float
    snr: float
    end: float
    lost: bool = False
    start: float = 0.0
    locked: bool = True  # the radio synced on its preamble (and raises RX done at its end)


@dataclass(slots=True)
class _TxItem:
    """A packet in a radio's transmit queue (MeshPacketQueue)."""

    frame: Frame
    rebroadcast: bool = False  # relayed from another radio: its wait is SNR-weighted
    snr: float = 0.0  # of the copy we relay
    from_us: bool = True
    tx_after: float = 0.0  # set once moved to the late rebroadcast window

    @property
    def priority(self) -> int:
        return fw.priority(self.frame.port, self.frame.want_ack, self.frame.request_id)


def _before(a: _TxItem, b: _TxItem) -> bool:
    """CompareMeshPacketFunc (MeshPacketQueue.cpp:16-29): late-window packets last, then
    higher priority (ACK > text > reliable), then packets already on the mesh before ours."""
    if bool(a.tx_after) != bool(b.tx_after):
        return not a.tx_after
    if a.priority != b.priority:
        return a.priority > b.priority
    return not a.from_us and b.from_us


@dataclass(slots=True)
class _Reliable:
    """A pending retransmission: our own want_ack packet, or a packet we carry as next hop."""

    frame: Frame
    retries_left: int
    timer: asyncio.TimerHandle | None = None
    own: bool = False  # ours with want_ack: ReliableRouter's budget, not NextHopRouter's
    app: bool = True  # (own only) the app waits for the ack or the NAK; not for our own acks


@dataclass
class Radio:
    """One simulated radio and its firmware state."""

    num: int
    x: float
    y: float
    # "router" relays first (shorter contention window); "client_mute" never relays
    # (firmware FloodingRouter.isRebroadcaster), which a game node at the mesh's edge wants.
    # "router_late" and "client_base" relay in the client window but never cancel a relay
    # on hearing another: they move it past every client's window (FloodingRouter.cpp:
    # 118-152); a CLIENT_BASE does that for favourites only, and here every radio is one.
    role: str = "client"
    name: str = ""
    public_key: bytes = b""  # stands in for the radio's Curve25519 public key
    tx_power_dbm: float = phy.DEFAULT_TX_POWER_DBM
    tx_until: float = -math.inf
    receptions: list[_Reception] = field(default_factory=list)
    queue: list[_TxItem] = field(default_factory=list)
    tx_timer: asyncio.TimerHandle | None = None
    seen: set[tuple[int, int]] = field(default_factory=set)
    # PacketHistory's highest hop_limit of each packet, heard or sent (PacketHistory.cpp:63,
    # 149-152): a copy with more hops left is an "upgrade".
    top_hops: dict[tuple[int, int], int] = field(default_factory=dict)
    reliable: dict[tuple[int, int], _Reliable] = field(default_factory=dict)
    routes: dict[int, int] = field(default_factory=dict)  # destination -> next-hop byte
    relayed_by: dict[tuple[int, int], set[int]] = field(default_factory=dict)
    declined: set[tuple[int, int]] = field(default_factory=set)  # another radio's next hop
    implicitly_acked: set[int] = field(default_factory=set)  # DMs awaiting their real ack
    tx_log: Timeline = field(default_factory=lambda: Timeline(fw.DUTY_WINDOW_S))
    busy: Timeline = field(default_factory=lambda: Timeline(fw.UTIL_WINDOW_S))  # tx or rx
    util_max: float = 0.0
    last_app_text: float = -math.inf
    listeners: list[Callable[[Packet], None]] = field(default_factory=list)
    ack_listeners: list[AckListener] = field(default_factory=list)
    counters: dict[str, float] = field(default_factory=dict)
    traffic_limit: int | None = None  # 2.8 relay traffic management: packets/sender/5 min
    traffic: dict[tuple[int, int], int] = field(default_factory=dict)

    def count(self, name: str, by: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by


COUNTERS = (
    "packets_sent", "transmissions", "airtime_s", "rebroadcasts", "rebroadcasts_cancelled",
    "retransmissions", "acks_received", "implicit_acks", "ack_failures", "collisions", "half_duplex_misses",
    "lost_random", "duplicates", "delivered", "text_drops", "duty_refusals", "oversize_rejects",
    "cad_backoffs", "hop_retransmissions", "route_fallbacks", "repeat_relays",
    "late_clamps", "traffic_drops", "receptions", "upgrades",
)
ROLES = ("client", "client_mute", "client_base", "router", "router_late")


def _key_for(label: str) -> bytes:
    """A reproducible 32-byte stand-in for a radio's public key."""
    return hashlib.sha256(f"pubkey:{label}".encode()).digest()


class Mesh:
    """A simulated Meshtastic mesh on one modem preset and region."""

    def __init__(
        self,
        preset: str = "LONG_FAST",
        region: str = "EU_868",
        *,
        seed: int = 0,
        loss: float = 0.0,
        hop_limit: int = fw.DEFAULT_HOP_LIMIT,
        firmware: str = "2.7",
    ) -> None:
        phy.preset_params(preset)  # fail early on an unknown preset
        if firmware not in fw.FIRMWARES:
            raise ValueError(f"firmware {firmware!r}: use one of {', '.join(fw.FIRMWARES)}")
        self.firmware = firmware
        self.preset = preset.upper()
        self.region = region
        self.seed = seed
        self.loss = loss
        self.hop_limit = hop_limit
        self.rng = random.Random(seed)
        self.radios: dict[int, Radio] = {}
        self.node_num: int | None = None
        self.relays: list[int] = []
        self.players: list[int] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._t0: float | None = None
        self._links: dict[tuple[int, int], phy.LinkBudget] = {}
        self._fades: dict[tuple[int, int], int] = {}  # (from, to) -> receptions still to lose
        self._tx_listeners: list[TxListener] = []
        self._loss_listeners: list[LossListener] = []
        try:  # built inside the loop: its statistics start now, not at the first packet
            self.now()
        except RuntimeError:
            pass

    # ----- building -----------------------------------------------------------------
    def add_radio(
        self, num: int, x: float, y: float = 0.0, *, role: str = "client", name: str = "",
        public_key: bytes = b"",
    ) -> Radio:
        if role not in ROLES:
            raise ValueError(f"role {role!r}: use one of {', '.join(ROLES)}")
        if num in self.radios:
            raise ValueError(f"radio !{num:08x} already exists")
        radio = Radio(num, x, y, role=role, name=name or f"!{num:08x}",
                      public_key=public_key or _key_for(f"{self.seed}:{num}"))
        self.radios[num] = radio
        self._links.clear()
        return radio

    @classmethod
    def line(
        cls, hops: int, *, preset: str = "LONG_FAST", region: str = "EU_868", seed: int = 0,
        loss: float = 0.0, spacing: float | None = None, hop_limit: int = fw.DEFAULT_HOP_LIMIT,
        relay_role: str = "router",
    ) -> Mesh:
        """hops+1 radios in a row, each hearing only its neighbours; the first is the node."""
        if hops < 1:
            raise ValueError("a line needs at least one hop")
        mesh = cls(preset, region, seed=seed, loss=loss, hop_limit=hop_limit)
        step = spacing or phy.range_m(preset, margin_db=LINK_MARGIN_DB)
        mesh.node_num = NODE_NUM
        mesh.add_radio(NODE_NUM, 0.0, name="node")
        for k in range(1, hops):
            num = RELAY_BASE + k
            mesh.add_radio(num, k * step, role=relay_role, name=f"relay{k}")
            mesh.relays.append(num)
        mesh.add_radio(PLAYER_BASE + 1, hops * step, name="player1")
        mesh.players.append(PLAYER_BASE + 1)
        return mesh

    @classmethod
    def build(
        cls, players: int = 3, hops: int = 1, preset: str = "LONG_FAST", loss: float = 0.0,
        seed: int = 0, *, region: str = "EU_868", hop_limit: int = fw.DEFAULT_HOP_LIMIT,
        relay_role: str = "router", node_role: str = "client", player_role: str = "client",
        repeaters: int = 0, relays_per_hop: int = 1, firmware: str = "2.7",
        spacing: float | None = None, repeater_role: str = "client",
    ) -> Mesh:
        """The node, a chain of hops-1 relays, and players clustered `hops` radio hops away.

        Relays are ROUTER-role radios by default, as a relay on a hill would be set up: they
        relay first and never cancel a relay on hearing a player's rebroadcast. Each hop may
        have `relays_per_hop` relays side by side (a second hill: two paths to the node).
        The first `repeaters` players take `repeater_role` (CLIENT unless told) whatever
        `player_role` says.
        """
        if hops < 1 or players < 0 or not 1 <= relays_per_hop <= 3:
            raise ValueError("need hops >= 1, players >= 0 and 1-3 relays per hop")
        mesh = cls(preset, region, seed=seed, loss=loss, hop_limit=hop_limit, firmware=firmware)
        step = spacing or phy.range_m(preset, margin_db=LINK_MARGIN_DB)
        number = mesh._numbering()
        mesh.node_num = number(NODE_NUM, "node")
        mesh.add_radio(mesh.node_num, 0.0, role=node_role, name="node",
                       public_key=mesh._build_key("node"))
        for k in range(1, hops):
            # Side by side across the line, a fifth of a hop apart: each hears the next hop,
            # the previous one and the others on its hop (so they defer to each other).
            for j in range(relays_per_hop):
                y = (j - (relays_per_hop - 1) / 2) * 0.2 * step
                name = f"relay{k}" if relays_per_hop == 1 else f"relay{k}{'abc'[j]}"
                num = number(RELAY_BASE + k + 16 * j, name)
                mesh.add_radio(num, k * step, y, role=relay_role, name=name,
                               public_key=mesh._build_key(name))
                mesh.relays.append(num)
        # Players scatter within a tenth of a hop of the cluster centre: close enough to
        # hear the last relay, far enough that the relay before it is out of range.
        place = random.Random(f"place:{seed}")
        for i in range(1, players + 1):
            angle = place.uniform(0, 2 * math.pi)
            r = 0.1 * step * math.sqrt(place.random())
            num = number(PLAYER_BASE + i, f"player{i}")
            mesh.add_radio(num, hops * step + r * math.cos(angle), r * math.sin(angle),
                           role=repeater_role if i <= repeaters else player_role,
                           name=f"player{i}",
                           public_key=mesh._build_key(f"player{i}"))
            mesh.players.append(num)
        return mesh

    def _build_key(self, name: str) -> bytes:
        return _key_for(f"{self.seed}:{name}")

    def _numbering(self) -> Callable[[int, str], int]:
        """2.7 keeps the numbers built topologies always had; 2.8 numbers a radio by the
        crc32 of its public key, as its first 2.8 boot does."""
        if self.firmware != "2.8":
            return lambda num, name: num
        return lambda num, name: fw.node_num_for_key(self._build_key(name))

    # ----- app-facing API -------------------------------------------------------------
    def attach(self, num: int, on_packet: Callable[[Packet], None]) -> Callable[[], None]:
        """Deliver packets received by radio `num` to on_packet; returns a detach function."""
        radio = self.radios[num]
        return _watch(radio.listeners, on_packet)

    def attach_acks(self, num: int, on_ack: AckListener) -> Callable[[], None]:
        """Tell on_ack(request_id, ok, from_num) when a want_ack packet is acked or gives up."""
        radio = self.radios[num]
        return _watch(radio.ack_listeners, on_ack)

    def watch_transmissions(self, on_tx: TxListener) -> Callable[[], None]:
        """Tell on_tx(radio num, frame) as each copy goes on the air; returns a detach."""
        return _watch(self._tx_listeners, on_tx)

    def watch_losses(self, on_loss: LossListener) -> Callable[[], None]:
        """Tell on_loss(radio num, frame) when a radio sensed a copy but lost it (a collision,
        a fade or random loss); returns a detach. For the simulator's own diagnostics: no
        real radio can know this."""
        return _watch(self._loss_listeners, on_loss)

    def send(
        self, num: int, to: int, port: int, payload: bytes, *, channel: int = 0,
        want_ack: bool = False, packet_id: int | None = None, hop_limit: int | None = None,
    ) -> int:
        """Hand a packet to radio `num` as its app link would; returns the packet id.

        Raises RateLimitedError for a text within 2 s of the last (PhoneAPI.cpp:851-858
        answers the app with a RATE_LIMIT_EXCEEDED routing error) and TransportError for
        what the firmware refuses outright (too large, duty cycle).
        """
        radio = self.radios[num]
        now = self.now()
        pki = fw.uses_pki(to, port, BROADCAST) and to != num
        signed = fw.signed(to, len(payload), port, BROADCAST, self.firmware)
        extra = (fw.PKC_OVERHEAD_BYTES if pki else 0)
        if len(payload) > phy.MAX_FIRMWARE_PAYLOAD or (
                fw.MESH_HEADER_BYTES + fw.data_bytes(len(payload), port) + extra
                > fw.MAX_LORA_PAYLOAD):
            radio.count("oversize_rejects")
            limit = fw.MAX_LORA_PAYLOAD - fw.MESH_HEADER_BYTES - extra - (
                fw.data_bytes(len(payload), port) - len(payload))
            raise TransportError(f"payload of {len(payload)} B exceeds the radio's "
                                 f"{min(limit, phy.MAX_FIRMWARE_PAYLOAD)} B"
                                 + (" for a PKI direct message" if pki else ""))
        if port == TEXT_PORT:
            if now - radio.last_app_text < fw.TEXT_APP_GAP_S:
                radio.count("text_drops")
                raise fw.RateLimitedError("RATE_LIMIT_EXCEEDED: one text per 2 s")
            radio.last_app_text = now
        hops = self.hop_limit if hop_limit is None else hop_limit
        pid = packet_id if packet_id else self._new_id()
        frame = Frame(pid, num, to, port, bytes(payload), channel, hops, hops, want_ack, num,
                      next_hop=self._next_hop(radio, to), pki=pki, signed=signed)
        if not self._reliable_send(radio, frame, app=True):
            # Router.cpp:304-326: past the hour's limit the app gets a DUTY_CYCLE_LIMIT NAK.
            raise TransportError("duty cycle limit reached; the radio refuses to transmit")
        radio.count("packets_sent")
        return pid

    def _reliable_send(self, radio: Radio, frame: Frame, *, app: bool) -> bool:
        """ReliableRouter::send (ReliableRouter.cpp:17-37): a want_ack packet's retry timer
        starts at the hand-off, and every other pending timer moves on by its airtime.
        False when the duty cycle refuses it (Router::send checks before queueing)."""
        now = self.now()
        if not self._duty_allows(radio, now):
            radio.count("duty_refusals")
            return False
        radio.seen.add(frame.key)
        radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(radio.num))
        if frame.want_ack and frame.to != radio.num:
            rel = _Reliable(frame, fw.NUM_RELIABLE_RETX - 1, own=True, app=app)
            radio.reliable[frame.key] = rel
            self._arm_retry(radio, rel)
        else:
            self._track_next_hop(radio, frame)
        self._push_retries(radio, self._airtime(frame), frame.key)
        self._enqueue(radio, _TxItem(frame))
        return True

    def fade(self, sender: int, receiver: int, count: int = 1) -> None:
        """Lose the next `count` packets `receiver` would hear from `sender` (a deep fade)."""
        self._fades[(sender, receiver)] = self._fades.get((sender, receiver), 0) + count

    def transmit_now(
        self, num: int, to: int, port: int, payload: bytes, *, hop_limit: int = 0
    ) -> int:
        """Key up radio `num` at once, skipping CAD and contention: an interferer, or a test
        that needs two transmissions to overlap exactly."""
        radio = self.radios[num]
        frame = Frame(self._new_id(), num, to, port, bytes(payload), 0, hop_limit, hop_limit,
                      False, num)
        radio.seen.add(frame.key)
        self._transmit(radio, _TxItem(frame))
        return frame.id

    def channel_util(self, num: int) -> float:
        """Fraction of the last minute radio `num` found the channel busy (tx or rx)."""
        now = self.now()
        return self.radios[num].busy.between(now - fw.UTIL_WINDOW_S, now) / fw.UTIL_WINDOW_S

    def air_util_tx(self, num: int) -> float:
        """Fraction of the last hour radio `num` spent transmitting."""
        now = self.now()
        tx = self.radios[num].tx_log
        return tx.between(now - fw.DUTY_WINDOW_S, now) / fw.DUTY_WINDOW_S

    def radio_stats(self, num: int) -> dict[str, float]:
        radio = self.radios[num]
        out = {name: float(radio.counters.get(name, 0)) for name in COUNTERS}
        out["channel_util"] = self.channel_util(num)
        out["air_util_tx"] = self.air_util_tx(num)
        out["channel_util_max"] = max(radio.util_max, out["channel_util"])
        out["channel_util_mean"] = radio.busy.upto(self.now()) / max(self.elapsed(), 1e-9)
        return out

    def stats(self) -> dict[str, object]:
        """Mesh-wide counters plus per-radio figures, for the `dungeon sim` reporter."""
        per = {f"!{num:08x}": self.radio_stats(num) for num in self.radios}
        totals = {name: sum(r[name] for r in per.values()) for name in COUNTERS}
        utils = [r["channel_util_max"] for r in per.values()] or [0.0]
        means = [r["channel_util_mean"] for r in per.values()] or [0.0]
        return {
            "preset": self.preset, "region": self.region, "seed": self.seed, "loss": self.loss,
            "elapsed_s": self.elapsed(), **totals,
            "channel_util_max": max(utils), "channel_util_mean": sum(means) / len(means),
            "radios": per,
        }

    def now(self) -> float:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
            self._t0 = self._loop.time()
        return self._loop.time()

    def elapsed(self) -> float:
        return 0.0 if self._t0 is None else self.now() - self._t0

    # ----- transmission -------------------------------------------------------------
    def _new_id(self) -> int:
        return self.rng.getrandbits(32) or 1

    def _at(self, when: float, fn: Callable[..., None], *args: object) -> asyncio.TimerHandle:
        self.now()
        assert self._loop is not None
        return self._loop.call_at(when, fn, *args)

    def _airtime(self, frame: Frame) -> float:
        from protocol.airtime import lora_airtime_s

        return lora_airtime_s(frame.air_bytes, phy.preset_params(self.preset))

    def _duty_allows(self, radio: Radio, now: float) -> bool:
        """Router.cpp:304-326: refuse only once the past hour is already over the limit,
        the hour summed in one-minute buckets (airtime.cpp:113-121), so the packet that
        crosses the limit still goes."""
        limit = fw.DUTY_LIMITS.get(self.region)
        if limit is None:
            return True
        since = (self._t0 or 0.0) + fw.duty_bucket_start(self.elapsed())
        return radio.tx_log.after(since) <= limit * fw.DUTY_WINDOW_S

    def _hand_off(self, radio: Radio, item: _TxItem) -> bool:
        """Router::send for a packet we relay or retransmit: the duty check, then the queue;
        a relay past its duty limit drops the packet silently (Router.cpp:320-324)."""
        if not self._duty_allows(radio, self.now()):
            radio.count("duty_refusals")
            return False
        self._enqueue(radio, item)
        return True

    def _enqueue(self, radio: Radio, item: _TxItem) -> None:
        """MeshPacketQueue::enqueue (MeshPacketQueue.cpp:86-88): stable insert in priority
        order; then RadioLibInterface::send arms a wait unless one is pending (:200-202)."""
        self._note_hops(radio, item.frame)  # FloodingRouter::send records it (:23)
        i = next((k for k, other in enumerate(radio.queue) if _before(item, other)),
                 len(radio.queue))
        radio.queue.insert(i, item)
        self._arm(radio, redraw=False)

    def _arm(self, radio: Radio, *, redraw: bool = True) -> None:
        """setTransmitDelay (RadioLibInterface.cpp:414-441): a fresh random wait for the head
        of the queue after every receive and transmit interrupt (:367-376), which replaces
        the pending timer; otherwise notifyLater(..., false) keeps a timer already pending
        (NotifiedWorkerThread.cpp:26-44, :63-75)."""
        if radio.tx_timer is not None and not redraw:
            return
        if radio.tx_timer is not None:
            radio.tx_timer.cancel()
            radio.tx_timer = None
        if not radio.queue:
            return
        head = radio.queue[0]
        now = self.now()
        if head.tx_after:
            add = self._weighted_delay(radio, head)
            worst = fw.late_window_s(self.preset, head.snr)
            head.tx_after = min(max(head.tx_after + add, now + add), now + 2 * worst)
            when = head.tx_after
        elif head.rebroadcast:
            when = now + self._weighted_delay(radio, head)
        else:
            when = now + fw.tx_delay_s(self.rng, self.preset, self.channel_util(radio.num))
        radio.tx_timer = self._at(when, self._attempt, radio)

    def _weighted_delay(self, radio: Radio, item: _TxItem) -> float:
        if not item.rebroadcast:
            return fw.tx_delay_s(self.rng, self.preset, self.channel_util(radio.num))
        return fw.rebroadcast_delay_s(self.rng, self.preset, item.snr, radio.role == "router")

    def _attempt(self, radio: Radio) -> None:
        """TRANSMIT_DELAY_COMPLETED (RadioLibInterface.cpp:377-408)."""
        radio.tx_timer = None
        if not radio.queue:
            return
        now = self.now()
        if now < radio.tx_until or any(r.end > now for r in radio.receptions):
            # Busy sending, or CAD found the channel active: redraw the wait.
            radio.count("cad_backoffs")
            self._arm(radio)
            return
        head = radio.queue[0]
        if head.tx_after > now:
            radio.tx_timer = self._at(head.tx_after, self._attempt, radio)
            return
        radio.queue.pop(0)
        self._transmit(radio, head)

    def _transmit(self, radio: Radio, item: _TxItem) -> None:
        frame = item.frame
        now = self.now()
        air = self._airtime(frame)
        radio.tx_until = now + air
        radio.tx_log.add(now, now + air)
        radio.busy.add(now, now + air)
        radio.count("transmissions")
        radio.count("airtime_s", air)
        if item.rebroadcast:
            radio.count("rebroadcasts")
        for listener in list(self._tx_listeners):
            listener(radio.num, frame)
        for rx in radio.receptions:  # half-duplex: keying up ruins whatever we were hearing
            if not rx.lost:
                rx.lost = True
                radio.count("half_duplex_misses")
        for other in self.radios.values():
            if other is radio:
                continue
            budget = self.link(radio, other)
            if not budget.heard:
                continue
            if other.tx_until > now:
                other.count("half_duplex_misses")
                continue
            self._begin_rx(other, frame, budget, now + air)
        self._at(now + air, self._tx_done, radio)

    def _tx_done(self, radio: Radio) -> None:
        self._sample_util(radio)
        self._arm(radio)  # ISR_TX: RadioLibInterface.cpp:367-371

    def _arm_retry(self, radio: Radio, rel: _Reliable) -> None:
        """NextHopRouter::setNextTx (NextHopRouter.cpp:330-338): the timeout runs from now,
        the hand-off, not from the end of the transmission (:249-260, :313-315)."""
        air = self._airtime(rel.frame)
        timeout = fw.retransmission_timeout_s(air, self.preset, self.channel_util(radio.num))
        if rel.timer is not None:
            rel.timer.cancel()
        rel.timer = self._at(self.now() + timeout, self._retry, radio, rel.frame.key)

    def _push_retries(self, radio: Radio, air: float, skip: tuple[int, int] | None) -> None:
        """ReliableRouter.cpp:27-34 and :68-75: time spent sending or receiving another
        packet is added to every pending retransmission timer, since no ack could be heard."""
        for key, rel in radio.reliable.items():
            if key == skip or rel.timer is None:
                continue
            when = rel.timer.when() + air
            rel.timer.cancel()
            rel.timer = self._at(when, self._retry, radio, key)

    def _retry(self, radio: Radio, key: tuple[int, int]) -> None:
        """NextHopRouter::doRetransmissions (NextHopRouter.cpp:265-328)."""
        rel = radio.reliable.get(key)
        if rel is None:
            return
        rel.timer = None
        if rel.retries_left <= 0:
            del radio.reliable[key]
            if rel.own:
                radio.count("ack_failures")
                if rel.app:
                    self._notify_ack(radio, key[1], False, rel.frame.to)
            return
        if rel.frame.to != BROADCAST:
            if rel.retries_left == 1:
                # NextHopRouter: the last try of a DM floods and forgets the learned route.
                if rel.frame.next_hop != fw.NO_NEXT_HOP:
                    radio.count("route_fallbacks")
                radio.routes.pop(rel.frame.to, None)
                rel.frame = replace(rel.frame, next_hop=fw.NO_NEXT_HOP)
            else:
                rel.frame = replace(rel.frame, next_hop=self._next_hop(radio, rel.frame.to))
        rel.retries_left -= 1
        radio.count("retransmissions")
        if not rel.own and rel.frame.sender != radio.num:
            radio.count("hop_retransmissions")
        self._hand_off(radio, _TxItem(rel.frame, from_us=rel.frame.sender == radio.num))
        self._arm_retry(radio, rel)

    def link(self, a: Radio, b: Radio) -> phy.LinkBudget:
        key = (a.num, b.num)
        budget = self._links.get(key)
        if budget is None:
            dist = math.hypot(a.x - b.x, a.y - b.y)
            offset = phy.link_offset_db(self.seed, a.num, b.num)
            budget = phy.link(self.preset, a.tx_power_dbm, dist, offset)
            self._links[key] = budget
        return budget

    def neighbours(self, num: int) -> list[int]:
        """Radios that can hear `num` (for topology checks and the reporter)."""
        me = self.radios[num]
        return [o.num for o in self.radios.values() if o is not me and self.link(me, o).heard]

    # ----- reception ----------------------------------------------------------------
    def _begin_rx(self, radio: Radio, frame: Frame, budget: phy.LinkBudget, end: float) -> None:
        now = self.now()
        new = _Reception(frame, budget.rssi, budget.snr, end, start=now)
        radio.count("receptions")  # sensed: heard above sensitivity, intact or not
        for rx in radio.receptions:
            if rx.end <= now:
                continue
            # LoRa capture: the radio stays locked on the preamble it found first, so the
            # newcomer is lost; the first survives only if stronger by the capture margin.
            if not new.lost:
                new.lost = True
                new.locked = False
                radio.count("collisions")
            if rx.rssi - new.rssi < phy.CAPTURE_DB and not rx.lost:
                rx.lost = True
                radio.count("collisions")
        radio.receptions.append(new)
        radio.busy.add(now, end)
        self._at(end, self._end_rx, radio, new)

    def _end_rx(self, radio: Radio, rx: _Reception) -> None:
        radio.receptions.remove(rx)
        self._sample_util(radio)
        self._finish_rx(radio, rx)
        if rx.locked:
            self._arm(radio)  # ISR_RX: RadioLibInterface.cpp:372-376 redraws the wait

    def _finish_rx(self, radio: Radio, rx: _Reception) -> None:
        if rx.lost or self._dropped(radio, rx.frame):
            for listener in list(self._loss_listeners):
                listener(radio.num, rx.frame)
            return
        self._receive(radio, rx.frame, rx.rssi, rx.snr)
        # ReliableRouter: while this packet was coming in, no (implicit) ack could arrive.
        self._push_retries(radio, rx.end - rx.start, None)

    def _dropped(self, radio: Radio, frame: Frame) -> bool:
        """A copy received intact but lost all the same: a fade set up by a test, or the
        random loss per reception."""
        fade = (frame.relayer, radio.num)
        if self._fades.get(fade, 0) > 0:
            self._fades[fade] -= 1
        elif not (self.loss > 0 and self.rng.random() < self.loss):
            return False
        radio.count("lost_random")
        return True

    def _receive(self, radio: Radio, frame: Frame, rssi: float, snr: float) -> None:
        """The router's decision on a packet heard intact: deliver, ack, relay or ignore."""
        to_me = frame.to == radio.num
        if frame.relayer != frame.sender:
            radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(frame.relayer))
        upgraded = frame.hop_limit > radio.top_hops.get(frame.key, -1)
        self._note_hops(radio, frame)
        if frame.key in radio.seen:
            if upgraded and self._upgrade(radio, frame, snr):
                return
            self._duplicate(radio, frame, snr, to_me)
            return
        radio.seen.add(frame.key)
        if frame.port == fw.ROUTING_PORT and frame.request_id:
            self._sniff_ack(radio, frame)
        if to_me or frame.to == BROADCAST:
            if to_me and frame.port == fw.ROUTING_PORT and frame.request_id:
                self._acked(radio, frame.request_id, frame.sender, implicit=False)
            self._deliver(radio, frame, rssi, snr)
            if to_me:
                self._ack_received(radio, frame)
        if not to_me and frame.hop_limit > 0:
            if frame.next_hop in (fw.NO_NEXT_HOP, fw.relay_byte(radio.num)):
                self._relay(radio, frame, snr)
            else:
                radio.declined.add(frame.key)

    def _ack_received(self, radio: Radio, frame: Frame) -> None:
        """ReliableRouter::sniffReceived (ReliableRouter.cpp:94-130) for a packet to us."""
        direct = frame.relayer == frame.sender
        if frame.want_ack:
            if frame.port == fw.TEXT_PORT:
                # :102-106, :181-190: a text DM's ack is itself want_ack.
                self._send_ack(radio, frame, self._response_hops(frame), want_ack=True)
            elif not frame.request_id:
                self._send_ack(radio, frame, self._response_hops(frame))
            elif direct or frame.next_hop != fw.NO_NEXT_HOP:
                # :111-116: an ack or reply asking for one gets a 0-hop ack, only to stop
                # the radio that handed it to us.
                self._send_ack(radio, frame, 0)
        elif frame.next_hop == fw.relay_byte(radio.num) and frame.hop_limit > 0:
            # :127-130: we were its next hop; a 0-hop ack stops the relay's retransmissions.
            self._send_ack(radio, frame, 0)

    def _response_hops(self, frame: Frame) -> int:
        """RoutingModule::getHopLimitForResponse (RoutingModule.cpp:62-78)."""
        used = frame.hop_start - frame.hop_limit
        if used > self.hop_limit:
            return used
        if frame.hop_start == 0:
            return 0
        if used + 2 < self.hop_limit:
            return used + 2
        return self.hop_limit

    def _duplicate(self, radio: Radio, frame: Frame, snr: float, to_me: bool) -> None:
        """A copy of a packet seen before (NextHopRouter.cpp:50-81, FloodingRouter.cpp:43-62)."""
        radio.count("duplicates")
        # A copy straight from its sender (hop_start == hop_limit) is that sender
        # retransmitting because it heard no relay; relay it again (unless a copy still
        # waits in our queue) so it gets its implicit ack and the far side its copy.
        repeated = frame.relayer == frame.sender and 0 < frame.hop_start == frame.hop_limit
        rel = radio.reliable.get(frame.key)
        if frame.sender == radio.num and rel is not None and rel.own:
            # ReliableRouter.cpp:42-62: hearing our own packet relayed is the implicit ack
            # (a DM's destination may still send a real ack later).
            self._acked(radio, frame.id, radio.num, implicit=True)
        else:
            # NextHopRouter.cpp:53-56: any copy heard again ends our retransmissions of it.
            self._stop_retransmission(radio, frame.key)
        if not repeated and not (frame.key in radio.declined and frame.next_hop == fw.NO_NEXT_HOP):
            self._cancel_dupe(radio, frame.key)
        if to_me and repeated and frame.want_ack:
            # NextHopRouter.cpp:69-74: the sender's own retransmission means our ack was
            # lost; ack again with hop limit 0. A flood's echo is not acked twice.
            self._send_ack(radio, frame, 0)
        elif frame.key in radio.declined and frame.next_hop == fw.NO_NEXT_HOP:
            # The routed attempt failed and its sender fell back to flooding: now we relay.
            radio.declined.discard(frame.key)
            self._relay(radio, frame, snr)
        elif repeated and not to_me and radio.role != "client_mute" and frame.next_hop in (
                fw.NO_NEXT_HOP, fw.relay_byte(radio.num)) and \
                not any(item.frame.key == frame.key for item in radio.queue):
            radio.count("repeat_relays")
            self._relay(radio, frame, snr)

    @staticmethod
    def _note_hops(radio: Radio, frame: Frame) -> None:
        radio.top_hops[frame.key] = max(frame.hop_limit, radio.top_hops.get(frame.key, -1))

    def _upgrade(self, radio: Radio, frame: Frame, snr: float) -> bool:
        """perhapsHandleUpgradedPacket (FloodingRouter.cpp:67-88): a copy with more hops
        left than any before replaces our queued relay of a poorer one
        (RadioLibInterface.cpp:486-495 drops the queued copy with hop_limit below it)."""
        if radio.role == "client_mute" or frame.hop_limit <= 0:
            return False
        poorer = next((item for item in radio.queue if item.rebroadcast
                       and item.frame.key == frame.key
                       and item.frame.hop_limit < frame.hop_limit), None)
        if poorer is None:
            return False
        self._drop_queued(radio, poorer)
        radio.count("upgrades")
        self._relay(radio, frame, snr)
        return True

    def _cancel_dupe(self, radio: Radio, key: tuple[int, int]) -> None:
        """perhapsCancelDupe (FloodingRouter.cpp:118-152): a CLIENT drops its queued relay;
        ROUTER and ROUTER_LATE never do, and ROUTER_LATE and CLIENT_BASE move theirs to the
        late window (RadioLibInterface.cpp:464-480)."""
        if radio.role in ("client", "client_mute"):
            self._cancel_rebroadcast(radio, key)
        elif radio.role in ("router_late", "client_base"):
            for item in list(radio.queue):
                if item.rebroadcast and item.frame.key == key and not item.tx_after:
                    radio.queue.remove(item)
                    item.tx_after = self.now() + fw.late_window_s(self.preset, item.snr)
                    i = next((k for k, o in enumerate(radio.queue) if _before(item, o)),
                             len(radio.queue))
                    radio.queue.insert(i, item)
                    radio.count("late_clamps")

    def _relay(self, radio: Radio, frame: Frame, snr: float) -> None:
        """Rebroadcast a packet; as its next hop we keep it until the next hop is heard."""
        if frame.hop_limit <= 0 or frame.sender == radio.num or radio.role == "client_mute":
            return
        if not self._traffic_allows(radio, frame):
            return
        # NextHopRouter.cpp:150-154: a flooded copy is relayed by FloodingRouter::send, which
        # keeps "no preference"; only a routed copy gets our own next hop (:26).
        hop = fw.NO_NEXT_HOP if frame.next_hop == fw.NO_NEXT_HOP else self._next_hop(radio, frame.to)
        relay = replace(frame, hop_limit=frame.hop_limit - 1, relayer=radio.num, next_hop=hop)
        radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(radio.num))
        if self._hand_off(radio, _TxItem(relay, rebroadcast=True, snr=snr, from_us=False)):
            self._track_next_hop(radio, relay)

    def _traffic_allows(self, radio: Radio, frame: Frame) -> bool:
        """2.8 develop traffic management (opt-in on a relay): per sender, at most
        traffic_limit text or private-app packets relayed per 5-minute bucket; the rest
        are dropped silently."""
        if radio.traffic_limit is None or not (
                frame.port == fw.TEXT_PORT or 256 <= frame.port < 512):
            return True
        bucket = int(self.elapsed() // fw.TRAFFIC_BUCKET_S)
        key = (frame.sender, bucket)
        radio.traffic[key] = radio.traffic.get(key, 0) + 1
        if radio.traffic[key] > radio.traffic_limit:
            radio.count("traffic_drops")
            return False
        return True

    def _next_hop(self, radio: Radio, to: int) -> int:
        """The learned next-hop byte for a DM to `to`, or no preference (flood)."""
        if to == BROADCAST:
            return fw.NO_NEXT_HOP
        hop = radio.routes.get(to, fw.NO_NEXT_HOP)
        return fw.NO_NEXT_HOP if hop == fw.relay_byte(radio.num) else hop

    def _track_next_hop(self, radio: Radio, frame: Frame) -> None:
        """NextHopRouter.cpp:29-32: a routed DM we send but no app waits on gets one more try.
        The 2.8 develop snapshot no longer retries DMs it only relays."""
        if frame.to == BROADCAST or frame.next_hop == fw.NO_NEXT_HOP:
            return
        if self.firmware == "2.8" and frame.sender != radio.num:
            return
        if (frame.hop_limit > 0 or frame.want_ack) and frame.key not in radio.reliable:
            rel = _Reliable(frame, fw.NUM_INTERMEDIATE_RETX - 1)
            radio.reliable[frame.key] = rel
            self._arm_retry(radio, rel)

    def _sniff_ack(self, radio: Radio, ack: Frame) -> None:
        """Learn a route from an ack heard (to us or not) and stop carrying what it acks.

        NextHopRouter.cpp:96-110: the ack's relayer becomes the next hop towards the ack's
        sender only if we relayed the original too and so did that relayer, or if we were
        the original's only relayer and the ack came straight from its destination; a
        bystander that never carried the original learns nothing.
        """
        original = (ack.to, ack.request_id)
        relayers = radio.relayed_by.get(original, set())
        via = fw.relay_byte(ack.relayer)
        mine = fw.relay_byte(radio.num)
        direct = ack.relayer == ack.sender
        if ack.sender != radio.num and (
            mine in relayers and via in relayers and via != mine
            or direct and relayers == {mine}
        ):
            radio.routes[ack.sender] = via
        if ack.to != radio.num:
            self._cancel_rebroadcast(radio, original)
            self._stop_retransmission(radio, original)

    def _stop_retransmission(self, radio: Radio, key: tuple[int, int]) -> None:
        rel = radio.reliable.get(key)
        if rel is None or rel.own:
            return
        del radio.reliable[key]
        if rel.timer is not None:
            rel.timer.cancel()
        if radio.role in ("router", "router_late"):
            return  # NextHopRouter.cpp:208-230: routers never cancel a queued packet
        for item in list(radio.queue):
            if item.frame.key == key and not item.rebroadcast:
                self._drop_queued(radio, item)

    def _cancel_rebroadcast(self, radio: Radio, key: tuple[int, int]) -> None:
        for item in list(radio.queue):
            if item.rebroadcast and item.frame.key == key:
                self._drop_queued(radio, item)
                radio.count("rebroadcasts_cancelled")

    def _drop_queued(self, radio: Radio, item: _TxItem) -> None:
        """Remove a queued packet (Router::cancelSending); a pending timer stays armed and
        serves whatever is at the head when it fires."""
        radio.queue.remove(item)

    def _send_ack(self, radio: Radio, frame: Frame, hop_limit: int, *,
                  want_ack: bool = False) -> None:
        ack = Frame(self._new_id(), radio.num, frame.sender, fw.ROUTING_PORT,
                    bytes(fw.ROUTING_ACK_BYTES), frame.channel, hop_limit, hop_limit,
                    want_ack, radio.num, frame.id, self._next_hop(radio, frame.sender))
        self._reliable_send(radio, ack, app=False)

    def _acked(self, radio: Radio, pid: int, by: int, *, implicit: bool) -> None:
        rel = radio.reliable.pop((radio.num, pid), None)
        if rel is not None and not rel.own:  # a routed ack of ours, not an app's packet
            radio.reliable[(radio.num, pid)] = rel
            rel = None
        if rel is None:
            # A destination's real ack after the implicit one still reaches the app.
            if not implicit and pid in radio.implicitly_acked:
                radio.implicitly_acked.discard(pid)
                radio.count("acks_received")
                self._notify_ack(radio, pid, True, by)
            return
        if rel.timer is not None:
            rel.timer.cancel()
        # A retransmission still waiting in the queue is no longer needed.
        for item in list(radio.queue):
            if item.frame.key == rel.frame.key and not item.rebroadcast:
                self._drop_queued(radio, item)
        if implicit:
            radio.count("implicit_acks")
            if rel.frame.to != BROADCAST and rel.app:
                radio.implicitly_acked.add(pid)
        else:
            radio.count("acks_received")
        if rel.app:
            self._notify_ack(radio, pid, True, by)

    def _notify_ack(self, radio: Radio, pid: int, ok: bool, by: int) -> None:
        for listener in list(radio.ack_listeners):
            try:
                listener(pid, ok, by)
            except Exception:  # a faulty listener must not stop the mesh
                log.exception("ack listener on !%08x failed", radio.num)

    def _deliver(self, radio: Radio, frame: Frame, rssi: float, snr: float) -> None:
        radio.count("delivered")
        packet = Packet(
            sender=frame.sender, to=frame.to, port=frame.port, payload=frame.payload,
            channel=frame.channel, id=frame.id, rx_time=self.now(), rx_snr=round(snr, 2),
            rx_rssi=int(round(rssi)), hop_start=frame.hop_start, hop_limit=frame.hop_limit,
            want_ack=frame.want_ack,
            # A PKI DM names its sender's key to the app (MeshPacket.public_key).
            public_key=self.radios[frame.sender].public_key if frame.pki else None,
            # 2.8: the receiving radio verified the broadcast's signature (xeddsa_signed).
            signed=frame.signed,
        )
        for listener in list(radio.listeners):
            try:
                listener(packet)
            except Exception:
                log.exception("packet listener on !%08x failed", radio.num)

    # ----- channel utilisation --------------------------------------------------------
    def _sample_util(self, radio: Radio) -> None:
        radio.util_max = max(radio.util_max, self.channel_util(radio.num))


def _watch(listeners: list, fn: Callable[..., None]) -> Callable[[], None]:
    """Add fn to listeners; returns the function that takes it out again."""
    listeners.append(fn)
    return lambda: listeners.remove(fn) if fn in listeners else None
