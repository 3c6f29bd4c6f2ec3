"""Merged busy intervals with running totals: time busy in any recent window in O(log n)."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

PRUNE_BATCH = 64  # drop expired intervals in batches so pruning stays amortised O(1)


@dataclass
class Timeline:
    """Intervals added in order of start time; overlapping ones merge.

    `keep` is the longest window ever asked about: intervals that ended before
    (latest start - keep) are forgotten, but their time still counts in the totals.
    """

    keep: float
    starts: list[float] = field(default_factory=list)
    ends: list[float] = field(default_factory=list)
    before: list[float] = field(default_factory=list)  # busy time before each interval
    total: float = 0.0  # busy time of everything added, including the future part

    def add(self, start: float, end: float) -> None:
        if self.ends and start <= self.ends[-1]:
            if end > self.ends[-1]:
                self.total += end - self.ends[-1]
                self.ends[-1] = end
        else:
            self.starts.append(start)
            self.ends.append(end)
            self.before.append(self.total)
            self.total += end - start
        cut = bisect_left(self.ends, start - self.keep)
        if cut >= PRUNE_BATCH:
            del self.starts[:cut], self.ends[:cut], self.before[:cut]

    def upto(self, t: float) -> float:
        """Busy time accumulated before instant t."""
        i = bisect_right(self.starts, t) - 1
        if i < 0:
            return self.before[0] if self.before else 0.0
        return self.before[i] + min(t - self.starts[i], self.ends[i] - self.starts[i])

    def between(self, lo: float, hi: float) -> float:
        return self.upto(hi) - self.upto(lo)

    def after(self, lo: float) -> float:
        """Busy time from lo on, including intervals that have not finished yet."""
        return self.total - self.upto(lo)
