"""Intents and events as plain JSON-safe dicts ({"type": "Attack", ...fields}).

Used wherever a message crosses a process boundary in JSON: the event log, the
control socket, the relay. Loading validates types and never raises anything but
ProtocolError.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from typing import Any

from protocol.errors import ProtocolError
from rules.events import ALL_EVENTS
from rules.intents import ALL_INTENTS

_TYPES: dict[str, type] = {cls.__name__: cls for cls in ALL_INTENTS + ALL_EVENTS}
_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    if cls not in _FIELDS:
        hints = typing.get_type_hints(cls)
        _FIELDS[cls] = tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
    return _FIELDS[cls]


def dump(obj: Any) -> dict[str, Any]:
    """An intent or event as a dict; tuples become lists."""
    out: dict[str, Any] = {"type": type(obj).__name__}
    for name, _ in _fields(type(obj)):
        v = getattr(obj, name)
        out[name] = list(v) if isinstance(v, tuple) else v
    return out


def load(d: Any) -> Any:
    """The intent or event a dict describes, or ProtocolError saying what is wrong."""
    if not isinstance(d, dict) or not isinstance(d.get("type"), str):
        raise ProtocolError("expected an object with a 'type'")
    cls = _TYPES.get(d["type"])
    if cls is None:
        raise ProtocolError(f"unknown message type {d['type'][:24]!r}")
    kwargs: dict[str, Any] = {}
    for name, hint in _fields(cls):
        if name not in d:
            field = next(f for f in dataclasses.fields(cls) if f.name == name)
            if field.default is dataclasses.MISSING:
                raise ProtocolError(f"{cls.__name__} lacks {name!r}")
            continue
        kwargs[name] = _check(d[name], hint, f"{cls.__name__}.{name}")
    return cls(**kwargs)


def _check(v: Any, hint: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            try:
                return _check(v, arm, where)
            except ProtocolError:
                continue
        raise ProtocolError(f"{where} has the wrong type")
    if hint is type(None):
        if v is None:
            return None
        raise ProtocolError(f"{where} must be empty")
    if origin is tuple:
        if not isinstance(v, list | tuple):
            raise ProtocolError(f"{where} must be a list")
        (arm, *_rest) = typing.get_args(hint)
        return tuple(_check(x, arm, where) for x in v)
    if hint is bool:
        if isinstance(v, bool):
            return v
        raise ProtocolError(f"{where} must be true or false")
    if hint is int:
        if isinstance(v, int) and not isinstance(v, bool):
            return v
        raise ProtocolError(f"{where} must be a whole number")
    if hint is str:
        if isinstance(v, str):
            return v
        raise ProtocolError(f"{where} must be text")
    raise ProtocolError(f"{where} has an unsupported type")
