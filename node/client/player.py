"""The player's own client on the binary protocol: typed commands out, full text rendered locally.

Players type the same grammar as on the stock app (protocol.text.parse), but the radio
carries only compact intent frames; results arrive as broadcast event frames and are
rendered here from content ids, so the words cost no airtime. Help is answered
locally. A snapshot at join (and after a long gap) gives names and the room; missing
broadcast frames are asked for again, and the state digest at the end of every
frame tells the client whether its picture still matches the node's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.radio.base import BROADCAST, GAME_PORT, Packet, Transport
from protocol.resync import INTENT_RETRY_S, BroadcastGaps

log = logging.getLogger(__name__)

Out = Callable[[str], None]
LOCAL_WORDS = ("help", "quit", "status")


@dataclass
class Ack:
    """One intent frame in flight, done once the node acks it."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    at: float = 0.0  # loop time of the ack
    public: bool = False  # acked with a broadcast result (applied), not only privately


class _View:
    """GameView for the renderer: the last snapshot, with names learnt from events since."""

    def __init__(self) -> None:
        self.game: Any = None
        self.names: dict[int, str] = {}

    def name_of(self, eid: int) -> str:
        if eid in self.names:
            return self.names[eid]
        if self.game is not None:
            return self.game.name_of(eid)
        return f"#{eid}"

    def __getattr__(self, name: str) -> Any:
        if self.game is None:
            raise AttributeError(name)
        return getattr(self.game, name)


