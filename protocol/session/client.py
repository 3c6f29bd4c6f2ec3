"""A player's side of the binary session: its key, sequence numbers, acks, intent resends,
the broadcasts it missed and the snapshot that fills a long gap, with no clock and no radio.

The driver (node.client.player) calls `receive` with each packet on the game port, `send`
with the intents of one decision, and `tick` at `next_deadline()`; it transmits the `Send`s
that come back and shows the notes (`Shown`, `Acked`, ...) to the player.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from protocol import codec, frames
from protocol.errors import ProtocolError
from protocol.resync import (
    ALONE_AFTER_S,
    BACKOFF_S,
    FIRST_WAIT_S,
    INTENT_RETRY_S,
    BroadcastGaps,
    wait_s,
)
from protocol.session.common import BROADCAST, Send, Urgency

# This many frames in a row from the node that fail our keys: it has restarted and forgotten
# them (or someone forges it); the next decision starts with a HELLO.
BAD_TAGS_REHELLO = 3
# Decisions made a moment apart (a script's lines, a quick second command) fall due for a
# resend a moment apart too. Sent as each fell due, the second packet reached the relay
# while it was repeating the first (half duplex) and was lost there, try after try: over
# two hops at LONG_FAST a script's 2nd and 3rd commands went unacked for 90 s. A decision
# due now takes along every other one due within this long, in the same packet.
RESEND_ALIGN_S = 4.0


def _is_ack(part: bytes) -> bool:
    return len(part) >= 3 and part[0] & 0x0F == frames.Kind.ACK


@dataclass(frozen=True, slots=True)
class Welcomed:
    """The node answered our HELLO: we have our key, and our character if we had one."""

    eid: int | None


@dataclass(frozen=True, slots=True)
class Acked:
    seq: int
    public: bool  # acked with a broadcast result (applied), not only privately


@dataclass(frozen=True, slots=True)
class GaveUp:
    """Intents the node never acked, after every try."""

    seqs: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Shown:
    """Events to show: a broadcast's (numbered) or a private answer's (broadcast None)."""

    events: list[Any]
    broadcast: int | None


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A whole game state from the node, covering every broadcast up to `covers`."""

    covers: int
    canonical: bytes


Note = Welcomed | Acked | GaveUp | Shown | Snapshot


@dataclass
class _Group:
    """The intents of one decision, sent (and resent) in one packet."""

    payloads: dict[int, bytes]  # seq -> encoded intent
    next_at: float
    tries: int = 1


