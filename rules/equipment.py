"""Equipping carried gear: a weapon becomes the main one, armour and shields set the AC."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules import content, encumbrance, fuzzy, proficiency
from rules import events as ev
from rules.creature import Entity
from rules.errors import RulesError
from rules.multiclass import class_level

if TYPE_CHECKING:
    from rules.game import Game


def names(table: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Every way an item is written (index, "light crossbow", "crossbow, light") -> index."""
    from rules.pregen import gear_name

    out = {}
    for k, v in table.items():
        out[k] = out[k.replace("-", " ")] = out[v["name"].lower()] = out[gear_name(v)] = k
    return out


def gear(a: Entity, word: str) -> tuple[str, str] | None:
    """("weapon"|"armor", index) when `word` names a weapon or armour the creature carries."""
    carried = list(a.inventory) + [w["name"] for w in a.weapons]
    hit = fuzzy.best_match(word.lower(), carried)
    if hit is None:
        return None
    for kind, table in (("weapon", content.weapons()), ("armor", content.armor())):
        index = names(table).get(hit.lower())
        if index is not None:
            return kind, index
    return None


def equip(game: Game, a: Entity, kind: str, index: str) -> list[Any]:
    """Wield a weapon (drawing one is free) or don armour (not in a fight); AC and attacks
    follow. The armour taken off goes back into the pack."""
    from rules.pregen import armor_class, gear_name, weapon_entry

    if kind == "weapon":
        w = content.weapons()[index]
        name = gear_name(w)
        held = next((x for x in a.weapons if x["name"] == name), None)
        if held is None:
            held = weapon_entry(w, a.abilities, a.shield)
            _take(a, index, name)
        a.weapons[:] = [held] + [x for x in a.weapons if x is not held]
        return [ev.Info(a.eid, f"{a.name} wields the {name}"
                                + proficiency.cost(a, kind, index))]
    if game.combat is not None:
        raise RulesError("armour takes minutes to don; not in a fight")
    arm = content.armor()[index]
    if arm["category"] == "shield":
        if a.shield:
            raise RulesError(f"{a.name} already carries a shield")
        if any(x["two_handed"] for x in a.weapons[:1]):
            raise RulesError("the main weapon needs both hands")
        _take(a, index, "shield")
        a.shield = True
    else:
        _take(a, index, gear_name(arm))
        if a.armor:
            a.inventory.append(gear_name(content.armor()[a.armor]))
        a.armor = index
    a.ac = armor_class(a.cls, class_level(a, a.cls), a.abilities, a.armor or None, a.shield)
    encumbrance.update(game, a)
    return [ev.Info(a.eid, f"{a.name} wears the {arm['name'].lower()}: AC {a.current_ac()}"
                    + proficiency.cost(a, kind, index))]


def share_loot(game: Game, items: list[str]) -> list[Any]:
    """Loot goes to characters, not a party pile: each item to the living character here
    carrying the least (then the lowest id) who can lift it (15 x STR lb unless the
    encumbrance variant is on); with nobody to take it, it stays on the floor."""
    out: list[Any] = []
    here = [e for e in game.party() if e.kind == "pc" and not e.dead and e.room == game.room]
    for item in items:
        able = [e for e in here if _can_lift(game, e, encumbrance.item_weight(item))]
        if not able:
            game.loot.append(item)
            out.append(ev.Info(0, f"the {item} stays on the floor"))
            continue
        e = min(able, key=lambda c: (len(c.inventory), c.eid))
        e.inventory.append(item)
        encumbrance.update(game, e)
        out.append(ev.Info(e.eid, f"{e.name} takes the {item}"))
    return out


def _can_lift(game: Game, e: Entity, lb: float) -> bool:
    try:
        encumbrance.check_pickup(game, e, lb)
    except RulesError:
        return False
    return True


def _take(a: Entity, index: str, name: str) -> None:
    for x in list(a.inventory):
        if x.lower() in (index, name, index.replace("-", " ")):
            a.inventory.remove(x)
            return
    raise RulesError(f"{a.name} carries no {name}")
