"""The node's side of the binary session: keys, windows, slots, in-order release, batched
broadcasts, resends, resync and nudges, with no clock and no radio.

The driver (node.channels.binary) calls `receive` with each packet on the game port,
`applied` once it has submitted an `Apply` to the pipeline, `publish` with the events of
every public result, and `tick` at `next_deadline()`. Each returns what to do now: `Send`s
for the radio and `Apply`s for the pipeline, in order. The game is seen through `Table`,
passed in with each call like the time.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

from protocol import codec, frames
from protocol.errors import ProtocolError
from protocol.session.common import BROADCAST, Send, Urgency
from protocol.tables import digest as tables_digest

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
PAYLOAD_ROOM = 176  # events bytes per frame: 200 minus header, acks and the 4-byte tag
# A private answer's words: the frame's room less the Info event's own bytes (its code, a
# 3-byte actor and the length), so a whole sheet reaches the player in one DM.
REPLY_TEXT_MAX = PAYLOAD_ROOM - 8
# A missed frame is always resent as a broadcast: that costs the node no more airtime than a
# DM, and a frame lost at the relay was lost for every client. Requests arriving this soon
# after that resend were sent before it could arrive: it answers them too. The next client
# in turn (resync.TURN_S later) or one that missed the resend as well asks after this.
RESEND_HOLDOFF_S = 4.0
# A frame someone missed waits this long for the next broadcast, to ride in the same packet
# (a packet's preamble and headers cost ~0.45 s whatever it carries); then it goes alone.
RESEND_HOLD_S = 30.0
# How long an intent waits for an earlier one of the same client that was lost on the way:
# long enough for the client's second repeat (resync.INTENT_RETRY_S apart), since an intent
# that comes after later ones went ahead is refused rather than applied out of order.
IN_ORDER_WAIT_S = 40.0
# A binary player silent this long into its turn is sent the frame that started it again
# (a player who missed it alone cannot know; the turn would wait for its timeout). Bots act
# within ~12 s; a person who is just thinking gets a duplicate, which costs one frame.
NUDGE_S = 30.0
NUDGES = 2
# A repeated intent this soon after the frame acking it went out crossed that frame in the air.
# Over two hops at LONG_FAST the frame reaches the client and a repeat comes back in up to
# ~8 s: at 5 s, repeats that crossed it cost a broadcast and an ACK each. Measured over seeds
# 1-12 (4 players, 2 hops, 10% loss), 8 s took node airtime per round from 2.91 to 2.79 s
# under firmware 2.7 and from 4.77 to 4.55 s under 2.8, losing nothing.
REPLAY_GRACE_S = 8.0
# An intent the pipeline dropped for its sender's rate is applied again this much later,
# at most this many times (the node's rate_per_s refills a command a second).
FLOOD_RETRY_S = 2.0
FLOOD_RETRIES = 3
ACKED_KEPT = 64  # per client: which broadcast acked each recent intent
SNAPSHOT_MSG = 0  # RESYNC msg_id asking for a snapshot; anything else: broadcast frames
# Slots are for joined players only (a stranger's acks go by DM); a joined player quiet this
# long, or one no longer in the game, gives its slot to the next joined player who needs one.
IDLE_S = 900.0
MAX_CLIENTS = 64  # radios with a key; past it, the stranger heard least recently is forgotten
# A HELLO and its repeats get one WELCOME this often. Radios that have not joined share a
# budget, so a flood of HELLOs under made-up node numbers cannot spend the node's airtime.
WELCOME_GAP_S = 8.0
WELCOME_BACKOFFS = 5  # then the gap doubles per unanswered WELCOME, up to 2**5 times
STRANGER_WELCOMES = 8.0
STRANGER_REFILL_S = 15.0
# One snapshot per client this often: it is many packets (a minute of paced CHATTER on
# LONG_FAST), and a second one asked for meanwhile would only queue behind the first.
SNAPSHOT_GAP_S = 60.0
SNAPSHOTS_KEPT = 8  # recent snapshots, so a client can ask for the fragments it missed
FRAGMENTS_GAP_S = 10.0  # a client's fragment re-requests, answered this often at most
SNAPSHOT_CHUNK = 160  # bytes of state per SNAPSHOT fragment, leaving room for header and tag
# Firmware 2.8 (develop) signs every broadcast of up to 166 B a radio originates, adding a
# 66 B XEdDSA signature on air (node.radio.firmware.SIGNED_BROADCAST_MAX); the driver sets
# NodeSession.signed_up_to when its radio does. A broadcast that would be signed instead
# carries again the recent frames it has room for (a client that missed one then has it
# from the next, without asking), and filler past that size when that costs fewer bytes
# than the signature.
SIGNATURE_BYTES = 66
CARRY_BACK = 4  # how many of the latest earlier broadcasts such a packet may carry again
# A DM the node originates is PKI-encrypted, 12 B more on air and never signed (firmware
# v2.7.26 Router.cpp:658-673). Under 2.8 the frame a silent player's turn began in (a nudge,
# which only that player needs) therefore goes to it alone when the DM costs fewer bytes than
# the signed (or grown) broadcast, if its HELLO said it reads one (frames.HELLO_DM_FRAMES);
# under 2.7 the broadcast is always the cheaper. Measured, `dungeon sim --firmware 2.8`
# seeds 1-24: 4.89 -> 4.45 s of node airtime per round. Resending by DM the frame a repeated
# intent shows lost did not pay: 6.10 s. That frame is mostly lost at the relay for everyone
# (the relay drops about a quarter of the node's packets, mostly to players it hears and the
# node does not), and the player it hands the turn to waits for it as well.
PKI_BYTES = 12


class Table(Protocol):
    """The game as the session needs to see it; the driver passes one with each call."""

    def eid_of(self, client: int) -> int | None:
        """The character radio `client` plays, None while it has not joined."""

    def owner(self, eid: int) -> int | None:
        """The radio that plays character eid."""

    def digest(self) -> int | None: ...

    def current_turn(self) -> int | None: ...

    def canonical(self) -> bytes | None: ...


@dataclass(frozen=True, slots=True)
class Apply:
    """An intent due now, in the order its client sent it: submit it, then call applied()."""

    client: int
    seq: int
    intent: Any
    key: str  # idempotency key: radio, session nonce and seq, so a rebooted client is new


@dataclass(frozen=True, slots=True)
class Result:
    """What became of an applied intent."""

    ok: bool
    public: bool = False  # its events were published: the broadcast that carries them acks it
    duplicate: bool = False
    dropped: bool = False  # a flood: counted, not answered
    text: str = "ok"  # the one-line private answer when not public
    actor: int = 0


@dataclass
class _Keys:
    nonce: bytes
    key: bytes
    dm_frames: bool = False  # its HELLO said it reads broadcast frames sent to it in a DM


@dataclass
class _Client:
    num: int
    keys: _Keys
    pending: _Keys | None = None  # a HELLO with a new nonce, until a frame proves its key
    slot: int = 0
    slot_told: bool = False  # a DM has told the client its slot
    heard_at: float = 0.0
    welcomed_at: float = -1e9
    snapshot_at: float = -1e9
    fragments_at: float = -1e9
    window: frames.SeqWindow = field(default_factory=frames.SeqWindow)
    # intent seq -> the broadcast whose header acked it; a repeat means that frame was missed
    acked_in: OrderedDict[int, int] = field(default_factory=OrderedDict)
    # intent seq -> its private answer (encoded events): a repeat means the answer was lost,
    # and a bare ACK would end the client's wait without the player ever seeing it
    answers: OrderedDict[int, tuple[bytes, float]] = field(default_factory=OrderedDict)  # + sent at
    next_seq: int | None = None  # the intent due next, in the order the player sent them
    waiting: dict[int, frames.Frame] = field(default_factory=dict)  # seq -> came early
    release_at: float | None = None
    unproven: int = 0  # WELCOMEs since the last frame signed with the client's key
    turn_at: float | None = None  # when the frame that began its character's turn went out
    in_flight: dict[int, Apply] = field(default_factory=dict)  # handed to the pipeline
    dropped: dict[int, Apply] = field(default_factory=dict)  # over the rate: to try again
    flood_tries: dict[int, int] = field(default_factory=dict)
    retry_at: float | None = None

    def welcome_gap(self) -> float:
        """HELLOs nobody follows up with a signed frame (a lost WELCOME, or HELLOs forged
        in this radio's name) are answered ever more rarely."""
        if not self.unproven:
            return 0.0
        return WELCOME_GAP_S * 2 ** min(self.unproven - 1, WELCOME_BACKOFFS)


@dataclass
class _Batch:
    events: list[Any] = field(default_factory=list)
    ack_for: list[int] = field(default_factory=list)  # clients owed an ack
    # Every answer waits for the batch, for a quiet spell: sent at once, it would go out while
    # the client's next frame (or another player's, held back while the relay was talking) is
    # on its way through the relay, and the node cannot hear the players to avoid them (a
    # hidden terminal): both would be lost at the relay.
    errors: list[tuple[int, bytes, int | None]] = field(default_factory=list)  # private Info
    acks: list[int] = field(default_factory=list)  # clients owed an ACK frame
    resends: list[int] = field(default_factory=list)  # broadcast seqs to send again
    direct: dict[int, list[int]] = field(default_factory=dict)  # client -> seqs for it alone
    welcomes: dict[int, bytes] = field(default_factory=dict)  # client -> its WELCOME (2.8)


@dataclass
class _Nudge:
    client: int
    eid: int
    bseq: int
    tries: int
    at: float


Output = Send | Apply


class NodeSession:
    """Every client's protocol state on the node; `secret` derives all frame keys."""

    def __init__(self, secret: bytes) -> None:
        self.secret = secret
        self.table_key = frames.table_key(secret)
        self.clients: dict[int, _Client] = {}
        self.bseq = 0
        self.history: OrderedDict[int, bytes] = OrderedDict()
        self._batch = _Batch()
        self._flush_at: float | None = None
        self._first_at = 0.0
        self._snap_id = 0
        self._snapshots: OrderedDict[int, tuple[int, list[bytes]]] = OrderedDict()  # by msg id
        self._sent_at: dict[int, float] = {}  # broadcast seq -> when it last went out
        self._resent_at: dict[int, float] = {}
        self._held: dict[int, None] = {}  # asked-for frames waiting for the next broadcast
        self._held_until: float | None = None
        self._nudge: _Nudge | None = None
        self._tokens = STRANGER_WELCOMES
        self._tokens_at = 0.0
        self._applied: set[str] = set()
        self._out: list[Output] = []
        self.signed_up_to = 0  # broadcasts this long or shorter are signed (0: none are)
        self.counters: dict[str, int] = {
            "frames_in": 0, "garbled": 0, "bad_tag": 0, "replays": 0, "intents": 0,
            "rejected": 0, "events_frames": 0, "ack_frames": 0, "resyncs": 0, "resent": 0,
            "bundles": 0, "nudges": 0, "snapshots": 0, "refused": 0, "welcomes": 0,
            "hello_too_soon": 0, "hello_over_budget": 0, "new_sessions": 0, "slots_evicted": 0, "late": 0, "fragments_resent": 0, "flood_retries": 0,
            "duplicates_applied": 0, "carried": 0, "warnings_skipped": 0, "resent_direct": 0,
            "acks_riding": 0,
        }

    # --- calls in ------------------------------------------------------------------------

    def receive(self, sender: int, data: bytes, now: float, table: Table) -> list[Output]:
        """One packet from radio `sender` on the game port."""
        self.counters["frames_in"] += 1
        if self._flush_at is not None:
            self._schedule(now)  # the mesh is not quiet yet
        if self._nudge is not None and self._nudge.client == sender:
            self._nudge = None  # it is alive, and asks for what it misses itself
        parts = frames.split(data)
        if not parts:
            self.counters["garbled"] += 1
        for part in parts:
            self._frame(sender, part, now, table)
        return self._take()

    def applied(self, client: int, seq: int, result: Result, now: float,
                table: Table) -> list[Output]:
        """What the pipeline made of an Apply; its ack and any private answer follow."""
        c = self.clients.get(client)
        if c is None:
            return self._take()
        key = self._key(c, seq)
        if result.ok and not result.duplicate:
            # The window should make this impossible; counted so the sim can show it.
            self.counters["duplicates_applied"] += key in self._applied
            self._applied.add(key)
        if not c.slot and table.eid_of(client) is not None:
            c.slot = self._free_slot(c, now, table)
            c.slot_told = False  # until a DM's flags say so
        item = c.in_flight.pop(seq, None)
        tries = c.flood_tries.pop(seq, 0)
        if result.dropped and item is not None and tries < FLOOD_RETRIES:
            # The sender's rate ran out (a script's lines in one packet, say). Its frame was
            # acked on receipt, so the node tries it again itself once the rate allows.
            c.flood_tries[seq] = tries + 1
            c.dropped[seq] = item
            if c.retry_at is None:
                c.retry_at = now + FLOOD_RETRY_S
        elif result.public:
            self._batch.ack_for.append(client)
            self._schedule(now)
        elif not result.dropped:
            self.counters["rejected"] += not result.ok
            self._reply(c, result.text, actor=result.actor, seq=seq, now=now)
        return self._take()

    def publish(self, events: list[Any], now: float) -> None:
        """Events of a public result, from any channel: they go in the next broadcast,
        once a binary client is at the table (before that, frames are airtime for nobody)."""
        if events and self.clients:
            self._batch.events.extend(events)
            self._schedule(now)

    def tell(self, client: int, text: str, now: float) -> list[Output]:
        """A line for one client alone, in the next batch; nothing for a radio the session
        does not know."""
        c = self.clients.get(client)
        if c is not None:
            self._reply(c, text, now=now)
        return self._take()

    def warn(self, client: int, text: str, now: float) -> list[Output]:
        """tell() a player its turn is about to time out, unless we heard from it since that
        turn began: its command is then on its way (lost or late at the relay), and the
        warning would be airtime it does not need."""
        c = self.clients.get(client)
        if c is None or (c.turn_at is not None and c.heard_at >= c.turn_at):
            self.counters["warnings_skipped"] += 1
            return self._take()
        return self.tell(client, text, now)

    def tick(self, now: float, table: Table) -> list[Output]:
        """Whatever is due at `now`: a batch to broadcast, held intents, resends, nudges."""
        if self._flush_at is not None and now >= self._flush_at:
            self._flush(now, table)
        for c in list(self.clients.values()):
            if c.release_at is not None and now >= c.release_at:
                self._apply_waiting(c, now, due_only=False)
            if c.retry_at is not None and now >= c.retry_at:
                c.retry_at = None
                for seq in sorted(c.dropped):
                    c.in_flight[seq] = c.dropped.pop(seq)
                    self.counters["flood_retries"] += 1
                    self._out.append(c.in_flight[seq])
        if self._held_until is not None and now >= self._held_until:
            self._held_until = None
            for seq in self._held:  # nothing went out to carry them: they go on their own
                self._queue_resend(seq, now)
            self._held.clear()
        if self._nudge is not None and now >= self._nudge.at:
            self._nudge_turn(now, table)
        return self._take()

    def next_deadline(self) -> float | None:
        """When tick() has something to do next; None when nothing waits."""
        times = [self._flush_at, self._held_until, self._nudge.at if self._nudge else None]
        times += [c.release_at for c in self.clients.values()]
        times += [c.retry_at for c in self.clients.values()]
        due = [t for t in times if t is not None]
        return min(due) if due else None

    def stats(self) -> dict[str, int]:
        return {**self.counters, "clients": len(self.clients), "broadcast_seq": self.bseq}

    # --- inbound -------------------------------------------------------------------------

    def _take(self) -> list[Output]:
        out, self._out = self._out, []
        return out

    def _frame(self, sender: int, part: bytes, now: float, table: Table) -> None:
        try:
            frame = frames.decode_frame(part)
        except ProtocolError:
            self.counters["garbled"] += 1
            return
        if frame.kind == frames.Kind.HELLO:
            self._hello(sender, frame, now, table)
            return
        client = self.clients.get(sender)
        if client is None or not self._verified(client, part):
            # Forged, or from before our key: dropped before it can touch any window.
            self.counters["bad_tag"] += 1
            return
        client.heard_at, client.unproven = now, 0
        if frame.kind == frames.Kind.INTENT:
            self._intent(client, frame, now)
        elif frame.kind == frames.Kind.RESYNC:
            self._resync(client, frame, now, table)

    def _verified(self, client: _Client, part: bytes) -> bool:
        if frames.verify(part, client.keys.key):
            return True
        if client.pending is None or not frames.verify(part, client.pending.key):
            return False
        # The client took the key of its new HELLO: it rebooted, and counts from 1 again.
        client.keys, client.pending = client.pending, None
        client.window.reset()
        client.acked_in.clear()
        client.answers.clear()
        client.next_seq, client.release_at = None, None
        client.waiting.clear()
        self.counters["new_sessions"] += 1
        return True

    def _hello(self, sender: int, frame: frames.Frame, now: float, table: Table) -> None:
        try:
            hello = frames.parse_hello(frame.payload)
        except ProtocolError:
            self.counters["garbled"] += 1
            return
        client = self.clients.get(sender)
        joined = table.eid_of(sender) is not None
        gap = client.welcome_gap() if client is not None else 0.0
        if client is not None and hello.nonce == client.keys.nonce:
            # A radio asking again for the key it already has (its WELCOME was lost): answering
            # only re-sends that key to that radio, so a replayed HELLO buys an attacker one
            # WELCOME per 16 s at most (strangers also spend the shared budget below). Doubling
            # further starved real players on lossy links: at 30% loss (dungeon sim --mode
            # binary --loss 0.3 --seed 8) play stopped converging.
            gap = min(gap, 2 * WELCOME_GAP_S)
        if client is not None and now - client.welcomed_at < gap:
            self.counters["hello_too_soon"] += 1
            return
        if not joined and not self._stranger_token(now):
            self.counters["hello_over_budget"] += 1
            return
        keys = _Keys(hello.nonce, frames.client_key(self.secret, sender, hello.nonce),
                     dm_frames=bool(frame.flags & frames.HELLO_DM_FRAMES))
        if client is None:
            client = self._admit(sender, keys, now, table)
        elif hello.nonce != client.keys.nonce:
            # Unauthenticated: the old key stays good until a frame signed with this one
            # arrives, so a HELLO forged in someone's name cannot lock them out.
            client.pending = keys
        if joined and not client.slot:
            client.slot = self._free_slot(client, now, table)
        client.welcomed_at = now
        client.unproven += 1
        self.counters["welcomes"] += 1
        welcome = frames.Welcome(tables_digest(), hello.nonce, keys.key, self.table_key,
                                 table.eid_of(sender) or 0)
        # The WELCOME carries the client's key, so it goes only as a direct message: the
        # firmware encrypts every DM it originates on an app port with the destination's
        # public key, or refuses to send it (firmware v2.7.26 src/mesh/Router.cpp,
        # perhapsEncode: "Use PKI!" / "refusing to send legacy DM").
        data = self._dm_frame(client, frames.Kind.WELCOME, frames.welcome_payload(welcome),
                              sign=False)
        if self.signed_up_to:
            # Under 2.8 it waits for the batch's quiet spell like every other answer: sent at
            # once, it met the table repeater's copy of the HELLO at the relay (measured with
            # the acks in broadcasts below, seeds 1-48: 4.65 -> 4.12 s per round). Under 2.7
            # it goes at once, as before (seeds 1-12: 2.90 s; 3.44 s held).
            self._batch.welcomes[client.num] = data
            self._schedule(now)
        else:
            self._out.append(Send(client.num, data, Urgency.REPLY, charged=False))

    def _stranger_token(self, now: float) -> bool:
        self._tokens = min(STRANGER_WELCOMES,
                           self._tokens + (now - self._tokens_at) / STRANGER_REFILL_S)
        self._tokens_at = now
        if self._tokens < 1.0:
            return False
        self._tokens -= 1.0
        return True

    def _admit(self, num: int, keys: _Keys, now: float, table: Table) -> _Client:
        client = _Client(num, keys, heard_at=now)
        self.clients[num] = client
        if len(self.clients) > MAX_CLIENTS:
            strangers = [c for c in self.clients.values()
                         if c is not client and table.eid_of(c.num) is None]
            if strangers:
                del self.clients[min(strangers, key=lambda c: c.heard_at).num]
        return client

    def _free_slot(self, client: _Client, now: float, table: Table) -> int:
        """A slot for a joined client: a free one, else one a departed or idle player held."""
        used = {c.slot for c in self.clients.values() if c.slot}
        free = [s for s in range(1, MAX_SLOTS + 1) if s not in used]
        if free:
            return free[0]
        gone = [c for c in self.clients.values() if c.slot and c is not client and (
            table.eid_of(c.num) is None or now - c.heard_at >= IDLE_S)]
        if not gone:
            return 0
        victim = min(gone, key=lambda c: c.heard_at)
        slot, victim.slot, victim.slot_told = victim.slot, 0, False
        self.counters["slots_evicted"] += 1
        return slot

    def _key(self, client: _Client, seq: int) -> str:
        return f"!{client.num:08x}:{client.keys.nonce.hex()}:{seq}"

    def _intent(self, client: _Client, frame: frames.Frame, now: float) -> None:
        seq = frame.sender_seq
        if not client.window.accept(seq):
            # Already applied (or too old): the client repeats because it missed our ack.
            self.counters["replays"] += 1
            if seq not in client.waiting:  # else its ack comes once it is applied
                self._answer_replay(client, seq, now)
            return
        if client.next_seq is not None and seq < client.next_seq:
            # Later intents went ahead when this one was overdue: applying it now would
            # reorder the player's commands, so it is answered and dropped.
            self.counters["late"] += 1
            self._reply(client, "too late: a later command went first", seq=seq, now=now)
            return
        if client.next_seq is not None and seq > client.next_seq:
            # An earlier intent was lost on the way and will be repeated: "attack" then "end"
            # must not become "end", then "attack" refused as out of turn.
            client.waiting[seq] = frame
            if client.release_at is None:
                client.release_at = now + IN_ORDER_WAIT_S
            return
        self._apply(client, frame, now)
        self._apply_waiting(client, now, due_only=True)

    def _apply_waiting(self, client: _Client, now: float, *, due_only: bool) -> None:
        """Release held intents in order: those now due, or all of them."""
        while client.waiting:
            seq = min(client.waiting)
            if due_only and seq != client.next_seq:
                return
            self._apply(client, client.waiting.pop(seq), now)
        client.release_at = None

    def _apply(self, client: _Client, frame: frames.Frame, now: float) -> None:
        client.next_seq = max(client.next_seq or 0, frame.sender_seq + 1)
        try:
            intent = codec.decode_intent(frame.payload)
        except ProtocolError as err:
            self.counters["garbled"] += 1
            self._reply(client, str(err), seq=frame.sender_seq, now=now)
            return
        self.counters["intents"] += 1
        item = Apply(client.num, frame.sender_seq, intent, self._key(client, frame.sender_seq))
        client.in_flight[frame.sender_seq] = item
        self._out.append(item)

    def _answer_replay(self, client: _Client, seq: int, now: float) -> None:
        """Ack a repeated intent: a small ACK frame to its sender, and the broadcast that
        acked it again (it carries the results) when that frame is kept."""
        answer = client.answers.get(seq)
        if answer is not None:
            # Answered privately and that answer was lost: it goes again (and acks the
            # repeat), once per batch, unless the repeat crossed it in the air.
            queued = any(num == client.num and s == seq for num, _, s in self._batch.errors)
            if not queued and now - answer[1] >= REPLAY_GRACE_S:
                self._batch.errors.append((client.num, answer[0], seq))
                self._schedule(now)
            return
        if client.num in self._batch.ack_for:
            return  # the open batch will carry the ack
        bseq = client.acked_in.get(seq)
        if bseq is not None and bseq in self.history:
            if now - self._sent_at[bseq] < REPLAY_GRACE_S:
                return  # the repeat crossed that frame in the air
            if bseq < self.bseq:
                # The game has moved on since (most often the player it named acted on it),
                # so little waits on it: it can ride with the next frame.
                self._hold([bseq], now)
            else:
                # Nothing since: probably lost at the relay for everyone, and the game waits.
                self._queue_resend(bseq, now)
        # The repeat says our ack did not arrive. Over two hops at 20% loss a packet gets
        # through about 64% of the time each way: a resend alone left a script's commands
        # unacked after every try about once in 25 runs, and a held one acked nothing for
        # 30 s. The ACK frame is a few bytes; it goes in the batch, and its header names our
        # newest broadcast, so a client that missed the results asks for them itself.
        if client.num not in self._batch.acks:
            self._batch.acks.append(client.num)
            self._schedule(now)

    def _reply(self, client: _Client, text: str, *, actor: int = 0, seq: int | None = None,
               now: float) -> None:
        """A private answer: an Info event for this client only, acking that one intent.

        Only that one: the client's other intents in flight may have been applied, and they
        are acked by the public frame that carries their events."""
        from protocol.render import fit
        from rules.events import Info

        payload = codec.encode_events([Info(actor, fit(text, REPLY_TEXT_MAX))])
        if seq is not None:
            client.answers[seq] = (payload, now)
            while len(client.answers) > ACKED_KEPT:
                client.answers.popitem(last=False)
        self._batch.errors.append((client.num, payload, seq))
        self._schedule(now)

    # --- outbound events -----------------------------------------------------------------

    def _schedule(self, now: float) -> None:
        """Flush once events stop coming for FLUSH_S (monster turns follow each other about
        half a second apart), but never hold the first of them longer than MAX_HOLD_S."""
        if self._flush_at is None:
            self._first_at = now
        self._flush_at = min(now + FLUSH_S, self._first_at + MAX_HOLD_S)

    def _flush(self, now: float, table: Table) -> None:
        """Broadcast everything gathered: as few EVENTS frames as fit, the digest last."""
        self._flush_at = None
        batch, self._batch = self._batch, _Batch()
        fresh, unacked = self._flush_events(batch, now, table)
        if fresh or batch.resends:
            batch.resends += [seq for seq in self._held if seq not in batch.resends]
            self._held.clear()
        again = [self.history[seq] for seq in batch.resends if self._resend_due(seq, now)]
        # Clients owed an ACK that the broadcast's flags do not carry (they name one client;
        # the rest of ack_for is in unacked), and clients whose repeat says an ack was lost...
        acks = [n for n in dict.fromkeys(unacked + [n for n in batch.acks
                                                    if n not in batch.ack_for])
                if n in self.clients]
        riders = []
        if (self.signed_up_to and (again or fresh)
                and all(c.keys.dm_frames for c in self.clients.values())):
            # ...under 2.8 ride in the broadcast, each under its client's own key: 8-12 B
            # where a DM costs a packet's preamble and headers. Measured, seeds 1-96: 4.97 ->
            # 4.68 s per round. Under 2.7 they stay DMs (seeds 1-12: 2.90 s; 3.25 s riding).
            # Private answers always stay DMs: only a DM is encrypted for its addressee.
            riders = [self._dm_frame(self.clients[n], frames.Kind.ACK, b"") for n in acks]
            self.counters["acks_riding"] += len(riders)
            acks = []
        for data, parts in frames.pack(again + fresh + riders, self.bseq):
            data = self._unsigned(data, parts, now)
            self.counters["bundles"] += len(parts) > 1
            urgent = any(p in again for p in parts)
            self._out.append(Send(BROADCAST, data, Urgency.REPLY if urgent else Urgency.RESULT))
        # A client's private answers and its ACK go in one packet: each costs its preamble
        # and headers, and the second would follow the first into the relay (half duplex).
        direct: dict[int, list[bytes]] = {}
        for num, seqs in batch.direct.items():
            if num in self.clients:
                direct[num] = [self.history[s] for s in seqs
                               if s in self.history and s not in batch.resends]
        for num, payload, seq in batch.errors:
            client = self.clients.get(num)
            if client is not None:
                if seq is not None and seq in client.answers:
                    client.answers[seq] = (payload, now)
                direct.setdefault(num, []).append(
                    self._dm_frame(client, frames.Kind.EVENTS, payload, ack_only=seq))
        for num in acks:
            direct.setdefault(num, []).append(self._dm_frame(self.clients[num], frames.Kind.ACK,
                                                             b""))
        for num, welcome in batch.welcomes.items():
            # the WELCOME leads and is not charged: a player cannot join on a spent budget
            self._out.append(Send(num, welcome, Urgency.REPLY, charged=False))
        for num, parts in direct.items():
            for data, _ in frames.pack(parts, self.bseq):
                self._out.append(Send(num, data, Urgency.REPLY))

    def _flush_events(self, batch: _Batch, now: float,
                      table: Table) -> tuple[list[bytes], list[int]]:
        """The new EVENTS frames for the batch, numbered and kept for RESYNC, and the clients
        owed an ack that their flags do not carry."""
        from rules.events import Digest, TurnStarted

        if not batch.events and not batch.ack_for:
            return [], []
        value = table.digest()
        digest = codec.encode_event(Digest(value)) if value is not None else b""
        room = PAYLOAD_ROOM - len(digest)
        chunks: list[bytes] = []
        cur = b""
        turn: tuple[int, int] | None = None  # (eid, chunk index) of the last TurnStarted
        for ev in batch.events:
            enc = codec.encode_event(ev)
            if len(enc) > room:
                continue  # cannot fit any frame; counted as garbled output
            if len(cur) + len(enc) > room:
                chunks.append(cur)
                cur = b""
            cur += enc
            if isinstance(ev, TurnStarted):
                turn = (ev.eid, len(chunks))
        chunks.append(cur + digest)
        owed = [self.clients[n] for n in dict.fromkeys(batch.ack_for) if n in self.clients]
        # The broadcast's four flag bits name one client whose ack it carries; that client
        # must know its slot. The rest get a small ACK frame each (see _flush).
        carried = next((c for c in owed if c.slot and c.slot_told), None)
        out = [self._number(chunk, carried if i == len(chunks) - 1 else None, now)
               for i, chunk in enumerate(chunks)]
        if turn is not None:
            self._watch_turn(turn[0], self.bseq - len(chunks) + 1 + turn[1], now, table)
        return out, [c.num for c in owed if c is not carried]

    def _unsigned(self, data: bytes, parts: list[bytes], now: float) -> bytes:
        """A broadcast the radio would sign, grown just past the signed size where that
        costs fewer bytes than the signature: with the latest earlier frames it has room for
        (a client that missed one has it again without asking), then filler."""
        target = self.signed_up_to + 1
        if len(data) >= target or \
                self._broadcast_bytes(len(data)) == len(data) + SIGNATURE_BYTES:
            return data  # not signed, or the signature is the cheaper of the two
        longer = list(parts)
        carried: list[int] = []
        for seq in [s for s in reversed(self.history) if s > self.bseq - CARRY_BACK - len(parts)]:
            frame = self.history[seq]
            if frame in parts:
                continue
            grown = frames.bundle([frame, *longer], self.bseq)
            if grown is None or len(grown) >= target:
                break  # past the signed size: the filler costs fewer bytes than this frame
            longer.insert(0, frame)
            carried.append(seq)
        padded = frames.pad(longer, self.bseq, target, self.table_key)
        if padded is None:
            return data
        for seq in carried:  # a request for it sent before this arrives needs no resend
            self._resent_at[seq] = now
        self.counters["carried"] += len(carried)
        return padded

    def _watch_turn(self, eid: int, bseq: int, now: float, table: Table) -> None:
        """A binary player whose turn began in frame bseq and who stays silent may have missed
        that frame alone; nobody else can tell it (the others got it), so resend it."""
        owner = table.owner(eid)
        self._nudge = None
        if owner is not None and owner in self.clients:
            self._nudge = _Nudge(owner, eid, bseq, 1, now + NUDGE_S)
            self.clients[owner].turn_at = now

    def _nudge_turn(self, now: float, table: Table) -> None:
        nudge, self._nudge = self._nudge, None
        assert nudge is not None
        if table.current_turn() != nudge.eid:
            return
        self.counters["nudges"] += 1
        owner = self.clients.get(nudge.client)
        if owner is not None and self._direct_cheaper(owner, nudge.bseq):
            self._batch.direct.setdefault(owner.num, []).append(nudge.bseq)
            self.counters["resent_direct"] += 1
            self._schedule(now)
        else:
            self._queue_resend(nudge.bseq, now)
        if nudge.tries < NUDGES:
            self._nudge = _Nudge(nudge.client, nudge.eid, nudge.bseq, nudge.tries + 1,
                                 now + NUDGE_S)

    def _number(self, payload: bytes, owed: _Client | None, now: float) -> bytes:
        self.bseq += 1
        ack, sack = owed.window.ack_state() if owed is not None else (None, 0)
        if owed is not None:
            for seq in frames.acked(ack, sack):
                owed.acked_in[seq] = self.bseq
            while len(owed.acked_in) > ACKED_KEPT:
                owed.acked_in.popitem(last=False)
        frame = frames.Frame(kind=frames.Kind.EVENTS, sender_seq=self.bseq, ack=ack,
                             sack_bitmap=sack, flags=owed.slot if owed else 0, payload=payload)
        data = frames.encode_frame(frame, self.table_key)
        self.history[self.bseq] = data
        self._sent_at[self.bseq] = now
        while len(self.history) > HISTORY:
            old, _ = self.history.popitem(last=False)
            self._sent_at.pop(old, None)
            self._resent_at.pop(old, None)
        self.counters["events_frames"] += 1
        return data

    def _dm_frame(self, client: _Client, kind: frames.Kind, payload: bytes, *,
                  ack_only: int | None = None, sign: bool = True) -> bytes:
        """A frame for one client, signed with its key; its flags tell it its slot."""
        ack, sack = client.window.ack_state() if ack_only is None else (ack_only, 0)
        frame = frames.Frame(kind=kind, sender_seq=self.bseq, ack=ack, sack_bitmap=sack,
                             flags=client.slot, payload=payload)
        if kind == frames.Kind.ACK:
            self.counters["ack_frames"] += 1
        client.slot_told = True
        return frames.encode_frame(frame, client.keys.key if sign else None)

    # --- resync --------------------------------------------------------------------------

    def _resync(self, client: _Client, frame: frames.Frame, now: float, table: Table) -> None:
        self.counters["resyncs"] += 1
        if table.eid_of(client.num) is None:
            # A radio that never joined gets no game state, not even frames it "missed".
            self.counters["refused"] += 1
            return
        try:
            base, missing = frames.decode_rerequest(frame.payload)
        except ProtocolError:
            self.counters["garbled"] += 1
            return
        if frame.flags & frames.RESYNC_FRAGMENTS:
            self._fragments_again(client, base, missing, now, table)
            return
        wanted = [base + i for i in missing] or [base]
        if base == SNAPSHOT_MSG or any(seq not in self.history for seq in wanted):
            self._snapshot(client, now, table)
            return
        self._hold(wanted, now)

    def _hold(self, seqs: list[int], now: float) -> None:
        for seq in seqs:
            if now - self._resent_at.get(seq, -1e9) >= RESEND_HOLDOFF_S:
                self._held.setdefault(seq)
        if self._held_until is None:
            self._held_until = now + RESEND_HOLD_S

    def _queue_resend(self, seq: int, now: float) -> None:
        recent = now - self._resent_at.get(seq, -1e9)
        if seq not in self._batch.resends and recent >= RESEND_HOLDOFF_S:
            self._batch.resends.append(seq)
            self._schedule(now)

    def _direct_cheaper(self, client: _Client, seq: int) -> bool:
        """Does kept broadcast frame seq cost fewer bytes on air in a DM to client than
        broadcast (see PKI_BYTES)?"""
        data = self.history.get(seq)
        if data is None or not self.signed_up_to or not client.keys.dm_frames:
            return False
        return len(data) + PKI_BYTES < self._broadcast_bytes(len(data))

    def _broadcast_bytes(self, n: int) -> int:
        """Bytes on air for a broadcast of n bytes (headers aside): as it is past the signed
        size, else the cheaper of its signature and growing just past that size (_unsigned)."""
        if not self.signed_up_to or n > self.signed_up_to:
            return n
        return min(n + SIGNATURE_BYTES, self.signed_up_to + 1)

    def _resend_due(self, seq: int, now: float) -> bool:
        """True (and noted) unless a resend of this kept frame is already on its way."""
        if seq not in self.history or now - self._resent_at.get(seq, -1e9) < RESEND_HOLDOFF_S:
            return False  # asked for twice in one batch, say
        self._resent_at[seq] = self._sent_at[seq] = now
        self.counters["resent"] += 1
        return True

    def _snapshot(self, client: _Client, now: float, table: Table) -> None:
        """The whole game state, compressed, in numbered fragments (the last names bseq)."""
        if now - client.snapshot_at < SNAPSHOT_GAP_S:
            self.counters["refused"] += 1
            return
        canonical = table.canonical()
        if canonical is None:
            return
        client.snapshot_at = now
        self.counters["snapshots"] += 1
        self._snap_id = (self._snap_id % 0xFFFF) + 1
        blob = frames.snapshot_blob(self.bseq, canonical)
        parts = [frames.encode_fragment(f)
                 for f in frames.Fragmenter(SNAPSHOT_CHUNK).split(self._snap_id, blob)]
        self._snapshots[self._snap_id] = (client.num, parts)
        while len(self._snapshots) > SNAPSHOTS_KEPT:
            self._snapshots.popitem(last=False)
        for part in parts:
            self._fragment(client, part)

    def _fragments_again(self, client: _Client, msg_id: int, missing: list[int], now: float,
                         table: Table) -> None:
        """The fragments a client lacks of a snapshot we sent it; a whole new one when that
        snapshot is no longer kept."""
        kept = self._snapshots.get(msg_id)
        if kept is None or kept[0] != client.num:
            self._snapshot(client, now, table)
            return
        if now - client.fragments_at < FRAGMENTS_GAP_S:
            self.counters["refused"] += 1
            return
        client.fragments_at = now
        parts = kept[1]
        for index in missing or range(len(parts)):
            if index < len(parts):
                self.counters["fragments_resent"] += 1
                self._fragment(client, parts[index])

    def _fragment(self, client: _Client, part: bytes) -> None:
        frame = frames.Frame(kind=frames.Kind.SNAPSHOT, sender_seq=self.bseq, flags=client.slot,
                             payload=part)
        self._out.append(Send(client.num, frames.encode_frame(frame, client.keys.key),
                              Urgency.CHATTER))