@dataclass
class ClientSession:
    """One player's protocol state; `nonce` is drawn anew each time the client starts."""

    name: str
    nonce: bytes
    node: int | None = None
    retry_s: float = INTENT_RETRY_S
    max_tries: int = 6
    rng: random.Random = field(default_factory=lambda: random.Random(0))
    # Accept a WELCOME only when the radio reports it arrived PKI-encrypted (a real radio
    # does); the simulated mesh delivers a DM to its addressee alone, which stands for it.
    # Either way, once a WELCOME came with the node's public key, later ones must too.
    require_pki: bool = False
    key: bytes | None = field(default=None, init=False)
    table_key: bytes | None = field(default=None, init=False)
    node_public_key: bytes | None = field(default=None, init=False)
    slot: int | None = field(default=None, init=False)
    eid: int | None = field(default=None, init=False)
    seq: int = field(default=0, init=False)
    welcomed: bool = field(default=False, init=False)
    need_hello: bool = field(default=False, init=False)
    gaps: BroadcastGaps = field(default_factory=BroadcastGaps, init=False)
    digests: dict[int, int] = field(default_factory=dict, init=False)
    diverged: bool = field(default=False, init=False)
    # broadcast frames heard again (a resend someone else asked for)
    duplicates: int = field(default=0, init=False)
    resent: int = field(default=0, init=False)  # intent frames sent again for want of an ack
    bad_tags: int = field(default=0, init=False)
    # snapshot fragments heard: a snapshot on its way is still coming
    fragments: int = field(default=0, init=False)
    refused_welcomes: int = field(default=0, init=False)
    _bad_run: int = field(default=0, init=False)
    _groups: list[_Group] = field(default_factory=list, init=False)
    _pending: dict[int, _Group] = field(default_factory=dict, init=False)
    _unsent: list[int] = field(default_factory=list, init=False)
    _reasm: frames.Reassembler = field(
        default_factory=lambda: frames.Reassembler(timeout=600.0, retry=0.0), init=False)
    _resync_at: float | None = field(default=None, init=False)
    _resync_try: int = field(default=0, init=False)
    _ride_from: float = field(default=0.0, init=False)  # a request may ride in intents from
    _queued_at: float = field(default=0.0, init=False)

    # --- calls in ------------------------------------------------------------------------

    def hello(self) -> Send:
        """The HELLO that asks the node for our key (unsigned: we have none yet)."""
        frame = frames.Frame(kind=frames.Kind.HELLO, sender_seq=0, flags=frames.HELLO_DM_FRAMES,
                             payload=frames.hello_payload(self.name, self.nonce))
        return Send(self._to(), frames.encode_frame(frame))

    def queue(self, intents: list[Any], now: float) -> list[int]:
        """Number one decision's intents; outgoing() then packs them with any others queued."""
        if self.key is None:
            raise ProtocolError("no key yet: the node has not welcomed us")
        payloads = {}
        for intent in intents:
            self.seq += 1
            payloads[self.seq] = codec.encode_intent(intent)
        group = _Group(payloads, now + self.retry_s)
        self._queued_at = now
        self._groups.append(group)
        for seq in payloads:
            self._pending[seq] = group
        self._unsent += payloads
        return list(payloads)

    def outgoing(self, now: float | None = None) -> list[Send]:
        """Every queued intent not sent yet, in as few packets as fit: each packet costs its
        preamble and headers, and several sent at once would collide at the relay. `now`
        defaults to when the last intents were queued."""
        seqs, self._unsent = self._unsent, []
        return self._packets([s for s in seqs if s in self._pending],
                             self._queued_at if now is None else now)

    def send(self, intents: list[Any], now: float) -> tuple[list[int], list[Send]]:
        """queue() then outgoing(): one decision's intents, packed."""
        seqs = self.queue(intents, now)
        return seqs, self.outgoing(now)

    def resync(self, payload: bytes) -> Send:
        """A RESYNC with a BroadcastGaps.request() payload; empty asks for the whole state
        (the node answers players who joined, nobody else)."""
        return self._signed(frames.Kind.RESYNC, payload or frames.encode_rerequest(0, []))

    def snapshot_request(self, now: float) -> Send:
        """A RESYNC for the game state: the fragments still missing of the snapshot on its
        way, when part of one came; else a whole snapshot."""
        partial = self._reasm.rerequests(now)
        if not partial:
            return self.resync(b"")
        msg_id, missing = partial[-1]
        frame = frames.Frame(kind=frames.Kind.RESYNC, sender_seq=self.seq,
                             flags=frames.RESYNC_FRAGMENTS,
                             payload=frames.encode_rerequest(msg_id, missing))
        return Send(self._to(), frames.encode_frame(frame, self.key))

    def pending(self) -> list[int]:
        """Intents sent and not yet acked."""
        return sorted(self._pending)

    def receive(self, sender: int, to: int, me: int, data: bytes, now: float,
                public_key: bytes | None = None) -> list[Note]:
        """One packet heard on the game port; public_key is the sender's key when the radio
        decrypted it as a PKI direct message."""
        if to not in (me, BROADCAST) or sender == me:
            return []
        if self.node is not None and sender != self.node:
            return []
        notes: list[Note] = []
        for part in frames.split(data):
            if to == me or self._ack_for_us(part):
                self._direct(sender, part, now, public_key, notes)
            elif not _is_ack(part):  # else filler, or another client's ACK: nothing to count
                self._broadcast(part, now, notes)
        return notes

    def tick(self, now: float) -> list[Send | GaveUp]:
        """Resends of unacked intents and RESYNCs for missed broadcasts that are due."""
        out: list[Send | GaveUp] = []
        again: list[int] = []
        due = any(g.next_at <= now for g in self._groups)
        for group in [g for g in self._groups if due and g.next_at <= now + RESEND_ALIGN_S]:
            waiting = [seq for seq in group.payloads if self._pending.get(seq) is group]
            if not waiting:
                self._groups.remove(group)
            elif group.tries >= self.max_tries:
                self._groups.remove(group)
                for seq in waiting:
                    del self._pending[seq]
                self.need_hello = True  # perhaps the node forgot our key: ask again
                out.append(GaveUp(tuple(waiting)))
            else:
                group.tries += 1
                group.next_at = now + self.retry_s
                self.resent += len(waiting)
                again += waiting
        out += self._packets(sorted(again), now)  # every decision due again, in one packet
        if self._resync_at is not None and self._resync_at <= now:
            req = self.gaps.request()
            if req is None:
                self._resync_at = None
            else:
                payload, whole = req
                out.append(self.resync(payload))
                self._asked(now, whole)
        return out

    def next_deadline(self) -> float | None:
        times = [g.next_at for g in self._groups]
        if self._resync_at is not None:
            times.append(self._resync_at)
        return min(times) if times else None

    # --- inbound -------------------------------------------------------------------------

    def _to(self) -> int:
        return self.node if self.node is not None else BROADCAST

    def _signed(self, kind: frames.Kind, payload: bytes) -> Send:
        frame = frames.Frame(kind=kind, sender_seq=self.seq, payload=payload)
        return Send(self._to(), frames.encode_frame(frame, self.key))

    def _asked(self, now: float, whole: bool) -> None:
        """A RESYNC went out: the next waits for the node's answer (resync.BACKOFF_S). One
        for the whole state means we were too far behind to replay: our picture may differ,
        and a snapshot follows."""
        self.diverged = self.diverged or whole
        self._resync_try += 1
        self._resync_at = now + wait_s(self._resync_try, self.slot, self.rng.random())
        self._ride_from = now + BACKOFF_S

    def _packets(self, seqs: list[int], now: float) -> list[Send]:
        if not seqs:
            return []
        parts = [frames.encode_frame(frames.Frame(
            kind=frames.Kind.INTENT, sender_seq=seq, payload=self._pending[seq].payloads[seq]),
            self.key) for seq in seqs]
        top = max(seqs)
        packed = frames.pack(parts, top)
        req = self.gaps.request() if self._resync_at is not None and now >= self._ride_from \
            else None
        if req is not None:  # what we missed rides along (resync.ALONE_AFTER_S)...
            payload, whole = req
            riding = frames.pack([*parts, self.resync(payload).data], top)
            if len(riding) == len(packed):
                # ...unless it needs a packet of its own, right behind ours (half duplex)
                packed = riding
                self._asked(now, whole)
        return [Send(self._to(), data, Urgency.REPLY) for data, _ in packed]

    def _direct(self, sender: int, part: bytes, now: float, public_key: bytes | None,
                notes: list[Note]) -> None:
        if len(part) >= 3 and part[0] & 0x0F == frames.Kind.WELCOME:
            self._welcome(sender, part, now, public_key, notes)
            return
        if self.key is None:
            return
        if self.table_key is not None and frames.verify(part, self.table_key):
            # a broadcast frame we alone missed, sent to us alone (HELLO_DM_FRAMES)
            self._broadcast(part, now, notes)
            return
        try:
            frame = frames.decode_frame(part, self.key)
        except ProtocolError:
            self._bad()
            return
        self._bad_run = 0
        self.slot = frame.flags or None  # every DM says which slot the node gave us
        self._ack(frame, frame.kind == frames.Kind.ACK, notes)
        self._note_latest(frame.sender_seq, now)
        if frame.kind == frames.Kind.EVENTS:
            try:
                notes.append(Shown(codec.decode_events(frame.payload), None))
            except ProtocolError:
                return
        elif frame.kind == frames.Kind.SNAPSHOT:
            self._fragment(frame, now, notes)

    def _ack_for_us(self, part: bytes) -> bool:
        """An ACK under our own key riding in a broadcast: under firmware 2.8 the node's acks
        that a broadcast's flags cannot carry go there when every client reads them
        (frames.HELLO_DM_FRAMES)."""
        return self.key is not None and _is_ack(part) and frames.verify(part, self.key)

    def _welcome(self, sender: int, part: bytes, now: float, public_key: bytes | None,
                 notes: list[Note]) -> None:
        try:
            frame = frames.decode_frame(part)
            welcome = frames.parse_welcome(frame.payload)
        except ProtocolError:
            return
        if welcome.nonce != self.nonce:
            return  # it answers a HELLO someone sent in our name
        pinned = self.node_public_key
        if (self.require_pki and public_key is None) or (pinned and public_key != pinned):
            self.refused_welcomes += 1  # not PKI, or not from the node we first met
            return
        self.node_public_key = public_key or self.node_public_key
        self.node = sender
        self.key, self.table_key = welcome.key, welcome.table_key
        self.slot = frame.flags or None
        self.eid = welcome.eid or self.eid
        if not self.welcomed:
            self.gaps.start_at(frame.sender_seq)
        self.welcomed, self.need_hello, self._bad_run = True, False, 0
        self._ack(frame, False, notes)
        self._note_latest(frame.sender_seq, now)
        notes.append(Welcomed(self.eid))

    def _broadcast(self, part: bytes, now: float, notes: list[Note]) -> None:
        if self.table_key is None:
            return
        try:
            frame = frames.decode_frame(part, self.table_key)
        except ProtocolError:
            self._bad()
            return
        self._bad_run = 0
        if frame.kind != frames.Kind.EVENTS:
            return
        try:
            events = codec.decode_events(frame.payload)
        except ProtocolError:
            return
        seq = frame.sender_seq
        if frame.flags and frame.flags == self.slot:
            self._ack(frame, True, notes)
        if not self.gaps.add(seq):
            # a resend someone else asked for: shown already (a stale TurnStarted in it must
            # not start our turn again)
            self.duplicates += 1
            return
        self._note_latest(seq, now)
        for ev in events:
            if type(ev).__name__ == "Digest":
                self.digests[seq] = ev.value
        notes.append(Shown(events, seq))

    def _bad(self) -> None:
        self.bad_tags += 1
        self._bad_run += 1
        if self._bad_run >= BAD_TAGS_REHELLO:
            self.need_hello = True

    def _ack(self, frame: frames.Frame, public: bool, notes: list[Note]) -> None:
        for seq in sorted(frames.acked(frame.ack, frame.sack_bitmap)):
            group = self._pending.pop(seq, None)
            if group is None:
                continue
            notes.append(Acked(seq, public))
            if not any(self._pending.get(s) is group for s in group.payloads):
                self._groups.remove(group)  # every intent of that decision is acked

    def _note_latest(self, seq: int, now: float) -> None:
        self.gaps.saw(seq)
        if self.gaps.missing() and self._resync_at is None:
            self._resync_try = 0
            self._ride_from = now + FIRST_WAIT_S  # it may just be late
            self._resync_at = now + ALONE_AFTER_S + wait_s(0, self.slot, self.rng.random())

    def _fragment(self, frame: frames.Frame, now: float, notes: list[Note]) -> None:
        self.fragments += 1
        try:
            blob = self._reasm.add(frames.decode_fragment(frame.payload), now)
            if blob is None:
                return
            covers, canonical = frames.parse_snapshot_blob(blob)
        except ProtocolError:
            return
        self.gaps.cover(covers)
        self.digests[covers] = frames.state_digest(canonical)
        self.diverged = False
        notes.append(Snapshot(covers, canonical))
