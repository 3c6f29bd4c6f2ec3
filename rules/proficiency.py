"""Armour and weapon proficiencies: which gear a character's classes, subclass and race let it use well."""

from __future__ import annotations

from functools import cache, lru_cache
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
CACHED = 4096  # answers kept: a node's characters over its uptime, levelling included


Key = tuple[str, tuple[tuple[str, int], ...], str]


def held(e: Entity) -> frozenset[str]:
    """A character's armour and weapon proficiency indexes: all of its first class's, the
    multiclass share of every later class (SRD "Multiclassing: Proficiencies"), its
    features' (Life Domain: heavy armour) and its race's (dwarven combat training)."""
    return _held(*_key(e))


def weapon_ok(e: Entity, w: dict[str, Any]) -> bool:
    """Is e proficient with this wielded weapon (an entry of `e.weapons`)? Monsters are
    (their stat blocks already say what they wield well), and so is everyone with what is
    no SRD weapon (an unarmed strike, a summoned blade)."""
    return e.kind != "pc" or _weapon_ok(_key(e), w["name"].lower())


def item_ok(e: Entity, index: str) -> bool:
    """Is e proficient with the weapon, armour or shield of this SRD gear index? Other gear
    (a torch, a rope) asks for no proficiency here."""
    return e.kind != "pc" or _item_ok(_key(e), index)


def hampering(e: Entity) -> str:
    """The name of the armour or shield e wears without proficiency ("" when none): the
    one that costs it STR/DEX rolls and its spells."""
    if e.kind != "pc" or not (e.armor or e.shield):
        return ""
    return _hampering(_key(e), e.armor, e.shield)


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


def _key(e: Entity) -> Key:
    """What a character's proficiencies follow: its first class, its class levels, its race
    (checks and attacks ask often, so the answers are cached by this)."""
    race = str(e.origin.get("race", "")) if e.origin else ""
    return e.cls, tuple(class_levels(e).items()), race


@lru_cache(maxsize=CACHED)
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


@lru_cache(maxsize=CACHED)
def _item_ok(key: Key, index: str) -> bool:
    if key[0] not in content.classes():
        return True  # a sheet of no SRD class: nothing to go by
    if index not in content.weapons() and index not in content.armor():
        return True
    table = content.proficiencies()
    return any(index in table[p]["items"] for p in _held(*key) if p in table)


@lru_cache(maxsize=CACHED)
def _weapon_ok(key: Key, name: str) -> bool:
    index = _weapon_index().get(name)
    return index is None or _item_ok(key, index)


@lru_cache(maxsize=CACHED)
def _hampering(key: Key, armor: str, shield: bool) -> str:
    if armor and not _item_ok(key, armor):
        return armor_name(armor)
    return "shield" if shield and not _item_ok(key, "shield") else ""


def armor_name(index: str) -> str:
    """Worn armour as a sheet names it ("chain mail"), or the index of one the SRD lacks."""
    return str(content.armor().get(index, {}).get("name", index)).lower()


@cache
def _weapon_index() -> dict[str, str]:
    """Every way a wielded weapon is named ("light crossbow", "crossbow, light") -> index."""
    from rules.equipment import names

    return names(content.weapons())
