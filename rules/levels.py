"""Class levels 1-20 as the SRD tables give them: XP, attacks, resources, multiclass slots."""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from rules import content
from rules.creature import mod

MAX_LEVEL = 20
UNLIMITED = 99  # uses shown for an unlimited resource (rage at 20, wild shape at 20)
# XP needed for character levels 1..20 (SRD "Character Advancement").
XP_LEVELS = (0, 300, 900, 2700, 6500, 14000, 23000, 34000, 48000, 64000, 85000, 100000,
             120000, 140000, 165000, 195000, 225000, 265000, 305000, 355000)
# Class levels that give an Ability Score Improvement (or the Grappler feat).
ASI_LEVELS = {"fighter": (4, 6, 8, 12, 14, 16, 19), "rogue": (4, 8, 10, 12, 16, 19)}
DEFAULT_ASI = (4, 8, 12, 16, 19)
# Multiclass spellcaster table (SRD): slots by combined caster level 1..20.
MULTICLASS_SLOTS = (
    (2,), (3,), (4, 2), (4, 3), (4, 3, 2), (4, 3, 3), (4, 3, 3, 1), (4, 3, 3, 2),
    (4, 3, 3, 3, 1), (4, 3, 3, 3, 2), (4, 3, 3, 3, 2, 1), (4, 3, 3, 3, 2, 1),
    (4, 3, 3, 3, 2, 1, 1), (4, 3, 3, 3, 2, 1, 1), (4, 3, 3, 3, 2, 1, 1, 1),
    (4, 3, 3, 3, 2, 1, 1, 1), (4, 3, 3, 3, 2, 1, 1, 1, 1), (4, 3, 3, 3, 3, 1, 1, 1, 1),
    (4, 3, 3, 3, 3, 2, 1, 1, 1), (4, 3, 3, 3, 3, 2, 2, 1, 1),
)
# Multiclassing prerequisites (SRD): every listed ability at 13 or more; fighter needs one.
MULTICLASS_NEEDS: dict[str, tuple[tuple[str, ...], bool]] = {
    "barbarian": (("str",), True), "bard": (("cha",), True), "cleric": (("wis",), True),
    "druid": (("wis",), True), "fighter": (("str", "dex"), False), "monk": (("dex", "wis"), True),
    "paladin": (("str", "cha"), True), "ranger": (("dex", "wis"), True),
    "rogue": (("dex",), True), "sorcerer": (("cha",), True), "warlock": (("cha",), True),
    "wizard": (("int",), True),
}


def xp_level(xp: int) -> int:
    return max(i + 1 for i, need in enumerate(XP_LEVELS) if xp >= need)


def row(cls: str, level: int) -> dict[str, Any]:
    """classes.json's row for a class level (read-only)."""
    return content.classes()[cls]["levels"][str(level)]


def asi_count(cls: str, level: int) -> int:
    return sum(1 for n in ASI_LEVELS.get(cls, DEFAULT_ASI) if n <= level)


def attacks_per_action(cls: str, level: int) -> int:
    """Attacks one Attack action makes: Extra Attack at 5, the fighter's 3 at 11 and 4 at 20."""
    spec = row(cls, level)["class_specific"]
    if "extra_attacks" in spec:
        return 1 + int(spec["extra_attacks"])
    return 2 if level >= 5 and cls in ("barbarian", "monk", "paladin", "ranger") else 1


# res[NAME + WAIT]: long rests left before NAME's uses come back (Divine Intervention)
WAIT = "_wait"


@cache
def resource_table() -> dict[str, dict[str, dict[str, Any]]]:
    text = resources.files("rules.content").joinpath("class_resources.toml").read_text("utf-8")
    return tomllib.loads(text)


def class_resources(cls: str, level: int, abilities: dict[str, int]) -> dict[str, int]:
    """The uses of each class resource at this class level (class_resources.toml)."""
    out: dict[str, int] = {}
    spec = row(cls, level)["class_specific"]
    for name, d in resource_table().get(cls, {}).items():
        if level < int(d.get("from", 1)) or "ability_dc" in d or d.get("tries"):
            continue
        if "key" in d:
            n = int(spec.get(d["key"], 0))
        elif "per_level" in d:
            n = int(d["per_level"]) * level
        elif "ability" in d:
            n = max(1, mod(abilities[d["ability"]])) + int(d.get("plus", 0))
        else:
            n = int(d.get("uses", 1))
        if level >= int(d.get("unlimited_from", 99)):
            n = UNLIMITED
        if n > 0:
            out[name] = n
    return out


