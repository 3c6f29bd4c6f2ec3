"""Hypothesis strategies that build any intent or event from its dataclass fields."""

import dataclasses
import types
import typing

from hypothesis import strategies as st

from protocol import tables
from rules.events import ALL_EVENTS
from rules.intents import ALL_INTENTS

_TABLE_WORDS = sorted({w for t in tables.tables().values() for w in t})
small_ints = st.integers(-(2**63), 2**63 - 1) | st.integers(-300, 300)
texts = st.text(max_size=40) | st.sampled_from(_TABLE_WORDS or ["x"])


def for_hint(hint):
    if hint is int:
        return small_ints
    if hint is str:
        return texts
    if hint is bool:
        return st.booleans()
    if hint is type(None):
        return st.none()
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return st.one_of(*(for_hint(a) for a in typing.get_args(hint)))
    if origin is tuple:
        return st.lists(for_hint(typing.get_args(hint)[0]), max_size=8).map(tuple)
    raise TypeError(hint)


def for_class(cls):
    hints = typing.get_type_hints(cls)
    return st.builds(cls, **{f.name: for_hint(hints[f.name]) for f in dataclasses.fields(cls)})


intents = st.one_of(*(for_class(c) for c in ALL_INTENTS))
events = st.one_of(*(for_class(c) for c in ALL_EVENTS))
