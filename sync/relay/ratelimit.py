"""Token buckets keyed by node or address, and a tally that logs refusals as one periodic summary."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_KEYS = 10_000  # past this, buckets that have refilled are forgotten (many-address floods)


@dataclass
class RateLimiter:
    rate_per_s: float
    burst: float
    clock: Callable[[], float]
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def _level(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate_per_s)

    def allow(self, key: str, cost: float = 1.0) -> float:
        """0.0 if allowed (and charged), else the seconds to wait before retrying."""
        now = self.clock()
        tokens = self._level(key, now)
        if len(self._buckets) >= MAX_KEYS and key not in self._buckets:
            self._forget_full(now)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate_per_s

    def blocked(self, key: str, cost: float = 1.0) -> float:
        """Like allow() but charges nothing: seconds until `cost` would be allowed, or 0.0."""
        tokens = self._level(key, self.clock())
        return 0.0 if tokens >= cost else (cost - tokens) / self.rate_per_s

    def _forget_full(self, now: float) -> None:
        for k in [k for k in self._buckets if self._level(k, now) >= self.burst]:
            del self._buckets[k]
        if len(self._buckets) >= MAX_KEYS:  # still full: the longest-known tenth goes
            for k in list(self._buckets)[: MAX_KEYS // 10]:
                del self._buckets[k]


@dataclass
class RefusalTally:
    """Counts refusals by reason and address; writes at most one summary line per interval."""

    logger: logging.Logger
    interval_s: float
    clock: Callable[[], float]
    what: str = "auth refused"
    _reasons: Counter[str] = field(default_factory=Counter)
    _addresses: Counter[str] = field(default_factory=Counter)
    _since: float | None = None

    def add(self, address: str, reason: str) -> None:
        now = self.clock()
        if self._since is None:
            self._since = now
        self._reasons[reason] += 1
        if len(self._addresses) < MAX_KEYS or address in self._addresses:
            self._addresses[address] += 1
        if now - self._since >= self.interval_s:
            self.flush()

    def flush(self) -> None:
        """Log the summary gathered so far (if any) and start a new interval."""
        if self._reasons:
            self.logger.warning(self.what, extra={
                "requests": sum(self._reasons.values()), "reasons": dict(self._reasons),
                "addresses": len(self._addresses),
                "top": dict(self._addresses.most_common(3))})
        self._reasons.clear()
        self._addresses.clear()
        self._since = None
