"""Where the demo's party goes next: the way to the nearest uncleared encounter, and what bars it."""

from __future__ import annotations

from collections import deque
from typing import Any


def gate(game: Any, room: int, x: Any) -> str | None:
    """What stops the party walking through exit `x` of `room` now ("sealed": only the DM
    opens it; "level": it needs a higher level; "locked": no key and no lock to force),
    or None when the party can go (a lock with a DC the party may force, or a key it holds)."""
    opened = game.state["unlocked"] + game.state["unsealed"]
    ways = (f"{room}:{x.to}", f"{x.to}:{room}")
    party = [e for e in game.party() if not e.dead]
    if x.dm_only and not any(w in game.state["unsealed"] for w in ways):
        return "sealed"
    if x.min_level and max((e.level for e in party), default=0) < x.min_level:
        return "level"
    if x.locked and not any(w in opened for w in ways):
        held = x.key and (x.key in game.loot or any(x.key in e.inventory for e in party))
        if not (held or x.dc):
            return "locked"
    return None


def route(game: Any) -> list[Any]:
    """The exits, in order, from the party's room to the nearest room whose encounter is not
    cleared yet, gates or not; [] when every encounter is cleared (the end of the dungeon)."""
    rooms = game.dungeon.rooms
    goals = {r.id for r in rooms.values() if r.encounter and r.id not in game.state["cleared"]}
    came: dict[int, tuple[int, Any] | None] = {game.room: None}
    todo = deque([game.room])
    while todo:
        here = todo.popleft()
        if here in goals:
            path: list[Any] = []
            while came[here] is not None:
                here, x = came[here]  # type: ignore[misc]
                path.append(x)
            return path[::-1]
        for x in rooms[here].exits:
            if x.to in rooms and x.to not in came:
                came[x.to] = (here, x)
                todo.append(x.to)
    return []


def next_step(game: Any) -> tuple[Any | None, str | None]:
    """(the exit to take next, None) or (that exit, what bars it), or (None, None) at the end."""
    path = route(game)
    if not path:
        return None, None
    return path[0], gate(game, game.room, path[0])


def finished(game: Any) -> bool:
    """True when every room's encounter has been cleared."""
    return all(r.id in game.state["cleared"] for r in game.dungeon.rooms.values() if r.encounter)
