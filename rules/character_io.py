"""A character's sheet as a portable JSON document: export from one game, import into another."""

from __future__ import annotations

from typing import Any

from rules import classfeatures, content
from rules.creature import ABILITIES, Entity
from rules.errors import RulesError
from rules.levels import MAX_LEVEL
from rules.names import check_name

FORMAT = "dungeon-character/2"
OLD_FORMATS = ("dungeon-character/1",)  # still imported: a single class, no creation choices
# The sheet fields a character carries between games; the rest (eid, room, turn state,
# engagement, conditions and effects) belong to the game it is in.
FIELDS_1 = ("name", "cls", "level", "xp", "abilities", "ac", "hp", "max_hp", "temp_hp", "prof",
            "speed", "darkvision", "save_prof", "skills", "resist", "immune", "cond_immune",
            "weapons", "spells", "spell_ability", "slots", "max_slots", "pact", "res",
            "res_max", "hit_dice", "hd_size", "inventory", "exhaustion", "profile")
# Version 2 adds the class levels (multiclassing; {} for one class) and the creation choices
# (rules/creation.Draft; {} for a pregenerated build) that a level-up rebuilds from.
FIELDS = (*FIELDS_1, "levels", "origin")
_ORIGIN = {"name": str, "cls": str, "race": str, "scores": dict, "skills": list, "bg": str,
           "kit": str, "asi": list, "asi_next": list, "next": str, "favored": list,
           "picks": list}
_INTS = {"level": (1, MAX_LEVEL), "xp": (0, 355_000), "ac": (1, 30), "hp": (0, 999),
         "max_hp": (1, 999), "temp_hp": (0, 999), "prof": (2, 6), "speed": (0, 120),
         "darkvision": (0, 120), "hit_dice": (0, 20), "hd_size": (6, 12), "exhaustion": (0, 6)}
_LISTS = ("save_prof", "resist", "immune", "cond_immune", "spells", "inventory")


def export(e: Entity) -> dict[str, Any]:
    """The documented JSON form (README: Characters): format tag plus the sheet fields."""
    if e.kind != "pc":
        raise RulesError(f"{e.name} is not a player character")
    d = e.to_dict()
    d.setdefault("levels", {})
    return {"format": FORMAT, **{k: d[k] for k in FIELDS}}


def load(d: Any, eid: int = 0) -> Entity:
    """An Entity from the JSON form; RulesError naming the first bad field, in one line."""
    if not isinstance(d, dict):
        raise RulesError("a character is a JSON object")
    if d.get("format") not in (FORMAT, *OLD_FORMATS):
        raise RulesError(f"format must be {FORMAT!r}")
    names = FIELDS if d["format"] == FORMAT else FIELDS_1
    missing = [k for k in names if k not in d]
    if missing:
        raise RulesError(f"missing field {missing[0]!r}")
    unknown = [k for k in d if k not in names and k != "format"]
    if unknown:
        raise RulesError(f"unknown field {unknown[0]!r}")
    for k, (lo, hi) in _INTS.items():
        v = d[k]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise RulesError(f"{k} must be a whole number from {lo} to {hi}")
    if d["cls"] not in content.classes():
        raise RulesError(f"cls must be one of {', '.join(content.classes())}")
    ab = d["abilities"]
    if not isinstance(ab, dict) or sorted(ab) != sorted(ABILITIES) or not all(
            isinstance(v, int) and 1 <= v <= 30 for v in ab.values()):
        raise RulesError("abilities: str dex con int wis cha, each 1 to 30")
    for k in _LISTS:
        if not isinstance(d[k], list) or not all(isinstance(x, str) for x in d[k]):
            raise RulesError(f"{k} must be a list of strings")
    if any(s not in content.spells() for s in d["spells"]):
        raise RulesError("spells: " + next(s for s in d["spells"] if s not in content.spells()
                                           )[:30] + " is not an SRD spell")
    for k in ("slots", "max_slots"):
        if not (isinstance(d[k], list) and len(d[k]) == 9
                and all(isinstance(x, int) and 0 <= x <= 9 for x in d[k])):
            raise RulesError(f"{k} must be nine whole numbers 0 to 9")
    for k in ("res", "res_max", "skills"):
        if not isinstance(d[k], dict) or not all(isinstance(v, int) for v in d[k].values()):
            raise RulesError(f"{k} must map names to whole numbers")
    if not isinstance(d["weapons"], list) or not all(
            isinstance(w, dict) and {"name", "dice", "type", "kind", "ability", "range"} <= set(w)
            for w in d["weapons"]):
        raise RulesError("weapons: each needs name, dice, type, kind, ability and range")
    if d["hp"] > d["max_hp"]:
        raise RulesError("hp cannot exceed max_hp")
    _check_levels(d.get("levels", {}), d["cls"], d["level"])
    _check_origin(d.get("origin", {}), d["cls"])
    fields = {k: d[k] for k in names}
    fields["name"] = check_name(str(d["name"]))
    pc = Entity.from_dict({**fields, "eid": eid, "side": "party", "kind": "pc"})
    classfeatures.standing_effects(pc)  # effects stay with the game; the features' come back
    return pc


def _check_levels(levels: Any, cls: str, level: int) -> None:
    """Class levels: {} (all in cls), or every class an SRD class, cls among them, the
    levels adding up to `level`."""
    if levels == {}:
        return
    if not isinstance(levels, dict) or not all(
            k in content.classes() and isinstance(v, int) and not isinstance(v, bool)
            and 1 <= v <= MAX_LEVEL for k, v in levels.items()):
        raise RulesError("levels must map SRD classes to whole numbers 1 to 20")
    if cls not in levels or sum(levels.values()) != level:
        raise RulesError(f"levels must include {cls} and add up to level {level}")


def _check_origin(origin: Any, cls: str) -> None:
    """Creation choices: {}, level-up choices (next class, improvements), or a whole draft of
    this class, with the right kinds of values."""
    if origin == {}:
        return
    if not isinstance(origin, dict) or any(
            k not in _ORIGIN or not isinstance(v, _ORIGIN[k]) for k, v in origin.items()):
        raise RulesError("origin must be {} or creation choices (" + ", ".join(_ORIGIN) + ")")
    if any(not isinstance(x, str) or len(x) > 24 for k in ("asi", "asi_next", "skills", "favored", "picks")
           for x in origin.get(k, [])):
        raise RulesError("origin asi and skills are lists of short names")
    if "scores" not in origin:
        return
    if origin.get("cls") != cls:
        raise RulesError("origin is another class's creation choices")
    scores = origin.get("scores", {})
    if sorted(scores) != sorted(ABILITIES) or not all(
            isinstance(v, int) and 3 <= v <= 20 for v in scores.values()):
        raise RulesError("origin scores: str dex con int wis cha, each 3 to 20")
    from rules.creation import race_choices

    if origin.get("race") not in race_choices():
        raise RulesError("origin race must be an SRD race or subrace")