class PlayerClient:
    """One player's session over a Transport; `out` receives every line to show."""

    def __init__(
        self,
        transport: Transport,
        *,
        name: str,
        cls: str,
        out: Out,
        node_num: int | None = None,
        key: bytes | None = None,
        retry_s: float = INTENT_RETRY_S,
        max_tries: int = 6,
        rng: random.Random | None = None,
    ) -> None:
        from protocol import frames

        self._frames = frames
        self.transport = transport
        self.name = name
        self.cls = cls
        self.out = out
        self.node_num = node_num
        self.key = key
        self.retry_s = retry_s
        self.max_tries = max_tries
        self.rng = rng or random.Random()
        self.view = _View()
        self.slot: int | None = None
        self.eid: int | None = None
        self.seq = 0
        self.gaps = BroadcastGaps()
        self.digests: dict[int, int] = {}
        self.diverged = False
        self.duplicates = 0  # broadcast frames heard again (a resend someone else asked for)
        self.resent = 0  # intent frames sent again for want of an ack
        self.my_turn = asyncio.Event()  # set when a broadcast starts our character's turn
        self._acks: dict[int, Ack] = {}
        self._welcomed = asyncio.Event()
        self._snapshot = asyncio.Event()
        self._reasm = frames.Reassembler(timeout=600.0)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._resync: asyncio.Task[None] | None = None

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        await self.transport.start(self.on_packet)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.transport.close()

    async def hello(self) -> bool:
        """HELLO until the node's WELCOME (our slot, and our character if we have one)."""
        for _ in range(self.max_tries):
            await self._send(self._frames.Kind.HELLO, self._frames.hello_payload(self.name), 0)
            try:
                await asyncio.wait_for(self._welcomed.wait(), self.retry_s)
                return True
            except TimeoutError:
                continue
        return False

    async def join(self) -> bool:
        """HELLO until WELCOME, a snapshot for names and the room, then Join if not yet in."""
        from rules import intents as it

        if not await self.hello():
            self.out("no game node answered; is it on the same channel?")
            return False
        for _ in range(self.max_tries):
            await self._send(self._frames.Kind.RESYNC, self._frames.encode_rerequest(0, []), 0)
            try:
                await asyncio.wait_for(self._snapshot.wait(), self.retry_s * 3)
                break
            except TimeoutError:
                continue
        if not self.eid:
            await self.send_intents([it.Join(self.name, self.cls)])
        return True

    # --- typing -----------------------------------------------------------------------

    async def submit_line(self, line: str) -> bool:
        """Handle one typed line; False when the player asked to quit."""
        from protocol import text
        from protocol.errors import ProtocolError

        words = line.strip().split()
        if not words:
            return True
        verb = words[0].lower()
        if verb in ("quit", "exit"):
            return False
        if verb in ("help", "h", "?") and len(words) <= 2:
            self.out(text.help_text(words[1] if len(words) == 2 else None))  # no airtime
            return True
        if verb == "status":
            self.out(self.status_line())
            return True
        try:
            intents = text.parse_chain(line)
        except ProtocolError as err:
            self.out(f"? {err}")
            return True
        task = asyncio.get_running_loop().create_task(self.send_intents(intents))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def status_line(self) -> str:
        behind = self.gaps.missing()
        state = "diverged, resyncing" if self.diverged else ("behind" if behind else "in sync")
        digest = self.digests.get(self.gaps.latest)
        return (f"{self.name}: event {self.gaps.latest}, {state}"
                + (f", digest {digest:08x}" if digest is not None else ""))

    def completions(self, prefix: str) -> list[str]:
        """Words that complete `prefix`: commands, then names in the current room."""
        from protocol import text

        words = set(LOCAL_WORDS) | set(getattr(text, "_VERBS", {})) | {
            "look", "n", "s", "e", "w", "u", "d", "dodge", "dash", "hide", "search", "end",
            "hp", "sheet", "inv"}
        game = self.view.game
        if game is not None:
            words |= {self.view.name_of(e) for e in game.entities}
        words |= set(self.view.names.values())
        low = prefix.lower()
        return sorted(w for w in words if w.lower().startswith(low))

    async def send_intents(self, intents: list[Any]) -> bool:
        """Deliver intents (see deliver); say so when the node never answered."""
        acks = await self.deliver(intents)
        if all(ack.done.is_set() for ack in acks):
            return True
        self.out("(no answer from the node; try again)")
        return False

    async def deliver(self, intents: list[Any]) -> list[Ack]:
        """Send intents in one packet where they fit ("atk gob1; end"); resend the ones
        not yet acked, each under its own seq, until the node acks them all or the tries
        run out. One Ack per intent, in order."""
        from protocol import codec

        todo: dict[int, Ack] = {}
        frames: dict[int, bytes] = {}
        for intent in intents:
            self.seq += 1
            todo[self.seq] = self._acks[self.seq] = Ack()
            frames[self.seq] = self._frames.encode_frame(self._frames.Frame(
                kind=self._frames.Kind.INTENT, sender_seq=self.seq,
                payload=codec.encode_intent(intent)), self.key)
        try:
            for attempt in range(self.max_tries):
                waiting = [seq for seq, ack in todo.items() if not ack.done.is_set()]
                if not waiting:
                    break
                if attempt:
                    self.resent += len(waiting)
                for data, _parts in self._frames.pack([frames[s] for s in waiting],
                                                      max(waiting), self.key):
                    await self._transmit(data)
                # asyncio.wait, not wait_for(gather): a timed-out gather leaves a cancelled
                # future nobody retrieves, which asyncio reports on stderr
                waits = [asyncio.ensure_future(todo[s].done.wait()) for s in waiting]
                await asyncio.wait(waits, timeout=self.retry_s)
                for w in waits:
                    w.cancel()
            return list(todo.values())
        finally:
            for seq in todo:
                self._acks.pop(seq, None)

    async def _send(self, kind: Any, payload: bytes, seq: int) -> None:
        frame = self._frames.Frame(kind=kind, sender_seq=seq, payload=payload)
        await self._transmit(self._frames.encode_frame(frame, self.key))

    async def _transmit(self, data: bytes) -> None:
        to = self.node_num if self.node_num is not None else BROADCAST
        try:
            await self.transport.send(to, GAME_PORT, data)
        except Exception as err:  # the radio refused: say so, the retry loop goes on
            self.out(f"(radio: {err})")

    # --- radio in ---------------------------------------------------------------------

    def on_packet(self, packet: Packet) -> None:
        me = self.transport.info.node_num
        if packet.port != GAME_PORT or packet.to not in (me, BROADCAST) or packet.sender == me:
            return
        if self.node_num is not None and packet.sender != self.node_num:
            return
        for frame in self._frames.received(packet.payload, self.key):
            self._on_frame(packet, frame)

    def _on_frame(self, packet: Packet, frame: Any) -> None:
        from protocol import codec
        from protocol.errors import ProtocolError

        me = self.transport.info.node_num
        kind = self._frames.Kind
        if packet.to == me:
            self._ack(frame, public=False)
            self._note_latest(frame.sender_seq)
        if frame.kind == kind.WELCOME:
            try:
                _, eid = self._frames.parse_welcome(frame.payload)
            except ProtocolError:
                return
            self.node_num = packet.sender
            self.slot = frame.flags
            self.eid = eid or self.eid
            if not self._welcomed.is_set():
                self.gaps.start_at(frame.sender_seq)
            self._welcomed.set()
        elif frame.kind == kind.EVENTS:
            try:
                events = codec.decode_events(frame.payload)
            except ProtocolError:
                return
            if packet.to == BROADCAST:
                self._on_broadcast(frame, events)
            else:
                self._show(events)
        elif frame.kind == kind.SNAPSHOT:
            self._on_fragment(frame)

    def _ack(self, frame: Any, *, public: bool) -> None:
        if frame.ack is None:
            return
        now = asyncio.get_running_loop().time()
        for seq in self._frames.acked(frame.ack, frame.sack_bitmap):
            ack = self._acks.get(seq)
            if ack is not None and not ack.done.is_set():
                # An ACK frame answers a repeat of an intent that was applied: public too.
                ack.public = public or frame.kind == self._frames.Kind.ACK
                ack.at = now
                ack.done.set()

    def _on_broadcast(self, frame: Any, events: list[Any]) -> None:
        seq = frame.sender_seq
        if frame.flags and frame.flags == self.slot:
            self._ack(frame, public=True)
        if not self.gaps.add(seq):
            # a resend someone else asked for: shown already (a stale TurnStarted in it must
            # not start our turn again)
            self.duplicates += 1
            return
        self._note_latest(seq)
        self._show(events, seq)

    def _show(self, events: list[Any], seq: int | None = None) -> None:
        from protocol import render

        shown = []
        for ev in events:
            kind = type(ev).__name__
            if kind == "Digest":
                if seq is not None:
                    self.digests[seq] = ev.value
                continue
            if kind in ("Joined", "Spawned"):
                self.view.names[ev.eid] = ev.name
                if kind == "Joined" and ev.name == self.name:
                    self.eid = ev.eid
            if kind == "TurnStarted" and self.eid is not None and ev.eid == self.eid:
                self.my_turn.set()
            if kind == "Info":
                self.out(ev.text)
                continue
            shown.append(ev)
        if not shown:
            return
        try:
            lines = render.render(shown, self.view, limit=1000)
        except Exception:  # a stale snapshot may lack an entity the renderer wants
            lines = [", ".join(type(e).__name__ for e in shown)]
        for line in lines:
            self.out(line)

    def _on_fragment(self, frame: Any) -> None:
        from protocol.errors import ProtocolError
        from rules.game import Game

        try:
            blob = self._reasm.add(self._frames.decode_fragment(frame.payload),
                                   asyncio.get_running_loop().time())
        except ProtocolError:
            return
        if blob is None:
            return
        try:
            covers, canonical = self._frames.parse_snapshot_blob(blob)
            game = Game.from_dict(json.loads(canonical))
        except (ProtocolError, ValueError, KeyError, TypeError) as err:
            log.warning("unusable snapshot: %s", err)
            return
        self.view.game = game
        self.gaps.cover(covers)
        self.digests[covers] = self._frames.state_digest(canonical)
        self.diverged = False
        self._snapshot.set()
        if self.eid:
            try:
                self.out(game.describe_room(game.room, self.eid))
            except Exception:
                pass

    # --- gaps and divergence ----------------------------------------------------------

    def _note_latest(self, seq: int) -> None:
        self.gaps.saw(seq)
        if self.gaps.missing() and (self._resync is None or self._resync.done()):
            self._resync = asyncio.get_running_loop().create_task(self._fill_gaps())
            self._tasks.add(self._resync)
            self._resync.add_done_callback(self._tasks.discard)

    async def _fill_gaps(self) -> None:
        from protocol.resync import wait_s

        attempt = 0
        while True:
            await asyncio.sleep(wait_s(attempt, self.slot, self.rng.random()))
            req = self.gaps.request()
            if req is None:
                return
            payload, whole = req
            if whole:  # too far behind to replay: our picture may differ; take a snapshot
                self.diverged = True
            await self._send(self._frames.Kind.RESYNC, payload, self.seq)
            attempt += 1
