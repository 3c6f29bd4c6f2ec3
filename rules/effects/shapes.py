"""Shapes that are not stat blocks of their own: a dragon's humanoid guise, an imp's raven.

A shapechanger whose forms share its statistics keeps them and carries a `shaped` effect
named for the shape; monster_effects.toml says which speeds a shape has and, for a form
whose new body lacks them (a dragon as a humanoid), which true-form actions it cannot use.
"""

from __future__ import annotations

from typing import Any

from rules import content
from rules.creature import Entity, best_speed
from rules.effects import monsters
from rules.effects.records import Effect

# The stat-block entries that may carry a `shapes` list: an action or a trait.
SOURCES = ("Change Shape", "Shapechanger")
TRUE_FORM = "true form"


def source(monster: str) -> dict[str, Any]:
    """The monster_effects.toml entry that lists the monster's shapes ({} when none)."""
    m = content.monster_record(monster) or {}
    names = [a["name"] for a in m.get("actions", [])] + list(m.get("special_abilities", []))
    for name in SOURCES:
        d = monsters.entry(monster, name)
        if name in names and d.get("shapes"):
            return d
    return {}


def shape_list(monster: str) -> list[dict[str, Any]]:
    return list(source(monster).get("shapes") or [])


def actions(monster: str) -> list[dict[str, Any]]:
    """A Shapechanger trait's Change Shape actions: one per shape, and one back."""
    d = source(monster)
    if not d.get("family"):  # a stat-block Change Shape action toggles by itself
        return []
    names = [s["name"] for s in shape_list(monster)] + [TRUE_FORM]
    return [{"name": f"Change Shape ({s})", "kind": "other", "shape": s, "damage": [],
             "multiattack": None, "recharge": None, "per_day": None} for s in names]


def current(c: Entity) -> Effect | None:
    return next((x for x in c.effects if x.has("shaped")), None)


def take(c: Entity, to: str) -> str:
    """The creature takes shape `to` (TRUE_FORM: back); returns the shape's name."""
    c.effects[:] = [x for x in c.effects if not x.has("shaped")]
    m = content.monster_record(c.monster) or {}
    shape = next((s for s in shape_list(c.monster) if s["name"] == to), None)
    if shape is None:
        c.speed = best_speed(m.get("speed") or {})
        return TRUE_FORM
    c.effects.append(Effect(f"{to} form", c.eid, dc=int(shape.get("dc", 0)),
                            tags=("shaped", *shape.get("tags", ()))))
    c.speed = best_speed(shape.get("speed") or m.get("speed") or {})
    return to


def locked(c: Entity, a: dict[str, Any]) -> bool:
    """An action the creature's present shape cannot use (a shaped dragon's breath)."""
    if c.kind != "monster" or current(c) is None or a.get("shape") is not None:
        return False
    d = source(c.monster)
    locks = d.get("locks") or []
    if locks == "all":  # the new body has none of them (a dragon as a humanoid)
        return a["name"] not in (d.get("keeps") or []) and a["name"] not in SOURCES
    return a["name"] in locks  # "Claws (Hag Form Only)"


def ready(c: Entity, a: dict[str, Any]) -> bool:
    """A Change Shape action is worth offering only to a shape it is not in."""
    to = a.get("shape")
    if to is None:
        return True
    now = current(c)
    return (now is not None) if to == TRUE_FORM else (now is None or now.name != f"{to} form")
