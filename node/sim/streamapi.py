"""Meshtastic stream-API framing (0x94 0xC3 len_hi len_lo protobuf), sans I/O."""

from __future__ import annotations

from dataclasses import dataclass, field

START1 = 0x94
START2 = 0xC3
HEADER_LEN = 4
MAX_FRAME = 512  # the firmware's MAX_TO_FROM_RADIO_SIZE


def encode_frame(body: bytes) -> bytes:
    if len(body) > 0xFFFF:
        raise ValueError(f"frame body of {len(body)} B is too long")
    return bytes([START1, START2, len(body) >> 8, len(body) & 0xFF]) + body


@dataclass
class FrameDecoder:
    """Feed it bytes in any chunks; it returns whole frame bodies and skips everything else.

    Bytes outside frames (wake-up bytes, debug text) are counted in `skipped`; a header
    announcing more than MAX_FRAME bytes is treated as noise and scanning resumes after it.
    """

    buf: bytearray = field(default_factory=bytearray)
    skipped: int = 0
    oversized: int = 0

    def feed(self, data: bytes) -> list[bytes]:
        self.buf += data
        out: list[bytes] = []
        while True:
            start = self.buf.find(START1)
            if start < 0:
                self.skipped += len(self.buf)
                self.buf.clear()
                return out
            if start:
                self.skipped += start
                del self.buf[:start]
            if len(self.buf) < 2:
                return out
            if self.buf[1] != START2:
                self.skipped += 1
                del self.buf[:1]
                continue
            if len(self.buf) < HEADER_LEN:
                return out
            length = (self.buf[2] << 8) | self.buf[3]
            if length > MAX_FRAME:
                self.oversized += 1
                self.skipped += HEADER_LEN
                del self.buf[:HEADER_LEN]
                continue
            if len(self.buf) < HEADER_LEN + length:
                return out
            out.append(bytes(self.buf[HEADER_LEN:HEADER_LEN + length]))
            del self.buf[:HEADER_LEN + length]
