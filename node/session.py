"""Game sessions: create one with its dungeon, and rebuild the current one from the event log."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from node.store import Store

SESSION_ROW = "session"  # a new game: payload {id, dungeon, seed, house_rules, rules}
STATUS_ROW = "session.status"  # payload {status}: running | paused | ended
COMMAND_ROW = "command"  # payload {source, sender, actor, intent, events, digest}
BIND_ROW = "bind"  # payload {sender, eid, role, via}: a link made outside a Join


@dataclass
class Session:
    id: str
    dungeon: str
    seed: int
    house_rules: dict[str, Any]
    started_seq: int
    game: Any
    status: str = "running"
    meta: dict[str, Any] = field(default_factory=dict)


def new_game(dungeon: str, house_rules: dict[str, Any] | None = None) -> Any:
    from rules import dungeon as rdungeon
    from rules import game as rgame

    return rgame.Game.new(rdungeon.load_bundled(dungeon), house_rules=house_rules or None)


def rng_for(seed: int, seq: int) -> random.Random:
    """The dice for command `seq`: seeded by the session and the seq, so replay is bit-exact."""
    return random.Random(f"{seed}:{seq}")


def apply_logged(game: Any, row_payload: dict[str, Any], seed: int, seq: int) -> list[Any]:
    """Re-apply one logged command; raises whatever rules raises."""
    from protocol import jsonform
    from rules import game as rgame

    intent = jsonform.load(row_payload["intent"])
    return rgame.apply(game, row_payload.get("actor"), intent, rng_for(seed, seq))


def resume(store: Store) -> Session | None:
    """The latest session: its newest snapshot plus the commands logged after it."""
    start = store.last_event_of_type(SESSION_ROW)
    if start is None:
        return None
    p = start.payload
    snap = store.latest_snapshot(at_or_after=start.seq)
    if snap is not None:
        from rules import game as rgame

        after, _digest, state = snap
        game = rgame.Game.from_dict(state)
    else:
        after, game = start.seq, new_game(p["dungeon"], p.get("house_rules"))
    session = Session(p["id"], p["dungeon"], int(p["seed"]), dict(p.get("house_rules") or {}),
                      start.seq, game)
    for row in store.iter_events(start.seq):
        if row.type == STATUS_ROW:
            session.status = row.payload["status"]
        elif row.type == COMMAND_ROW and row.seq > after:
            apply_logged(game, row.payload, session.seed, row.seq)
    return session
