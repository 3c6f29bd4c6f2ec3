"""The game state and `apply`: validate an intent, then mutate the state and return events."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any

from rules import content, dice, resolver
from rules import events as ev
from rules import intents as it
from rules.creature import Entity, from_monster, new_turn
from rules.dungeon import Dungeon
from rules.errors import RulesError

# auto_reactions: shield and counterspell fire by themselves (text play cannot interrupt);
# auto_level: crossing an XP threshold levels up; torches: the party carries light, so a
# dark room is dim for fights.
DEFAULT_HOUSE = {"auto_reactions": True, "auto_level": True, "torches": True}
NEAR_TO_ENGAGED = 10  # feet of movement to close from near to engaged
FAR_TO_NEAR = 30


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

    @classmethod
    def new(cls, dungeon: Dungeon, *, house_rules: dict[str, Any] | None = None,
            seed: int | None = None) -> Game:
        del seed  # the RNG is passed to apply; accepted for HACKING.md's signature
        g = cls(dungeon=dungeon, room=dungeon.start)
        g.house.update(house_rules or {})
        return g

    # -- serialisation ------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {"dungeon": self.dungeon.source, "room": self.room,
                "entities": [e.to_dict() for e in self.entities.values()],
                "next_eid": self.next_eid,
                "combat": json.loads(json.dumps(self.combat)) if self.combat else None,
                "house": dict(self.house), "state": {k: list(v) for k, v in self.state.items()},
                "loot": list(self.loot)}

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
        return g

    def canonical(self) -> bytes:
        return json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()

    def digest(self) -> int:
        return int.from_bytes(hashlib.blake2b(self.canonical(), digest_size=4).digest(), "big")

    # -- lookups ------------------------------------------------------------------------
    def light_at(self, room: int) -> str:
        light = self.dungeon.rooms[room].light if room in self.dungeon.rooms else "bright"
        return "dim" if light == "dark" and self.house.get("torches", True) else light

    def here(self, room: int | None = None) -> list[Entity]:
        r = self.room if room is None else room
        return [e for e in self.entities.values() if e.room == r and not e.fled]

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

        names = {e.name: e for e in pool if not e.dead} | {e.name: e for e in pool}
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
    if isinstance(intent, it.Join | it.Dm):
        return handler(game, None, intent, rng)
    if actor is None:
        raise RulesError("who is acting?")
    ent = game.entities.get(actor)
    if ent is None:
        raise RulesError(f"no creature #{actor}")
    if isinstance(intent, it.Query | it.Look | it.Say):
        return handler(game, ent, intent, rng)
    if ent.dead:
        raise RulesError(f"{ent.name} is dead")
    return handler(game, ent, intent, rng)


def _in_turn(game: Game, ent: Entity) -> None:
    if game.combat is None:
        raise RulesError("not in combat")
    if game.current_turn() != ent.eid:
        raise RulesError(f"not your turn; it is {game.name_of(game.current_turn() or 0)}'s")
    if ent.incapacitated:
        raise RulesError(f"{ent.name} cannot act")


def _need(ent: Entity, slot: str, what: str) -> None:
    if ent.turn.get(slot, 0) <= 0:
        word = {"action": "action", "bonus": "bonus action"}[slot]
        raise RulesError(f"no {word} left for {what}")


# -- joining, looking, moving -------------------------------------------------------
def _join(game: Game, _a: Entity | None, i: it.Join, rng: random.Random) -> list[Any]:
    from rules import pregen

    name = i.name.strip()[:16]
    if not name:
        raise RulesError("a character needs a name")
    if any(e.name.lower() == name.lower() for e in game.entities.values() if not e.dead):
        raise RulesError(f"{name} is already here")
    pc = pregen.character(name, i.cls, i.level, eid=game.next_eid)
    pc.room = game.room
    game.next_eid += 1
    game.entities[pc.eid] = pc
    out: list[Any] = [ev.Joined(pc.eid, pc.name, pc.cls, pc.level)]
    if game.combat:
        game.combat["order"].append(pc.eid)
    return out


def _look(game: Game, a: Entity, _i: it.Look, _r: random.Random) -> list[Any]:
    return [ev.RoomView(a.room, a.eid)]


def _say(game: Game, a: Entity, i: it.Say, _r: random.Random) -> list[Any]:
    text = " ".join(i.text.split())[:120]
    if not text:
        raise RulesError("say what?")
    return [ev.Said(a.eid, text)]


def _query(game: Game, a: Entity, i: it.Query, _r: random.Random) -> list[Any]:
    if i.what not in ("help", "hp", "sheet", "inv", "status"):
        raise RulesError("ask for hp, sheet, inv, status or help")
    return []


def _move(game: Game, a: Entity, i: it.Move, rng: random.Random) -> list[Any]:
    word = i.exit.strip().lower()
    if game.combat is not None:
        return _combat_move(game, a, word, rng)
    if a.side != "party":
        raise RulesError("monsters move only in combat")
    x = game.dungeon.find_exit(game.room, word)
    key = f"{game.room}:{x.to}"
    rkey = f"{x.to}:{game.room}"
    opened = key in game.state["unlocked"] or rkey in game.state["unlocked"]
    party = [e for e in game.party() if not e.dead and e.room == game.room]
    if x.dm_only and key not in game.state["unsealed"] and rkey not in game.state["unsealed"]:
        raise RulesError("that way is sealed; only the DM can open it")
    if x.min_level and max((e.level for e in party), default=0) < x.min_level:
        raise RulesError(f"that way needs a level {x.min_level} character")
    out: list[Any] = []
    if x.locked and not opened:
        if x.key and any(x.key in e.inventory for e in party) or x.key in game.loot:
            out.append(ev.Info(a.eid, f"unlocked with the {x.key}"))
        elif x.dc:
            tools = "thieves' tools" in a.inventory
            ability = "dex" if tools else "str"
            skill = "sleight-of-hand" if tools else "athletics"
            nat, _ = dice.d20(rng, 0)
            total = nat + a.skill_mod(skill, ability) + (a.prof if tools else 0)
            ok = total >= x.dc
            out.append(ev.Rolled(a.eid, "pick lock" if tools else "force door", nat, total,
                                 x.dc, ok))
            if not ok:
                out.append(ev.Info(a.eid, "the door holds"))
                return out
        else:
            raise RulesError(f"locked; it needs the {x.key or 'right key'}")
        game.state["unlocked"].append(key)
    game.room = x.to
    for e in party:
        e.room = x.to
        e.band = "near"
        e.engaged.clear()
    out.append(ev.Entered(x.to, tuple(e.eid for e in party)))
    out += _enter_room(game, party, rng)
    return out


def _enter_room(game: Game, party: list[Entity], rng: random.Random) -> list[Any]:
    room = game.dungeon.room(game.room)
    out: list[Any] = []
    if room.trap and room.id not in game.state["traps"]:
        game.state["traps"].append(room.id)
        best = max(party, key=lambda e: e.passive())
        if best.passive() - (5 if room.light != "bright" and not best.darkvision else 0) \
                >= room.trap.detect_dc:
            out.append(ev.Info(best.eid, "spotted a trap and steered clear"))
        else:
            t = room.trap
            for e in party:
                ok = resolver.saving_throw(game, e, t.save, t.dc, rng, out, f"trap {t.save} save")
                amount = dice.total(t.damage, rng)
                amount = amount // 2 if ok and t.half else (0 if ok else amount)
                if amount:
                    resolver.deal(game, e, amount, t.dtype, out, rng=rng)
    live = [m for m in game.here() if m.side == "monsters" and not m.down]
    if room.encounter and room.id not in game.state["cleared"] and not live:
        for name, count in room.encounter.monsters:
            out += spawn(game, name, count, room.encounter.band)
        live = [m for m in game.here() if m.side == "monsters" and not m.down]
    if live:
        out += start_combat(game, rng)
    return out


def spawn(game: Game, name: str, count: int = 1, band: str = "near") -> list[Any]:
    from rules import tactics

    m = content.monster(name)
    out = []
    same = sum(1 for e in game.entities.values() if e.monster == m["index"])
    short = m["name"].split()[-1][:8]
    for k in range(count):
        label = f"{short}{same + k + 1}" if count > 1 or same else m["name"]
        e = from_monster(game.next_eid, label, m, tactics.profile_for(m))
        e.room = game.room
        e.band = band
        game.entities[e.eid] = e
        game.next_eid += 1
        out.append(ev.Spawned(e.eid, m["index"], e.name))
    return out


# -- combat flow --------------------------------------------------------------------
def start_combat(game: Game, rng: random.Random) -> list[Any]:
    if game.combat is not None:
        return []
    fighters = [e for e in game.here() if not e.down]
    rolls = []
    out: list[Any] = []
    for e in fighters:
        nat, _ = dice.d20(rng, 0)
        total = nat + e.mod("dex")
        out.append(ev.Rolled(e.eid, "initiative", nat, total))
        rolls.append((total, e.mod("dex"), rng.random(), e.eid))  # ties: DEX, then a roll-off
    order = [eid for *_k, eid in sorted(rolls, reverse=True)]
    game.combat = {"order": order, "idx": 0, "round": 1}
    out.insert(0, ev.CombatStarted(tuple(order)))
    out += _begin_turn(game, rng)
    return out


def _begin_turn(game: Game, rng: random.Random) -> list[Any]:
    """Start the current creature's turn; skip (and auto-resolve) those who cannot act."""
    out: list[Any] = []
    for _guard in range(4 * len(game.combat["order"]) + 4):
        if _check_end(game, out):
            return out
        eid = game.current_turn()
        e = game.entities[eid]
        if e.dead or e.fled:
            _advance_idx(game)
            continue
        out.append(ev.TurnStarted(game.combat["round"], eid))
        e.turn = new_turn()
        e.turn["move"] = e.effective_speed()
        e.reaction = True
        for other in game.entities.values():
            if any(x.get("until_turn") == eid for x in other.effects):
                other.effects[:] = [x for x in other.effects if x.get("until_turn") != eid]
        for name, ready in list(e.recharge.items()):
            if not ready:
                act = next((a for a in e.actions if a["name"] == name), None)
                need = min(act["recharge"]) if act and act.get("recharge") else 6
                if rng.randint(1, 6) >= need:
                    e.recharge[name] = True
        if e.legendary:
            e.res["legendary"] = e.legendary
        _auras(game, e, rng, out)
        if e.dying:
            resolver.death_save(game, e, rng, out)
        skip = any(x.get("lose_turn") for x in e.effects)
        if skip:
            e.effects[:] = [x for x in e.effects if not x.get("lose_turn")]
        if e.has("prone") and not e.incapacitated and e.hp > 0 and e.turn["move"]:
            # Text play stands a prone creature up at once: it costs half its speed.
            resolver.remove_condition(game, e, "prone", out)
            e.turn["move"] -= e.effective_speed() // 2
        if e.incapacitated or e.hp <= 0 or skip:
            out += _end_turn_effects(game, e, rng)
            _advance_idx(game)
            continue
        return out
    return out


