"""The mesh simulator: radios on a plane exchanging LoRa packets as discrete events in loop time.

Every event is a timer on the running asyncio loop, so the same mesh runs in virtual
time under VirtualTimeLoop (hours in seconds) or 1:1 on a normal loop (the simulated
device). All randomness comes from one seeded random.Random, so a seed replays exactly.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
from collections import deque
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


@dataclass(slots=True)
class _TxItem:
    frame: Frame
    delay: float  # contention delay before the first attempt
    rebroadcast: bool = False


@dataclass(slots=True)
class _Reliable:
    """A pending retransmission: our own want_ack packet, or a packet we carry as next hop."""

    frame: Frame
    retries_left: int
    timer: asyncio.TimerHandle | None = None
    own: bool = False  # the app waits for its ack (or the NAK when retries run out)


@dataclass
class Radio:
    """One simulated radio and its firmware state."""

    num: int
    x: float
    y: float
    # "router" relays first (shorter contention window); "client_mute" never relays
    # (firmware FloodingRouter.isRebroadcaster), which a game node at the mesh's edge wants.
    role: str = "client"
    name: str = ""
    tx_power_dbm: float = phy.DEFAULT_TX_POWER_DBM
    tx_until: float = -math.inf
    receptions: list[_Reception] = field(default_factory=list)
    queue: deque[_TxItem] = field(default_factory=deque)
    tx_timer: asyncio.TimerHandle | None = None
    seen: set[tuple[int, int]] = field(default_factory=set)
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

    def count(self, name: str, by: float = 1) -> None:
        self.counters[name] = self.counters.get(name, 0) + by


COUNTERS = (
    "packets_sent", "transmissions", "airtime_s", "rebroadcasts", "rebroadcasts_cancelled",
    "retransmissions", "acks_received", "implicit_acks", "ack_failures", "collisions", "half_duplex_misses",
    "lost_random", "duplicates", "delivered", "text_drops", "duty_refusals", "oversize_rejects",
    "cad_backoffs", "hop_retransmissions", "route_fallbacks", "repeat_relays",
)


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
    ) -> None:
        phy.preset_params(preset)  # fail early on an unknown preset
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
        try:  # built inside the loop: its statistics start now, not at the first packet
            self.now()
        except RuntimeError:
            pass

    # ----- building -----------------------------------------------------------------
    def add_radio(
        self, num: int, x: float, y: float = 0.0, *, role: str = "client", name: str = ""
    ) -> Radio:
        if num in self.radios:
            raise ValueError(f"radio !{num:08x} already exists")
        radio = Radio(num, x, y, role=role, name=name or f"!{num:08x}")
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
        repeaters: int = 0, relays_per_hop: int = 1,
    ) -> Mesh:
        """The node, a chain of hops-1 relays, and players clustered `hops` radio hops away.

        Relays are ROUTER-role radios by default, as a relay on a hill would be set up: they
        relay first and never cancel a relay on hearing a player's rebroadcast. Each hop may
        have `relays_per_hop` relays side by side (a second hill: two paths to the node).
        The first `repeaters` players keep the CLIENT role whatever `player_role` says.
        """
        if hops < 1 or players < 0 or not 1 <= relays_per_hop <= 3:
            raise ValueError("need hops >= 1, players >= 0 and 1-3 relays per hop")
        mesh = cls(preset, region, seed=seed, loss=loss, hop_limit=hop_limit)
        step = phy.range_m(preset, margin_db=LINK_MARGIN_DB)
        mesh.node_num = NODE_NUM
        mesh.add_radio(NODE_NUM, 0.0, role=node_role, name="node")
        for k in range(1, hops):
            # Side by side across the line, a fifth of a hop apart: each hears the next hop,
            # the previous one and the others on its hop (so they defer to each other).
            for j in range(relays_per_hop):
                num = RELAY_BASE + k + 16 * j
                y = (j - (relays_per_hop - 1) / 2) * 0.2 * step
                name = f"relay{k}" if relays_per_hop == 1 else f"relay{k}{'abc'[j]}"
                mesh.add_radio(num, k * step, y, role=relay_role, name=name)
                mesh.relays.append(num)
        # Players scatter within a tenth of a hop of the cluster centre: close enough to
        # hear the last relay, far enough that the relay before it is out of range.
        place = random.Random(f"place:{seed}")
        for i in range(1, players + 1):
            angle = place.uniform(0, 2 * math.pi)
            r = 0.1 * step * math.sqrt(place.random())
            num = PLAYER_BASE + i
            mesh.add_radio(num, hops * step + r * math.cos(angle), r * math.sin(angle),
                           role="client" if i <= repeaters else player_role, name=f"player{i}")
            mesh.players.append(num)
        return mesh

    # ----- app-facing API -------------------------------------------------------------
    def attach(self, num: int, on_packet: Callable[[Packet], None]) -> Callable[[], None]:
        """Deliver packets received by radio `num` to on_packet; returns a detach function."""
        radio = self.radios[num]
        radio.listeners.append(on_packet)
        return lambda: radio.listeners.remove(on_packet) if on_packet in radio.listeners else None

    def attach_acks(self, num: int, on_ack: AckListener) -> Callable[[], None]:
        """Tell on_ack(request_id, ok, from_num) when a want_ack packet is acked or gives up."""
        radio = self.radios[num]
        radio.ack_listeners.append(on_ack)
        return lambda: radio.ack_listeners.remove(on_ack) if on_ack in radio.ack_listeners else None

    def send(
        self, num: int, to: int, port: int, payload: bytes, *, channel: int = 0,
        want_ack: bool = False, packet_id: int | None = None, hop_limit: int | None = None,
    ) -> int | None:
        """Hand a packet to radio `num` as its app link would; returns the packet id.

        Returns None when the firmware silently drops it (a text within 2 s of the last);
        raises TransportError for what the firmware refuses outright.
        """
        radio = self.radios[num]
        now = self.now()
        if len(payload) > phy.MAX_FIRMWARE_PAYLOAD:
            radio.count("oversize_rejects")
            raise TransportError(
                f"payload of {len(payload)} B exceeds the radio's {phy.MAX_FIRMWARE_PAYLOAD} B"
            )
        if port == TEXT_PORT:
            if now - radio.last_app_text < fw.TEXT_APP_GAP_S:
                radio.count("text_drops")
                return None
            radio.last_app_text = now
        air = phy.packet_airtime_s(len(payload), self.preset, port)
        if not self._duty_allows(radio, air, now):
            radio.count("duty_refusals")
            raise TransportError("duty cycle limit reached; the radio refuses to transmit")
        hops = self.hop_limit if hop_limit is None else hop_limit
        pid = packet_id if packet_id else self._new_id()
        frame = Frame(pid, num, to, port, bytes(payload), channel, hops, hops, want_ack, num,
                      next_hop=self._next_hop(radio, to))
        radio.seen.add(frame.key)
        radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(num))
        radio.count("packets_sent")
        if want_ack and to != num:
            radio.reliable[frame.key] = _Reliable(frame, fw.NUM_RELIABLE_RETX - 1, own=True)
        else:
            self._track_next_hop(radio, frame)
        self._enqueue(radio, _TxItem(frame, fw.tx_delay_s(self.rng, self.preset,
                                                          self.channel_util(num))))
        return pid

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
        self._transmit(radio, _TxItem(frame, 0.0))
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

    def _duty_allows(self, radio: Radio, air: float, now: float) -> bool:
        limit = fw.DUTY_LIMITS.get(self.region)
        if limit is None:
            return True
        used = radio.tx_log.after(now - fw.DUTY_WINDOW_S)
        return used + air <= limit * fw.DUTY_WINDOW_S

    def _enqueue(self, radio: Radio, item: _TxItem) -> None:
        radio.queue.append(item)
        self._kick(radio)

    def _kick(self, radio: Radio) -> None:
        """Arm the transmit timer for the head of the queue if the radio is idle."""
        if radio.tx_timer is not None or not radio.queue:
            return
        now = self.now()
        start = max(now, radio.tx_until) + radio.queue[0].delay
        radio.tx_timer = self._at(start, self._attempt, radio)

    def _attempt(self, radio: Radio) -> None:
        radio.tx_timer = None
        if not radio.queue:
            return
        now = self.now()
        if now < radio.tx_until or any(r.end > now for r in radio.receptions):
            # CAD found the channel busy: back off a random number of slots and retry.
            radio.count("cad_backoffs")
            radio.queue[0].delay = fw.tx_delay_s(self.rng, self.preset,
                                                 self.channel_util(radio.num))
            radio.queue[0].delay += phy.slot_time_s(self.preset)
            self._kick(radio)
            return
        item = radio.queue.popleft()
        self._transmit(radio, item)
        self._kick(radio)

    def _transmit(self, radio: Radio, item: _TxItem) -> None:
        frame = item.frame
        now = self.now()
        air = phy.packet_airtime_s(len(frame.payload), self.preset, frame.port)
        if not self._duty_allows(radio, air, now):
            radio.count("duty_refusals")
            return
        radio.tx_until = now + air
        self._push_retries(radio, air, frame.key)
        radio.tx_log.add(now, now + air)
        radio.busy.add(now, now + air)
        radio.count("transmissions")
        radio.count("airtime_s", air)
        if item.rebroadcast:
            radio.count("rebroadcasts")
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
        self._at(now + air, self._tx_done, radio, frame)

    def _tx_done(self, radio: Radio, frame: Frame) -> None:
        self._sample_util(radio)
        rel = radio.reliable.get(frame.key)
        if rel is not None and rel.timer is None:
            air = phy.packet_airtime_s(len(frame.payload), self.preset, frame.port)
            timeout = fw.retransmission_timeout_s(air, self.preset, self.channel_util(radio.num))
            rel.timer = self._at(self.now() + timeout, self._retry, radio, frame.key)
        self._kick(radio)

    def _push_retries(self, radio: Radio, air: float, skip: tuple[int, int] | None) -> None:
        """Firmware 2.7 ReliableRouter: time spent sending or receiving another packet is
        added to every pending retransmission timer, since no ack could be heard meanwhile."""
        for key, rel in radio.reliable.items():
            if key == skip or rel.timer is None:
                continue
            when = rel.timer.when() + air
            rel.timer.cancel()
            rel.timer = self._at(when, self._retry, radio, key)

    def _retry(self, radio: Radio, key: tuple[int, int]) -> None:
        rel = radio.reliable.get(key)
        if rel is None:
            return
        rel.timer = None
        if rel.retries_left <= 0:
            del radio.reliable[key]
            if rel.own:
                radio.count("ack_failures")
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
        self._enqueue(radio, _TxItem(rel.frame, fw.tx_delay_s(self.rng, self.preset,
                                                              self.channel_util(radio.num))))

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
        for rx in radio.receptions:
            if rx.end <= now:
                continue
            # Capture effect: the stronger of two overlapping packets survives only with a
            # clear margin; otherwise both are garbled.
            if new.rssi - rx.rssi < phy.CAPTURE_DB and not new.lost:
                new.lost = True
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
        if rx.lost:
            return
        fade = (rx.frame.relayer, radio.num)
        if self._fades.get(fade, 0) > 0:
            self._fades[fade] -= 1
            radio.count("lost_random")
            return
        if self.loss > 0 and self.rng.random() < self.loss:
            radio.count("lost_random")
            return
        self._receive(radio, rx.frame, rx.rssi, rx.snr)
        # ReliableRouter: while this packet was coming in, no (implicit) ack could arrive.
        self._push_retries(radio, rx.end - rx.start, None)

    def _receive(self, radio: Radio, frame: Frame, rssi: float, snr: float) -> None:
        """The router's decision on a packet heard intact: deliver, ack, relay or ignore."""
        to_me = frame.to == radio.num
        if frame.relayer != frame.sender:
            radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(frame.relayer))
        if frame.key in radio.seen:
            radio.count("duplicates")
            # FloodingRouter: a copy straight from its sender (hop_start == hop_limit) is that
            # sender retransmitting because it heard no relay; relay it again (unless a copy
            # still waits in our queue) so it gets its implicit ack and the far side its copy.
            repeated = frame.relayer == frame.sender and 0 < frame.hop_start == frame.hop_limit
            if not repeated and radio.role != "router":
                # routers always relay; clients defer to whoever went first
                self._cancel_rebroadcast(radio, frame.key)
            if frame.sender == radio.num and frame.port != fw.ROUTING_PORT:
                # Hearing our own packet relayed is the firmware's implicit ack: it stops
                # retransmitting (a DM's destination may still send a real ack later).
                self._acked(radio, frame.id, radio.num, implicit=True)
            else:
                # NextHopRouter: a copy heard again (the next hop forwarding what we carry)
                # ends our own retransmissions of it.
                self._stop_retransmission(radio, frame.key)
            if to_me and repeated and frame.want_ack and frame.port != fw.ROUTING_PORT:
                # NextHopRouter acks a copy again only when its sender sent it straight to
                # us (its retransmission: our first ack was lost); a copy relayed again is
                # a flood's echo, and firmware leaves the first ack to carry the news.
                self._send_ack(radio, frame)
            elif frame.key in radio.declined and frame.next_hop == fw.NO_NEXT_HOP:
                # The routed attempt failed and its sender fell back to flooding: now we relay.
                radio.declined.discard(frame.key)
                self._relay(radio, frame, snr)
            elif repeated and not to_me and frame.next_hop in (
                    fw.NO_NEXT_HOP, fw.relay_byte(radio.num)) and \
                    not any(item.frame.key == frame.key for item in radio.queue):
                radio.count("repeat_relays")
                self._relay(radio, frame, snr)
            return
        radio.seen.add(frame.key)
        if frame.port == fw.ROUTING_PORT and frame.request_id:
            self._sniff_ack(radio, frame)
        if to_me or frame.to == BROADCAST:
            if to_me and frame.port == fw.ROUTING_PORT and frame.request_id:
                self._acked(radio, frame.request_id, frame.sender, implicit=False)
            self._deliver(radio, frame, rssi, snr)
            if to_me and frame.want_ack and frame.port != fw.ROUTING_PORT:
                self._send_ack(radio, frame)
        if not to_me and frame.hop_limit > 0:
            if frame.next_hop in (fw.NO_NEXT_HOP, fw.relay_byte(radio.num)):
                self._relay(radio, frame, snr)
            else:
                radio.declined.add(frame.key)

    def _relay(self, radio: Radio, frame: Frame, snr: float) -> None:
        """Rebroadcast a packet; as its next hop we keep it until the next hop is heard."""
        if frame.hop_limit <= 0 or frame.sender == radio.num or radio.role == "client_mute":
            return
        relay = Frame(frame.id, frame.sender, frame.to, frame.port, frame.payload,
                      frame.channel, frame.hop_start, frame.hop_limit - 1, frame.want_ack,
                      radio.num, frame.request_id, self._next_hop(radio, frame.to))
        radio.relayed_by.setdefault(frame.key, set()).add(fw.relay_byte(radio.num))
        self._track_next_hop(radio, relay)
        delay = fw.rebroadcast_delay_s(self.rng, self.preset, snr, radio.role == "router")
        self._enqueue(radio, _TxItem(relay, delay, rebroadcast=True))

    def _next_hop(self, radio: Radio, to: int) -> int:
        """The learned next-hop byte for a DM to `to`, or no preference (flood)."""
        if to == BROADCAST:
            return fw.NO_NEXT_HOP
        hop = radio.routes.get(to, fw.NO_NEXT_HOP)
        return fw.NO_NEXT_HOP if hop == fw.relay_byte(radio.num) else hop

    def _track_next_hop(self, radio: Radio, frame: Frame) -> None:
        """A routed DM we send but the app does not wait on: keep it for one more try."""
        if frame.to == BROADCAST or frame.next_hop == fw.NO_NEXT_HOP:
            return
        if frame.hop_limit > 0 or frame.want_ack:
            radio.reliable.setdefault(frame.key,
                                      _Reliable(frame, fw.NUM_INTERMEDIATE_RETX - 1))

    def _sniff_ack(self, radio: Radio, ack: Frame) -> None:
        """Learn a route from an ack heard (to us or not) and stop carrying what it acks.

        The ack's relayer becomes the next hop towards the ack's sender when that relayer
        also relayed the original packet, or when we alone relayed it and the ack came
        straight from its destination.
        """
        original = (ack.to, ack.request_id)
        relayers = radio.relayed_by.get(original, set())
        via = fw.relay_byte(ack.relayer)
        mine = fw.relay_byte(radio.num)
        direct = ack.relayer == ack.sender
        if ack.sender != radio.num and (
            via in relayers and via != mine or direct and relayers == {mine}
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
        for item in list(radio.queue):
            if item.frame.key == key and not item.rebroadcast:
                self._drop_queued(radio, item)

    def _cancel_rebroadcast(self, radio: Radio, key: tuple[int, int]) -> None:
        for item in list(radio.queue):
            if item.rebroadcast and item.frame.key == key:
                self._drop_queued(radio, item)
                radio.count("rebroadcasts_cancelled")

    def _drop_queued(self, radio: Radio, item: _TxItem) -> None:
        """Remove a queued packet; if its timer was armed, re-arm for the next one."""
        was_head = radio.queue[0] is item
        radio.queue.remove(item)
        if was_head and radio.tx_timer is not None:
            radio.tx_timer.cancel()
            radio.tx_timer = None
            self._kick(radio)

    def _send_ack(self, radio: Radio, frame: Frame) -> None:
        ack = Frame(self._new_id(), radio.num, frame.sender, fw.ROUTING_PORT,
                    bytes(fw.ROUTING_ACK_BYTES), frame.channel, self.hop_limit, self.hop_limit,
                    False, radio.num, frame.id, self._next_hop(radio, frame.sender))
        radio.seen.add(ack.key)
        radio.relayed_by.setdefault(ack.key, set()).add(fw.relay_byte(radio.num))
        self._track_next_hop(radio, ack)
        self._enqueue(radio, _TxItem(ack, fw.tx_delay_s(self.rng, self.preset,
                                                        self.channel_util(radio.num))))

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
            if rel.frame.to != BROADCAST:
                radio.implicitly_acked.add(pid)
        else:
            radio.count("acks_received")
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
        )
        for listener in list(radio.listeners):
            try:
                listener(packet)
            except Exception:
                log.exception("packet listener on !%08x failed", radio.num)

    # ----- channel utilisation --------------------------------------------------------
    def _sample_util(self, radio: Radio) -> None:
        radio.util_max = max(radio.util_max, self.channel_util(radio.num))

