"""Monster actions as effect trees, derived from the stat-block data in monsters.json.

An attack is Attack{hit: typed damage, its riders, then the rider's save}; a save action
is a Save over its target or its area (shape and size from the stat block), its damage
rolled once. Conditions come from the stat block's riders; rules/content/
monster_effects.toml adds what numbers cannot say, per monster or per action name.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from rules import content
from rules.effects import nodes as n
from rules.effects import registry

# Riders shared by every stat block with an action of that name (Frightful Presence).
ANY = "_any"
# A save action that hits an area with no size in its stat block holds this many creatures.
DEFAULT_AREA = ("sphere", 15)


@cache
def riders() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("monster_effects.toml").read_text("utf-8")
    return tomllib.loads(text)


def key_for(monster: str, action: str, thrown: bool = False) -> str:
    """An action's tree key; `thrown` is a melee-or-ranged weapon used at range."""
    return f"monster:{monster}:{action}" + ("@thrown" if thrown else "")


def load_key(key: str) -> None:
    monster = key.split(":", 2)[1]
    m = content.monster_record(monster)
    if m is None:
        return
    for a in m.get("actions", []) + m.get("legendary_actions", []):
        if a.get("kind") == "multiattack":
            continue  # runs its named parts; a legendary "Paralyzing Touch" is the action's
        registry.register(key_for(monster, a["name"]), compile_action(monster, a))
        if a.get("kind") == "melee" and a.get("range"):  # "Melee or Ranged Weapon Attack"
            registry.register(key_for(monster, a["name"], thrown=True),
                              compile_action(monster, {**a, "kind": "ranged"}))
    for t in trait_names(monster):
        d = entry(monster, t)
        registry.register(trait_key(monster, t),
                          n.parse_tree(d["trait"], f"monster_effects.toml[{monster}][{t}]"))


def trait_key(monster: str, trait: str) -> str:
    return f"monster:{monster}:trait:{trait}"


def trait_names(monster: str) -> list[str]:
    """The monster's traits that have effect data, in stat-block order."""
    m = content.monster_record(monster) or {}
    return [t for t in m.get("special_abilities", []) if "trait" in entry(monster, t)]


def entry(monster: str, name: str) -> dict[str, Any]:
    """The effect data for one action or trait: a custom stat block's own `effects`
    (rules.custom), else monster_effects.toml's entry for the monster, else for any."""
    own = ((content.monster_record(monster) or {}).get("effects") or {}).get(name)
    table = riders()
    return own or table.get(monster, {}).get(name) or table.get(ANY, {}).get(name) or {}


def action_tree(monster: str, a: dict[str, Any], thrown: bool = False) -> n.Tree:
    return registry.tree(key_for(monster, a["name"], thrown))


def _parts(ds: list[dict[str, Any]]) -> tuple[n.Part, ...]:
    return tuple(n.Part(dice=d["dice"], type=d.get("type") or "bludgeoning") for d in ds
                 if d.get("dice"))


def _riders(a: dict[str, Any], when: str) -> n.Tree:
    """The stat block's own conditions (riders in monsters.json) as condition nodes."""
    return tuple(n.Condition(r["condition"], int(r.get("rounds", -1)) or -1,
                             end_save=bool(r.get("save_ends")))
                 for r in a.get("riders") or [] if r.get("when") == when)


def compile_action(monster: str, a: dict[str, Any]) -> n.Tree:
    """An action's tree: the stat block's numbers and riders; monster_effects.toml's `hit`,
    `fail` and `area` replace the derived ones where a stat block needs more."""
    extra = entry(monster, a["name"])
    where = f"monster_effects.toml[{monster}][{a['name']}]"
    on_fail = n.parse_tree(extra["fail"], where) if "fail" in extra else _riders(a, "fail")
    on_hit = n.parse_tree(extra["hit"], where) if "hit" in extra else _riders(a, "hit")
    kind = a.get("kind")
    save = a.get("save") or {}
    if kind in ("melee", "ranged"):
        hit: n.Tree = ()
        parts = _parts(a.get("damage", []))
        if parts:
            hit += (n.Damage(parts, magical=False, once=False),)
        hit += on_hit
        if save:
            fail = ((n.Damage(_parts(save.get("damage", [])), magical=False),)
                    if _parts(save.get("damage", [])) else ()) + on_fail
            hit += (n.Save(save.get("ability", "con"), int(save.get("dc", 10)),
                           bool(save.get("half")), fail),)
        rng = a.get("range") or [int(a.get("reach") or 5), 0]
        bonus = int(a.get("attack_bonus") or 0)
        if not hit and not bonus:
            return ()
        return (n.Attack("ranged" if kind == "ranged" else "melee", bonus, 1, 0, (),
                         (int(rng[0]), int(rng[1])), hit),)
    if kind == "save":
        parts = _parts(a.get("damage", []))
        fail = ((n.Damage(parts, magical=False),) if parts else ()) + on_fail
        body = (n.Save(save.get("ability", "dex"), int(save.get("dc", 10)),
                       bool(save.get("half")), fail),)
        if a.get("area"):
            shape = a.get("area_shape") or {}
            default = (shape["type"], shape["size"]) if shape else DEFAULT_AREA
            kind_, size = extra.get("area", default)
            return (n.Area(str(kind_), int(size), "enemies", (), body),)
        return (n.Target("enemy", 1, (), (), "", body),)
    return ()
