"""Per-node token buckets: a burst allowance refilled at a steady rate."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class RateLimiter:
    rate_per_s: float
    burst: float
    clock: Callable[[], float]
    _buckets: dict[str, tuple[float, float]] = field(default_factory=dict)

    def allow(self, key: str, cost: float = 1.0) -> float:
        """0.0 if allowed (and charged), else the seconds to wait before retrying."""
        now = self.clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate_per_s)
        if tokens >= cost:
            self._buckets[key] = (tokens - cost, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (cost - tokens) / self.rate_per_s
