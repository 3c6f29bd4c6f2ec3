"""Typed argparse validators shared by every `dungeon` command, so bad input reads the same.

Each is a `type=` callable: it returns the parsed value or raises ArgumentTypeError, which
the dispatcher's parser turns into one line on stderr and exit 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

MAX_PORT = 65535


def _number(text: str, kind: type[int] | type[float]) -> int | float:
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not {'a whole number' if kind is int else 'a number'}") from None
    if kind is float and value != value:  # NaN passes every comparison below
        raise argparse.ArgumentTypeError(f"{text!r} is not a number")
    return value


def int_range(lo: int | None = None, hi: int | None = None) -> Callable[[str], int]:
    """Whole numbers in [lo, hi]; either bound may be open."""

    def parse(text: str) -> int:
        value = int(_number(text, int))
        _check(value, lo, hi)
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def float_range(lo: float | None = None, hi: float | None = None, *,
                above: bool = False) -> Callable[[str], float]:
    """Numbers in [lo, hi] (or (lo, hi] with above=True); either bound may be open."""

    def parse(text: str) -> float:
        value = float(_number(text, float))
        if above and lo is not None and value <= lo:
            raise argparse.ArgumentTypeError(f"{text} must be more than {lo:g}")
        _check(value, lo, hi)
        return value

    parse.__name__ = "number"
    return parse


def _check(value: float, lo: float | None, hi: float | None) -> None:
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        if lo is not None and hi is not None:
            raise argparse.ArgumentTypeError(f"{value:g} is not in {lo:g}..{hi:g}")
        if lo is not None:
            raise argparse.ArgumentTypeError(f"{value:g} must be at least {lo:g}")
        raise argparse.ArgumentTypeError(f"{value:g} must be at most {hi:g}")


positive = float_range(0.0, above=True)
"""Speeds, durations and intervals: more than zero."""

probability = float_range(0.0, 1.0)
"""Loss rates and other chances: 0..1."""

port = int_range(1, MAX_PORT)
"""A TCP port to listen on or connect to."""
port_or_any = int_range(0, MAX_PORT)
"""A TCP port to listen on; 0 lets the system pick a free one."""

count = int_range(1)
"""How many of something: at least one."""
