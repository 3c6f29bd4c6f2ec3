"""Exponential back-off with full jitter; the rng is injected so tests and the simulator replay."""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Backoff:
    base_s: float = 0.5
    cap_s: float = 60.0
    rng: random.Random = field(default_factory=random.Random)
    attempts: int = 0

    def next_delay(self) -> float:
        """The next wait: uniform in [0, min(cap, base * 2**attempts)]; spreads reconnecting nodes."""
        ceiling = min(self.cap_s, self.base_s * (2 ** min(self.attempts, 30)))
        self.attempts += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.attempts = 0
