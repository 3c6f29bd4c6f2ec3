"""Versioned radio frames: header, sequence/ack/selective-ack, optional truncated HMAC tag.

Frame layout (SPEC.md has vectors):
  byte 0   version (high nibble) | kind (low nibble)
  byte 1   app flags (high nibble) | has_tag 0x04 | has_sack 0x02 | has_ack 0x01
  varint   sender_seq
  varint   ack           (if has_ack)
  varint   sack_bitmap   (if has_sack; bit i set = ack-1-i also received)
  ...      payload
  4 bytes  tag           (if has_tag): HMAC-SHA256(key, everything before it)[:4]

Keys: each client has its own (client_key, given to it alone in the WELCOME, a PKI direct
message); the node's broadcasts carry a tag under the table key, which only the node uses
to sign. SPEC.md says why this is enough.
"""

from __future__ import annotations

import hashlib
import hmac
import zlib
from dataclasses import dataclass
from enum import IntEnum

from protocol.codec import Reader, put_varint
from protocol.errors import ProtocolError

VERSION = 1
MAX_FRAME = 200
TAG_LEN = 4
KEY_LEN = 16
NONCE_LEN = 4
_HAS_ACK, _HAS_SACK, _HAS_TAG, _RESERVED = 0x01, 0x02, 0x04, 0x08
MAX_SEQ = (1 << 32) - 1
RESYNC_FRAGMENTS = 0x1  # RESYNC flag: the payload names a snapshot and its missing fragments
# HELLO flag: this client reads what a node under firmware 2.8 mixes into one packet (SPEC.md):
# a broadcast frame (table key) in a DM to it alone, read as if broadcast, and an ACK under its
# own key inside a broadcast. Clients without it would count either as a bad tag.
HELLO_DM_FRAMES = 0x1
SACK_BITS = 32


class Kind(IntEnum):
    INTENT = 0
    EVENTS = 1
    HELLO = 2
    WELCOME = 3
    ACK = 4
    RESYNC = 5  # request: resend what I miss (a snapshot, or fragments of one)
    SNAPSHOT = 6  # one fragment of a snapshot
    DIGEST = 7  # 4-byte state digest for divergence detection
    BUNDLE = 8  # whole frames in one packet: a resend rides with the next frame for free


@dataclass(frozen=True, slots=True)
class Frame:
    version: int = VERSION
    kind: Kind | int = Kind.INTENT
    sender_seq: int = 0
    ack: int | None = None
    sack_bitmap: int = 0
    flags: int = 0  # 4 application bits, carried as-is
    payload: bytes = b""
    tag: bytes = b""  # filled in by encode_frame when a key is given


_KINDS = frozenset(int(k) for k in Kind)


