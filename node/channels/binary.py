"""The node's binary channel: game frames on GAME_PORT in, one broadcast events frame per batch out.

Inbound INTENT frames pass a per-sender sequence window (replays are rejected and
counted, but re-acked: the client only repeats because our ack got lost), are applied in
the order the client sent them, and go through the same pipeline as every other input.
Results of every accepted command, from any channel, are gathered until the mesh is quiet
and broadcast once as EVENTS frames that end with the state digest, so clients can tell
when they diverged. The ack for the command that caused a batch rides in that frame's
header; the frame's four flag bits name which client (its slot, from WELCOME) the ack
belongs to. Clients that missed frames send RESYNC with the missing broadcast sequence
numbers; those frames go again once for everyone, in the same packet (a BUNDLE) as the
next broadcast when one comes soon; what is no longer kept is answered with a snapshot.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from node.pipeline import Command, Outcome
from node.radio.base import BROADCAST, GAME_PORT, Packet
from node.radio.outbox import Priority

log = logging.getLogger(__name__)

# Quiet time that ends a batch (any frame heard restarts it). A client sends its action and
# its end of turn back to back; the second reaches us a relay hop (~1-1.5 s on LONG_FAST)
# after the first, and monster turns follow half a second apart: one frame for all of it.
# The players cannot hear us (a hidden terminal at the relay), and one of them is often still
# talking after the relay has repeated the last frame we heard: measured, 2 s of quiet lost
# more of our frames at the relay than 3.5 s.
FLUSH_S = 3.5
MAX_HOLD_S = 6.0
HISTORY = 256  # broadcast frames kept for RESYNC
MAX_SLOTS = 15  # four flag bits; 0 means "no ack in this frame"
PAYLOAD_ROOM = 180  # events bytes per frame: 200 minus header, acks and a tag
# A missed frame is always resent as a broadcast: that costs the node no more airtime than a
# DM, and a frame lost at the relay was lost for every client. Requests arriving this soon
# after that resend were sent before it could arrive: it answers them too. The next client
# in turn (resync.TURN_S later) or one that missed the resend as well asks after this.
RESEND_HOLDOFF_S = 4.0
# A frame someone missed waits this long for the next broadcast, to ride in the same packet
# (a packet's preamble and headers cost ~0.45 s whatever it carries); then it goes alone.
RESEND_HOLD_S = 30.0
# How long an intent waits for an earlier one of the same client that was lost on the way.
IN_ORDER_WAIT_S = 20.0
# A binary player silent this long into its turn is sent the frame that started it again
# (a player who missed it alone cannot know; the turn would wait for its timeout). Bots act
# within ~12 s; a person who is just thinking gets a duplicate, which costs one frame.
NUDGE_S = 30.0
NUDGES = 2
# A repeated intent this soon after the frame acking it went out crossed that frame in the air.
REPLAY_GRACE_S = 5.0
ACKED_KEPT = 64  # per client: which broadcast acked each recent intent
SNAPSHOT_MSG = 0  # RESYNC msg_id asking for broadcast frames; anything else: a snapshot


def sender_id(num: int) -> str:
    return f"!{num:08x}"


@dataclass
class _Client:
    num: int
    slot: int
    window: Any  # protocol.frames.SeqWindow
    # intent seq -> the broadcast whose header acked it; a repeat means that frame was missed
    acked_in: OrderedDict[int, int] = field(default_factory=OrderedDict)
    next_seq: int | None = None  # the intent due next, in the order the player sent them
    waiting: dict[int, Any] = field(default_factory=dict)  # seq -> frame that came early
    release: asyncio.TimerHandle | None = None


@dataclass
class _Batch:
    events: list[Any] = field(default_factory=list)
    ack_for: list[int] = field(default_factory=list)  # client node numbers owed an ack
    # Every answer waits for the batch, for a quiet spell: sent at once, it would go out while
    # the client's next frame (or another player's, held back while the relay was talking) is
    # on its way through the relay, and the node cannot hear the players to avoid them (a
    # hidden terminal): both would be lost at the relay.
    errors: list[tuple[int, bytes, int | None]] = field(default_factory=list)  # private Info
    acks: list[int] = field(default_factory=list)  # clients owed an ACK frame
    resends: list[int] = field(default_factory=list)  # broadcast seqs to send again


class BinaryChannel:
    """Register with BinaryChannel(app); it hooks app.on_port and the pipeline itself."""

    def __init__(self, app: Any, *, key: bytes | None = None) -> None:
        from protocol import frames

        self._frames = frames
        self.app = app
        self.key = key
        self.clients: dict[int, _Client] = {}
        self.bseq = 0
        self.history: OrderedDict[int, bytes] = OrderedDict()
        self._batch = _Batch()
        self._flush: asyncio.TimerHandle | None = None
        self._first_at = 0.0
        self._snap_id = 0
        self._sent_at: dict[int, float] = {}  # broadcast seq -> when it last went out
        self._resent_at: dict[int, float] = {}
        self._held: dict[int, None] = {}  # asked-for frames waiting for the next broadcast
        self._release_at: asyncio.TimerHandle | None = None
        self._nudge: asyncio.TimerHandle | None = None
        self._nudged = 0  # the client that timer is for
        self.counters: dict[str, int] = {
            "frames_in": 0, "garbled": 0, "replays": 0, "intents": 0, "rejected": 0,
            "events_frames": 0, "ack_frames": 0, "resyncs": 0, "resent": 0, "bundles": 0,
            "nudges": 0, "snapshots": 0,
            "duplicates_applied": 0,
        }
        self._applied: set[str] = set()
        app.on_port(GAME_PORT, self.on_packet)
        app.pipeline.subscribe(self._on_outcome)

    # --- inbound ----------------------------------------------------------------------

    def on_packet(self, packet: Packet) -> Any:
        from protocol.errors import ProtocolError

        self.counters["frames_in"] += 1
        if self._flush is not None:
            self._schedule()  # the mesh is not quiet yet
        if self._nudge is not None and self._nudged == packet.sender:
            self._nudge.cancel()  # it is alive, and asks for what it misses itself
            self._nudge = None
        try:
            frame = self._frames.decode_frame(packet.payload, self.key)
        except ProtocolError as err:
            self.counters["garbled"] += 1
            log.debug("garbled frame from %08x: %s", packet.sender, err)
            return None
        client = self._client(packet.sender)
        if frame.kind == self._frames.Kind.BUNDLE:
            return self._unbundle(client, frame.payload)
        return self._dispatch(client, frame)

    def _dispatch(self, client: _Client, frame: Any) -> Any:
        kind = self._frames.Kind
        if frame.kind == kind.HELLO:
            self._welcome(client)
        elif frame.kind == kind.INTENT:
            return self._intent(client, frame)
        elif frame.kind == kind.RESYNC:
            self._resync(client, frame.payload)
        return None

    async def _unbundle(self, client: _Client, payload: bytes) -> None:
        """A client's frames in one packet ("atk gob1; end"): as if they came one by one."""
        frames, garbled = self._frames.decode_parts(self._frames.unbundle(payload), self.key)
        self.counters["garbled"] += garbled
        for frame in frames:
            step = self._dispatch(client, frame)
            if step is not None:
                await step

    def _client(self, num: int) -> _Client:
        client = self.clients.get(num)
        if client is None:
            used = {c.slot for c in self.clients.values()}
            slot = next((s for s in range(1, MAX_SLOTS + 1) if s not in used), 0)
            client = _Client(num, slot, self._frames.SeqWindow())
            self.clients[num] = client
        return client

    def _welcome(self, client: _Client) -> None:
        eids = self.app.pipeline.eids_of(sender_id(client.num))
        payload = self._frames.welcome_payload(eids[0] if eids else 0)
        self._send_dm(client, self._frames.Kind.WELCOME, payload, Priority.REPLY)

    async def _intent(self, client: _Client, frame: Any) -> None:
        seq = frame.sender_seq
        if not client.window.accept(seq):
            # Already applied (or too old): the client repeats because it missed our ack.
            self.counters["replays"] += 1
            if seq not in client.waiting:  # else its ack comes once it is applied
                self._answer_replay(client, seq)
            return
        if client.next_seq is not None and seq > client.next_seq:
            # An earlier intent was lost on the way and will be repeated: "attack" then "end"
            # must not become "end", then "attack" refused as out of turn.
            client.waiting[seq] = frame
            if client.release is None:
                loop = asyncio.get_running_loop()
                client.release = loop.call_later(
                    IN_ORDER_WAIT_S, lambda: loop.create_task(self._apply_waiting(client, None)))
            return
        await self._apply(client, frame)
        await self._apply_waiting(client, client.next_seq)

    async def _apply_waiting(self, client: _Client, upto: int | None) -> None:
        """Apply held intents in order: those now due (upto = next seq), or all (None)."""
        while client.waiting:
            seq = min(client.waiting)
            if upto is not None and seq != client.next_seq:
                return
            await self._apply(client, client.waiting.pop(seq))
        if client.release is not None:
            client.release.cancel()
            client.release = None

    async def _apply(self, client: _Client, frame: Any) -> None:
        from protocol import codec
        from protocol.errors import ProtocolError

        client.next_seq = max(client.next_seq or 0, frame.sender_seq + 1)
        try:
            intent = codec.decode_intent(frame.payload)
        except ProtocolError as err:
            self.counters["garbled"] += 1
            self._reply_error(client, str(err), seq=frame.sender_seq)
            return
        self.counters["intents"] += 1
        sender = sender_id(client.num)
        key = f"{sender}:{frame.sender_seq}"
        out: Outcome = await self.app.pipeline.submit(Command("binary", sender, intent, key))
        if out.ok and not out.duplicate:
            # The window should make this impossible; counted so the sim can show it.
            if key in self._applied:
                self.counters["duplicates_applied"] += 1
            self._applied.add(key)
        if out.ok and not out.private and not out.duplicate and out.events:
            # Its events were just published into the open batch: the ack rides with them.
            self._batch.ack_for.append(client.num)
            self._schedule()
            return
        if out.dropped:
            return
        self.counters["rejected"] += int(not out.ok)
        text = out.error or out.text or "ok"
        self._reply_error(client, text, actor=out.actor or 0, seq=frame.sender_seq)

    def _answer_replay(self, client: _Client, seq: int) -> None:
        """Ack a repeated intent as cheaply as what the repeat tells us allows."""
        if client.num in self._batch.ack_for:
            return  # the open batch will carry the ack
        bseq = client.acked_in.get(seq)
        if bseq is None or bseq not in self.history:
            if client.num not in self._batch.acks:
                self._batch.acks.append(client.num)
                self._schedule()
            return
        if asyncio.get_running_loop().time() - self._sent_at[bseq] < REPLAY_GRACE_S:
            return  # the repeat crossed that frame in the air
        if bseq < self.bseq:
            # The game has moved on since (most often the player it named acted on it), so
            # little waits on it: it can ride with the next frame.
            self._hold([bseq])
        else:
            # Nothing since: probably lost at the relay for everyone, and the game waits on it.
            self._queue_resend(bseq)

    def _reply_error(self, client: _Client, text: str, *, actor: int = 0,
                     seq: int | None = None) -> None:
        """A private answer: an Info event for this client only, acking that one intent.

        Only that one: the client's other intents in flight may have been applied, and they
        are acked by the public frame that carries their events."""
        from protocol import codec
        from protocol.render import fit
        from rules.events import Info

        payload = codec.encode_events([Info(actor, fit(text, 120))])
        self._batch.errors.append((client.num, payload, seq))
        self._schedule()

    # --- outbound events --------------------------------------------------------------

    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        if not events or out.private or not self.clients:
            return  # with no binary client at the table, frames would be airtime for nobody
        self._batch.events.extend(events)
        self._schedule()

    def _schedule(self) -> None:
        """Flush once events stop coming for FLUSH_S (monster turns follow each other about
        half a second apart), but never hold the first of them longer than MAX_HOLD_S."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        if self._flush is None:
            self._first_at = now
        else:
            self._flush.cancel()
        when = min(now + FLUSH_S, self._first_at + MAX_HOLD_S)
        self._flush = loop.call_at(when, self.flush)

    def flush(self) -> None:
        """Broadcast everything gathered: as few EVENTS frames as fit, the digest last."""
        if self._flush is not None:
            self._flush.cancel()
        self._flush = None
        batch, self._batch = self._batch, _Batch()
        try:
            fresh = self._flush_events(batch)
            if fresh or batch.resends:
                batch.resends += [seq for seq in self._held if seq not in batch.resends]
                self._held.clear()
            again = [self.history[seq] for seq in batch.resends if self._resend_due(seq)]
            self._send_broadcasts(again, fresh)
        finally:
            for num, payload, seq in batch.errors:
                client = self.clients.get(num)
                if client is not None:
                    self._send_dm(client, self._frames.Kind.EVENTS, payload, Priority.REPLY,
                                  ack_only=seq)
            for num in batch.acks:
                if num not in batch.ack_for:  # else the broadcast just sent carries it
                    self._send_dm(self.clients[num], self._frames.Kind.ACK, b"", Priority.REPLY)

    def _flush_events(self, batch: _Batch) -> list[bytes]:
        """The new EVENTS frames for the batch, numbered and kept for RESYNC."""
        from protocol import codec
        from rules.events import Digest, TurnStarted

        if not batch.events and not batch.ack_for:
            return []
        game = self.app.game
        digest = codec.encode_event(Digest(game.digest())) if game is not None else b""
        chunks: list[bytes] = []
        cur = b""
        turn: tuple[int, int] | None = None  # (eid, chunk index) of the last TurnStarted
        for ev in batch.events:
            enc = codec.encode_event(ev)
            if len(enc) > PAYLOAD_ROOM - len(digest):
                log.warning("dropping an event of %d B that cannot fit a frame", len(enc))
                continue
            if len(cur) + len(enc) > PAYLOAD_ROOM - len(digest):
                chunks.append(cur)
                cur = b""
            cur += enc
            if isinstance(ev, TurnStarted):
                turn = (ev.eid, len(chunks))
        chunks.append(cur + digest)
        acks = list(dict.fromkeys(batch.ack_for))
        out = []
        for i, chunk in enumerate(chunks):
            owed = self.clients.get(acks.pop(0)) if acks and i == len(chunks) - 1 else None
            out.append(self._number(chunk, owed))
        if turn is not None:
            self._watch_turn(turn[0], self.bseq - len(chunks) + 1 + turn[1])
        for num in acks:  # more clients than frames: small ack frames for the rest
            self._send_dm(self.clients[num], self._frames.Kind.ACK, b"", Priority.REPLY)
        return out

    def _watch_turn(self, eid: int, bseq: int) -> None:
        """A binary player whose turn began in frame bseq and who stays silent may have missed
        that frame alone; nobody else can tell it (the others got it), so resend it."""
        if self._nudge is not None:
            self._nudge.cancel()
        self._nudge = None
        who = [c for c in self.clients.values()
               if eid in self.app.pipeline.eids_of(sender_id(c.num))]
        if who:
            self._nudged = who[0].num
            self._nudge = asyncio.get_running_loop().call_later(
                NUDGE_S, self._nudge_turn, eid, bseq, 1)

    def _nudge_turn(self, eid: int, bseq: int, tries: int) -> None:
        self._nudge = None
        game = self.app.game
        if game is None or game.current_turn() != eid:
            return
        self.counters["nudges"] += 1
        self._queue_resend(bseq)
        if tries < NUDGES:
            self._nudge = asyncio.get_running_loop().call_later(
                NUDGE_S, self._nudge_turn, eid, bseq, tries + 1)

    def _send_broadcasts(self, again: list[bytes], fresh: list[bytes]) -> None:
        """Resent and new frames, as few packets as they fit (protocol.frames.pack)."""
        for data, parts in self._frames.pack(again + fresh, self.bseq, self.key):
            self.counters["bundles"] += len(parts) > 1
            urgent = any(p in again for p in parts)
            self.app.outbox.submit_binary(BROADCAST, data,
                                          priority=Priority.REPLY if urgent else Priority.RESULT)

    def _number(self, payload: bytes, owed: _Client | None) -> bytes:
        self.bseq += 1
        ack, sack = owed.window.ack_state() if owed is not None else (None, 0)
        if owed is not None:
            for seq in self._frames.acked(ack, sack):
                owed.acked_in[seq] = self.bseq
            while len(owed.acked_in) > ACKED_KEPT:
                owed.acked_in.popitem(last=False)
        frame = self._frames.Frame(kind=self._frames.Kind.EVENTS, sender_seq=self.bseq, ack=ack,
                                   sack_bitmap=sack, flags=owed.slot if owed else 0,
                                   payload=payload)
        data = self._frames.encode_frame(frame, self.key)
        self.history[self.bseq] = data
        self._sent_at[self.bseq] = asyncio.get_running_loop().time()
        while len(self.history) > HISTORY:
            old, _ = self.history.popitem(last=False)
            self._sent_at.pop(old, None)
            self._resent_at.pop(old, None)
        self.counters["events_frames"] += 1
        return data

    def _send_dm(self, client: _Client, kind: Any, payload: bytes, priority: Priority, *,
                 ack_only: int | None = None) -> None:
        ack, sack = client.window.ack_state() if ack_only is None else (ack_only, 0)
        frame = self._frames.Frame(kind=kind, sender_seq=self.bseq, ack=ack, sack_bitmap=sack,
                                   flags=client.slot, payload=payload)
        if kind == self._frames.Kind.ACK:
            self.counters["ack_frames"] += 1
        self.app.outbox.submit_binary(client.num, self._frames.encode_frame(frame, self.key),
                                      priority=priority)

    # --- resync -----------------------------------------------------------------------

    def _resync(self, client: _Client, payload: bytes) -> None:
        from protocol.errors import ProtocolError

        self.counters["resyncs"] += 1
        try:
            base, missing = self._frames.decode_rerequest(payload)
        except ProtocolError:
            self.counters["garbled"] += 1
            return
        if base == SNAPSHOT_MSG:
            self._snapshot(client)
            return
        wanted = [base + i for i in missing] or [base]
        if any(seq not in self.history for seq in wanted):
            self._snapshot(client)
            return
        self._hold(wanted)

    def _hold(self, seqs: list[int]) -> None:
        loop = asyncio.get_running_loop()
        for seq in seqs:
            if loop.time() - self._resent_at.get(seq, -1e9) >= RESEND_HOLDOFF_S:
                self._held.setdefault(seq)
        if self._release_at is None or self._release_at.when() < loop.time():
            self._release_at = loop.call_later(RESEND_HOLD_S, self._release)

    def _release(self) -> None:
        """Nothing went out to carry the held frames: send them on their own."""
        for seq in self._held:
            self._queue_resend(seq)
        self._held.clear()

    def _queue_resend(self, seq: int) -> None:
        recent = asyncio.get_running_loop().time() - self._resent_at.get(seq, -1e9)
        if seq not in self._batch.resends and recent >= RESEND_HOLDOFF_S:
            self._batch.resends.append(seq)
            self._schedule()

    def _resend_due(self, seq: int) -> bool:
        """True (and noted) unless a resend of this kept frame is already on its way."""
        now = asyncio.get_running_loop().time()
        if seq not in self.history or now - self._resent_at.get(seq, -1e9) < RESEND_HOLDOFF_S:
            return False  # asked for twice in one batch, say
        self._resent_at[seq] = self._sent_at[seq] = now
        self.counters["resent"] += 1
        return True

    def _snapshot(self, client: _Client) -> None:
        """The whole game state, compressed, in numbered fragments (the last names bseq)."""
        game = self.app.game
        if game is None:
            return
        self.counters["snapshots"] += 1
        self._snap_id = (self._snap_id % 0xFFFF) + 1
        blob = self._frames.snapshot_blob(self.bseq, game.canonical())
        for frag in self._frames.Fragmenter(160).split(self._snap_id, blob):
            frame = self._frames.Frame(kind=self._frames.Kind.SNAPSHOT, sender_seq=self.bseq,
                                       payload=self._frames.encode_fragment(frag))
            self.app.outbox.submit_binary(client.num, self._frames.encode_frame(frame, self.key),
                                          priority=Priority.CHATTER)

    def stats(self) -> dict[str, int]:
        return {**self.counters, "clients": len(self.clients), "broadcast_seq": self.bseq}
