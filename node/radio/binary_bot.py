"""A bot player on the project's binary client, for the simulator and the demo.

Like the text bots (see node.radio.bots) it plays through a radio Transport: it encodes
intents into frames, waits for the acks that ride in the node's broadcasts, asks for
missed broadcasts by sequence number, and checks its view against the state digest.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

from node.radio.base import BROADCAST, Packet, Transport
from node.radio.bots import BotStats, Eyes, alive_monsters, open_exits
from protocol.resync import INTENT_RETRY_S, BroadcastGaps

log = logging.getLogger(__name__)


@dataclass
class _Sent:
    """One intent frame in flight from a BinaryBot."""

    data: bytes
    done: asyncio.Event = field(default_factory=asyncio.Event)
    public: bool = False
    at: float = 0.0


class BinaryBot:
    """A player on the project's binary client: intents in frames, acks, gap resync, digest."""

    def __init__(
        self,
        transport: Transport,
        node_num: int,
        *,
        name: str,
        cls: str,
        rng: random.Random,
        eyes: Eyes,
        retry_s: float = INTENT_RETRY_S,  # as `dungeon play`
        # `dungeon play` gives up after 6 tries and says so; its player then types the
        # command again, which is what the bot's further tries stand for.
        max_tries: int = 40,
        think: tuple[float, float] = (2.0, 8.0),
        explore: tuple[float, float] = (20.0, 60.0),
        key: bytes | None = None,
    ) -> None:
        from protocol import frames

        self._frames = frames
        self.transport = transport
        self.node_num = node_num
        self.name = name
        self.cls = cls
        self.rng = rng
        self.eyes = eyes
        self.retry_s = retry_s
        self.max_tries = max_tries
        self.think = think
        self.explore = explore
        self.key = key
        self.stats = BotStats()
        self.eid: int | None = None
        self.slot: int | None = None
        self.seq = 0
        self.digests: dict[int, int] = {}  # broadcast seq -> digest carried by that frame
        self.gaps = BroadcastGaps()
        self.duplicates = 0
        self.resyncs = 0
        self._pending_many: dict[int, _Sent] = {}
        self._welcomed = asyncio.Event()
        self._my_turn = asyncio.Event()
        self._reasm = frames.Reassembler(timeout=300.0)
        self._snap: tuple[int, int] | None = None  # (covers seq, digest)
        self._resync_task: asyncio.Task[None] | None = None
        self.active = True

    @property
    def busy(self) -> bool:
        """True while intents wait for their acks."""
        return bool(self._pending_many)

    async def start(self) -> None:
        await self.transport.start(self.on_packet)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    # --- radio in -------------------------------------------------------------------

    def on_packet(self, packet: Packet) -> None:
        from node.radio.base import GAME_PORT

        me = self.transport.info.node_num
        if packet.port != GAME_PORT or packet.to not in (me, BROADCAST):
            return
        for frame in self._frames.received(packet.payload, self.key):
            self._on_frame(packet, frame)

    def _on_frame(self, packet: Packet, frame: Any) -> None:
        from protocol import codec
        from protocol.errors import ProtocolError

        me = self.transport.info.node_num
        kind = self._frames.Kind
        if frame.kind == kind.WELCOME:
            try:
                _, eid = self._frames.parse_welcome(frame.payload)
            except ProtocolError:
                return
            self.slot = frame.flags
            self.eid = eid or self.eid
            if not self._welcomed.is_set():
                self.gaps.start_at(frame.sender_seq)
            self._welcomed.set()
        if frame.kind in (kind.WELCOME, kind.ACK, kind.EVENTS) and packet.to == me:
            self._note_latest(frame.sender_seq)
            self._ack(frame, public=False)
        if frame.kind == kind.EVENTS:
            try:
                events = codec.decode_events(frame.payload)
            except ProtocolError:
                return
            if packet.to == BROADCAST or frame.sender_seq not in self.gaps.received and \
                    any(type(e).__name__ == "Digest" for e in events):
                self._on_events(frame, events)
        elif frame.kind == kind.SNAPSHOT:
            self._on_fragment(frame)

    def _on_events(self, frame: Any, events: list[Any]) -> None:
        seq = frame.sender_seq
        if frame.flags and frame.flags == self.slot:
            self._ack(frame, public=True)
        if not self.gaps.add(seq):
            # A resend someone else asked for: shown already (a stale TurnStarted in it must
            # not start our turn again), as the player client does.
            self.duplicates += 1
            return
        self._note_latest(seq)
        for ev in events:
            name = type(ev).__name__
            if name == "Digest":
                self.digests[seq] = ev.value
            elif name == "Joined" and ev.name == self.name:
                self.eid = ev.eid
            elif name == "TurnStarted" and ev.eid == self.eid and self.eid is not None:
                self._my_turn.set()

    def _ack(self, frame: Any, *, public: bool) -> None:
        if not self._pending_many or frame.ack is None:
            return
        now = self._now()
        for seq in self._frames.acked(frame.ack, frame.sack_bitmap):
            sent = self._pending_many.get(seq)
            if sent is not None and not sent.done.is_set():
                # An ACK frame answers a repeat of an intent that was applied: public too.
                sent.public = public or frame.kind == self._frames.Kind.ACK
                sent.at = now
                sent.done.set()

    def _on_fragment(self, frame: Any) -> None:
        from protocol.errors import ProtocolError

        try:
            blob = self._reasm.add(self._frames.decode_fragment(frame.payload), self._now())
            if blob is None:
                return
            covers, canonical = self._frames.parse_snapshot_blob(blob)
        except ProtocolError:
            return
        self._snap = (covers, self._frames.state_digest(canonical))
        self.gaps.cover(covers)
        self._note_latest(covers)

    def _note_latest(self, seq: int) -> None:
        self.gaps.saw(seq)
        if self.gaps.missing() and (self._resync_task is None or self._resync_task.done()):
            self._resync_task = asyncio.get_running_loop().create_task(self._resync_loop())

    async def _resync_loop(self) -> None:
        """While frames are missing, ask for them (protocol.resync.wait_s says when)."""
        from protocol.resync import wait_s

        attempt = 0
        while True:
            await asyncio.sleep(wait_s(attempt, self.slot, self.rng.random()))
            if not await self._request():
                return
            attempt += 1

    async def _request(self) -> bool:
        """Ask for what is missing; False when nothing is."""
        req = self.gaps.request()
        if req is None:
            return False
        self.resyncs += 1
        await self._send(self._frames.Kind.RESYNC, req[0], seq=self.seq)
        return True

    # --- radio out ------------------------------------------------------------------

    async def _send(self, kind: Any, payload: bytes, *, seq: int) -> None:
        await self._transmit(self._frames.encode_frame(
            self._frames.Frame(kind=kind, sender_seq=seq, payload=payload), self.key))

    async def _send_intents(self, intents: dict[int, bytes]) -> None:
        frames = [self._frames.encode_frame(
            self._frames.Frame(kind=self._frames.Kind.INTENT, sender_seq=seq, payload=data),
            self.key) for seq, data in intents.items()]
        for data, _parts in self._frames.pack(frames, max(intents), self.key):
            await self._transmit(data)

    async def _transmit(self, data: bytes) -> None:
        from node.radio.base import GAME_PORT

        self.stats.packets += 1
        try:
            await self.transport.send(self.node_num, GAME_PORT, data)
        except Exception as err:
            log.info("%s: radio refused a frame: %s", self.name, err)

    async def hello(self) -> bool:
        for _ in range(self.max_tries):
            await self._send(self._frames.Kind.HELLO, self._frames.hello_payload(self.name),
                             seq=self.seq)
            try:
                await asyncio.wait_for(self._welcomed.wait(), self.retry_s)
                return True
            except TimeoutError:
                continue
        return False

    async def act(self, *intents: Any) -> bool:
        """Send intents back to back (one decision, e.g. attack then end turn); resend each
        unacked frame with its own seq until every one is acked or the tries run out."""
        from protocol import codec

        started = self._now()
        todo: dict[int, _Sent] = {}
        for intent in intents:
            self.seq += 1
            todo[self.seq] = _Sent(codec.encode_intent(intent))
            self.stats.sent += 1
        self._pending_many = todo
        try:
            for attempt in range(self.max_tries):
                waiting = {seq: v for seq, v in todo.items() if not v.done.is_set()}
                if not waiting:
                    break
                if attempt:
                    self.stats.retries += len(waiting)
                # One decision ("attack, then end turn") in one packet where it fits.
                await self._send_intents({seq: sent.data for seq, sent in waiting.items()})
                # asyncio.wait, not wait_for(gather): a timed-out gather leaves a cancelled
                # future nobody retrieves, which asyncio reports on stderr
                waits = [asyncio.ensure_future(v.done.wait()) for v in waiting.values()]
                await asyncio.wait(waits, timeout=self.retry_s)
                for w in waits:
                    w.cancel()
            for sent in todo.values():
                if not sent.done.is_set():
                    self.stats.lost += 1
                    continue
                self.stats.latencies.append(sent.at - started)
                if sent.public:
                    self.stats.applied += 1
                else:
                    self.stats.answered += 1
            return all(v.done.is_set() for v in todo.values())
        finally:
            self._pending_many = {}

    # --- playing --------------------------------------------------------------------

    async def run(self) -> None:
        from rules import intents as it

        await asyncio.sleep(self.rng.uniform(*self.think))
        await self.hello()
        while self.active and self.eid is None:
            await self.act(it.Join(self.name, self.cls))
            game = self.eyes()
            if self.eid is None and game is not None:
                for e in game.party():
                    if e.name == self.name:
                        self.eid = e.eid
            if self.eid is None:
                await asyncio.sleep(self.rng.uniform(*self.explore))
        while True:
            try:
                await asyncio.wait_for(self._my_turn.wait(), self.rng.uniform(*self.explore))
            except TimeoutError:
                if self.active:
                    await self._idle()
                continue
            self._my_turn.clear()
            if self.active:
                await self._turn()

    async def _turn(self) -> None:
        from rules import intents as it

        await asyncio.sleep(self.rng.uniform(*self.think))
        game = self.eyes()
        if game is None or self.eid is None or game.current_turn() != self.eid:
            return
        me = game.entity(self.eid)
        hurt = [e for e in game.party() if not e.dead and e.hp < e.max_hp // 2]
        monsters = alive_monsters(game)
        # One decision, two frames sent together: the action, then the end of the turn.
        if self.cls == "cleric" and hurt and me.slots[0] > 0:
            await self.act(it.Cast("cure wounds", hurt[0].eid), it.EndTurn())
        elif monsters:
            await self.act(it.Attack(monsters[0].eid), it.EndTurn())
        else:
            await self.act(it.EndTurn())

    async def _idle(self) -> None:
        from rules import intents as it

        game = self.eyes()
        if game is None or game.current_turn() is not None:
            return
        if self.rng.random() < 0.5:
            await self.act(it.Look())
        else:
            exits = [e.dir for e in open_exits(game)]
            if exits:
                await self.act(it.Move(self.rng.choice(exits)))

    async def final_view(self) -> int | None:
        """The digest of the newest state we hold, once every frame is in (None: a gap)."""
        self._welcomed.clear()
        await self.hello()  # a fresh WELCOME tells us the node's newest broadcast seq
        for _ in range(self.max_tries * 2):
            if not await self._request():
                break
            await asyncio.sleep(self.retry_s)
        if self.gaps.missing():
            return None
        latest = self.gaps.latest
        if latest in self.digests:
            return self.digests[latest]
        if self._snap is not None and self._snap[0] == latest:
            return self._snap[1]
        return None

    def expected_view(self, game: Any) -> int | None:
        return None if game is None else game.digest()
