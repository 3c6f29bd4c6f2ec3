"""A binary client's view of the node's numbered broadcasts: what it missed, and the RESYNC
that asks for it. Sans-I/O, shared by the player client and the simulator's bots."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol import frames

FAR_BEHIND = 16  # more gaps than this and one snapshot costs less airtime than the frames
MAX_OFFSET = 64  # a re-request names gaps at most this far past its base
FIRST_WAIT_S = 4.0  # a missing frame may just be late
# A frame lost at the relay is lost for every client at once, and the node answers the first
# request with one broadcast for all. Clients take turns by slot to ask, so that answer reaches
# the others before they would ask, and no request keys up over it at the relay (the node
# cannot hear the players to wait for them).
TURN_S = 10.0
TURNS = 4
JITTER_S = 1.0
# Then ask again after this, doubling. The node holds a requested frame up to
# session.node.RESEND_HOLD_S (30 s) so that it rides in its next broadcast, and the answer
# takes a relay hop or two more: asked again sooner, a request only repeats one the node is
# still holding, and each RESYNC that meets one of the node's packets at the relay (the node
# cannot hear the players: a hidden terminal) loses it for the whole table. Under firmware 2.8
# at 10 s, 313 of 500 RESYNCs were repeats and RESYNCs cost 68 of the node's broadcasts at the
# relay (seeds 1-12). Measured, `dungeon sim --mode binary --firmware 2.8` (4 players, 2 hops,
# 10% loss), means over seeds 1-240 with the first WELCOME held (node.channels.binary): 10 s
# gave 4.43 s of node airtime per round and binary latency p50 / p95 11.3 / 53.2 s; 40 s
# 4.26 s and 11.0 / 49.1 s (seeds 1-12: 4.17 -> 5.00 s, 13-24: 4.73 -> 4.26 s; a 12-seed
# mean moves by about 0.35 s on chance alone).
BACKOFF_S = 40.0
MAX_BACKOFF_S = 80.0
# A request rides in the client's next packet of intents, for a few bytes where a packet of
# its own costs its preamble and headers, and is one more transmission the node cannot hear
# to avoid (a hidden terminal at the relay). Missed frames seldom hold the game up (the
# client learns of one only from a later frame, so the game went on), so one with no packet
# to ride in waits this much longer than the turn it would have asked in. Measured, `dungeon
# sim --mode binary` (4 players, 2 hops, 10% loss), seeds 1-240, node airtime per round:
# firmware 2.8 4.26 -> 3.98 s (latency p95 49.1 -> 47.5 s, 41 -> 43 rounds in 30 minutes);
# with BACKOFF_S above, 2.7 3.35 -> 3.16 s. Seeds 1-12 / 13-24: 2.8 5.00 / 4.26 -> 4.42 /
# 3.80 s; 2.7 (with BACKOFF_S, against 10 s) 3.01 / 3.22 -> 2.75 / 3.29 s.
ALONE_AFTER_S = 30.0
# An intent's ack rides in the broadcast with its events; a client that missed that frame
# gets it back through RESYNC (wait_s above), so it repeats an intent only after this long.
INTENT_RETRY_S = 16.0


def wait_s(attempt: int, slot: int | None, draw: float) -> float:
    """How long to wait before request number `attempt` (0 first) from the client in `slot`;
    draw is uniform in [0, 1)."""
    if attempt == 0:
        turn = ((slot or 1) - 1) % TURNS
        return FIRST_WAIT_S + TURN_S * turn + JITTER_S * draw
    return min(BACKOFF_S * 2 ** (attempt - 1), MAX_BACKOFF_S) * (1.0 + 0.5 * draw)


@dataclass
class BroadcastGaps:
    floor: int = 0  # everything up to here is covered (joined after it, or a snapshot)
    latest: int = 0  # the newest broadcast seq the client knows exists
    received: set[int] = field(default_factory=set)

    def saw(self, seq: int) -> None:
        """A frame named this seq (an ack or a header): broadcasts up to it exist."""
        self.latest = max(self.latest, seq)

    def add(self, seq: int) -> bool:
        """Record a broadcast that arrived; False when it had already arrived."""
        new = seq not in self.received
        self.received.add(seq)
        self.saw(seq)
        return new

    def start_at(self, seq: int) -> None:
        """A newcomer's first welcome: history before it is not the client's to fetch."""
        if not self.received:
            self.floor = seq

    def cover(self, seq: int) -> None:
        """A snapshot brought the state up to seq."""
        self.floor = max(self.floor, seq)
        self.saw(seq)

    def missing(self) -> list[int]:
        return [s for s in range(self.floor + 1, self.latest + 1) if s not in self.received]

    def request(self) -> tuple[bytes, bool] | None:
        """The RESYNC payload for what is missing and whether it asks for a whole snapshot;
        None when nothing is missing."""
        gaps = self.missing()
        if not gaps:
            return None
        if len(gaps) > FAR_BEHIND:
            return frames.encode_rerequest(0, []), True
        base = gaps[0]
        return frames.encode_rerequest(base, [s - base for s in gaps if s - base < MAX_OFFSET]), False
