"""The node's binary channel: game frames on GAME_PORT in, one broadcast events frame per batch out.

Inbound INTENT frames pass a per-sender sequence window (replays are rejected and
counted, but re-acked: the client only repeats because our ack got lost) and go
through the same pipeline as every other input. Results of every accepted command,
from any channel, are gathered briefly and broadcast once as EVENTS frames that end
with the state digest, so clients can tell when they diverged. The ack for the
command that caused a batch rides in that frame's header; the frame's four flag
bits name which client (its slot, from WELCOME) the ack belongs to. Clients that
missed frames send RESYNC with the missing broadcast sequence numbers; what is no
longer kept is answered with a snapshot in fragments.
"""

from __future__ import annotations

import asyncio
import logging
import zlib
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from node.pipeline import Command, Outcome
from node.radio.base import BROADCAST, GAME_PORT, Packet
from node.radio.outbox import Priority

log = logging.getLogger(__name__)

# Quiet time that ends a batch. A client sends its action and its end of turn back to back;
# the second reaches us a relay hop (~1-1.5 s on LONG_FAST) after the first, and monster turns
# follow half a second apart: one frame for all of it instead of two or three.
FLUSH_S = 2.0
MAX_HOLD_S = 6.0
HISTORY = 256  # broadcast frames kept for RESYNC
MAX_SLOTS = 15  # four flag bits; 0 means "no ack in this frame"
PAYLOAD_ROOM = 180  # events bytes per frame: 200 minus header, acks and a tag
RESEND_WINDOW_S = 15.0
SNAPSHOT_MSG = 0  # RESYNC msg_id asking for broadcast frames; anything else: a snapshot


def sender_id(num: int) -> str:
    return f"!{num:08x}"


@dataclass
class _Client:
    num: int
    slot: int
    window: Any  # protocol.frames.SeqWindow
    acked_seq: int | None = None


