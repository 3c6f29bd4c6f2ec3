"""A binary client's view of the node's numbered broadcasts: what it missed, and the RESYNC
that asks for it. Sans-I/O, shared by the player client and the simulator's bots."""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol import frames

FAR_BEHIND = 16  # more gaps than this and one snapshot costs less airtime than the frames
MAX_OFFSET = 64  # a re-request names gaps at most this far past its base


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
