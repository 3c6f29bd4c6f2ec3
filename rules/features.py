"""Class features and items used with the Use intent: second wind, rage, smite, ki, potions..."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import dice, resolver
from rules import events as ev
from rules import intents as it
from rules.combat import after_action, weapon_spec
from rules.creature import Entity
from rules.errors import RulesError
from rules.turns import in_turn, require

if TYPE_CHECKING:
    from rules.game import Game


# -- class features and items -------------------------------------------------------
FEATURES = ("second wind", "action surge", "rage", "reckless", "smite", "lay on hands",
            "flurry", "inspiration", "spiritual weapon", "potion of healing", "stabilise")
STABILISE_DC = 10  # Wisdom (Medicine) to stabilise a dying creature


def use(game: Game, a: Entity, i: it.Use, rng: random.Random) -> list[Any]:
    from rules import fuzzy

    in_combat = game.combat is not None
    if in_combat:
        in_turn(game, a)
    word = str(i.item).lower().replace("stabilize", "stabilise")
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
            require(a, slot, hit)

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
    elif hit == "stabilise":
        if i.target is None:
            raise RulesError("stabilise whom?")
        t = game.find(i.target, room=a.room)
        if not t.dying:
            raise RulesError(f"{t.name} is not dying")
        need("action")
        spend("action")
        nat, _ = dice.d20(rng, resolver.check_adv(a, "wis", save=False))
        total = nat + a.skill_mod("medicine", "wis")
        ok = total >= STABILISE_DC
        out.append(ev.Rolled(a.eid, "medicine", nat, total, STABILISE_DC, ok))
        if ok:
            resolver.stabilise(t, out)
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
        out += after_action(game, a, rng)
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
        out += after_action(game, a, rng)
    else:
        raise RulesError(f"{hit} has no use in play yet")
    return out


def _resource(a: Entity, key: str, what: str) -> None:
    if key not in a.res_max:
        raise RulesError(f"{a.name} lacks {what}")
    if a.res.get(key, 0) <= 0:
        raise RulesError(f"{what} is used up; rest first")