def _auras(game: Game, e: Entity, rng: random.Random, out: list[Any]) -> None:
    sources = []
    for x in e.effects:
        if x.get("aura") and not x.get("aura_self"):
            sources.append(x)
    for eid in e.engaged:
        other = game.entities.get(eid)
        if other and other.side != e.side:
            sources += [x for x in other.effects if x.get("aura_self")]
    for x in sources:
        ok = resolver.saving_throw(game, e, x["aura_save"], int(x["dc"]), rng, out)
        amount = dice.total(x["aura"], rng)
        resolver.deal(game, e, amount // 2 if ok else amount, x["aura_type"], out, rng=rng)


def _end_turn_effects(game: Game, e: Entity, rng: random.Random) -> list[Any]:
    out: list[Any] = []
    for cond, info in list(e.conditions.items()):
        if info.get("save") and not e.dead and resolver.saving_throw(
                game, e, str(info["save"]), int(info["dc"]), rng, out, f"{cond} save"):
            resolver.remove_condition(game, e, cond, out)
            continue
        r = int(info.get("rounds", -1))
        if r > 0:
            if r == 1:
                resolver.remove_condition(game, e, cond, out)
            else:
                info["rounds"] = r - 1
    keep = []
    for x in e.effects:
        r = int(x.get("rounds", 0))
        if r == 1:
            if x["name"] == e.conc and x.get("src") == e.eid:
                e.conc = ""
            continue
        if r > 1:
            x["rounds"] = r - 1
        keep.append(x)
    e.effects[:] = keep
    return out


def _advance_idx(game: Game) -> None:
    c = game.combat
    c["idx"] += 1
    if c["idx"] >= len(c["order"]):
        c["idx"] = 0
        c["round"] += 1


def _check_end(game: Game, out: list[Any]) -> bool:
    if game.combat is None:
        return True
    fighters = [game.entities[x] for x in game.combat["order"] if x in game.entities]
    foes = [e for e in fighters if e.side == "monsters" and not e.down]
    friends = [e for e in fighters if e.side == "party" and not e.down]
    if foes and friends:
        return False
    if foes:
        xp = 0
        loot: tuple[str, ...] = ()
    else:
        xp = sum(e.xp for e in fighters if e.side == "monsters" and (e.dead or e.hp <= 0))
        room = game.dungeon.rooms.get(game.room)
        loot = ()
        if room and room.encounter and room.id not in game.state["cleared"]:
            game.state["cleared"].append(room.id)
            loot = room.encounter.loot + tuple(x for x in room.loot)
        game.loot += list(loot)
    game.combat = None
    out.append(ev.CombatEnded(xp, loot))
    for e in game.party():
        e.fled = False
        e.engaged.clear()
        e.effects[:] = [x for x in e.effects if not (x.get("until_turn") or x.get("dodge"))]
    if xp:
        out += award_xp(game, xp)
    return True


def award_xp(game: Game, xp: int) -> list[Any]:
    """XP is shared by living party members; crossing a threshold levels up automatically
    (house rule auto_level, default on), otherwise the DM uses Dm(op="level_up")."""
    from rules import pregen

    alive = [e for e in game.party() if not e.dead and e.room == game.room]
    out: list[Any] = []
    if not alive:
        return out
    share = xp // len(alive)
    for e in alive:
        e.xp += share
        if game.house.get("auto_level", True) and e.level < pregen.MAX_LEVEL \
                and pregen.xp_level(e.xp) > e.level:
            out += level_up(game, e, pregen.xp_level(e.xp))
    return out


def level_up(game: Game, e: Entity, level: int) -> list[Any]:
    from rules import pregen

    fresh = pregen.character(e.name, e.cls, level, eid=e.eid)
    gain = fresh.max_hp - e.max_hp
    fresh.hp = max(0, e.hp + gain) if not e.dead else 0
    fresh.dead, fresh.room, fresh.inventory = e.dead, e.room, e.inventory
    fresh.xp = max(e.xp, fresh.xp)
    fresh.conditions, fresh.effects = e.conditions, e.effects
    fresh.slots = [min(m, s + (m - om)) for s, m, om in zip(e.slots, fresh.max_slots,
                                                             e.max_slots, strict=True)]
    game.entities[e.eid] = fresh
    return [ev.LevelledUp(e.eid, level)]


def _end_turn(game: Game, a: Entity, _i: it.EndTurn, rng: random.Random) -> list[Any]:
    _in_turn_loose(game, a)
    out = _end_turn_effects(game, a, rng)
    _advance_idx(game)
    out += _begin_turn(game, rng)
    return out


def _in_turn_loose(game: Game, a: Entity) -> None:
    if game.combat is None:
        raise RulesError("not in combat")
    if game.current_turn() != a.eid:
        raise RulesError("not your turn")


# -- movement in combat -------------------------------------------------------------
def _hostiles_engaged(game: Game, a: Entity) -> list[Entity]:
    return [game.entities[o] for o in a.engaged
            if game.entities[o].side != a.side and not game.entities[o].incapacitated]


def _leave_engagement(game: Game, a: Entity, rng: random.Random) -> list[Any]:
    """Break away from every engaged foe; each may make an opportunity attack."""
    out: list[Any] = []
    if not a.turn.get("disengaged"):
        for foe in _hostiles_engaged(game, a):
            if foe.reaction and not a.dead:
                spec = melee_spec(foe)
                if spec is not None:
                    foe.reaction = False
                    out.append(ev.ActionTaken(foe.eid, "opportunity attack", a.eid))
                    resolver.attack(game, foe, a, spec, rng, out)
    for o in list(a.engaged):
        other = game.entities[o]
        if a.eid in other.engaged:
            other.engaged.remove(a.eid)
    a.engaged.clear()
    return out


def _combat_move(game: Game, a: Entity, word: str, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    if word in ("back", "away", "near", "withdraw", "far", "retreat"):
        band = "far" if word in ("far", "retreat") else "near"
        cost = FAR_TO_NEAR if band == "far" and a.band != "far" else NEAR_TO_ENGAGED
        if not a.engaged and a.band == band:
            raise RulesError(f"already {band}")
        if a.turn["move"] < cost:
            raise RulesError("not enough movement left; dash first")
        a.turn["move"] -= cost
        out = _leave_engagement(game, a, rng)
        if not a.dead and a.hp > 0:
            a.band = band
            out.append(ev.Moved(a.eid, band))
        if game.combat:
            _check_end(game, out)
        return out
    if a.side == "monsters" and word == "flee":
        x = None
    else:
        x = game.dungeon.find_exit(a.room, word)
        if x.locked and f"{a.room}:{x.to}" not in game.state["unlocked"] \
                and f"{x.to}:{a.room}" not in game.state["unlocked"]:
            raise RulesError("that way is locked")
    need = FAR_TO_NEAR if a.band != "far" else 0
    if a.turn["move"] < need:
        raise RulesError("not enough movement left to get away; dash first")
    a.turn["move"] = 0
    out = _leave_engagement(game, a, rng)
    if a.dead or a.hp <= 0:
        return out
    a.fled = True
    out.append(ev.ActionTaken(a.eid, "flee"))
    if a.side == "party" and all(e.down for e in game.party() if e.room == game.room):
        dest = x.to if x else game.room
        out += _end_combat_retreat(game, dest)
        return out
    out += _after_action(game, a, rng)
    return out


def _end_combat_retreat(game: Game, dest: int) -> list[Any]:
    out: list[Any] = [ev.CombatEnded(0, ())]
    game.combat = None
    for e in game.party():
        if e.room == game.room and e.fled:
            e.fled = False
            e.room = dest
            e.engaged.clear()
    for m in game.entities.values():
        m.engaged.clear()
    game.room = dest
    return out


def _approach(game: Game, a: Entity, i: it.Approach, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    t = game.find(i.target, room=a.room, living=True)
    if t.eid == a.eid:
        raise RulesError("you cannot approach yourself")
    if t.eid in a.engaged:
        raise RulesError(f"already engaged with {t.name}")
    cost = close_cost(a, t)
    if cost > a.turn["move"]:
        raise RulesError("not enough movement left; dash first")
    return _close(a, t, cost)


def close_cost(a: Entity, t: Entity) -> int:
    far = a.band == "far" or t.band == "far"
    return NEAR_TO_ENGAGED + (FAR_TO_NEAR if far else 0)


def _close(a: Entity, t: Entity, cost: int) -> list[Any]:
    a.turn["move"] -= cost
    a.band = "near"
    t.band = "near" if t.band == "far" else t.band
    a.engaged.append(t.eid)
    if a.eid not in t.engaged:
        t.engaged.append(a.eid)
    return [ev.Moved(a.eid, "engaged", t.eid)]


# -- attacks ------------------------------------------------------------------------
def melee_spec(e: Entity) -> dict[str, Any] | None:
    if e.kind == "pc":
        w = next((w for w in e.weapons if w["kind"] == "melee"), None)
        return weapon_spec(e, w) if w else None
    a = next((a for a in e.actions if a.get("kind") == "melee" and a.get("damage")), None)
    return resolver.action_spec(a) if a else None


def weapon_spec(e: Entity, w: dict[str, Any], *, offhand: bool = False,
                thrown: bool = False) -> dict[str, Any]:
    m = e.mod(w["ability"])
    dmg = w["dice"]
    rng_ft = list(w["range"])
    return {"name": w["name"], "bonus": m + e.prof, "kind": "ranged" if thrown else w["kind"],
            "range": rng_ft, "damage": [[dmg, w["type"]]],
            "dmg_bonus": min(m, 0) if offhand else m, "weapon": True,
            "finesse": w.get("ability") == "dex" and w["kind"] == "melee",
            "ability": w["ability"]}


def _pick_weapon(a: Entity, ref: it.Ref | None, t: Entity) -> dict[str, Any]:
    if ref is not None:
        from rules import fuzzy

        names = [w["name"] for w in a.weapons]
        hit = fuzzy.best_match(str(ref), names) if not isinstance(ref, int) else (
            names[ref] if 0 <= ref < len(names) else None)
        if hit is None:
            raise RulesError(f"no weapon like {str(ref)[:20]!r}; you have {', '.join(names)}")
        return next(w for w in a.weapons if w["name"] == hit)
    # Default: the first-listed (main) weapon; fall back to the other kind when the main one
    # cannot be used well (melee out of reach, or ranged while engaged).
    melee = [w for w in a.weapons if w["kind"] == "melee"]
    ranged = [w for w in a.weapons if w["kind"] == "ranged"]
    main = a.weapons[0]
    if main["kind"] == "melee":
        reachable = t.eid in a.engaged or close_cost(a, t) <= a.turn.get("move", 0)
        return main if reachable or not ranged else ranged[0]
    return melee[0] if a.engaged and melee else main


def _attack(game: Game, a: Entity, i: it.Attack, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    t = game.find(i.target, room=a.room, living=True)
    if t.eid == a.eid:
        raise RulesError("you cannot attack yourself")
    if t.side == a.side and a.kind == "monster":
        raise RulesError("monsters do not attack their own")
    if "charmed" in a.conditions and a.conditions["charmed"].get("src") == t.eid:
        raise RulesError(f"{a.name} is charmed by {t.name}")
    if a.kind == "monster":
        return _monster_attack(game, a, t, i.weapon, rng)
    w = _pick_weapon(a, i.weapon, t)
    slot = _attack_slot(a, w)
    spec = weapon_spec(a, w, offhand=slot == "offhand")
    out: list[Any] = []
    if w["kind"] == "melee" and t.eid not in a.engaged:
        if w.get("thrown") and len(w["range"]) and _thrown_range(w):
            spec = weapon_spec(a, w, thrown=True)
            spec["range"] = _thrown_range(w)
        else:
            cost = close_cost(a, t)
            if cost > a.turn["move"]:
                raise RulesError(f"{t.name} is out of reach; approach or dash first")
            out += _close(a, t, cost)
    if w["kind"] == "ranged" and resolver.distance(a, t) > max(w["range"]):
        raise RulesError(f"{t.name} is out of range")
    _spend_attack(a, slot)
    resolver.attack(game, a, t, spec, rng, out)
    out += _after_action(game, a, rng)
    return out


def _thrown_range(w: dict[str, Any]) -> list[int] | None:
    from rules import content as c

    try:
        data = c.weapon(w["name"])
    except RulesError:
        return None
    tr = data.get("throw_range")
    return list(tr) if tr else None


def _attack_slot(a: Entity, w: dict[str, Any]) -> str:
    if a.turn["attacks"] > 0:
        return "attack"
    if a.turn["action"] > 0:
        return "action"
    if a.turn["bonus"] > 0 and a.turn.get("attacked"):
        if a.cls == "monk" and (w.get("monk") or w["name"] == "unarmed strike"):
            return "offhand_monk"
        if w.get("light") and w["kind"] == "melee":
            return "offhand"
    raise RulesError("no attacks left this turn")


def _spend_attack(a: Entity, slot: str) -> None:
    if slot == "action":
        a.turn["action"] -= 1
        a.turn["attacks"] = 1 if a.level >= 5 and a.cls in _extra_attack() else 0
    elif slot == "attack":
        a.turn["attacks"] -= 1
    else:
        a.turn["bonus"] -= 1


def _extra_attack() -> frozenset[str]:
    from rules.pregen import EXTRA_ATTACK

    return EXTRA_ATTACK


def _monster_attack(game: Game, m: Entity, t: Entity, ref: it.Ref | None,
                    rng: random.Random) -> list[Any]:
    act = pick_action(m, ref, t)
    _need(m, "action", act["name"])
    if act.get("recharge") and not m.recharge.get(act["name"], True):
        raise RulesError(f"{act['name']} is recharging")
    if act.get("per_day") and m.per_day.get(act["name"], 0) <= 0:
        raise RulesError(f"{act['name']} is used up today")
    out: list[Any] = []
    reach_needed = act.get("kind") == "melee" or (
        act.get("kind") == "multiattack" and _multi_is_melee(m, act))
    if reach_needed and t.eid not in m.engaged:
        cost = close_cost(m, t)
        if cost > m.turn["move"]:
            raise RulesError(f"{t.name} is out of reach")
        out += _close(m, t, cost)
    m.turn["action"] -= 1
    if act.get("recharge"):
        m.recharge[act["name"]] = False
    if act.get("per_day"):
        m.per_day[act["name"]] -= 1
    out.append(ev.ActionTaken(m.eid, act["name"].lower(), t.eid))
    run_action(game, m, act, t, rng, out)
    out += _after_action(game, m, rng)
    return out


def _multi_is_melee(m: Entity, act: dict[str, Any]) -> bool:
    for part in act.get("multiattack") or []:
        sub = next((a for a in m.actions if a["name"] == part["action"]), None)
        if sub and sub.get("kind") == "melee":
            return True
    return False


def pick_action(m: Entity, ref: it.Ref | None, t: Entity) -> dict[str, Any]:
    usable = [a for a in m.actions if a.get("kind") in ("melee", "ranged", "save", "multiattack")]
    if not usable:
        raise RulesError(f"{m.name} has no attack")
    if ref is None:
        multi = [a for a in usable if a["kind"] == "multiattack"]
        if multi:
            return multi[0]
        if t.eid in m.engaged or not any(a["kind"] == "ranged" for a in usable):
            return next((a for a in usable if a["kind"] == "melee"), usable[0])
        return next(a for a in usable if a["kind"] == "ranged")
    if isinstance(ref, int):
        if 0 <= ref < len(m.actions) and m.actions[ref] in usable:
            return m.actions[ref]
        raise RulesError(f"{m.name} has no attack #{ref}")
    from rules import fuzzy

    hit = fuzzy.best_match(ref, [a["name"] for a in usable])
    if hit is None:
        raise RulesError(f"{m.name} has no action like {ref[:20]!r}")
    return next(a for a in usable if a["name"] == hit)


def run_action(game: Game, m: Entity, act: dict[str, Any], t: Entity, rng: random.Random,
               out: list[Any]) -> None:
    """One monster action; a multiattack runs its parts, retargeting if the target falls."""
    if act.get("kind") == "multiattack":
        for part in act.get("multiattack") or []:
            sub = next((a for a in m.actions if a["name"] == part["action"]), None)
            if sub is None or sub.get("kind") == "multiattack":
                continue
            for _ in range(int(part.get("count", 1))):
                if t.down:
                    nxt = next((game.entities[o] for o in m.engaged
                                if not game.entities[o].down
                                and game.entities[o].side != m.side), None)
                    if nxt is None:
                        return
                    t = nxt
                if sub.get("kind") == "melee" and t.eid not in m.engaged:
                    continue
                run_action(game, m, sub, t, rng, out)
        return
    if act.get("kind") == "save":
        targets = [t]
        if act.get("area"):
            targets += [e for e in game.here(m.room) if e.side == t.side and e.eid != t.eid
                        and not e.down][:2]
        resolver.monster_save_action(game, m, act, targets, rng, out)
        return
    spec = resolver.action_spec(act)
    if spec["damage"] or spec["bonus"]:
        resolver.attack(game, m, t, spec, rng, out)


def _after_action(game: Game, a: Entity, rng: random.Random) -> list[Any]:
    out: list[Any] = []
    if game.combat is not None:
        _check_end(game, out)
    return out


# -- spells -------------------------------------------------------------------------
def _cast(game: Game, a: Entity, i: it.Cast, rng: random.Random) -> list[Any]:
    in_combat = game.combat is not None
    if in_combat:
        _in_turn(game, a)
    elif a.incapacitated:
        raise RulesError(f"{a.name} cannot act")
    spell = _known_spell(a, i.spell)
    fx = resolver.effects_table().get(spell["index"])
    if fx is None:
        raise RulesError(f"{spell['name']} is not mechanised yet")
    base = int(spell["level"])
    level = base if i.level is None else int(i.level)
    if a.pact and base:
        level = max(level, next((k + 1 for k, n in enumerate(a.max_slots) if n), base))
    if base and not base <= level <= 9:
        raise RulesError(f"{spell['name']} needs a level {base}+ slot")
    if base and a.slots[level - 1] <= 0:
        raise RulesError(f"no level {level} slots left")
    ctime = spell.get("casting_time", "1 action")
    slot = "bonus" if "bonus" in ctime else ("reaction" if "reaction" in ctime else "action")
    if in_combat:
        if slot == "reaction":
            if not a.reaction:
                raise RulesError("reaction already used")
        else:
            _need(a, slot, spell["name"])
    targets = _spell_targets(game, a, spell, fx, i.target)
    out: list[Any] = []
    melee = (fx.get("attack") or spell.get("attack")) == "melee"
    reach = int(spell.get("range_ft") or fx.get("range") or 0)
    if melee and in_combat and targets[0].eid not in a.engaged and targets[0].side != a.side:
        cost = close_cost(a, targets[0])
        if cost > a.turn["move"]:
            raise RulesError(f"{targets[0].name} is out of reach")
        out += _close(a, targets[0], cost)
    elif fx["targets"] in ("enemy", "area") and reach and targets[0].side != a.side:
        if resolver.distance(a, targets[0]) > max(reach, 5):
            raise RulesError(f"{targets[0].name} is out of range ({reach} ft)")
    elif fx["targets"] in ("enemy", "area") and not reach:
        size = int((spell.get("area") or {}).get("size", 5))
        if resolver.distance(a, targets[0]) > max(size, 5):
            raise RulesError(f"{targets[0].name} is too far for {spell['name']}")
    # -- all checks passed: spend and resolve --
    if base:
        a.slots[level - 1] -= 1
    if in_combat:
        if slot == "reaction":
            a.reaction = False
        else:
            a.turn[slot] -= 1
    out.append(ev.SpellCast(a.eid, spell["index"], level))
    if base and _counterspelled(game, a, level, rng, out):
        return out
    resolver.cast(game, a, spell, targets, level, rng, out)
    if in_combat:
        out += _after_action(game, a, rng)
    return out


def _counterspelled(game: Game, caster: Entity, level: int, rng: random.Random,
                    out: list[Any]) -> bool:
    if not game.house.get("auto_reactions", True) or game.combat is None:
        return False
    for e in game.here(caster.room):
        if e.side == caster.side or "counterspell" not in e.spells or not e.reaction:
            continue
        if e.incapacitated or e.hp <= 0 or not any(e.slots[2:]):
            continue
        slot = next(k for k in range(2, 9) if e.slots[k] > 0)
        e.slots[slot] -= 1
        e.reaction = False
        out.append(ev.SpellCast(e.eid, "counterspell", slot + 1))
        if level <= slot + 1:
            out.append(ev.Info(caster.eid, "the spell is countered"))
            return True
        nat, _ = dice.d20(rng, 0)
        total = nat + e.spell_mod()
        ok = total >= 10 + level
        out.append(ev.Rolled(e.eid, "counterspell", nat, total, 10 + level, ok))
        if ok:
            return True
    return False


def _known_spell(a: Entity, ref: it.Ref) -> dict[str, Any]:
    from rules import fuzzy

    if not a.spells:
        raise RulesError(f"{a.name} casts no spells")
    if isinstance(ref, int):
        if not 0 <= ref < len(a.spells):
            raise RulesError(f"no spell #{ref}")
        return resolver.spell_data(a.spells[ref])
    def norm(x: str) -> str:
        return "".join(ch for ch in x.lower() if ch.isalnum())

    try:
        whole = content.spell(str(ref))  # the SRD-wide match decides an exact name
    except RulesError:
        whole = None
    if whole is not None and whole["index"] in a.spells:
        return resolver.spell_data(whole["index"])
    if whole is not None and norm(str(ref)) in (norm(whole["name"]), norm(whole["index"])):
        raise RulesError(f"{a.name} does not know {whole['name']}")
    names = {resolver.spell_data(s)["name"]: s for s in a.spells}
    hit = fuzzy.best_match(str(ref), list(names) + a.spells)
    if hit is None:
        raise RulesError(f"{a.name} does not know {str(ref)[:20]!r}")
    return resolver.spell_data(names.get(hit, hit))


def _spell_targets(game: Game, a: Entity, spell: dict[str, Any], fx: dict[str, Any],
                   ref: it.Ref | None) -> list[Entity]:
    kind = fx.get("targets", "enemy")
    here = [e for e in game.here(a.room)]
    foes = [e for e in here if e.side != a.side and not e.down]
    friends = [e for e in here if e.side == a.side and not e.dead]
    if kind == "self":
        return [a]
    if kind in ("ally", "allies"):
        if fx.get("special") == "revive":
            t = game.find(ref, room=a.room) if ref is not None else None
            if t is None or not t.dead:
                raise RulesError("revivify needs a dead ally")
            return [t]
        first = game.find(ref, room=a.room, living=True) if ref is not None else None
        if first is None:
            hurt = sorted(friends, key=lambda e: (e.hp - e.max_hp, e.eid))
            first = hurt[0] if kind == "allies" and hurt else a
        if first.side != a.side:
            raise RulesError(f"{spell['name']} is for allies")
        if kind == "ally":
            return [first]
        rest = sorted((e for e in friends if e.eid != first.eid), key=lambda e: (e.hp, e.eid))
        return [first] + rest[: int(fx.get("max_targets", 3)) - 1]
    if ref is None:
        if len(foes) != 1:
            raise RulesError(f"cast {spell['name']} at whom?")
        first = foes[0]
    else:
        first = game.find(ref, room=a.room, living=True)
    if first.side == a.side:
        raise RulesError(f"{spell['name']} is aimed at enemies")
    if first.down:
        raise RulesError(f"{first.name} is already down")
    only = fx.get("only_types")
    if only and first.ctype not in only:
        raise RulesError(f"{spell['name']} does not work on {first.ctype or 'that'}")
    if kind == "enemy":
        return [first]
    cap = resolver.area_cap(spell.get("area")) if kind == "area" else int(
        fx.get("max_targets", 3))
    others = sorted((e for e in foes if e.eid != first.eid),
                    key=lambda e: (not set(e.engaged) & set(first.engaged), e.band != first.band,
                                   e.eid))
    return [first] + others[: cap - 1]


# -- class features and items -------------------------------------------------------
FEATURES = ("second wind", "action surge", "rage", "reckless", "smite", "lay on hands",
            "flurry", "inspiration", "spiritual weapon", "potion of healing")


def _use(game: Game, a: Entity, i: it.Use, rng: random.Random) -> list[Any]:
    from rules import fuzzy

    in_combat = game.combat is not None
    if in_combat:
        _in_turn(game, a)
    word = str(i.item).lower()
    pool = list(FEATURES) + [x for x in a.inventory if x not in FEATURES]
    hit = fuzzy.best_match(word, pool)
    if hit is None:
        raise RulesError(f"nothing called {word[:20]!r} to use")
    out: list[Any] = []

    def spend(slot: str) -> None:
        if in_combat:
            a.turn[slot] -= 1

    def need(slot: str) -> None:
        if in_combat:
            _need(a, slot, hit)

    if hit == "potion of healing":
        if hit not in a.inventory:
            raise RulesError("no potion left")
        t = game.find(i.target, room=a.room) if i.target is not None else a
        if t.dead:
            raise RulesError(f"{t.name} is dead")
        need("action")
        spend("action")
        a.inventory.remove(hit)
        out.append(ev.ActionTaken(a.eid, hit, t.eid))
        resolver.heal(game, t, dice.total("2d4+2", rng), out)
    elif hit == "second wind":
        _resource(a, "second_wind", hit)
        need("bonus")
        spend("bonus")
        a.res["second_wind"] -= 1
        out.append(ev.ActionTaken(a.eid, hit))
        resolver.heal(game, a, dice.total(f"1d10+{a.level}", rng), out)
    elif hit == "action surge":
        _resource(a, "action_surge", hit)
        if not in_combat:
            raise RulesError("action surge is for combat")
        a.res["action_surge"] -= 1
        a.turn["action"] += 1
        out.append(ev.ActionTaken(a.eid, hit))
    elif hit == "rage":
        _resource(a, "rage", hit)
        if any(x.get("rage") for x in a.effects):
            raise RulesError("already raging")
        need("bonus")
        spend("bonus")
        a.res["rage"] -= 1
        a.effects.append({"name": "rage", "src": a.eid, "rage": True, "rounds": 10,
                          "resist": list(resolver.PHYSICAL)})
        out.append(ev.ActionTaken(a.eid, hit))
    elif hit == "reckless":
        if a.cls != "barbarian" or a.level < 2:
            raise RulesError("reckless attack is a level 2 barbarian feature")
        if not in_combat:
            raise RulesError("reckless attack is for combat")
        a.effects.append({"name": "reckless", "src": a.eid, "reckless": True,
                          "until_turn": a.eid})
        out.append(ev.ActionTaken(a.eid, hit))
    elif hit == "smite":
        if a.cls != "paladin" or a.level < 2:
            raise RulesError("divine smite is a level 2 paladin feature")
        if not any(a.slots):
            raise RulesError("no spell slots left to smite with")
        if not any(x.get("smite") for x in a.effects):
            a.effects.append({"name": "smite", "src": a.eid, "smite": True})
        out.append(ev.ActionTaken(a.eid, "divine smite"))
    elif hit == "lay on hands":
        _resource(a, "lay_on_hands", hit)
        t = game.find(i.target, room=a.room) if i.target is not None else a
        if t.dead or t.side != a.side:
            raise RulesError("lay on hands heals a living ally")
        want = min(a.res["lay_on_hands"], (t.max_hp - t.hp) if t.hp < t.max_hp else 0)
        if want <= 0:
            raise RulesError(f"{t.name} needs no healing")
        need("action")
        spend("action")
        a.res["lay_on_hands"] -= want
        out.append(ev.ActionTaken(a.eid, hit, t.eid))
        resolver.heal(game, t, want, out)
    elif hit == "flurry":
        _resource(a, "ki", "flurry of blows")
        if not in_combat:
            raise RulesError("flurry of blows is for combat")
        if not a.turn.get("attacked") or a.turn["action"] > 0:
            raise RulesError("flurry follows the Attack action")
        need("bonus")
        t = game.find(i.target, room=a.room, living=True) if i.target is not None else None
        if t is None:
            t = next((game.entities[o] for o in a.engaged
                      if not game.entities[o].down), None)
        if t is None or t.eid not in a.engaged:
            raise RulesError("flurry needs an engaged target")
        spend("bonus")
        a.res["ki"] -= 1
        out.append(ev.ActionTaken(a.eid, "flurry of blows", t.eid))
        spec = weapon_spec(a, a.weapons[0])
        for _ in range(2):
            if not t.down:
                resolver.attack(game, a, t, spec, rng, out)
        out += _after_action(game, a, rng)
    elif hit == "inspiration":
        _resource(a, "inspiration", "bardic inspiration")
        if i.target is None:
            raise RulesError("inspire whom?")
        t = game.find(i.target, room=a.room, living=True)
        if t.eid == a.eid or t.side != a.side:
            raise RulesError("inspire an ally, not yourself")
        need("bonus")
        spend("bonus")
        a.res["inspiration"] -= 1
        t.effects.append({"name": "inspiration", "src": a.eid,
                          "inspired": "1d8" if a.level >= 5 else "1d6"})
        out.append(ev.ActionTaken(a.eid, "bardic inspiration", t.eid))
    elif hit == "spiritual weapon":
        fx = next((x for x in a.effects if x.get("weapon")), None)
        if fx is None:
            raise RulesError("no spiritual weapon summoned")
        if not in_combat:
            raise RulesError("nothing to strike")
        t = game.find(i.target, room=a.room, living=True) if i.target is not None else None
        if t is None or t.side == a.side:
            raise RulesError("strike whom?")
        need("bonus")
        spend("bonus")
        spec = {"name": "spiritual weapon", "bonus": a.spell_attack(), "kind": "melee",
                "range": [5, 0], "damage": [[fx["weapon"], fx["weapon_type"]]]}
        resolver.attack(game, a, t, spec, rng, out)
        out += _after_action(game, a, rng)
    else:
        raise RulesError(f"{hit} has no use in play yet")
    return out


def _resource(a: Entity, key: str, what: str) -> None:
    if key not in a.res_max:
        raise RulesError(f"{a.name} lacks {what}")
    if a.res.get(key, 0) <= 0:
        raise RulesError(f"{what} is used up; rest first")


# -- simple actions -----------------------------------------------------------------
def _simple_slot(a: Entity, what: str) -> str:
    """Cunning Action: a level 2+ rogue dashes, disengages or hides as a bonus action."""
    if a.cls == "rogue" and a.level >= 2 and a.turn["bonus"] > 0 and what in (
            "dash", "disengage", "hide") and (a.turn["action"] <= 0 or a.turn.get("attacked")):
        return "bonus"
    if a.turn["action"] > 0:
        return "action"
    if a.cls == "rogue" and a.level >= 2 and a.turn["bonus"] > 0 and what in (
            "dash", "disengage", "hide"):
        return "bonus"
    raise RulesError(f"no action left to {what}")


def _dodge(game: Game, a: Entity, _i: it.Dodge, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    slot = _simple_slot(a, "dodge")
    a.turn[slot] -= 1
    a.effects.append({"name": "dodge", "src": a.eid, "dodge": True, "until_turn": a.eid})
    return [ev.ActionTaken(a.eid, "dodge")]


def _dash(game: Game, a: Entity, _i: it.Dash, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    slot = _simple_slot(a, "dash")
    a.turn[slot] -= 1
    a.turn["move"] += a.effective_speed()
    return [ev.ActionTaken(a.eid, "dash")]


def _disengage(game: Game, a: Entity, _i: it.Disengage, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    slot = _simple_slot(a, "disengage")
    a.turn[slot] -= 1
    a.turn["disengaged"] = True
    return [ev.ActionTaken(a.eid, "disengage")]


def _hide(game: Game, a: Entity, _i: it.Hide, rng: random.Random) -> list[Any]:
    in_combat = game.combat is not None
    if in_combat:
        _in_turn(game, a)
        slot = _simple_slot(a, "hide")
    foes = [e for e in game.here(a.room) if e.side != a.side and not e.down]
    if in_combat and a.engaged:
        raise RulesError("you cannot hide while engaged")
    if in_combat:
        a.turn[slot] -= 1
    dc = max((e.passive() for e in foes), default=10)
    nat, _ = dice.d20(rng, 0)
    total = nat + a.skill_mod("stealth", "dex")
    ok = total >= dc
    out: list[Any] = [ev.Rolled(a.eid, "stealth", nat, total, dc, ok)]
    if ok and not any(x.get("hidden") for x in a.effects):
        a.effects.append({"name": "hidden", "src": a.eid, "hidden": True})
    out.append(ev.ActionTaken(a.eid, "hide"))
    return out


def _help(game: Game, a: Entity, i: it.HelpAlly, rng: random.Random) -> list[Any]:
    _in_turn(game, a)
    ally = game.find(i.ally, room=a.room, living=True)
    if ally.side != a.side or ally.eid == a.eid:
        raise RulesError("help an ally")
    foe = next((game.entities[o] for o in a.engaged if not game.entities[o].down), None)
    if foe is None:
        raise RulesError("help needs a foe you are engaged with")
    _need(a, "action", "help")
    a.turn["action"] -= 1
    foe.effects.append({"name": "help", "src": a.eid, "help": True, "until_turn": a.eid})
    return [ev.ActionTaken(a.eid, "help", ally.eid)]


def _search(game: Game, a: Entity, _i: it.Search, rng: random.Random) -> list[Any]:
    if game.combat is not None:
        _in_turn(game, a)
        _need(a, "action", "search")
        a.turn["action"] -= 1
    room = game.dungeon.room(a.room)
    nat, _ = dice.d20(rng, 0)
    total = nat + a.skill_mod("perception", "wis")
    dc = room.search_dc or 10
    ok = total >= dc
    out: list[Any] = [ev.Rolled(a.eid, "perception", nat, total, dc, ok)]
    if ok and room.hidden_loot and room.id not in game.state["found"]:
        game.state["found"].append(room.id)
        game.loot += list(room.hidden_loot)
        out.append(ev.Info(a.eid, "found: " + ", ".join(room.hidden_loot)))
    elif ok and room.trap and room.id not in game.state["traps"]:
        game.state["traps"].append(room.id)
        out.append(ev.Info(a.eid, "found and disarmed a trap"))
    return out


def contest(game: Game, a: Entity, t: Entity, rng: random.Random, out: list[Any]) -> bool:
    """Athletics against the target's better of Athletics and Acrobatics; ties keep the
    status quo, so the attacker loses."""
    skills = content.skills()
    na, _ = dice.d20(rng, resolver.check_adv(a, "str", save=False))
    ta = na + a.skill_mod("athletics", skills.get("athletics", "str"))
    best = max(("athletics", "acrobatics"), key=lambda s: t.skill_mod(s, skills.get(s, "dex")))
    nt, _ = dice.d20(rng, resolver.check_adv(t, skills.get(best, "dex"), save=False))
    tt = nt + t.skill_mod(best, skills.get(best, "dex"))
    if t.incapacitated:
        tt = -99
    out.append(ev.Rolled(a.eid, "athletics", na, ta, 0, ta > tt))
    out.append(ev.Rolled(t.eid, best, nt, max(tt, 0), 0, tt >= ta))
    return ta > tt


def _grapple_or_shove(game: Game, a: Entity, ref: it.Ref, rng: random.Random, what: str
                      ) -> list[Any]:
    _in_turn(game, a)
    t = game.find(ref, room=a.room, living=True)
    if t.side == a.side or t.eid == a.eid:
        raise RulesError(f"{what} a foe")
    slot = "attack" if a.turn["attacks"] > 0 else "action"
    if slot == "action":
        _need(a, "action", what)
    out: list[Any] = []
    if t.eid not in a.engaged:
        cost = close_cost(a, t)
        if cost > a.turn["move"]:
            raise RulesError(f"{t.name} is out of reach")
        out += _close(a, t, cost)
    _spend_attack(a, slot)
    out.append(ev.ActionTaken(a.eid, what, t.eid))
    if contest(game, a, t, rng, out):
        resolver.add_condition(game, t, "grappled" if what == "grapple" else "prone", out,
                               src=a.eid)
    return out


def _grapple(game: Game, a: Entity, i: it.Grapple, rng: random.Random) -> list[Any]:
    return _grapple_or_shove(game, a, i.target, rng, "grapple")


def _shove(game: Game, a: Entity, i: it.Shove, rng: random.Random) -> list[Any]:
    return _grapple_or_shove(game, a, i.target, rng, "shove")


# -- checks and rests ---------------------------------------------------------------
def _roll(game: Game, a: Entity, i: it.Roll, rng: random.Random) -> list[Any]:
    what = " ".join(i.what.lower().split())
    skills = content.skills()
    words = what.replace("saving throw", "save").split()
    abil = {"strength": "str", "dexterity": "dex", "constitution": "con",
            "intelligence": "int", "wisdom": "wis", "charisma": "cha"}
    if words and words[-1] == "save" and len(words) == 2:
        ab = abil.get(words[0], words[0][:3])
        if ab not in abil.values():
            raise RulesError(f"no save called {what!r}")
        nat, _ = dice.d20(rng, resolver.check_adv(a, ab, save=True))
        return [ev.Rolled(a.eid, f"{ab} save", nat, nat + a.save_mod(ab))]
    key = what.replace(" ", "-")
    if key in skills:
        ab = skills[key]
        nat, _ = dice.d20(rng, resolver.check_adv(a, ab, save=False))
        return [ev.Rolled(a.eid, key, nat, nat + a.skill_mod(key, ab))]
    if what in abil or what in abil.values():
        ab = abil.get(what, what)
        nat, _ = dice.d20(rng, resolver.check_adv(a, ab, save=False))
        return [ev.Rolled(a.eid, ab, nat, nat + a.mod(ab))]
    if what == "death save":
        if not a.dying:
            raise RulesError("only the dying roll death saves")
        out: list[Any] = []
        resolver.death_save(game, a, rng, out)
        return out
    r = dice.roll(what, rng)
    return [ev.Rolled(a.eid, what[:24], 0, r.total)]


def _rest(game: Game, a: Entity, i: it.Rest, rng: random.Random) -> list[Any]:
    if i.kind not in ("short", "long"):
        raise RulesError("rest short or long")
    if game.combat is not None:
        raise RulesError("you cannot rest in combat")
    live = [m for m in game.here(a.room) if m.side == "monsters" and not m.down]
    if live:
        raise RulesError("not with enemies about")
    party = [e for e in game.party() if not e.dead and e.room == a.room]
    out: list[Any] = []
    for e in party:
        if i.kind == "short":
            # Spend hit dice one at a time while the average roll would not be wasted.
            while e.hit_dice > 0 and e.max_hp - e.hp >= e.hd_size // 2 + 1 and e.hp > 0:
                e.hit_dice -= 1
                resolver.heal(game, e, max(1, dice.total(f"1d{e.hd_size}", rng)
                                              + e.mod("con")), out)
            for k in ("second_wind", "action_surge", "ki"):
                if k in e.res_max:
                    e.res[k] = e.res_max[k]
            if e.pact:
                e.slots = list(e.max_slots)
        else:
            if e.hp <= 0:
                e.hp = 0
            resolver.heal(game, e, e.max_hp - e.hp, out)
            e.hit_dice = min(e.level, e.hit_dice + max(1, e.level // 2))
            e.res = dict(e.res_max)
            e.slots = list(e.max_slots)
            e.exhaustion = max(0, e.exhaustion - 1)
            e.death_s = e.death_f = 0
            e.stable = False
            e.effects.clear()
            e.conc = ""
    return out + [ev.Rested(i.kind, tuple(e.eid for e in party))]


# -- the DM -------------------------------------------------------------------------
def _dm(game: Game, _a: Entity | None, i: it.Dm, rng: random.Random) -> list[Any]:
    op = i.op
    if op == "start_combat":
        if game.combat is not None:
            raise RulesError("already in combat")
        if not [e for e in game.here() if e.side == "monsters" and not e.down]:
            raise RulesError("no foes here")
        return start_combat(game, rng)
    if op == "end_combat":
        if game.combat is None:
            raise RulesError("not in combat")
        game.combat = None
        for e in game.entities.values():
            e.engaged.clear()
        return [ev.CombatEnded(0, ())]
    if op in ("next_turn", "prev_turn"):
        if game.combat is None:
            raise RulesError("not in combat")
        if op == "prev_turn":
            c = game.combat
            c["idx"] -= 1
            if c["idx"] < 0:
                c["idx"] = len(c["order"]) - 1
                c["round"] = max(1, c["round"] - 1)
            e = game.entities[game.current_turn()]
            return [ev.TurnStarted(c["round"], e.eid)]
        cur = game.entities[game.current_turn()]
        out = _end_turn_effects(game, cur, rng)
        _advance_idx(game)
        return out + _begin_turn(game, rng)
    if op == "narrate":
        if not i.text.strip():
            raise RulesError("narrate what?")
        return [ev.Narrated(i.text.strip()[:180])]
    if op == "spawn":
        content.monster(i.text)  # validate first
        n = max(1, min(20, i.value or 1))
        out = spawn(game, i.text, n)
        if game.combat is not None:
            game.combat["order"] += [e.eid for e in out]
        return out
    if op == "set_roll":
        raise RulesError("set_roll is handled by the node's dice, not the rules")
    if op == "house_rule":
        if not i.text:
            raise RulesError("which house rule?")
        game.house[i.text] = bool(i.value)
        return [ev.Info(0, f"house rule {i.text} {'on' if i.value else 'off'}")]
    if op == "unlock":
        x = game.dungeon.find_exit(game.room, i.text)
        key = f"{game.room}:{x.to}"
        game.state["unlocked"].append(key)
        game.state["unsealed"].append(key)
        return [ev.Info(0, f"the way {x.dir or x.name} is open")]
    if i.target is None:
        raise RulesError(f"{op} needs a target")
    t = game.find(i.target, room=game.room) if not isinstance(i.target, int) else game.entity(
        i.target)
    if op == "damage":
        if i.value <= 0:
            raise RulesError("damage must be positive")
        out: list[Any] = []
        resolver.deal(game, t, i.value, i.text or "force", out, rng=rng)
        if game.combat is not None:
            _check_end(game, out)
        return out
    if op == "heal":
        if i.value <= 0:
            raise RulesError("heal must be positive")
        if t.dead:
            raise RulesError(f"{t.name} is dead")
        out = []
        resolver.heal(game, t, i.value, out)
        return out
    if op == "condition":
        cond = i.text.strip().lower()
        if cond not in content.conditions():
            raise RulesError(f"no condition {cond!r}")
        out = []
        if i.value:
            resolver.add_condition(game, t, cond, out)
        else:
            resolver.remove_condition(game, t, cond, out)
        return out
    if op == "cover":
        if i.value not in (0, 2, 5):
            raise RulesError("cover is 0, 2 or 5")
        t.effects[:] = [x for x in t.effects if x.get("name") != "cover"]
        if i.value:
            t.effects.append({"name": "cover", "src": 0, "ac": i.value, "cover": i.value})
        return [ev.Info(t.eid, f"cover +{i.value}" if i.value else "no cover")]
    if op == "level_up":
        from rules import pregen

        if t.kind != "pc" or t.level >= pregen.MAX_LEVEL:
            raise RulesError(f"{t.name} cannot level up")
        return level_up(game, t, t.level + 1)
    if op == "edit_sheet":
        field_, _, val = i.text.partition("=")
        field_ = field_.strip()
        if field_ not in ("hp", "max_hp", "ac", "temp_hp", "speed", "xp", "name"):
            raise RulesError("edit hp, max_hp, ac, temp_hp, speed, xp or name")
        if field_ == "name":
            if not val.strip():
                raise RulesError("name cannot be empty")
            t.name = val.strip()[:16]
        else:
            try:
                n = int(val)
            except ValueError:
                raise RulesError(f"{field_} must be a number") from None
            if n < 0:
                raise RulesError(f"{field_} cannot be negative")
            setattr(t, field_, n)
            t.hp = min(t.hp, t.max_hp)
        return [ev.Info(t.eid, f"{field_} set")]
    raise RulesError(f"unknown DM op {op!r}")


_HANDLERS = {
    it.Join: _join, it.Look: _look, it.Move: _move, it.Attack: _attack, it.Cast: _cast,
    it.Use: _use, it.Roll: _roll, it.Dodge: _dodge, it.Dash: _dash, it.Disengage: _disengage,
    it.Hide: _hide, it.Search: _search, it.HelpAlly: _help, it.Grapple: _grapple,
    it.Shove: _shove, it.Approach: _approach, it.EndTurn: _end_turn, it.Say: _say,
    it.Query: _query, it.Rest: _rest, it.Dm: _dm,
}
