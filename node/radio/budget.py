"""Airtime budgets per recipient: what the node may spend answering any one radio.

A flood is answered from the flooder's own budget, never from the table's: each radio the
node sends DMs to has a bucket of airtime seconds that refills slowly. A player's covers
their answers, prompts and results; a stranger's (not in the game) is the smallest; error
replies and hints come from a second, small bucket as well, so even a player's radio
typing garbage costs little.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Allowance:
    burst_s: float  # airtime seconds that may go at once
    refill_per_s: float  # airtime seconds regained per second


# LONG_FAST: a 60 B reply is ~0.9 s on air, a full 200 B packet ~1.9 s. A stranger can get
# help and a join answer (~3 s) at once; then about one reply per four minutes.
STRANGER = Allowance(burst_s=4.0, refill_per_s=0.004)
# A player: a fight's worth of private results and prompts at once, and up to 3 min of
# airtime an hour (the whole node's legal budget is 6 min an hour in EU_868).
PLAYER = Allowance(burst_s=30.0, refill_per_s=0.05)
ERRORS = Allowance(burst_s=3.0, refill_per_s=0.004)  # error replies and hints, anyone
# All strangers together: radios that make up node numbers get one shared budget, not one each.
STRANGERS = Allowance(burst_s=20.0, refill_per_s=0.01)
ALL_STRANGERS = -1  # the shared bucket's key
MAX_TRACKED = 4096  # buckets kept; beyond that, full ones are forgotten (a spoofed flood)


@dataclass
class _Bucket:
    level: float
    at: float


class Budgets:
    """allow(to, air, now) spends `air` seconds of `to`'s budget, or says no (send nothing)."""

    def __init__(self, known: Callable[[int], bool] | None = None) -> None:
        # known(node_num): does that radio play in the game? Unset: everyone is a stranger.
        self.known = known
        self._buckets: dict[tuple[int, str], _Bucket] = {}

    def allow(self, to: int, air: float, now: float, *, error: bool = False) -> bool:
        player = bool(self.known and self.known(to))
        kinds = [(to, "all", PLAYER if player else STRANGER)]
        if not player:
            kinds.append((ALL_STRANGERS, "all", STRANGERS))
        if error:
            kinds.append((to, "errors", ERRORS))
        buckets = [self._bucket(who, name, allowance, now) for who, name, allowance in kinds]
        if any(b.level < air for b in buckets):
            return False
        for b in buckets:
            b.level -= air
        return True

    def _bucket(self, to: int, name: str, allowance: Allowance, now: float) -> _Bucket:
        b = self._buckets.get((to, name))
        if b is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._forget_full(now)
            b = self._buckets[(to, name)] = _Bucket(allowance.burst_s, now)
        b.level = min(allowance.burst_s, b.level + (now - b.at) * allowance.refill_per_s)
        b.at = now
        return b

    def _forget_full(self, now: float) -> None:
        """Drop buckets that have refilled by now (a new bucket starts full anyway)."""
        longest = max(a.burst_s / a.refill_per_s for a in (STRANGER, PLAYER, ERRORS))
        shared = {k: b for k, b in self._buckets.items() if k[0] == ALL_STRANGERS}
        self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < longest}
        if len(self._buckets) >= MAX_TRACKED:  # all busy: forget the least recent half
            recent = sorted(self._buckets.items(), key=lambda kv: kv[1].at)[MAX_TRACKED // 2:]
            self._buckets = dict(recent)
        self._buckets.update(shared)  # forgetting it would refill it: never
