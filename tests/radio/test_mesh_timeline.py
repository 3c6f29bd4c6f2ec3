"""Timeline (busy-interval bookkeeping for channel utilisation and duty cycle) against brute force."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from node.sim.timeline import Timeline


def brute(intervals: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Length of the union of intervals clipped to [lo, hi]."""
    merged: list[list[float]] = []
    for s, e in sorted(intervals):
        if merged and s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return sum(max(0.0, min(e, hi) - max(s, lo)) for s, e in merged)


steps = st.lists(st.tuples(st.floats(0, 30), st.floats(0, 20)), min_size=1, max_size=300)


@given(steps, st.floats(0, 100), st.floats(1, 200))
def test_windows_match_brute_force(gaps_and_lengths: list[tuple[float, float]], back: float,
                                   keep: float) -> None:
    tl = Timeline(keep=keep)
    intervals: list[tuple[float, float]] = []
    t = 0.0
    for gap, length in gaps_and_lengths:
        t += gap
        tl.add(t, t + length)
        intervals.append((t, t + length))
        window = min(back, keep)
        assert tl.between(t - window, t) == pytest.approx(brute(intervals, t - window, t), abs=1e-6)
    assert tl.total == pytest.approx(brute(intervals, 0.0, float("inf")), abs=1e-6)
    assert tl.after(t - min(back, keep)) == pytest.approx(
        brute(intervals, t - min(back, keep), float("inf")), abs=1e-6)


def test_empty_timeline_is_idle() -> None:
    tl = Timeline(keep=60)
    assert tl.between(0, 100) == 0.0 and tl.after(0) == 0.0