def _tag(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()[:TAG_LEN]


def client_key(secret: bytes, client: int, nonce: bytes) -> bytes:
    """The key one client signs its frames with: the node's secret, the client's node number
    and the nonce of its HELLO (a rebooted client draws a new nonce, so gets a new key)."""
    if len(nonce) != NONCE_LEN or not 0 <= client <= 0xFFFFFFFF:
        raise ProtocolError("bad client key inputs")
    info = b"dd-client-key" + client.to_bytes(4, "big") + nonce
    return hmac.new(secret, info, hashlib.sha256).digest()[:KEY_LEN]


def table_key(secret: bytes) -> bytes:
    """The key the node signs its broadcasts with; clients only verify with it."""
    return hmac.new(secret, b"dd-table-key", hashlib.sha256).digest()[:KEY_LEN]


def verify(data: bytes, key: bytes) -> bool:
    """True when the encoded frame carries a tag that matches under key."""
    if len(data) < 3 + TAG_LEN or not data[1] & _HAS_TAG:
        return False
    return hmac.compare_digest(data[-TAG_LEN:], _tag(key, bytes(data[:-TAG_LEN])))


def encode_frame(frame: Frame, key: bytes | None = None) -> bytes:
    """The frame's bytes, tagged when a key is given; ProtocolError if it does not fit."""
    if frame.version != VERSION:
        raise ProtocolError(f"cannot send protocol version {frame.version}")
    if int(frame.kind) not in _KINDS or not 0 <= frame.flags <= 15:
        raise ProtocolError("unknown frame kind, or flags wider than 4 bits")
    if not 0 <= frame.sender_seq <= MAX_SEQ or (frame.ack is not None and not 0 <= frame.ack <= MAX_SEQ):
        raise ProtocolError("sequence number out of range")
    if not 0 <= frame.sack_bitmap < (1 << SACK_BITS):
        raise ProtocolError("selective-ack bitmap out of range")
    if frame.sack_bitmap and frame.ack is None:
        raise ProtocolError("a selective ack needs an ack")
    bits = (frame.flags << 4) | (_HAS_ACK if frame.ack is not None else 0)
    bits |= (_HAS_SACK if frame.sack_bitmap else 0) | (_HAS_TAG if key is not None else 0)
    out = bytearray((VERSION << 4 | int(frame.kind), bits))
    put_varint(out, frame.sender_seq)
    if frame.ack is not None:
        put_varint(out, frame.ack)
    if frame.sack_bitmap:
        put_varint(out, frame.sack_bitmap)
    out += frame.payload
    if key is not None:
        out += _tag(key, bytes(out))
    if len(out) > MAX_FRAME:
        raise ProtocolError(f"frame is {len(out)} bytes; at most {MAX_FRAME} fit a packet")
    return bytes(out)


def decode_frame(data: bytes, key: bytes | None = None) -> Frame:
    """The frame in the bytes; with a key, its tag must verify. Only ProtocolError escapes."""
    if len(data) > MAX_FRAME:
        raise ProtocolError(f"frame is {len(data)} bytes; at most {MAX_FRAME} fit a packet")
    if len(data) < 3:
        raise ProtocolError("frame too short")
    version, kind = data[0] >> 4, data[0] & 0x0F
    if version != VERSION:
        raise ProtocolError(f"unknown protocol version {version}; this node speaks {VERSION}")
    try:
        kind = Kind(kind)
    except ValueError:
        raise ProtocolError(f"unknown frame kind {kind}") from None
    bits = data[1]
    if bits & _RESERVED:
        raise ProtocolError("reserved frame bit set")
    body_end = len(data)
    tag = b""
    if bits & _HAS_TAG:
        if len(data) < 3 + TAG_LEN:
            raise ProtocolError("frame too short for its tag")
        body_end -= TAG_LEN
        tag = bytes(data[body_end:])
    if key is not None:
        if not tag:
            raise ProtocolError("frame is not signed")
        if not hmac.compare_digest(tag, _tag(key, bytes(data[:body_end]))):
            raise ProtocolError("frame signature does not match")
    r = Reader(bytes(data[:body_end]))
    r.pos = 2
    seq = r.varint()
    ack = r.varint() if bits & _HAS_ACK else None
    sack = r.varint() if bits & _HAS_SACK else 0
    if seq > MAX_SEQ or (ack is not None and ack > MAX_SEQ) or sack >= (1 << SACK_BITS):
        raise ProtocolError("sequence number out of range")
    if bits & _HAS_SACK and (not sack or ack is None):
        raise ProtocolError("bad selective ack")
    payload = r.take(r.remaining())
    return Frame(VERSION, kind, seq, ack, sack, bits >> 4, payload, tag)


def state_digest(canonical: bytes) -> int:
    """A 32-bit digest of a canonical state encoding, for divergence checks."""
    return int.from_bytes(hashlib.blake2b(canonical, digest_size=4).digest(), "big")


def snapshot_blob(covers: int, canonical: bytes) -> bytes:
    """What a SNAPSHOT's fragments carry: the broadcast seq the state covers (4 bytes, big
    endian), then the canonical state, deflated."""
    return covers.to_bytes(4, "big") + zlib.compress(canonical, 9)


def parse_snapshot_blob(blob: bytes) -> tuple[int, bytes]:
    """(covers, canonical state) from a reassembled snapshot, or ProtocolError."""
    if len(blob) < 4:
        raise ProtocolError("snapshot too short")
    try:
        canonical = zlib.decompress(blob[4:])
    except zlib.error as err:
        raise ProtocolError(f"snapshot does not inflate: {err}") from None
    return int.from_bytes(blob[:4], "big"), canonical


def digest_payload(value: int) -> bytes:
    if not 0 <= value <= 0xFFFFFFFF:
        raise ProtocolError("digest must be 32 bits")
    return value.to_bytes(4, "big")


def parse_digest_payload(payload: bytes) -> int:
    if len(payload) != 4:
        raise ProtocolError("digest payload must be 4 bytes")
    return int.from_bytes(payload, "big")


def hello_payload(name: str, nonce: bytes) -> bytes:
    """HELLO: the sender's code-table digest, its session nonce, then the player's name."""
    from protocol.tables import digest

    if len(nonce) != NONCE_LEN:
        raise ProtocolError(f"a hello nonce is {NONCE_LEN} bytes")
    return digest() + nonce + name.encode("utf-8")


@dataclass(frozen=True, slots=True)
class Hello:
    table: bytes
    nonce: bytes
    name: str


def parse_hello(payload: bytes) -> Hello:
    """The table digest, nonce and name from a HELLO payload."""
    if len(payload) < 4 + NONCE_LEN:
        raise ProtocolError("hello too short")
    try:
        name = payload[4 + NONCE_LEN:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolError("hello name is not UTF-8") from None
    return Hello(payload[:4], payload[4:4 + NONCE_LEN], name)


@dataclass(frozen=True, slots=True)
class Welcome:
    table: bytes  # the node's code-table digest
    nonce: bytes  # echoes the HELLO it answers
    key: bytes  # the client's own frame key
    table_key: bytes  # verifies the node's broadcasts
    eid: int  # the player's character, 0 when it has none yet


def welcome_payload(w: Welcome) -> bytes:
    """WELCOME: table digest, the HELLO's nonce, the client key, the table key, then the
    zigzag entity id. It carries keys, so it only ever travels as a PKI direct message."""
    from protocol.codec import zigzag

    if len(w.nonce) != NONCE_LEN or len(w.key) != KEY_LEN or len(w.table_key) != KEY_LEN:
        raise ProtocolError("bad welcome fields")
    out = bytearray(w.table + w.nonce + w.key + w.table_key)
    put_varint(out, zigzag(w.eid))
    return bytes(out)


def parse_welcome(payload: bytes) -> Welcome:
    """The fields of a WELCOME payload, or ProtocolError."""
    from protocol.codec import unzigzag

    r = Reader(payload)
    table, nonce = r.take(4), r.take(NONCE_LEN)
    key, tkey = r.take(KEY_LEN), r.take(KEY_LEN)
    eid = unzigzag(r.varint())
    if r.remaining():
        raise ProtocolError("extra bytes after welcome")
    return Welcome(table, nonce, key, tkey, eid)


class SeqWindow:
    """Accepts each sequence number once; rejects replays and anything older than the window."""

    def __init__(self, size: int = SACK_BITS) -> None:
        self.size = size
        self.highest: int | None = None
        self._seen = 0  # bit i: highest - i was received

    def reset(self) -> None:
        """Forget everything: for a HELLO, after which a rebooted sender starts again at 0."""
        self.highest, self._seen = None, 0

    def accept(self, seq: int) -> bool:
        """True the first time seq is seen inside the window; False for replays and stale seqs."""
        if not 0 <= seq <= MAX_SEQ:
            return False
        if self.highest is None:
            self.highest, self._seen = seq, 1
            return True
        if seq > self.highest:
            shift = seq - self.highest
            self._seen = ((self._seen << shift) | 1) & ((1 << self.size) - 1) if shift < self.size else 1
            self.highest = seq
            return True
        back = self.highest - seq
        if back >= self.size or self._seen >> back & 1:
            return False
        self._seen |= 1 << back
        return True

    def ack_state(self) -> tuple[int | None, int]:
        """(ack, sack_bitmap) to put in an outgoing frame: the highest seq and the ones before it."""
        if self.highest is None:
            return None, 0
        return self.highest, (self._seen >> 1) & ((1 << SACK_BITS) - 1)


def bundle_payload(parts: list[bytes]) -> bytes:
    """A BUNDLE payload: each encoded frame after its varint length."""
    out = bytearray()
    for part in parts:
        put_varint(out, len(part))
        out += part
    return bytes(out)


def parse_bundle(payload: bytes) -> list[bytes]:
    """The encoded frames in a BUNDLE payload; a bundle inside a bundle is refused."""
    r = Reader(payload)
    parts = []
    while r.remaining():
        part = r.take(r.varint())
        if len(part) < 3 or part[0] & 0x0F == Kind.BUNDLE:
            raise ProtocolError("bad frame in a bundle")
        parts.append(part)
    return parts


def pack(parts: list[bytes], seq: int) -> list[tuple[bytes, list[bytes]]]:
    """Encoded frames in as few packets as they fit, in order: a frame alone, or several in
    a BUNDLE whose header carries `seq`. Each packet costs its preamble and headers (about
    0.45 s on LONG_FAST) whatever it carries. A bundle has no tag of its own: each frame in
    it carries its own. Returns (packet, the frames in it) pairs."""
    groups: list[list[bytes]] = []
    for part in parts:
        if groups and bundle(groups[-1] + [part], seq) is not None:
            groups[-1].append(part)
        else:
            groups.append([part])
    out = []
    for group in groups:
        data = group[0] if len(group) == 1 else bundle(group, seq)
        assert data is not None  # a group only grows while its bundle fits
        out.append((data, group))
    return out


def bundle(parts: list[bytes], seq: int) -> bytes | None:
    """One BUNDLE packet of the encoded frames, its header carrying `seq`; None when they do
    not fit one packet."""
    try:
        return encode_frame(Frame(kind=Kind.BUNDLE, sender_seq=seq,
                                  payload=bundle_payload(parts)))
    except ProtocolError:
        return None  # over MAX_FRAME


def pad(parts: list[bytes], seq: int, size: int, key: bytes) -> bytes | None:
    """A BUNDLE of the frames grown to at least `size` bytes by a last filler frame: an ACK
    under `key` whose payload is zeros. A receiver reads nothing in a broadcast but EVENTS
    frames, so the filler only makes the packet longer (firmware 2.8 signs short broadcasts,
    at a cost greater than the few bytes that make one long enough not to be). None when
    the result would not fit one packet."""
    base = bundle(parts, seq)
    if base is None:
        return None
    if len(base) >= size:
        return base
    empty = len(encode_frame(Frame(kind=Kind.ACK, sender_seq=seq), key))
    short = size - len(base) - empty - 1  # the filler's zeros; 1: its length prefix
    for zeros in (max(0, short), max(0, short - 1)):  # the prefix takes 2 bytes past 127
        filler = encode_frame(Frame(kind=Kind.ACK, sender_seq=seq, payload=bytes(zeros)), key)
        out = bundle(parts + [filler], seq)
        if out is not None and len(out) >= size:
            return out
    return None


def split(data: bytes) -> list[bytes]:
    """The encoded frames one packet carries, in order: itself, or a BUNDLE's (each still to
    be decoded and verified); [] when the packet is garbled."""
    if len(data) < 3 or data[0] & 0x0F != Kind.BUNDLE:
        return [data]
    try:
        outer = decode_frame(data)
    except ProtocolError:
        return []
    return unbundle(outer.payload)


def received(data: bytes, key: bytes | None = None) -> list[Frame]:
    """The frames one packet carries, in order, each verified under key when one is given;
    garbled or badly tagged frames are skipped."""
    return decode_parts(split(data), key)[0]


def decode_parts(parts: list[bytes], key: bytes | None = None) -> tuple[list[Frame], int]:
    """A packet's encoded frames decoded, in order, and how many were garbled (skipped)."""
    out = []
    for part in parts:
        try:
            out.append(decode_frame(part, key))
        except ProtocolError:
            continue
    return out, len(parts) - len(out)


def unbundle(payload: bytes) -> list[bytes]:
    """parse_bundle for a receiver: a malformed bundle yields nothing."""
    try:
        return parse_bundle(payload)
    except ProtocolError:
        return []


def acked(ack: int | None, sack_bitmap: int) -> set[int]:
    """Every sequence number a received (ack, sack_bitmap) confirms."""
    if ack is None:
        return set()
    out = {ack}
    for i in range(SACK_BITS):
        if sack_bitmap >> i & 1 and ack - 1 - i >= 0:
            out.add(ack - 1 - i)
    return out


# Fragmenting lives in its own module; re-exported so callers need only protocol.frames.
from protocol.fragments import (  # noqa: E402
    Fragment,
    Fragmenter,
    Reassembler,
    decode_fragment,
    decode_rerequest,
    encode_fragment,
    encode_rerequest,
)

__all__ = [
    "VERSION", "MAX_FRAME", "Kind", "Frame", "encode_frame", "decode_frame", "client_key",
    "table_key", "verify", "split", "received", "pack", "bundle", "pad", "Hello", "Welcome",
    "state_digest", "digest_payload", "parse_digest_payload", "SeqWindow", "acked",
    "bundle_payload", "parse_bundle", "unbundle", "decode_parts",
    "hello_payload", "parse_hello", "welcome_payload", "parse_welcome",
    "Fragment", "Fragmenter", "Reassembler", "encode_fragment", "decode_fragment",
    "encode_rerequest", "decode_rerequest",
]
