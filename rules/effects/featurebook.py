"""Class features and usable items as effect trees, from rules/content/features.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources

from rules.effects import nodes as n
from rules.effects import registry
from rules.errors import RulesError

_KEYS = {"name", "action", "resource", "item", "cls", "level", "target", "combat",
         "after_attack", "active", "needs_effect", "needs_slot", "effects", "keep_resource",
         "peace"}


@dataclass(frozen=True)
class FeatureDef:
    key: str
    name: str
    action: str  # action | bonus | free
    resource: str
    item: str
    cls: str
    level: int
    target: str
    combat: bool
    after_attack: bool
    active: str
    needs_effect: str
    needs_slot: bool
    keep_resource: bool  # the tree spends the resource itself (lay on hands' pool)
    tree: n.Tree
    peace: bool = False  # only out of combat (it takes a minute)


@cache
def book() -> dict[str, FeatureDef]:
    text = resources.files("rules.content").joinpath("features.toml").read_text("utf-8")
    out = {}
    for key, d in tomllib.loads(text).items():
        where = f"features.toml[{key}]"
        bad = [k for k in d if k not in _KEYS]
        if bad:
            raise RulesError(f"{where}: unknown key {bad[0]!r}")
        tree = registry.register(f"feature:{key}", n.parse_tree(d.get("effects", []), where))
        out[str(d.get("name", key))] = FeatureDef(
            key, str(d.get("name", key)), str(d.get("action", "action")),
            str(d.get("resource", "")), str(d.get("item", "")), str(d.get("cls", "")),
            int(d.get("level", 0)), str(d.get("target", "self")), bool(d.get("combat")),
            bool(d.get("after_attack")), str(d.get("active", "")),
            str(d.get("needs_effect", "")), bool(d.get("needs_slot")),
            bool(d.get("keep_resource")), tree, bool(d.get("peace")))
    return out


def names() -> list[str]:
    """Every feature's name and key, for forgiving matches ("second wind", "smite")."""
    out = []
    for name, f in book().items():
        out += [name, f.key.replace("-", " ")]
    return out


def find(word: str) -> FeatureDef | None:
    b = book()
    if word in b:
        return b[word]
    return next((f for f in b.values() if f.key.replace("-", " ") == word), None)