def save_dc_ability(cls: str) -> str:
    """The ability of a class's own save DC (ki, intimidating presence), '' if none."""
    return str(resource_table().get(cls, {}).get("save_dc", {}).get("ability_dc", ""))


def short_rest_resources(cls: str, level: int) -> list[str]:
    """Resources a short rest restores for this class level."""
    return [name for name, d in resource_table().get(cls, {}).items()
            if d.get("rest") == "short" or level >= int(d.get("rest_from", 99))]


def short_rest_resources_of(e: Any) -> list[str]:
    """Resources a short rest restores, over every class the character has levels in."""
    from rules.multiclass import class_levels

    return [k for c, n in class_levels(e).items() for k in short_rest_resources(c, n)]


def regain_on_initiative(e: Any) -> None:
    """Uses regained on rolling initiative with none left (Superior Inspiration: 1,
    Perfect Self: 4 ki)."""
    _regain(e, "initiative_regain", "initiative_from", empty_only=True)


def regain_on_short_rest(e: Any) -> None:
    """Uses a short rest gives back beyond the short-rest resources (Sorcerous Restoration);
    counts of tries start again (Relentless Rage's DC)."""
    _regain(e, "short_rest_gain", "short_rest_from", empty_only=False)
    for name, d in resource_table().get(e.cls, {}).items():
        if d.get("tries"):
            e.res.pop(name, None)


def _regain(e: Any, amount_key: str, from_key: str, *, empty_only: bool) -> None:
    from rules.multiclass import class_level

    for name, d in resource_table().get(e.cls, {}).items():
        if (amount_key not in d or class_level(e, e.cls) < int(d[from_key])
                or name not in e.res_max):
            continue
        if empty_only and e.res.get(name, 0) > 0:
            continue
        e.res[name] = min(e.res_max[name], e.res.get(name, 0) + int(d[amount_key]))


def song_of_rest_die(party: list[Any]) -> str:
    """The extra die a short rest's hit dice heal with a conscious bard present (Song of
    Rest, classes.json song_of_rest_die), '' without one."""
    from rules.multiclass import class_level

    sides = [int(row("bard", class_level(e, "bard"))["class_specific"].get("song_of_rest_die")
                 or 0) for e in party if class_level(e, "bard") and e.hp > 0]
    best = max(sides, default=0)
    return f"1d{best}" if best else ""


def initiative_advantage(e: Any) -> int:
    """1 when a passive feature gives advantage on initiative (Feral Instinct)."""
    from rules import classfeatures
    from rules.multiclass import class_levels

    if e.kind != "pc" or not e.cls:
        return 0
    return int(any(p.get("initiative_adv") for c, n in class_levels(e).items()
                   for p in classfeatures.passives(c, n)))


def multiclass_slots(levels: dict[str, int]) -> list[int]:
    """Spell slots for a multiclass caster: full levels + half (paladin, ranger) / 2, down.
    Pact Magic is kept apart (the SRD adds it separately)."""
    caster = 0
    for cls, n in levels.items():
        prog = (content.classes()[cls].get("spellcasting") or {}).get("progression")
        if prog == "full":
            caster += n
        elif prog == "half":
            caster += n // 2
    if caster == 0:
        return [0] * 9
    got = list(MULTICLASS_SLOTS[min(caster, MAX_LEVEL) - 1])
    return got + [0] * (9 - len(got))


def can_multiclass(abilities: dict[str, int], cls: str) -> str:
    """'' when the abilities meet cls's multiclass prerequisite, else why not (one line)."""
    need, every = MULTICLASS_NEEDS[cls]
    ok = [abilities[a] >= 13 for a in need]
    if all(ok) if every else any(ok):
        return ""
    joiner = " and " if every else " or "
    return f"{cls} needs {joiner.join(a.upper() for a in need)} 13"
