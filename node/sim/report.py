"""Means of several runs' JSON reports, key by key, for the seed sweeps."""

from __future__ import annotations

import statistics
from typing import Any


def mean_of(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Numbers are averaged, booleans become the fraction true, dicts recurse; a key whose
    value is text (or None in some runs) keeps the first run's value only if all agree."""
    out: dict[str, Any] = {}
    for key, first in runs[0].items():
        values = [r.get(key) for r in runs]
        out[key] = _mean(first, values)
    return out


def _mean(first: Any, values: list[Any]) -> Any:
    if isinstance(first, bool):
        return round(sum(bool(v) for v in values) / len(values), 4)
    if isinstance(first, (int, float)) or first is None:
        nums = [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)]
        return round(statistics.fmean(nums), 4) if nums else None
    if isinstance(first, dict):
        if not all(isinstance(v, dict) for v in values):
            return None
        return mean_of(values)
    return first if all(v == first for v in values) else None
