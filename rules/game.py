"""The game state and `apply`: validate an intent, then mutate the state and return events."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from rules import combat, dice, dm, explore, features, shop, spells, turns
from rules import intents as it
from rules.combat import close_cost, weapon_spec
from rules.creature import Entity
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.explore import spawn
from rules.house import DEFAULT_HOUSE
from rules.turns import award_xp, start_combat


@dataclass
class Game:
    """All mutable state of one game; to_dict/from_dict round-trip exactly."""

    dungeon: Dungeon
    room: int
    entities: dict[int, Entity] = field(default_factory=dict)
    next_eid: int = 1
    combat: dict[str, Any] | None = None  # {"order": [eid], "idx": int, "round": int}
    house: dict[str, Any] = field(default_factory=lambda: dict(DEFAULT_HOUSE))
    state: dict[str, list[Any]] = field(default_factory=lambda: {
        "unlocked": [], "cleared": [], "traps": [], "looted": [], "found": [], "unsealed": []})
    loot: list[str] = field(default_factory=list)
    next_d20: int | list[int] | None = None  # a DM's override: the faces the next d20s show
    bestiary: dict[str, dict[str, Any]] = field(default_factory=dict)  # custom stat blocks

    @classmethod
    def new(cls, dungeon: Dungeon, *, house_rules: dict[str, Any] | None = None,
            seed: int | None = None, monsters: list[Any] | None = None) -> Game:
        """`monsters`: custom stat blocks (rules.custom's format) this game may spawn."""
        del seed  # the RNG is passed to apply; accepted for HACKING.md's signature
        g = cls(dungeon=dungeon, room=dungeon.start)
        g.house.update(house_rules or {})
        g.add_monsters(monsters or [])
        return g

    def add_monsters(self, docs: list[Any]) -> None:
        """Check custom stat blocks and keep them in the state, so replays need no files."""
        from rules import content
        from rules.custom import validate_monster

        for doc in docs:
            rec = validate_monster(doc)
            content.register_custom(rec)
            self.bestiary[rec["index"]] = rec

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self, *, copy: bool = True) -> dict[str, Any]:
        """The state as plain data; copy=False shares the live containers (read-only use)."""
        return {"dungeon": self.dungeon.source, "room": self.room,
                "entities": [e.to_dict() if copy else e.fields()
                             for e in self.entities.values()],
                "next_eid": self.next_eid,
                "combat": (json.loads(json.dumps(self.combat)) if copy else self.combat)
                if self.combat else None,
                "house": dict(self.house), "state": {k: list(v) for k, v in self.state.items()},
                "loot": list(self.loot),
                # only when set, so games without an override keep their digests
                **({"next_d20": self.next_d20} if self.next_d20 is not None else {}),
                **({"bestiary": [dict(m) for m in self.bestiary.values()]}
                   if self.bestiary else {})}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Game:
        g = cls(dungeon=Dungeon.from_dict(d["dungeon"]), room=int(d["room"]))
        g.entities = {int(e["eid"]): Entity.from_dict(json.loads(json.dumps(e)))
                      for e in d["entities"]}
        g.next_eid = int(d["next_eid"])
        g.combat = json.loads(json.dumps(d["combat"])) if d.get("combat") else None
        g.house = dict(d["house"])
        g.state = {k: list(v) for k, v in d["state"].items()}
        g.loot = list(d.get("loot", []))
        g.next_d20 = d.get("next_d20")
        g.add_monsters(list(d.get("bestiary", [])))
        return g

    def canonical(self) -> bytes:
        # No copy: the bytes are the same, and digests follow every command (replay, the node).
        # Entity.fields gives effect and condition records as plain data, as to_dict does.
        return json.dumps(self.to_dict(copy=False), sort_keys=True,
                          separators=(",", ":")).encode()

    def digest(self) -> int:
        return int.from_bytes(hashlib.blake2b(self.canonical(), digest_size=4).digest(), "big")

    # -- lookups ------------------------------------------------------------------------
    def light_at(self, room: int) -> str:
        light = self.dungeon.rooms[room].light if room in self.dungeon.rooms else "bright"
        return "dim" if light == "dark" and self.house.get("torches", True) else light

    def here(self, room: int | None = None) -> list[Entity]:
        r = self.room if room is None else room
        return [e for e in self.entities.values() if e.room == r and not e.fled]

    def foes_of(self, e: Entity) -> list[Entity]:
        """The creatures in e's room on another side that are still in the fight."""
        return [o for o in self.here(e.room) if o.side != e.side and o.in_fight]

    def friends_of(self, e: Entity) -> list[Entity]:
        """The creatures in e's room on e's side, e too, the fallen but not the dead."""
        return [o for o in self.here(e.room) if o.side == e.side and not o.dead]

    def find(self, ref: it.Ref, *, room: int | None = None, living: bool = False) -> Entity:
        pool = self.here(room)
        if living:
            pool = [e for e in pool if not e.dead]
        if isinstance(ref, int):
            for e in pool:
                if e.eid == ref:
                    return e
            raise RulesError(f"no creature #{ref} here")
        from rules import fuzzy

        # a living creature wins a name shared with a dead one
        names = {e.name: e for e in pool} | {e.name: e for e in pool if not e.dead}
        hit = fuzzy.best_match(str(ref), list(names))
        if hit is None:
            raise RulesError(f"no one called {str(ref)[:20]!r} here")
        return names[hit]

    def party(self) -> list[Entity]:
        return [e for e in self.entities.values() if e.side == "party"]

    def current_turn(self) -> int | None:
        if not self.combat:
            return None
        return self.combat["order"][self.combat["idx"]]

    # -- GameView -----------------------------------------------------------------------
    def name_of(self, eid: int) -> str:
        e = self.entities.get(eid)
        return e.name if e else f"#{eid}"

    def controller(self, eid: int) -> str:
        e = self.entities.get(eid)
        return "player" if e is not None and e.kind == "pc" else "monster"

    def party_eids(self) -> list[int]:
        return [e.eid for e in self.party()]

    def monster_eids(self) -> list[int]:
        return [e.eid for e in self.entities.values() if e.side == "monsters"]

    def entity(self, eid: int) -> Entity:
        try:
            return self.entities[eid]
        except KeyError:
            raise RulesError(f"no creature #{eid}") from None

    def describe_room(self, room: int, viewer: int) -> str:
        from rules import view

        return view.describe_room(self, room, viewer)

    def describe(self, eid: int, what: str) -> str:
        from rules import view

        return view.describe(self, eid, what)


