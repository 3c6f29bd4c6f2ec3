"""Checks a pushed batch before anything is stored: shape, ranges, and every known event's fields.

A row the mirror could not fold must never reach storage, because stored rows are
replayed into the mirror on every start. Known event types are checked with the node's
own codec (protocol.jsonform); an unknown type passes, so a newer node still syncs (the
mirror ignores types it does not know).
"""

from __future__ import annotations

import math
from typing import Any

from protocol import jsonform
from protocol.errors import ProtocolError
from rules.events import ALL_EVENTS
from sync.relay.storage import StoredEvent

MAX_SEQ = 2**63 - 1  # BIGINT
MAX_TYPE_LEN = 64
_EVENT_NAMES = {cls.__name__ for cls in ALL_EVENTS}


class BadBatch(ValueError):
    """The batch is malformed; str(err) is one line saying where."""


def _int(v: Any, where: str, lo: int, hi: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
        raise BadBatch(f"{where} must be a whole number in {lo}..{hi}")
    return v


def check_payload(payload: Any, where: str) -> dict[str, Any]:
    """The payload as stored, or BadBatch: an object whose `events` the mirror can fold."""
    if not isinstance(payload, dict):
        raise BadBatch(f"{where}.payload must be an object")
    for key in ("sender",):
        if key in payload and payload[key] is not None and not isinstance(payload[key], str):
            raise BadBatch(f"{where}.payload.{key} must be text")
    events = payload.get("events")
    if events is None:
        return payload
    if not isinstance(events, list):
        raise BadBatch(f"{where}.payload.events must be a list")
    for i, ev in enumerate(events):
        if not isinstance(ev, dict) or not isinstance(ev.get("type"), str):
            raise BadBatch(f"{where}.payload.events[{i}] must be an object with a 'type'")
        if ev["type"] in _EVENT_NAMES:
            try:
                jsonform.load(ev)
            except ProtocolError as err:
                raise BadBatch(f"{where}.payload.events[{i}]: {err}") from err
    return payload


def parse_batch(node_id: str, body: Any) -> tuple[int, list[StoredEvent]]:
    """(prev, rows sorted by seq) from a push body, or BadBatch."""
    if not isinstance(body, dict):
        raise BadBatch("the body must be an object")
    prev = _int(body.get("prev"), "prev", 0, MAX_SEQ)
    events = body.get("events")
    if not isinstance(events, list):
        raise BadBatch("events must be a list")
    rows, seen = [], set()
    for i, e in enumerate(events):
        where = f"events[{i}]"
        if not isinstance(e, dict):
            raise BadBatch(f"{where} must be an object")
        seq = _int(e.get("seq"), f"{where}.seq", 1, MAX_SEQ)
        if seq in seen:
            raise BadBatch(f"{where}.seq {seq} appears twice")
        seen.add(seq)
        ts = e.get("ts")
        if isinstance(ts, bool) or not isinstance(ts, int | float) or not math.isfinite(ts):
            raise BadBatch(f"{where}.ts must be a finite number")
        kind = e.get("type")
        if not isinstance(kind, str) or not 0 < len(kind) <= MAX_TYPE_LEN:
            raise BadBatch(f"{where}.type must be text of 1..{MAX_TYPE_LEN} characters")
        rows.append(StoredEvent(node_id, seq, float(ts), kind, check_payload(e.get("payload"), where)))
    rows.sort(key=lambda r: r.seq)
    return prev, rows
