"""Who a sender is: radio public keys pinned on first use, and one-time codes for Discord links."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from node.clock import Clock
from node.obs.metrics import Metrics
from node.store import Store

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a table


class KeyPins:
    """A radio's public key is pinned the first time a packet carries one (trust on first use)."""

    def __init__(self, store: Store, clock: Clock, metrics: Metrics) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics
        metrics.describe("dungeon_key_mismatch_total", "packets refused: a pinned key differed")

    def check(self, sender: str, public_key: bytes | None) -> bool:
        """False when the sender's pinned key differs from this packet's key (counted)."""
        if not public_key:
            return True
        pinned = self.store.public_key(sender)
        if pinned is None:
            self.store.pin_key(sender, bytes(public_key), self.clock.now())
            return True
        if pinned == bytes(public_key):
            return True
        self.store.count_key_mismatch(sender)
        self.metrics.inc("dungeon_key_mismatch_total")
        return False


LINK_CODES_KEY = "link_codes"


@dataclass
class LinkCode:
    code: str
    eid: int
    expires_at: float  # clock.now(): wall time, so a code outlives a node restart


class LinkCodes:
    """One-time codes the DM reads out; a Discord user sends one back to link a character.

    Kept in the store: a node that restarts (a flaky supply in a field) still honours the
    code the DM just read out."""

    def __init__(self, clock: Clock, store: Store | None = None, ttl_s: float = 600.0) -> None:
        self.clock = clock
        self.store = store
        self.ttl_s = ttl_s
        saved = store.get(LINK_CODES_KEY, {}) if store is not None else {}
        self._codes: dict[str, LinkCode] = {
            code: LinkCode(code, int(eid), float(expires)) for code, (eid, expires) in saved.items()}

    def issue(self, eid: int) -> LinkCode:
        self._expire()
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(6))
        lc = LinkCode(code, eid, self.clock.now() + self.ttl_s)
        self._codes[code] = lc
        self._save()
        return lc

    def redeem(self, code: str) -> int | None:
        """The code's character, once; None when unknown or expired."""
        self._expire()
        lc = self._codes.pop(code.strip().upper(), None)
        if lc is not None:
            self._save()
        return lc.eid if lc else None

    def _expire(self) -> None:
        now = self.clock.now()
        for code in [c for c, lc in self._codes.items() if lc.expires_at <= now]:
            del self._codes[code]

    def _save(self) -> None:
        if self.store is not None:
            self.store.put(LINK_CODES_KEY,
                           {c: [lc.eid, lc.expires_at] for c, lc in self._codes.items()})