# -- apply --------------------------------------------------------------------------
def apply(game: Game, actor: int | None, intent: Any, rng: random.Random) -> list[Any]:
    """Resolve one intent. Every check runs before the first change, so a RulesError
    leaves `game` exactly as it was."""
    handler = _HANDLERS.get(type(intent))
    if handler is None:
        raise RulesError(f"cannot do {type(intent).__name__} here")
    if isinstance(intent, it.Join | it.Make) or (isinstance(intent, it.Dm)
                                                 and intent.op == "set_roll"):
        return handler(game, None, intent, rng)
    if isinstance(intent, it.Dm):  # turn starts and initiative roll the DM's faces too
        return _loaded(game, handler, None, intent, rng)
    if actor is None:
        raise RulesError("who is acting?")
    ent = game.entities.get(actor)
    if ent is None:
        raise RulesError(f"no creature #{actor}")
    if isinstance(intent, it.Query | it.Look | it.Say):
        return handler(game, ent, intent, rng)
    if ent.dead and not (isinstance(intent, it.EndTurn) and game.combat is not None
                         and game.current_turn() == ent.eid):
        raise RulesError(f"{ent.name} is dead")  # one killed on its own turn can still end it
    return _loaded(game, handler, ent, intent, rng)


def _loaded(game: Game, handler: Any, ent: Entity | None, intent: Any,
            rng: random.Random) -> list[Any]:
    """Run a handler with the DM's chosen d20 faces, if any are waiting."""
    if game.next_d20 is None:
        return handler(game, ent, intent, rng)
    loaded = dice.LoadedD20(rng, game.next_d20)
    events = handler(game, ent, intent, loaded)
    if loaded.used:  # each face lasts until a d20 is actually rolled
        left = loaded.left
        game.next_d20 = None if not left else (left if len(left) > 1 else left[0])
    return events


_HANDLERS = {
    it.Join: explore.join, it.Look: explore.look, it.Move: explore.move,
    it.Attack: combat.attack, it.Cast: spells.cast, it.Use: features.use,
    it.Roll: explore.roll, it.Dodge: combat.dodge, it.Dash: combat.dash,
    it.Disengage: combat.disengage, it.Hide: combat.hide, it.Search: explore.search,
    it.HelpAlly: combat.help_ally, it.Grapple: combat.grapple, it.Shove: combat.shove,
    it.Approach: combat.approach, it.EndTurn: turns.end_turn, it.Say: explore.say,
    it.Query: explore.query, it.Rest: explore.rest, it.Dm: dm.dm, it.Make: explore.make,
    it.Advance: turns.advance, it.Trade: shop.trade,
}

# Re-exported for callers that build fights directly (encounter simulation, benchmarks).
__all__ = ["Game", "apply", "award_xp", "close_cost", "spawn", "start_combat", "weapon_spec"]
