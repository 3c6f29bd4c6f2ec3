"""Splitting a large message into numbered fragments and putting it back together.

No clock here: callers pass `now` (seconds, any monotonic origin) so the simulator can
run in virtual time. Fragment payload: varint msg_id | varint index | varint count | chunk.
Re-request payload (RESYNC frame): varint msg_id | varint missing bitmap (0: send all).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from protocol.codec import Reader, put_varint
from protocol.errors import ProtocolError

MAX_FRAGMENTS = 64  # the missing bitmap is a 64-bit varint
MAX_MESSAGE = 64 * 1024


@dataclass(frozen=True, slots=True)
class Fragment:
    msg_id: int
    index: int
    count: int
    chunk: bytes


def encode_fragment(f: Fragment) -> bytes:
    out = bytearray()
    put_varint(out, f.msg_id)
    put_varint(out, f.index)
    put_varint(out, f.count)
    return bytes(out) + f.chunk


def decode_fragment(payload: bytes) -> Fragment:
    r = Reader(payload)
    msg_id, index, count = r.varint(), r.varint(), r.varint()
    if not 0 < count <= MAX_FRAGMENTS or index >= count:
        raise ProtocolError("bad fragment number")
    if msg_id > 0xFFFFFFFF:
        raise ProtocolError("bad fragment message id")
    return Fragment(msg_id, index, count, r.take(r.remaining()))


def encode_rerequest(msg_id: int, missing: list[int]) -> bytes:
    bitmap = 0
    for i in missing:
        bitmap |= 1 << i
    out = bytearray()
    put_varint(out, msg_id)
    put_varint(out, bitmap)
    return bytes(out)


def decode_rerequest(payload: bytes) -> tuple[int, list[int]]:
    """(msg_id, missing indexes); an empty list asks for the whole message."""
    r = Reader(payload)
    msg_id, bitmap = r.varint(), r.varint()
    if r.remaining() or bitmap >> MAX_FRAGMENTS:
        raise ProtocolError("bad re-request")
    return msg_id, [i for i in range(MAX_FRAGMENTS) if bitmap >> i & 1]


class Fragmenter:
    """Cuts messages into fragments whose payloads fit `chunk` bytes each."""

    def __init__(self, chunk: int = 180) -> None:
        if chunk < 1:
            raise ValueError("chunk must be positive")
        self.chunk = chunk

    def split(self, msg_id: int, data: bytes) -> list[Fragment]:
        count = max(1, -(-len(data) // self.chunk))
        if count > MAX_FRAGMENTS:
            raise ProtocolError(f"message needs {count} fragments; at most {MAX_FRAGMENTS}")
        return [
            Fragment(msg_id, i, count, data[i * self.chunk:(i + 1) * self.chunk])
            for i in range(count)
        ]


@dataclass(slots=True)
class _Partial:
    count: int
    first_seen: float
    last_seen: float
    last_request: float
    parts: dict[int, bytes] = field(default_factory=dict)


class Reassembler:
    """Collects fragments; gives up after `timeout` s; asks again for gaps after `retry` s idle."""

    def __init__(self, timeout: float = 120.0, retry: float = 10.0, max_pending: int = 8) -> None:
        self.timeout = timeout
        self.retry = retry
        self.max_pending = max_pending
        self._pending: dict[int, _Partial] = {}

    def add(self, frag: Fragment, now: float) -> bytes | None:
        """The whole message once its last fragment arrives, else None."""
        p = self._pending.get(frag.msg_id)
        if p is None or p.count != frag.count:
            if len(self._pending) >= self.max_pending:
                oldest = min(self._pending, key=lambda k: self._pending[k].last_seen)
                del self._pending[oldest]
            p = _Partial(frag.count, now, now, now)
            self._pending[frag.msg_id] = p
        p.parts[frag.index] = frag.chunk
        p.last_seen = now
        if len(p.parts) < p.count:
            return None
        del self._pending[frag.msg_id]
        data = b"".join(p.parts[i] for i in range(p.count))
        if len(data) > MAX_MESSAGE:
            raise ProtocolError("reassembled message too large")
        return data

    def missing(self, msg_id: int) -> list[int]:
        p = self._pending.get(msg_id)
        return [] if p is None else [i for i in range(p.count) if i not in p.parts]

    def expire(self, now: float) -> list[int]:
        """Drop messages that have waited longer than the timeout; returns their ids."""
        gone = [m for m, p in self._pending.items() if now - p.first_seen > self.timeout]
        for m in gone:
            del self._pending[m]
        return gone

    def rerequests(self, now: float) -> list[tuple[int, list[int]]]:
        """(msg_id, missing indexes) for each message idle for `retry` s since we last asked."""
        out = []
        for m, p in self._pending.items():
            if now - max(p.last_seen, p.last_request) >= self.retry:
                p.last_request = now
                out.append((m, self.missing(m)))
        return out

    def __len__(self) -> int:
        return len(self._pending)