@dataclass
class _Batch:
    events: list[Any] = field(default_factory=list)
    ack_for: list[int] = field(default_factory=list)  # client node numbers owed an ack
    # Private errors wait for the batch too: sent at once, they would go out while the client's
    # next frame is on its way through the relay, and the node cannot hear the client to
    # avoid it (a hidden terminal): both would be lost at the relay.
    errors: list[tuple[int, bytes, int | None]] = field(default_factory=list)


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
        self._resent_at: dict[int, float] = {}
        self.counters: dict[str, int] = {
            "frames_in": 0, "garbled": 0, "replays": 0, "intents": 0, "rejected": 0,
            "events_frames": 0, "ack_frames": 0, "resyncs": 0, "resent": 0, "snapshots": 0,
            "duplicates_applied": 0,
        }
        self._applied: set[str] = set()
        app.on_port(GAME_PORT, self.on_packet)
        app.pipeline.subscribe(self._on_outcome)

    # --- inbound ----------------------------------------------------------------------

    def on_packet(self, packet: Packet) -> Any:
        from protocol.errors import ProtocolError

        self.counters["frames_in"] += 1
        try:
            frame = self._frames.decode_frame(packet.payload, self.key)
        except ProtocolError as err:
            self.counters["garbled"] += 1
            log.debug("garbled frame from %08x: %s", packet.sender, err)
            return None
        kind = self._frames.Kind
        client = self._client(packet.sender)
        if frame.kind == kind.HELLO:
            self._welcome(client)
        elif frame.kind == kind.INTENT:
            return self._intent(client, frame)
        elif frame.kind == kind.RESYNC:
            self._resync(client, frame.payload)
        return None

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
        from protocol import codec
        from protocol.errors import ProtocolError

        if not client.window.accept(frame.sender_seq):
            # Already applied (or too old): the client repeats because it missed our ack.
            self.counters["replays"] += 1
            self._send_dm(client, self._frames.Kind.ACK, b"", Priority.REPLY)
            return
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
        text = out.error or " ".join(out.lines) or "ok"
        self._reply_error(client, text, actor=out.actor or 0, seq=frame.sender_seq)

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
        if not events or out.private:
            return
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
            self._flush_events(batch)
        finally:
            for num, payload, seq in batch.errors:
                client = self.clients.get(num)
                if client is not None:
                    self._send_dm(client, self._frames.Kind.EVENTS, payload, Priority.REPLY,
                                  ack_only=seq)

    def _flush_events(self, batch: _Batch) -> None:
        from protocol import codec
        from rules.events import Digest

        if not batch.events and not batch.ack_for:
            return
        game = self.app.game
        digest = codec.encode_event(Digest(game.digest())) if game is not None else b""
        chunks: list[bytes] = []
        cur = b""
        for ev in batch.events:
            enc = codec.encode_event(ev)
            if len(enc) > PAYLOAD_ROOM - len(digest):
                log.warning("dropping an event of %d B that cannot fit a frame", len(enc))
                continue
            if len(cur) + len(enc) > PAYLOAD_ROOM - len(digest):
                chunks.append(cur)
                cur = b""
            cur += enc
        chunks.append(cur + digest)
        acks = list(dict.fromkeys(batch.ack_for))
        for i, chunk in enumerate(chunks):
            owed = self.clients.get(acks.pop(0)) if acks and i == len(chunks) - 1 else None
            self._broadcast(chunk, owed)
        for num in acks:  # more clients than frames: small ack frames for the rest
            self._send_dm(self.clients[num], self._frames.Kind.ACK, b"", Priority.REPLY)

    def _broadcast(self, payload: bytes, owed: _Client | None) -> None:
        self.bseq += 1
        ack, sack = owed.window.ack_state() if owed is not None else (None, 0)
        frame = self._frames.Frame(kind=self._frames.Kind.EVENTS, sender_seq=self.bseq, ack=ack,
                                   sack_bitmap=sack, flags=owed.slot if owed else 0,
                                   payload=payload)
        data = self._frames.encode_frame(frame, self.key)
        self.history[self.bseq] = data
        while len(self.history) > HISTORY:
            old, _ = self.history.popitem(last=False)
            self._resent_at.pop(old, None)
        self.counters["events_frames"] += 1
        self.app.outbox.submit_binary(BROADCAST, data, priority=Priority.RESULT)

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
        now = asyncio.get_running_loop().time()
        for seq in wanted:
            # A frame one client missed at the relay its neighbours usually missed too:
            # resend it as one broadcast; whoever asks again within the window missed that
            # resend as well and gets it directly.
            self.counters["resent"] += 1
            if now - self._resent_at.get(seq, float("-inf")) < RESEND_WINDOW_S:
                self.app.outbox.submit_binary(client.num, self.history[seq],
                                              priority=Priority.REPLY)
                continue
            self._resent_at[seq] = now
            self.app.outbox.submit_binary(BROADCAST, self.history[seq], priority=Priority.REPLY)

    def _snapshot(self, client: _Client) -> None:
        """The whole game state, compressed, in numbered fragments (the last names bseq)."""
        game = self.app.game
        if game is None:
            return
        self.counters["snapshots"] += 1
        self._snap_id = (self._snap_id % 0xFFFF) + 1
        blob = self.bseq.to_bytes(4, "big") + zlib.compress(game.canonical(), 9)
        for frag in self._frames.Fragmenter(160).split(self._snap_id, blob):
            frame = self._frames.Frame(kind=self._frames.Kind.SNAPSHOT, sender_seq=self.bseq,
                                       payload=self._frames.encode_fragment(frag))
            self.app.outbox.submit_binary(client.num, self._frames.encode_frame(frame, self.key),
                                          priority=Priority.CHATTER)

    def stats(self) -> dict[str, int]:
        return {**self.counters, "clients": len(self.clients), "broadcast_seq": self.bseq}
