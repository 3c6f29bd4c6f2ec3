"""Compact binary codec for intents and events, driven by their dataclass fields.

Layout of one message (SPEC.md has the byte-level detail and test vectors):
  type code (varint) | flag bits (LSB-first, only as many bytes as needed) | field values
Flag bits say, per field: left at its default, absent (None), which arm of a union,
and the value of a bool. Values follow: ints as zigzag varints, strings as a code-table
entry or a literal, tuples as a count and then items.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from protocol import tables
from protocol.errors import ProtocolError
from rules.events import ALL_EVENTS
from rules.intents import ALL_INTENTS

# Stable type codes. Append new names at the end; never reorder or reuse a code.
INTENT_CODES: tuple[str, ...] = (
    "Join", "Look", "Move", "Attack", "Cast", "Use", "Roll", "Dodge", "Dash", "Disengage",
    "Hide", "Search", "HelpAlly", "Grapple", "Shove", "Approach", "EndTurn", "Say", "Query",
    "Rest", "Dm", "Make", "Advance", "Trade",
)
EVENT_CODES: tuple[str, ...] = (
    "Joined", "Entered", "RoomView", "Rolled", "Attacked", "Damaged", "Healed",
    "ConditionChanged", "Downed", "Died", "Stabilised", "DeathSave", "SpellCast", "ActionTaken",
    "Moved", "TurnStarted", "CombatStarted", "CombatEnded", "Said", "Narrated", "Rested",
    "LevelledUp", "Spawned", "Info", "Digest", "Affected",
)

# Which code table interns a string field; unlisted string fields are literal text.
FIELD_TABLES: dict[str, str] = {
    "dtype": "damage", "condition": "condition", "spell": "spell", "weapon": "weapon",
    "using": "using", "action": "action", "band": "band", "monster": "monster",
    "cls": "class", "exit": "exit", "item": "item", "loot": "item", "op": "dm_op",
}
CLASS_FIELD_TABLES: dict[tuple[str, str], str] = {
    ("Roll", "what"): "skill", ("Rolled", "what"): "skill", ("Query", "what"): "query",
    ("Rest", "kind"): "rest", ("Rested", "kind"): "rest",
}

INT_MAX = (1 << 63) - 1
INT_MIN = -(1 << 63)
MAX_ITEMS = 255  # tuples longer than this never fit a 200-byte frame anyway
_MISSING = dataclasses.MISSING

# value kinds
_INT, _STR, _BOOL, _TINT, _TSTR = "int", "str", "bool", "tuple_int", "tuple_str"


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    arms: tuple[str, ...]  # value kinds this field may hold, in a fixed order
    optional: bool  # None allowed
    default: Any  # _MISSING if the field is required
    table: str  # code table for strings

    @property
    def arm_bits(self) -> int:
        return (len(self.arms) - 1).bit_length()


@dataclass(frozen=True, slots=True)
class _Schema:
    cls: type
    code: int
    fields: tuple[_Field, ...]


def _kind(hint: Any, where: str) -> str:
    if hint is int:
        return _INT
    if hint is str:
        return _STR
    if hint is bool:
        return _BOOL
    if typing.get_origin(hint) is tuple:
        arm = typing.get_args(hint)[0]
        if arm is int:
            return _TINT
        if arm is str:
            return _TSTR
    raise TypeError(f"{where}: field type {hint!r} is not supported by the binary codec")


def _schema(cls: type, code: int) -> _Schema:
    hints = typing.get_type_hints(cls)
    out = []
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        where = f"{cls.__name__}.{f.name}"
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            args = typing.get_args(hint)
            optional = type(None) in args
            arms = tuple(_kind(a, where) for a in args if a is not type(None))
        else:
            optional, arms = False, (_kind(hint, where),)
        table = CLASS_FIELD_TABLES.get((cls.__name__, f.name), FIELD_TABLES.get(f.name, "text"))
        out.append(_Field(f.name, arms, optional, f.default, table))
    return _Schema(cls, code, tuple(out))


def _registry(classes: Sequence[type], codes: tuple[str, ...]) -> tuple[dict, dict]:
    """Explicit codes first; types the table does not list yet get codes after it."""
    by_name = {c.__name__: c for c in classes}
    names = [n for n in codes if n in by_name] + [n for n in by_name if n not in codes]
    by_code: dict[int, _Schema] = {}
    by_cls: dict[type, _Schema] = {}
    for name in names:
        code = codes.index(name) if name in codes else len(codes) + names.index(name)
        s = _schema(by_name[name], code)
        by_code[code] = s
        by_cls[s.cls] = s
    return by_code, by_cls


_INTENTS_BY_CODE, _INTENTS_BY_CLS = _registry(ALL_INTENTS, INTENT_CODES)
_EVENTS_BY_CODE, _EVENTS_BY_CLS = _registry(ALL_EVENTS, EVENT_CODES)


# ---------------------------------------------------------------- primitives
def put_varint(out: bytearray, n: int) -> None:
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)


def zigzag(n: int) -> int:
    return (n << 1) if n >= 0 else ((-n) << 1) - 1


def unzigzag(z: int) -> int:
    return (z >> 1) if not z & 1 else -((z + 1) >> 1)


class Reader:
    """A cursor over bytes whose every failure is a ProtocolError."""

    __slots__ = ("data", "pos", "_bits", "_nbits")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0
        self._bits = 0
        self._nbits = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            raise ProtocolError("message ends too soon")
        b = self.data[self.pos]
        self.pos += 1
        return b

    def varint(self) -> int:
        n = shift = 0
        while True:
            b = self.byte()
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                return n
            shift += 7
            if shift >= 70:
                raise ProtocolError("number too long")

    def take(self, n: int) -> bytes:
        if n > len(self.data) - self.pos:
            raise ProtocolError("message ends too soon")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return bytes(chunk)

    def bit(self) -> int:
        if not self._nbits:
            self._bits = self.byte()
            self._nbits = 8
        b = self._bits & 1
        self._bits >>= 1
        self._nbits -= 1
        return b

    def bits(self, n: int) -> int:
        v = 0
        for i in range(n):
            v |= self.bit() << i
        return v

    def end_bits(self) -> None:
        if self._bits:
            raise ProtocolError("stray flag bits")
        self._nbits = 0

    def remaining(self) -> int:
        return len(self.data) - self.pos


class _BitWriter:
    __slots__ = ("value", "n")

    def __init__(self) -> None:
        self.value = 0
        self.n = 0

    def put(self, v: int, width: int = 1) -> None:
        self.value |= v << self.n
        self.n += width

    def flush(self, out: bytearray) -> None:
        out += self.value.to_bytes((self.n + 7) // 8, "little")


def _value_kind(v: Any) -> str | None:
    if isinstance(v, bool):
        return _BOOL
    if isinstance(v, int):
        return _INT
    if isinstance(v, str):
        return _STR
    if isinstance(v, tuple):
        if all(isinstance(x, int) and not isinstance(x, bool) for x in v):
            return _TINT
        if all(isinstance(x, str) for x in v):
            return _TSTR
    return None


def put_str(out: bytearray, s: str, table: str) -> None:
    """Even varint: code-table entry v>>1; odd varint: literal of v>>1 UTF-8 bytes."""
    code = tables.index()[table].get(s)
    if code is not None:
        put_varint(out, (code - 1) << 1)
        return
    try:
        raw = s.encode("utf-8")
    except UnicodeEncodeError:
        raise ProtocolError("text is not valid Unicode") from None
    put_varint(out, (len(raw) << 1) | 1)
    out += raw


def get_str(r: Reader, table: str) -> str:
    v = r.varint()
    if v & 1:
        raw = r.take(v >> 1)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("text is not valid UTF-8") from None
    t = tables.tables()[table]
    i = v >> 1
    if i >= len(t):
        raise ProtocolError(f"unknown {table} code {i}")
    return t[i]


def _put_int(out: bytearray, n: int) -> None:
    if not INT_MIN <= n <= INT_MAX:
        raise ProtocolError("number out of range")
    put_varint(out, zigzag(n))


def _get_int(r: Reader) -> int:
    n = unzigzag(r.varint())
    if not INT_MIN <= n <= INT_MAX:
        raise ProtocolError("number out of range")
    return n


# ---------------------------------------------------------------- messages
def _encode(obj: Any, schema: _Schema, out: bytearray) -> None:
    put_varint(out, schema.code)
    bits = _BitWriter()
    plan: list[tuple[_Field, str, Any]] = []
    for f in schema.fields:
        v = getattr(obj, f.name)
        if f.default is not _MISSING:
            is_default = v == f.default and type(v) is type(f.default)
            bits.put(int(is_default))
            if is_default:
                continue
        if f.optional:
            bits.put(int(v is not None))
            if v is None:
                continue
        kind = _value_kind(v)
        if kind == _TINT and not v and _TSTR in f.arms:
            kind = _TSTR  # an empty tuple fits either tuple kind
        if kind not in f.arms:
            raise ProtocolError(f"{schema.cls.__name__}.{f.name} has the wrong type")
        bits.put(f.arms.index(kind), f.arm_bits)
        if kind == _BOOL:
            bits.put(int(v))
        else:
            plan.append((f, kind, v))
    bits.flush(out)
    for f, kind, v in plan:
        if kind == _INT:
            _put_int(out, v)
        elif kind == _STR:
            put_str(out, v, f.table)
        else:
            if len(v) > MAX_ITEMS:
                raise ProtocolError(f"{schema.cls.__name__}.{f.name} has too many items")
            put_varint(out, len(v))
            for x in v:
                if kind == _TINT:
                    _put_int(out, x)
                else:
                    put_str(out, x, f.table)


def _decode(r: Reader, by_code: dict[int, _Schema], what: str) -> Any:
    code = r.varint()
    schema = by_code.get(code)
    if schema is None:
        raise ProtocolError(f"unknown {what} type {code}")
    plan: list[tuple[_Field, str | None, Any]] = []
    for f in schema.fields:
        if f.default is not _MISSING and r.bit():
            continue  # left at its default: the constructor fills it in
        if f.optional and not r.bit():
            plan.append((f, None, None))
            continue
        arm = r.bits(f.arm_bits)
        if arm >= len(f.arms):
            raise ProtocolError(f"{schema.cls.__name__}.{f.name} has a bad type tag")
        kind = f.arms[arm]
        plan.append((f, kind, bool(r.bit()) if kind == _BOOL else None))
    r.end_bits()
    kwargs: dict[str, Any] = {}
    for f, kind, v in plan:
        if kind is None or kind == _BOOL:
            kwargs[f.name] = v
        elif kind == _INT:
            kwargs[f.name] = _get_int(r)
        elif kind == _STR:
            kwargs[f.name] = get_str(r, f.table)
        else:
            n = r.varint()
            if n > MAX_ITEMS or n > r.remaining():
                raise ProtocolError(f"{schema.cls.__name__}.{f.name} has too many items")
            if kind == _TINT:
                kwargs[f.name] = tuple(_get_int(r) for _ in range(n))
            else:
                kwargs[f.name] = tuple(get_str(r, f.table) for _ in range(n))
    return schema.cls(**kwargs)


def encode_intent(intent: Any) -> bytes:
    """An intent as compact bytes; ProtocolError if it is not a known intent."""
    schema = _INTENTS_BY_CLS.get(type(intent))
    if schema is None:
        raise ProtocolError(f"not an intent: {type(intent).__name__}")
    out = bytearray()
    _encode(intent, schema, out)
    return bytes(out)


def decode_intent(data: bytes) -> Any:
    """The intent the bytes encode, or ProtocolError saying what is wrong."""
    r = Reader(data)
    intent = _decode(r, _INTENTS_BY_CODE, "intent")
    if r.remaining():
        raise ProtocolError("extra bytes after the intent")
    return intent


def encode_event(event: Any) -> bytes:
    schema = _EVENTS_BY_CLS.get(type(event))
    if schema is None:
        raise ProtocolError(f"not an event: {type(event).__name__}")
    out = bytearray()
    _encode(event, schema, out)
    return bytes(out)


def encode_events(events: Sequence[Any]) -> bytes:
    """Events back to back; the frame's length says where the list ends."""
    return b"".join(encode_event(e) for e in events)


def decode_events(data: bytes) -> list[Any]:
    """Every event in the bytes, or ProtocolError saying what is wrong."""
    r = Reader(data)
    out = []
    while r.remaining():
        out.append(_decode(r, _EVENTS_BY_CODE, "event"))
    return out


def intent_code(cls: type) -> int:
    return _INTENTS_BY_CLS[cls].code


def event_code(cls: type) -> int:
    return _EVENTS_BY_CLS[cls].code


def pack_events(events: Sequence[Any], max_payload: int) -> list[bytes]:
    """Events as few payloads as possible, each <= max_payload bytes, split between events.

    An event larger than max_payload on its own raises ProtocolError: it needs fragments.
    """
    out: list[bytes] = []
    cur = bytearray()
    for e in events:
        one = encode_event(e)
        if len(one) > max_payload:
            raise ProtocolError(f"{type(e).__name__} is {len(one)} bytes; too big for a frame")
        if len(cur) + len(one) > max_payload:
            out.append(bytes(cur))
            cur = bytearray()
        cur += one
    if cur:
        out.append(bytes(cur))
    return out
