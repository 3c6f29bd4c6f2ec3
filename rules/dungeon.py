"""Dungeons as data: a graph of rooms with exits, doors, traps, light, access rules and loot."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from rules.errors import RulesError

DIRECTIONS = {"n": "north", "s": "south", "e": "east", "w": "west", "u": "up", "d": "down"}
LIGHTS = ("sunlight", "bright", "dim", "dark")
# Sunlight is bright light that also sets off sunlight sensitivity and a vampire's burn.
BRIGHT = ("sunlight", "bright")


@dataclass(frozen=True, slots=True)
class Exit:
    to: int
    dir: str  # n s e w u d
    name: str = ""
    locked: bool = False
    dc: int = 0  # 0: cannot be picked or forced
    key: str = ""
    min_level: int = 0
    dm_only: bool = False


@dataclass(frozen=True, slots=True)
class Trap:
    detect_dc: int
    save: str
    dc: int
    damage: str
    dtype: str
    half: bool = True


@dataclass(frozen=True, slots=True)
class Encounter:
    monsters: tuple[tuple[str, int], ...]
    band: str = "near"
    loot: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Room:
    id: int
    name: str
    text: str = ""
    light: str = "bright"
    exits: tuple[Exit, ...] = ()
    trap: Trap | None = None
    encounter: Encounter | None = None
    loot: tuple[str, ...] = ()
    hidden_loot: tuple[str, ...] = ()
    search_dc: int = 0


@dataclass(frozen=True, slots=True)
class Dungeon:
    name: str
    start: int
    rooms: dict[int, Room] = field(default_factory=dict)
    levels: tuple[int, int] = (1, 3)
    source: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Dungeon:
        """Build from a parsed TOML/JSON dict; RulesError names the first problem."""
        try:
            rooms = {}
            for r in d["rooms"]:
                exits = tuple(
                    Exit(to=int(x["to"]), dir=str(x.get("dir", "")), name=str(x.get("name", "")),
                         locked=bool(x.get("locked", False)), dc=int(x.get("dc", 0)),
                         key=str(x.get("key", "")), min_level=int(x.get("min_level", 0)),
                         dm_only=bool(x.get("dm_only", False)))
                    for x in r.get("exits", []))
                t = r.get("trap")
                trap = Trap(int(t["detect_dc"]), str(t.get("save", "dex")), int(t["dc"]),
                            str(t["damage"]), str(t.get("type", "piercing")),
                            bool(t.get("half", True))) if t else None
                e = r.get("encounter")
                enc = Encounter(tuple((str(m), int(n)) for m, n in e["monsters"]),
                                str(e.get("band", "near")),
                                tuple(e.get("loot", []))) if e else None
                room = Room(int(r["id"]), str(r["name"]), str(r.get("text", "")),
                            str(r.get("light", "bright")), exits, trap, enc,
                            tuple(r.get("loot", [])), tuple(r.get("hidden_loot", [])),
                            int(r.get("search_dc", 0)))
                if room.light not in LIGHTS:
                    raise RulesError(f"room {room.id}: light must be one of {LIGHTS}")
                rooms[room.id] = room
            dg = cls(str(d.get("name", "dungeon")), int(d.get("start", next(iter(rooms)))),
                     rooms, tuple(d.get("levels", (1, 3))), d)
        except (KeyError, TypeError, ValueError, StopIteration) as err:
            raise RulesError(f"bad dungeon data: {err!s:.60}") from None
        for room in rooms.values():
            for x in room.exits:
                if x.to not in rooms:
                    raise RulesError(f"room {room.id} exit leads to missing room {x.to}")
        if dg.start not in rooms:
            raise RulesError("dungeon start room is missing")
        return dg

    def room(self, rid: int) -> Room:
        try:
            return self.rooms[rid]
        except KeyError:
            raise RulesError(f"no room {rid}") from None

    def find_exit(self, rid: int, word: str) -> Exit:
        w = word.strip().lower()
        w = {v: k for k, v in DIRECTIONS.items()}.get(w, w)
        room = self.room(rid)
        for x in room.exits:
            if w == x.dir or (x.name and w == x.name.lower()):
                return x
        for x in room.exits:
            if x.name and x.name.lower().startswith(w):
                return x
        names = ", ".join(x.dir or x.name for x in room.exits) or "none"
        raise RulesError(f"no exit {word!r} here; exits: {names}")


def load_bundled(name: str = "crypt") -> Dungeon:
    """A sample dungeon shipped in rules/content/dungeons/<name>.toml."""
    try:
        text = resources.files("rules.content").joinpath("dungeons", f"{name}.toml").read_text(
            "utf-8")
    except (FileNotFoundError, OSError):
        raise RulesError(f"no bundled dungeon {name!r}") from None
    return Dungeon.from_dict(tomllib.loads(text))
