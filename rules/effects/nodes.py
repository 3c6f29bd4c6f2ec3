"""Effect nodes: the typed tree a spell, monster action, trait or class feature is made of.

Data (TOML/JSON) describes a tree of nodes by `type`; `parse` turns it into these frozen
dataclasses once, so the resolver walks plain objects and a bad field fails at load.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from rules.errors import RulesError

Tree = tuple["Node", ...]


@dataclass(frozen=True, slots=True)
class Part:
    """One typed part of a damage, heal or temp HP roll.

    dice "spell" reads the spell's own table (slot level or character level); "MOD" in dice
    is the caster's spellcasting modifier. per_level adds dice per slot above `base`;
    max_dice caps the dice count; bonus_vs adds dice against the listed creature types.
    """

    dice: str = "spell"
    type: str = "spell"
    per_level: str = ""
    max_dice: int = 0
    bonus_vs: tuple[str, ...] = ()
    bonus_dice: str = ""


@dataclass(frozen=True, slots=True)
class Target:
    """Who the children run on: enemy | ally | self | allies | enemies | dead_ally | any."""

    who: str = "enemy"
    max: int = 1
    only_types: tuple[str, ...] = ()
    skip_types: tuple[str, ...] = ()
    skip_immune: str = ""  # skip creatures immune to this condition (sleep: charmed)
    effects: Tree = ()


@dataclass(frozen=True, slots=True)
class Area:
    """The target and whoever else the shape holds, by the DMG's targets-in-area guidance."""

    shape: str = "sphere"
    size: int = 0  # 0: the spell's own area
    who: str = "enemies"
    skip_types: tuple[str, ...] = ()
    effects: Tree = ()


@dataclass(frozen=True, slots=True)
class Attack:
    kind: str = "ranged"  # melee | ranged
    bonus: int | None = None  # None: the caster's spell attack bonus
    rays: int = 1
    rays_per_level: int = 0
    rays_at: tuple[tuple[int, int], ...] = ()  # (character level, rays)
    range: tuple[int, int] = (0, 0)
    hit: Tree = ()
    miss: Tree = ()


@dataclass(frozen=True, slots=True)
class Save:
    ability: str = "dex"
    dc: int = 0  # 0: the caster's spell save DC
    half: bool = False  # a success halves the damage of `fail`
    fail: Tree = ()
    success: Tree = ()


@dataclass(frozen=True, slots=True)
class Damage:
    parts: tuple[Part, ...] = (Part(),)
    magical: bool = True
    once: bool = True  # rolled once for every target of one use (save spells, breath)
    times: int = 1  # separate rolls (darts), each dealt on its own
    times_per_level: int = 0


@dataclass(frozen=True, slots=True)
class Heal:
    part: Part = Part()


@dataclass(frozen=True, slots=True)
class TempHP:
    part: Part = Part()


@dataclass(frozen=True, slots=True)
class Condition:
    name: str
    rounds: int = 0  # 0: the node's parent duration (the spell's), -1: until removed
    end_save: bool = False  # a save at the end of each of the bearer's turns ends it
    remove: bool = False
    # the save is repeated, ending it on a success, each time its source or the source's
    # allies harm the bearer (a vampire's Charm), instead of at each turn's end
    harm_save: bool = False


@dataclass(frozen=True, slots=True)
class Ongoing:
    """An effect record put on the target (or on the caster with self=True)."""

    name: str = ""  # "": the source's name
    rounds: int = 0  # 0: the source's duration
    self: bool = False
    values: tuple[tuple[str, Any], ...] = ()  # Effect fields: ac, atk, save, speed, tags ...
    tick: Tree = ()  # run at the start of the bearer's turn
    on_hit: Tree = ()  # run when the bearer hits with a weapon


@dataclass(frozen=True, slots=True)
class Counter:
    """Spend a resource: `slot` spends the lowest spell slot (its level sets ctx.level)."""

    resource: str
    amount: int = 1


@dataclass(frozen=True, slots=True)
class Move:
    how: str = "push"  # push (out of melee) | teleport (caster to near) | near | far


