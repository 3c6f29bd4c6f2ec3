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


def new_game(dungeon: str, house_rules: dict[str, Any] | None = None,
             monsters: list[Any] | None = None, source: dict[str, Any] | None = None) -> Any:
    """A fresh game in a bundled dungeon by name, or in a dungeon TOML file by path.

    `source`: the dungeon as recorded at the session's start (a file may have changed since);
    `monsters`: the custom stat blocks the session was started with.
    """
    from rules import dungeon as rdungeon
    from rules import game as rgame
    from rules.custom import validate_monster

    checked = [validate_monster(m) for m in monsters or []]
    dg = rdungeon.Dungeon.from_dict(source) if source is not None else _dungeon(
        dungeon, {m["index"]: m for m in checked})
    return rgame.Game.new(dg, house_rules=house_rules or None, monsters=checked)


def game_from_row(p: dict[str, Any]) -> Any:
    """The new game a session row describes, from its recorded data alone."""
    return new_game(p["dungeon"], p.get("house_rules"), p.get("monsters"), p.get("dungeon_source"))


def _dungeon(name_or_path: str, custom: dict[str, Any]) -> Any:
    from pathlib import Path

    from rules import dungeon as rdungeon
    from rules.errors import RulesError

    path = Path(name_or_path)
    if path.suffix != ".toml":
        return rdungeon.load_bundled(name_or_path)
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as err:
        why = err.strerror if isinstance(err, OSError) and err.strerror else str(err)
        raise RulesError(f"cannot read dungeon {path.name}: {why.splitlines()[0]}; the bundled "
                         f"dungeons are {', '.join(rdungeon.bundled_names())}") from None
    return rdungeon.parse_toml(text, path.name, custom)


def rng_for(seed: int, seq: int) -> random.Random:
    """The dice for command `seq`: seeded by the session and the seq, so replay is bit-exact."""
    return random.Random(f"{seed}:{seq}")


def apply_logged(game: Any, row_payload: dict[str, Any], seed: int, seq: int) -> list[Any]:
    """Re-apply one logged command; raises whatever rules raises."""
    from protocol import jsonform
    from rules import game as rgame

    intent = jsonform.load(row_payload["intent"])
    return rgame.apply(game, row_payload.get("actor"), intent, rng_for(seed, seq))


class StoredStateError(Exception):
    """The stored game cannot be loaded; str(err) is one line naming the row and the way out."""


ABANDONED_KEY = "abandoned_through"  # kv: sessions starting at or before this seq stay unloaded
WAY_OUT = ("start a new game with `dungeon node --fresh` (the log is kept), "
           "or restore a backup with `dungeon backup restore`")


def abandon_current(store: Store) -> int | None:
    """Leave the latest session in the log but never resume it (`dungeon node --fresh`).

    Returns its seq, or None when there is none. The next start begins a new session.
    """
    seq = store.last_seq_of_type(SESSION_ROW)
    if seq is not None:
        store.put(ABANDONED_KEY, seq)
    return seq


def resume(store: Store) -> Session | None:
    """The latest session: its newest snapshot plus the commands logged after it.

    StoredStateError when a stored value cannot load: the node then stops with one line
    instead of a restart loop (systemd does not restart on that exit code).
    """
    seq = store.last_seq_of_type(SESSION_ROW)
    if seq is None or seq <= _abandoned(store):
        return None
    try:
        return _resume(store)
    except StoredStateError:
        raise
    except Exception as err:  # a corrupt row can fail anywhere in rules or the codec
        text = str(err).splitlines()[0][:120] if str(err) else type(err).__name__
        raise StoredStateError(f"the stored game cannot load ({text}); {WAY_OUT}") from err


def stored_seed(start: Any) -> int:
    """A session row's seed, or StoredStateError: an older control op let "abc" and 1.5
    through, and int() would silently turn 1.5 into a different game."""
    seed = start.payload.get("seed")
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise StoredStateError(f"the stored game cannot load (session at seq {start.seq} has "
                               f"seed {str(seed)[:24]!r}, not a whole number); {WAY_OUT}")
    return seed


def _abandoned(store: Store) -> int:
    value = store.get(ABANDONED_KEY, 0)
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _resume(store: Store) -> Session | None:
    start = store.last_event_of_type(SESSION_ROW)
    if start is None:
        return None
    p = start.payload
    seed = stored_seed(start)
    snap = store.latest_snapshot(at_or_after=start.seq)
    if snap is not None:
        from rules import game as rgame

        after, _digest, state = snap
        game = rgame.Game.from_dict(state)
    else:
        after, game = start.seq, game_from_row(p)
    session = Session(p["id"], p["dungeon"], seed, dict(p.get("house_rules") or {}),
                      start.seq, game)
    for row in store.iter_events(start.seq):
        if row.type == STATUS_ROW:
            session.status = row.payload["status"]
        elif row.type == COMMAND_ROW and row.seq > after:
            try:
                apply_logged(game, row.payload, session.seed, row.seq)
            except Exception as err:
                text = str(err).splitlines()[0][:100] if str(err) else type(err).__name__
                raise StoredStateError(f"the stored game cannot load (command at seq {row.seq}: "
                                       f"{text}); {WAY_OUT}") from err
    return session
