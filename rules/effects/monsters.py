"""Monster actions as effect trees, derived from the stat-block data in monsters.json.

An attack is Attack{hit: typed damage, then the rider's save}; a save action is a Save
over its target or area, its damage rolled once. Riders with conditions and traits come
from rules/content/monster_effects.toml when a stat block needs more than its numbers.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from typing import Any

from rules import content
from rules.effects import nodes as n
from rules.effects import registry

# A save action that hits an area holds this many creatures when the data gives no size.
DEFAULT_AREA = ("sphere", 15)


@cache
def riders() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("monster_effects.toml").read_text("utf-8")
    return tomllib.loads(text)


def key_for(monster: str, action: str) -> str:
    return f"monster:{monster}:{action}"


def load_key(key: str) -> None:
    _, monster, _action = key.split(":", 2)
    m = content.monsters().get(monster)
    if m is None:
        return
    for a in m.get("actions", []) + m.get("legendary_actions", []):
        registry.register(key_for(monster, a["name"]), compile_action(monster, a))


def action_tree(monster: str, a: dict[str, Any]) -> n.Tree:
    return registry.tree(key_for(monster, a["name"]))


def _parts(ds: list[dict[str, Any]]) -> tuple[n.Part, ...]:
    return tuple(n.Part(dice=d["dice"], type=d.get("type") or "bludgeoning") for d in ds
                 if d.get("dice"))


def compile_action(monster: str, a: dict[str, Any]) -> n.Tree:
    extra = riders().get(monster, {}).get(a["name"], {})
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