@dataclass(frozen=True, slots=True)
class Summon:
    """A summoned attacker the caster directs with a bonus action (`use NAME`)."""

    name: str
    dice: str = "spell"
    dtype: str = "force"
    per_level: str = ""


@dataclass(frozen=True, slots=True)
class Special:
    """A genuinely unique rule, by name, from rules.effects.specials (tested one by one)."""

    name: str
    args: tuple[tuple[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Text:
    """A line to the table; adjudicate=True also asks the DM to rule."""

    text: str
    adjudicate: bool = False


@dataclass(frozen=True, slots=True)
class Ref:
    """Run another registered tree (a monster's other action, a shared rider)."""

    key: str


Node = (Target | Area | Attack | Save | Damage | Heal | TempHP | Condition | Ongoing | Counter
        | Move | Summon | Special | Text | Ref)
_TYPES: dict[str, type] = {
    "target": Target, "area": Area, "attack": Attack, "save": Save, "damage": Damage,
    "heal": Heal, "temp_hp": TempHP, "condition": Condition, "effect": Ongoing,
    "counter": Counter, "move": Move, "summon": Summon, "special": Special, "text": Text,
    "ref": Ref,
}
_TREES = {"effects", "hit", "miss", "fail", "success", "tick", "on_hit"}
_PAIRS = {"values", "args"}


def _part(d: Any, where: str) -> Part:
    if isinstance(d, str):
        return Part(dice=d)
    if not isinstance(d, dict):
        raise RulesError(f"{where}: a damage part is a table")
    return _build(Part, {k: tuple(v) if isinstance(v, list) else v for k, v in d.items()}, where)


def _build(cls: type, kw: dict[str, Any], where: str) -> Any:
    names = {f.name for f in fields(cls)}
    bad = [k for k in kw if k not in names]
    if bad:
        raise RulesError(f"{where}: {cls.__name__.lower()} has no field {bad[0]!r}")
    try:
        return cls(**kw)
    except TypeError as err:
        raise RulesError(f"{where}: {err}") from None


def parse_node(d: dict[str, Any], where: str) -> Node:
    if not isinstance(d, dict) or "type" not in d:
        raise RulesError(f"{where}: each effect needs a type")
    cls = _TYPES.get(d["type"])
    if cls is None:
        raise RulesError(f"{where}: unknown effect type {d['type']!r}")
    kw: dict[str, Any] = {}
    for k, v in d.items():
        if k == "type":
            continue
        if k in _TREES:
            kw[k] = parse_tree(v, f"{where}/{k}")
        elif k in _PAIRS:
            kw[k] = tuple(sorted((str(a), tuple(b) if isinstance(b, list) else b)
                                 for a, b in dict(v).items()))
        elif k == "parts":
            kw[k] = tuple(_part(p, where) for p in v)
        elif k == "part":
            kw[k] = _part(v, where)
        elif k == "rays_at":
            kw[k] = tuple(sorted((int(a), int(b)) for a, b in dict(v).items()))
        elif isinstance(v, list):
            kw[k] = tuple(v)
        else:
            kw[k] = v
    return _build(cls, kw, where)


def parse_tree(items: Any, where: str) -> Tree:
    if isinstance(items, dict):
        items = [items]
    return tuple(parse_node(x, f"{where}[{k}]") for k, x in enumerate(items or []))


def walk(tree: Tree) -> list[Node]:
    """Every node of a tree, depth first (for descriptions and coverage)."""
    out: list[Node] = []
    for n in tree:
        out.append(n)
        for name in _TREES:
            sub = getattr(n, name, None)
            if isinstance(sub, tuple) and sub and not isinstance(sub[0], tuple):
                out += walk(sub)
    return out


__all__ = ["Area", "Attack", "Condition", "Counter", "Damage", "Heal", "Move", "Node",
           "Ongoing", "Part", "Ref", "Save", "Special", "Summon", "Target", "TempHP", "Text",
           "Tree", "parse_node", "parse_tree", "walk"]
