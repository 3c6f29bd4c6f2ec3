"""Who a sender is: radio keys pinned when the DM approves a join, the table's text_auth, link codes."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from typing import Any

from node.clock import Clock
from node.obs.metrics import Metrics
from node.store import Store

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud at a table
FINGERPRINT_CHARS = 8

# The table setting, kept in the game state as the house rule "text_auth" (on: dm) so that a
# replay reads the same setting at the same point of the log.
TEXT_AUTH_RULE = "text_auth"
TEXT_AUTH_MODES = ("channel", "dm")


def fingerprint(public_key: bytes | None) -> str | None:
    """The key's first characters in base64, as the Meshtastic apps print a node's public key."""
    if not public_key:
        return None
    return base64.b64encode(bytes(public_key)).decode()[:FINGERPRINT_CHARS]


def text_auth(game: Any) -> str:
    """"dm" when only authenticated radio input may act at this table, else "channel"."""
    house = getattr(game, "house", None) or {}
    return "dm" if house.get(TEXT_AUTH_RULE) in (True, "dm") else "channel"


@dataclass(frozen=True)
class Who:
    """What the radio vouches for about one packet's sender."""

    sender: str  # the player's sender id ("!a1b2c3d4"): the packet's node number
    public_key: bytes | None  # the sender's key, when the radio decrypted a PKI DM with it
    authenticated: bool  # the radio proved the packet came from the sender's key
    refused: str | None = None  # why the packet must not act at all (counted), else None
    moved_from: str | None = None  # the player's earlier node number, for the same pinned key


class KeyPins:
    """Keys are pinned at approval (pipeline); this checks each packet against the pins.

    Nothing is pinned on first use, so an impostor's key sent first under a player's number
    locks nobody out: the DM approves the join whose fingerprint the player reads out."""

    def __init__(self, store: Store, clock: Clock, metrics: Metrics) -> None:
        self.store = store
        self.clock = clock
        self.metrics = metrics
        metrics.describe("dungeon_key_mismatch_total", "packets refused: a pinned key differed")

    def check(self, sender: str, public_key: bytes | None, *, signed: bool = False,
              bound: bool = False) -> Who:
        """What this packet proves; `bound`: the sender plays a character already."""
        if not public_key:
            # a radio-verified signature (firmware 2.8 xeddsa_signed) proves the node number
            return Who(sender, None, signed)
        key = bytes(public_key)
        pinned = self.store.public_key(sender)
        if pinned is not None and pinned != key:
            self.metrics.inc("dungeon_key_mismatch_total")
            return Who(sender, key, False, refused="key")
        if pinned is None:
            owner = self.store.sender_of_key(key)
            if owner is not None and owner != sender:
                # firmware 2.8 derives node numbers from keys: an upgrade renumbers a player
                return Who(sender, key, True, moved_from=owner)
            if bound:
                # joined by channel text, which carries no key: the first DM the radio
                # decrypts pins it (as strong as the radio's own node database)
                self.store.pin_key(sender, key, self.clock.now())
                self.metrics.inc("dungeon_keys_pinned_late_total")
        return Who(sender, key, True)


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
