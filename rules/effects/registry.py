"""Every effect tree by key: "spell:<index>", "monster:<index>:<action>", "feature:<name>".

Trees are built once from data and cached; an ongoing effect's tick and on-hit sub-trees get
stable keys ("<key>#<n>t", "<key>#<n>h") so a creature's effect record can name them.
"""

from __future__ import annotations

from rules.effects import nodes as n
from rules.errors import RulesError

_TREES: dict[str, n.Tree] = {}
_SUB: dict[int, tuple[str, str]] = {}


def register(key: str, tree: n.Tree) -> n.Tree:
    _TREES[key] = tree
    k = 0
    for node in n.walk(tree):
        if isinstance(node, n.Ongoing):
            tick = f"{key}#{k}t" if node.tick else ""
            hit = f"{key}#{k}h" if node.on_hit else ""
            if tick:
                _TREES[tick] = node.tick
            if hit:
                _TREES[hit] = node.on_hit
            _SUB[id(node)] = (tick, hit)
            k += 1
    return tree


def subkeys(node: n.Ongoing) -> tuple[str, str]:
    return _SUB.get(id(node), ("", ""))


def tree(key: str) -> n.Tree:
    if key not in _TREES:
        _load(key)
    try:
        return _TREES[key]
    except KeyError:
        raise RulesError(f"no effect {key[:40]!r}") from None


def _load(key: str) -> None:
    kind = key.split(":", 1)[0]
    if kind == "spell":
        from rules.effects import spellbook

        spellbook.book()
    elif kind == "feature":
        from rules.effects import featurebook

        featurebook.book()
    elif kind == "monster":
        from rules.effects import monsters

        monsters.load_key(key)
