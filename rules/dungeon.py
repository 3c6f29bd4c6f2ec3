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
# What a room's ground is like (rules/terrain.py: difficult ground, camouflage; rules/senses.py:
# web sense): a room carries any of these tags.
TERRAINS = ("rocky", "water", "snow", "ice", "webs", "trees")


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
    fall: bool = False  # the damage is a fall (a pit, a trapdoor): Slow Fall lessens it


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
    terrain: tuple[str, ...] = ()
    shop: tuple[str, ...] = ()  # wares sold here at SRD prices (rules/shop.py)


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
                            bool(t.get("half", True)), bool(t.get("fall", False))) if t else None
                e = r.get("encounter")
                enc = Encounter(tuple((str(m), int(n)) for m, n in e["monsters"]),
                                str(e.get("band", "near")),
                                tuple(e.get("loot", []))) if e else None
                room = Room(int(r["id"]), str(r["name"]), str(r.get("text", "")),
                            str(r.get("light", "bright")), exits, trap, enc,
                            tuple(r.get("loot", [])), tuple(r.get("hidden_loot", [])),
                            int(r.get("search_dc", 0)), tuple(r.get("terrain", [])),
                            _wares(r.get("shop", []), r["id"]))
                if room.light not in LIGHTS:
                    raise RulesError(f"room {room.id}: light must be one of {LIGHTS}")
                if set(room.terrain) - set(TERRAINS):
                    raise RulesError(f"room {room.id}: terrain must be among {TERRAINS}")
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


def bundled_names() -> list[str]:
    """The sample dungeons shipped in rules/content/dungeons, by name."""
    try:
        folder = resources.files("rules.content").joinpath("dungeons")
        return sorted(p.name.removesuffix(".toml") for p in folder.iterdir()
                      if p.name.endswith(".toml"))
    except (ModuleNotFoundError, OSError):
        return []


def load_bundled(name: str = "crypt") -> Dungeon:
    """A sample dungeon shipped in rules/content/dungeons/<name>.toml."""
    try:
        text = resources.files("rules.content").joinpath("dungeons", f"{name}.toml").read_text(
            "utf-8")
    except (FileNotFoundError, OSError):
        raise RulesError(f"no dungeon {name[:40]!r}; the dungeons are "
                         f"{', '.join(bundled_names())}, or a .toml file's path") from None
    return parse_toml(text, name)


_ROOM_KEYS = {"id", "name", "text", "light", "exits", "trap", "encounter", "loot", "hidden_loot",
              "search_dc", "terrain", "shop"}
_EXIT_KEYS = {"to", "dir", "name", "locked", "dc", "key", "min_level", "dm_only"}
_TOP_KEYS = {"name", "start", "levels", "rooms"}


def parse_toml(text: str, label: str,
               custom: dict[str, dict[str, Any]] | None = None) -> Dungeon:
    """A dungeon from TOML text, checked: RulesError is one line naming the room and field."""
    try:
        d = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise RulesError(f"dungeon {label}: not TOML: {str(err).splitlines()[0]}"[:200]) from None
    try:
        check(d, custom)
        dg = Dungeon.from_dict(d)
    except RulesError as err:
        raise RulesError(f"dungeon {label}: {err}"[:200]) from None
    return dg


def check(d: dict[str, Any], custom: dict[str, dict[str, Any]] | None = None) -> None:
    """What from_dict lets through but a hand-written file gets wrong: unknown keys and
    directions, repeated rooms, monsters no one can spawn (named with the candidates).
    `custom`: the game's custom stat blocks by index, which encounters may name too."""
    from rules import content

    _known("dungeon", d, _TOP_KEYS)
    rooms = d.get("rooms")
    if not isinstance(rooms, list) or not rooms:
        raise RulesError("needs [[rooms]], each with an id and a name")
    seen: set[Any] = set()
    for r in rooms:
        if not isinstance(r, dict) or "id" not in r:
            raise RulesError("every [[rooms]] needs an id")
        where = f"room {str(r['id'])[:12]}"
        _known(where, r, _ROOM_KEYS)
        if r["id"] in seen:
            raise RulesError(f"{where} is defined twice")
        seen.add(r["id"])
        for x in r.get("exits", []) if isinstance(r.get("exits", []), list) else [None]:
            if not isinstance(x, dict) or "to" not in x:
                raise RulesError(f"{where}: each exit needs a room to lead to (to = 2)")
            _known(f"{where} exit", x, _EXIT_KEYS)
            if x.get("dir", "") not in ("", *DIRECTIONS):
                raise RulesError(f"{where}: exit dir {str(x['dir'])[:8]!r} is not one of "
                                 f"{' '.join(DIRECTIONS)}")
        enc = r.get("encounter")
        if isinstance(enc, dict) and isinstance(enc.get("monsters"), list):
            for pair in enc["monsters"]:
                if not (isinstance(pair, list) and len(pair) == 2 and isinstance(pair[0], str)
                        and isinstance(pair[1], int) and 1 <= pair[1] <= 20):
                    raise RulesError(f"{where}: encounter monsters are [\"name\", 1-20] pairs")
                try:
                    content.resolve_monster(pair[0], custom)
                except RulesError as err:
                    raise RulesError(f"{where}: {err}") from None


def _known(where: str, d: Any, keys: set[str]) -> None:
    if not isinstance(d, dict):
        raise RulesError(f"{where} must be a table")
    extra = sorted(str(k) for k in d if k not in keys)
    if extra:
        raise RulesError(f"{where}: unknown key {extra[0][:24]!r}; keys are "
                         f"{', '.join(sorted(keys))}")


def _wares(names: list[str], room: Any) -> tuple[str, ...]:
    """A room's shop as gear indexes; RulesError ("did you mean") for a ware not in the SRD."""
    from rules import content, shop

    try:
        return tuple(shop.find_gear(str(n), list(content.gear())) for n in names)
    except RulesError as err:
        raise RulesError(f"room {room} shop: {err}") from None
