"""Targets in an area of effect, by the DMG's theatre-of-the-mind guidance (rounded up)."""

from __future__ import annotations

import math

# Feet of the area's defining size per creature it holds: cone length / 10, cube or square
# side / 5, cylinder, sphere or circle radius / 5, line length / 30.
PER_TARGET = {"cone": 10, "cube": 5, "square": 5, "cylinder": 5, "sphere": 5, "circle": 5,
              "radius": 5, "emanation": 5, "line": 30}


def targets_in_area(shape: str, size: int) -> int:
    """How many creatures an area holds: at least one, and a fraction counts as one more."""
    if size <= 0:
        return 1
    return max(1, math.ceil(size / PER_TARGET.get(shape, 5)))
