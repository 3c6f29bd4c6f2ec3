"""Custom monsters: check a DM's stat block (the monsters.json schema) into one the rules can run."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable
from functools import cache
from typing import Any

from rules import content, dice, fuzzy
from rules.errors import RulesError

ABILITIES = ("str", "dex", "con", "int", "wis", "cha")
ACTION_KINDS = ("melee", "ranged", "save", "multiattack", "other")
SPEEDS = ("walk", "fly", "swim", "climb", "burrow")
SENSES = ("darkvision", "blindsight", "truesight", "tremorsense", "passive_perception")
AREAS = ("cone", "line", "sphere", "cube", "cylinder")
SIZES = ("tiny", "small", "medium", "large", "huge", "gargantuan")
MAX_ACTIONS = 24
MAX_TEXT = 60


def cr_xp(cr: float) -> int:
    """The XP a monster of this challenge rating is worth, as the SRD's stat blocks of that
    rating give it (its "Experience Points by Challenge Rating" table); 0 for a rating no
    SRD monster has (18, 25-29), where a custom block should say its `xp`."""
    return _xp_by_cr().get(float(cr), 0)


@cache
def _xp_by_cr() -> dict[float, int]:
    seen: dict[float, Counter[int]] = {}
    for m in content.monsters().values():
        seen.setdefault(float(m["challenge_rating"]), Counter())[int(m["xp"])] += 1
    return {cr: xps.most_common(1)[0][0] for cr, xps in seen.items()}


class _Bad(Exception):
    """A field that is not valid: its path and what is wrong, joined into the one-line error."""


def _int(path: str, v: Any, lo: int, hi: int) -> int:
    if isinstance(v, bool) or not isinstance(v, int):
        raise _Bad(f"{path}: a whole number from {lo} to {hi}, not {_show(v)}")
    if not lo <= v <= hi:
        raise _Bad(f"{path}: {v} is not from {lo} to {hi}")
    return v


def _num(path: str, v: Any, lo: float, hi: float) -> float | int:
    if isinstance(v, bool) or not isinstance(v, int | float) or v != v:
        raise _Bad(f"{path}: a number from {lo:g} to {hi:g}, not {_show(v)}")
    if not lo <= v <= hi:
        raise _Bad(f"{path}: {v:g} is not from {lo:g} to {hi:g}")
    return int(v) if float(v).is_integer() else float(v)


def _text(path: str, v: Any, *, empty: bool = False) -> str:
    if not isinstance(v, str) or (not empty and not v.strip()):
        raise _Bad(f"{path}: a text, not {_show(v)}")
    if len(v) > MAX_TEXT or any(ord(c) < 32 for c in v):
        raise _Bad(f"{path}: at most {MAX_TEXT} printable characters")
    return v.strip()


def _choice(path: str, v: Any, options: tuple[str, ...] | list[str]) -> str:
    if not isinstance(v, str) or v not in options:
        shown = ", ".join(options) if len(options) <= 8 else ", ".join(options[:8]) + ", ..."
        raise _Bad(f"{path}: one of {shown}, not {_show(v)}")
    return v


def _list(path: str, v: Any, item: Callable[[str, Any], Any], most: int = 40) -> list[Any]:
    if v is None:
        return []
    if not isinstance(v, list):
        raise _Bad(f"{path}: a list, not {_show(v)}")
    if len(v) > most:
        raise _Bad(f"{path}: at most {most} entries")
    return [item(f"{path}[{k}]", x) for k, x in enumerate(v)]


def _table(path: str, v: Any, keys: tuple[str, ...], value: Callable[[str, Any], Any]
           ) -> dict[str, Any]:
    if v is None:
        return {}
    if not isinstance(v, dict):
        raise _Bad(f"{path}: a table, not {_show(v)}")
    return {_choice(f"{path} key", k, keys): value(f"{path}.{k}", x) for k, x in v.items()}


def _dice(path: str, v: Any) -> str:
    text = _text(path, v)
    try:
        dice.compile_expr(text)
    except (RulesError, ValueError, TypeError, RecursionError):
        raise _Bad(f"{path}: {_show(v)} is not a dice expression like 2d6+3") from None
    return text


def _damage(path: str, v: Any) -> dict[str, str]:
    d = _fields(path, v, {"dice", "type"})
    return {"dice": _dice(f"{path}.dice", d.get("dice")),
            "type": _choice(f"{path}.type", d.get("type"), content.damage_types())}


def _save(path: str, v: Any) -> dict[str, Any] | None:
    if v is None:
        return None
    d = _fields(path, v, {"ability", "dc", "half", "damage"})
    out = {"ability": _choice(f"{path}.ability", d.get("ability"), ABILITIES),
           "dc": _int(f"{path}.dc", d.get("dc"), 1, 30),
           "half": _bool(f"{path}.half", d.get("half", False))}
    if "damage" in d:
        out["damage"] = _list(f"{path}.damage", d["damage"], _damage, 4)
    return out


def _rider(path: str, v: Any) -> dict[str, Any]:
    d = _fields(path, v, {"condition", "rounds", "save_ends", "when"})
    return {"condition": _choice(f"{path}.condition", d.get("condition"), content.conditions()),
            "rounds": _int(f"{path}.rounds", d.get("rounds", -1), -1, 100),
            "save_ends": _bool(f"{path}.save_ends", d.get("save_ends", False)),
            "when": _choice(f"{path}.when", d.get("when", "fail"), ("fail", "hit"))}


def _bool(path: str, v: Any) -> bool:
    if not isinstance(v, bool):
        raise _Bad(f"{path}: true or false, not {_show(v)}")
    return v


def _fields(path: str, v: Any, known: set[str]) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Bad(f"{path}: a table, not {_show(v)}")
    extra = sorted(str(k) for k in v if k not in known)
    if extra:
        raise _Bad(f"{path}: unknown field {extra[0][:24]!r}")
    return v


_ACTION_FIELDS = {"name", "kind", "attack_bonus", "damage", "reach", "range", "save", "riders",
                  "multiattack", "recharge", "per_day", "area", "area_shape", "cost"}


def _action(path: str, v: Any) -> dict[str, Any]:
    d = _fields(path, v, _ACTION_FIELDS)
    kind = _choice(f"{path}.kind", d.get("kind"), ACTION_KINDS)
    a: dict[str, Any] = {"name": _text(f"{path}.name", d.get("name")), "kind": kind}
    ab = d.get("attack_bonus")
    if kind in ("melee", "ranged") and ab is None:
        raise _Bad(f"{path}.attack_bonus: a {kind} attack needs one")
    a["attack_bonus"] = None if ab is None else _int(f"{path}.attack_bonus", ab, -5, 30)
    a["damage"] = _list(f"{path}.damage", d.get("damage"), _damage, 4)
    reach = d.get("reach", 5 if kind == "melee" else None)
    a["reach"] = None if reach is None else _int(f"{path}.reach", reach, 5, 30)
    rng = d.get("range")
    if rng is not None:
        pair = _list(f"{path}.range", rng, lambda p, x: _int(p, x, 5, 1000), 2)
        if len(pair) != 2 or pair[0] > pair[1]:
            raise _Bad(f"{path}.range: [normal, long] in feet, normal first")
        rng = pair
    elif kind == "ranged":
        raise _Bad(f"{path}.range: a ranged attack needs [normal, long] in feet")
    a["range"] = rng
    a["save"] = _save(f"{path}.save", d.get("save"))
    if kind == "save" and a["save"] is None:
        raise _Bad(f"{path}.save: a save action needs ability and dc")
    a["riders"] = _list(f"{path}.riders", d.get("riders"), _rider, 4)
    multi = d.get("multiattack")
    a["multiattack"] = None if multi is None else _list(f"{path}.multiattack", multi, _part, 6)
    if kind == "multiattack" and not a["multiattack"]:
        raise _Bad(f"{path}.multiattack: list the attacks, e.g. [{{action='Claw', count=2}}]")
    rec = d.get("recharge")
    if rec is not None:
        rec = _list(f"{path}.recharge", rec, lambda p, x: _int(p, x, 1, 6), 2)
        if len(rec) != 2 or rec[0] > rec[1] or rec[1] != 6:
            raise _Bad(f"{path}.recharge: [low, 6], e.g. [5, 6]")
    a["recharge"] = rec
    per_day = d.get("per_day")
    a["per_day"] = None if per_day is None else _int(f"{path}.per_day", per_day, 1, 10)
    shape = d.get("area_shape")
    if shape is not None:
        s = _fields(f"{path}.area_shape", shape, {"type", "size"})
        shape = {"type": _choice(f"{path}.area_shape.type", s.get("type"), AREAS),
                 "size": _int(f"{path}.area_shape.size", s.get("size"), 5, 500)}
    a["area_shape"] = shape
    a["area"] = _bool(f"{path}.area", d.get("area", shape is not None))
    if "cost" in d:
        a["cost"] = _int(f"{path}.cost", d["cost"], 1, 3)
    return a


def _part(path: str, v: Any) -> dict[str, Any]:
    d = _fields(path, v, {"action", "count"})
    return {"action": _text(f"{path}.action", d.get("action")),
            "count": _int(f"{path}.count", d.get("count", 1), 1, 10)}


_FIELDS = {"index", "name", "size", "type", "alignment", "armor_class", "hit_points", "hit_dice",
           "speed", "abilities", "saves", "skills", "senses", "languages", "challenge_rating",
           "xp", "proficiency_bonus", "damage_resistances", "damage_immunities",
           "damage_vulnerabilities", "condition_immunities", "actions", "legendary_actions",
           "legendary_per_round", "special_abilities", "reactions", "spellcasting", "parry",
           "effects"}

# Effect nodes a custom action may carry (rules/effects/nodes.py), with their fields' checks:
# the few a stat block's riders need, each field typed, so a checked block cannot fail in play.
_MOVES = ("push", "near", "far")


def _node(path: str, v: Any) -> dict[str, Any]:
    d = _fields(path, v, {"type", "name", "rounds", "end_save", "remove", "parts", "magical",
                          "how"})
    kind = _choice(f"{path}.type", d.get("type"), ("condition", "damage", "move"))
    if kind == "condition":
        _fields(path, d, {"type", "name", "rounds", "end_save", "remove"})
        return {"type": kind,
                "name": _choice(f"{path}.name", d.get("name"), content.conditions()),
                "rounds": _int(f"{path}.rounds", d.get("rounds", -1), -1, 100),
                "end_save": _bool(f"{path}.end_save", d.get("end_save", False)),
                "remove": _bool(f"{path}.remove", d.get("remove", False))}
    if kind == "damage":
        _fields(path, d, {"type", "parts", "magical"})
        parts = _list(f"{path}.parts", d.get("parts"), _damage, 4)
        if not parts:
            raise _Bad(f"{path}.parts: at least one {{dice, type}}")
        return {"type": kind, "parts": parts,
                "magical": _bool(f"{path}.magical", d.get("magical", False))}
    _fields(path, d, {"type", "how"})
    return {"type": kind, "how": _choice(f"{path}.how", d.get("how", "push"), _MOVES)}


def _effect_entry(path: str, v: Any) -> dict[str, Any]:
    d = _fields(path, v, {"hit", "fail", "area"})
    out: dict[str, Any] = {k: _list(f"{path}.{k}", d[k], _node, 6)
                           for k in ("hit", "fail") if k in d}
    if "area" in d:
        pair = d["area"]
        if not isinstance(pair, list) or len(pair) != 2:
            raise _Bad(f"{path}.area: [shape, size in feet], e.g. [\"cone\", 15]")
        out["area"] = [_choice(f"{path}.area[0]", pair[0], AREAS),
                       _int(f"{path}.area[1]", pair[1], 5, 500)]
    return out


def _spellcasting(v: Any) -> dict[str, Any] | None:
    """The SRD stat blocks' spellcasting shape: the casting ability, DC, attack bonus, slots
    by level, and SRD spells, each with slots (per_day null) or its own uses a day."""
    if v is None:
        return None
    d = _fields("spellcasting", v, {"ability", "dc", "attack", "slots", "spells"})
    slots = _list("spellcasting.slots", d.get("slots", []),
                  lambda p, x: _int(p, x, 0, 4), 9)
    known = tuple(content.spells())
    spells = _list("spellcasting.spells", d.get("spells"), lambda p, x: _spell(p, x, known), 30)
    if not spells:
        raise _Bad("spellcasting.spells: at least one {index, per_day}")
    return {"ability": _choice("spellcasting.ability", d.get("ability", "int"), ABILITIES),
            "dc": _int("spellcasting.dc", d.get("dc"), 8, 30),
            "attack": _int("spellcasting.attack", d.get("attack", 0), -5, 20),
            "slots": slots + [0] * (9 - len(slots)), "spells": spells}


def _spell(path: str, v: Any, known: tuple[str, ...]) -> dict[str, Any]:
    d = _fields(path, {"index": v} if isinstance(v, str) else v, {"index", "per_day"})
    per_day = d.get("per_day")
    index = d.get("index")
    if isinstance(index, str) and index not in known:
        near = fuzzy.suggest(index, known)
        raise _Bad(f"{path}.index: no SRD spell {_show(index)}"
                   + (f"; did you mean {', '.join(near)}?" if near else ""))
    return {"index": _choice(f"{path}.index", index, known),
            "per_day": None if per_day is None else _int(f"{path}.per_day", per_day, 1, 9)}


def validate_monster(doc: Any) -> dict[str, Any]:
    """A complete stat block from a DM's document, or RulesError naming the first bad field.

    The index is the name's slug plus a hash of the checked block, so one index always
    means one stat block: a replay, or two games in one process, can never mix them up.
    """
    try:
        record = _monster(doc)
    except _Bad as err:
        # a key of the document is part of the path, and may hold a line break
        raise RulesError(" ".join(f"custom monster {err}".split())[:200]) from None
    return record


def _monster(doc: Any) -> dict[str, Any]:
    d = _fields("document", doc, _FIELDS)
    name = _text("name", d.get("name"))
    slug = "-".join(re.findall(r"[a-z0-9]+", name.lower()))
    if not slug:
        raise _Bad("name: needs a letter or digit")
    if name.lower() in {m["name"].lower() for m in content.monsters().values()}:
        raise _Bad(f"name: {name!r} is an SRD monster; give yours another name")
    abilities = _table("abilities", d.get("abilities"), ABILITIES, lambda p, x: _int(p, x, 1, 30))
    missing = [a for a in ABILITIES if a not in abilities]
    if missing:
        raise _Bad(f"abilities: missing {missing[0]}")
    cr = _num("challenge_rating", d.get("challenge_rating"), 0, 30)
    rec: dict[str, Any] = {
        "name": name,
        "size": _choice("size", d.get("size", "medium"), SIZES),
        "type": _text("type", d.get("type", "monstrosity")),
        "alignment": _text("alignment", d.get("alignment", "unaligned")),
        "armor_class": _int("armor_class", d.get("armor_class"), 1, 30),
        "hit_points": _int("hit_points", d.get("hit_points"), 1, 1000),
        "hit_dice": _dice("hit_dice", d.get("hit_dice", "1d8")),
        "speed": _speed(d.get("speed", {"walk": 30})),
        "abilities": abilities,
        "saves": _table("saves", d.get("saves"), ABILITIES, lambda p, x: _int(p, x, -5, 20)),
        "skills": _table("skills", d.get("skills"), tuple(content.skills()),
                         lambda p, x: _int(p, x, -5, 20)),
        "senses": _table("senses", d.get("senses"), SENSES, lambda p, x: _int(p, x, 0, 500)),
        "languages": _text("languages", d.get("languages", ""), empty=True),
        "challenge_rating": cr,
        "xp": _int("xp", d.get("xp", cr_xp(cr)), 0, 200000),
        "proficiency_bonus": _int("proficiency_bonus", d.get("proficiency_bonus", 2), 2, 9),
        "condition_immunities": _list("condition_immunities", d.get("condition_immunities"),
                                      lambda p, x: _choice(p, x, content.conditions()), 15),
        "actions": _list("actions", d.get("actions"), _action, MAX_ACTIONS),
        "legendary_actions": _list("legendary_actions", d.get("legendary_actions"), _action, 6),
        "legendary_per_round": _int("legendary_per_round", d.get("legendary_per_round", 0), 0, 5),
        "special_abilities": _list("special_abilities", d.get("special_abilities"), _text, 20),
        "reactions": _list("reactions", d.get("reactions"), _text, 6),
        "spellcasting": _spellcasting(d.get("spellcasting")),
        "parry": _int("parry", d.get("parry", 0), 0, 10),
    }
    for key in ("damage_resistances", "damage_immunities", "damage_vulnerabilities"):
        rec[key] = _list(key, d.get(key), lambda p, x: _choice(p, x, content.damage_types()), 13)
    if not rec["actions"]:
        raise _Bad("actions: a monster needs at least one action")
    names = {a["name"] for a in rec["actions"]}
    for k, a in enumerate(rec["actions"] + rec["legendary_actions"]):
        for part in a["multiattack"] or []:
            if part["action"] not in names:
                raise _Bad(f"actions[{k}].multiattack: no action named {part['action'][:24]!r}")
    effects = d.get("effects")
    if effects is not None:
        if not isinstance(effects, dict):
            raise _Bad(f"effects: a table of action names, not {_show(effects)}")
        every = names | {a["name"] for a in rec["legendary_actions"]}
        for key in effects:
            if key not in every:
                raise _Bad(f"effects: no action named {str(key)[:24]!r}")
        rec["effects"] = {k: _effect_entry(f"effects.{k[:24]}", x) for k, x in effects.items()}
    body = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode()
    rec["index"] = f"{slug[:32]}-{hashlib.blake2b(body, digest_size=3).hexdigest()}"
    return rec


def _speed(v: Any) -> dict[str, Any]:
    if not isinstance(v, dict):
        raise _Bad(f"speed: a table like {{walk = 30}}, not {_show(v)}")
    out: dict[str, Any] = {}
    for k, x in v.items():
        if k == "hover":
            out["hover"] = _bool("speed.hover", x)
        else:
            out[_choice("speed key", k, (*SPEEDS, "hover"))] = _int(f"speed.{k}", x, 0, 500)
    return out


def _show(v: Any) -> str:
    text = repr(v) if not isinstance(v, dict | list) else type(v).__name__
    return text if len(text) <= 24 else text[:21] + "..."
