"""Monster actions as effect trees, derived from the stat-block data in monsters.json.

An attack is Attack{hit: typed damage, then the rider's save}; a save action is a Save
over its target or area, its damage rolled once. Riders with conditions come from
rules/content/monster_effects.toml, per monster or for every action of one name.
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
# A save action that hits an area holds this many creatures when the data gives no size.
DEFAULT_AREA = ("sphere", 15)


@cache
def riders() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("monster_effects.toml").read_text("utf-8")
    return tomllib.loads(text)


def key_for(monster: str, action: str) -> str:
    return f"monster:{monster}:{action}"


def load_key(key: str) -> None:
    monster = key.split(":", 2)[1]
    m = content.monsters().get(monster)
    if m is None:
        return
    for a in m.get("actions", []) + m.get("legendary_actions", []):
        if a.get("kind") == "multiattack":
            continue  # runs its named parts; a legendary "Paralyzing Touch" is the action's
        registry.register(key_for(monster, a["name"]), compile_action(monster, a))
    table = riders()
    for t in trait_names(monster):
        d = table.get(monster, {}).get(t) or table.get(ANY, {}).get(t) or {}
        registry.register(trait_key(monster, t),
                          n.parse_tree(d["trait"], f"monster_effects.toml[{monster}][{t}]"))


def trait_key(monster: str, trait: str) -> str:
    return f"monster:{monster}:trait:{trait}"


def trait_names(monster: str) -> list[str]:
    """The monster's traits that have effect data, in stat-block order."""
    m = content.monsters().get(monster) or {}
    table = riders()
    return [t for t in m.get("special_abilities", [])
            if "trait" in (table.get(monster, {}).get(t) or table.get(ANY, {}).get(t) or {})]


def action_tree(monster: str, a: dict[str, Any]) -> n.Tree:
    return registry.tree(key_for(monster, a["name"]))


def _parts(ds: list[dict[str, Any]]) -> tuple[n.Part, ...]:
    return tuple(n.Part(dice=d["dice"], type=d.get("type") or "bludgeoning") for d in ds
                 if d.get("dice"))


def compile_action(monster: str, a: dict[str, Any]) -> n.Tree:
    table = riders()
    extra = table.get(monster, {}).get(a["name"]) or table.get(ANY, {}).get(a["name"], {})
    where = f"monster_effects.toml[{monster}][{a['name']}]"
    on_fail = n.parse_tree(extra.get("fail", []), where)
    kind = a.get("kind")
    save = a.get("save") or {}
    if kind in ("melee", "ranged"):
        hit: n.Tree = ()
        parts = _parts(a.get("damage", []))
        if parts:
            hit += (n.Damage(parts, magical=False, once=False),)
        if save:
            fail = ((n.Damage(_parts(save.get("damage", [])), magical=False),)
                    if _parts(save.get("damage", [])) else ()) + on_fail
            hit += (n.Save(save.get("ability", "con"), int(save.get("dc", 10)),
                           bool(save.get("half")), fail),)
        hit += n.parse_tree(extra.get("hit", []), where)
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
            shape, size = extra.get("area", DEFAULT_AREA)
            return (n.Area(str(shape), int(size), "enemies", (), body),)
        return (n.Target("enemy", 1, (), (), "", body),)
    return ()
