"""Armour and weapon proficiencies: which gear a character's classes, subclass and race let it use well."""

from __future__ import annotations

from functools import cache
from typing import Any

from rules import content
from rules.classfeatures import class_levels, passives
from rules.creature import Entity
from rules.errors import RulesError

# SRD "Armor Proficiency": armour worn without proficiency gives disadvantage on ability
# checks, saving throws and attack rolls that involve Strength or Dexterity, and no
# spellcasting. A shield is armour there (it sits in the Armor table, and "anyone can ...
# strap a shield to an arm" opens that paragraph), so one carried unskilled does the same;
# SRD 5.1 takes nothing else away, so its +2 AC still counts.
HAMPERED = frozenset({"str", "dex"})
NOT_PROFICIENT = "not proficient"


def held(e: Entity) -> frozenset[str]:
    """A character's armour and weapon proficiency indexes: all of its first class's, the
    multiclass share of every later class (SRD "Multiclassing: Proficiencies"), its
    features' (Life Domain: heavy armour) and its race's (dwarven combat training)."""
    race = str(e.origin.get("race", "")) if e.origin else ""
    return _held(e.cls, tuple(class_levels(e).items()), race)


def weapon_ok(e: Entity, w: dict[str, Any]) -> bool:
    """Is e proficient with this wielded weapon (an entry of `e.weapons`)? Monsters are
    (their stat blocks already say what they wield well), and so is everyone with what is
    no SRD weapon (an unarmed strike, a summoned blade)."""
    if e.kind != "pc" or e.cls not in content.classes():
        return True
    index = _weapon_index().get(w["name"].lower())
    return index is None or index in _items(held(e))


def item_ok(e: Entity, index: str) -> bool:
    """Is e proficient with the weapon, armour or shield of this SRD gear index? Other gear
    (a torch, a rope) asks for no proficiency here."""
    if e.kind != "pc" or e.cls not in content.classes():
        return True
    if index not in content.weapons() and index not in content.armor():
        return True
    return index in _items(held(e))


def hampering(e: Entity) -> str:
    """The name of the armour or shield e wears without proficiency ("" when none): the
    one that costs it STR/DEX rolls and its spells."""
    if e.kind != "pc" or not (e.armor or e.shield):
        return ""
    if e.armor and not item_ok(e, e.armor):
        return content.armor()[e.armor]["name"].lower()
    return "shield" if e.shield and not item_ok(e, "shield") else ""


def hampers(e: Entity, ability: str) -> bool:
    """Does unskilled armour give disadvantage on this ability's check, save or attack?"""
    return ability in HAMPERED and bool(hampering(e))


def check_casting(e: Entity) -> None:
    """RulesError (one line) when e wears armour it is not proficient with: no spells."""
    worn = hampering(e)
    if worn:
        raise RulesError(f"you cannot cast in armour you are not proficient with ({worn})")


def cost(e: Entity, kind: str, index: str) -> str:
    """The short clause an `equip` reply adds for gear e is not proficient with, else ""."""
    if item_ok(e, index):
        return ""
    if kind == "weapon":
        return f" ({NOT_PROFICIENT}: no proficiency bonus to hit)"
    return f" ({NOT_PROFICIENT}: disadvantage on STR/DEX rolls, no spells)"


@cache
def _held(first: str, levels: tuple[tuple[str, int], ...], race: str) -> frozenset[str]:
    classes = content.classes()
    out: set[str] = set()
    for cls, n in levels:
        data = classes.get(cls)
        if data is None:
            continue
        out.update(data["proficiencies"] if cls == first else data["multiclass_proficiencies"])
        for p in passives(cls, n):
            out.update(p.get("proficiencies", ()))
    born = {race, *(r["index"] for r in content.races().values() if race in r["subraces"])}
    out.update(k for k, v in content.proficiencies().items() if born & set(v["races"]))
    return frozenset(out)


@cache
def _items(profs: frozenset[str]) -> frozenset[str]:
    table = content.proficiencies()
    return frozenset(i for p in profs if p in table for i in table[p]["items"])


@cache
def _weapon_index() -> dict[str, str]:
    """Every way a wielded weapon is named ("light crossbow", "crossbow, light") -> index."""
    from rules.equipment import names

    return names(content.weapons())
