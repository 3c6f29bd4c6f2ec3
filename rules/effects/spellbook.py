"""Every SRD spell as an effect tree: derived from spells.json, shaped by effects.toml.

spells.json holds the SRD's numbers (dice tables, save, attack, area, duration); effects.toml
says only how the parts fit (what a failed save does, who is targeted), or that the DM
adjudicates the spell and why. No spell has code of its own.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rules import content
from rules.effects import nodes as n
from rules.effects import registry
from rules.errors import RulesError

# Rounds in a duration (10 rounds a minute); -1: until dispelled or ended.
_UNITS = {"round": 1, "minute": 10, "hour": 600, "day": 14400}
_SHORTHAND = {"targets", "max", "only_types", "skip_types", "skip_immune", "effects",
              "condition", "end_save", "buff", "self_buff", "on_save", "attack", "save",
              "rays", "rays_per_level", "rays_at", "dice", "dtype", "per_level", "heal",
              "temp_hp", "aura", "special", "args", "remove", "move", "adjudicate", "rounds",
              "area", "summon", "range", "magical", "text"}


@dataclass(frozen=True)
class SpellDef:
    index: str
    name: str
    tree: n.Tree
    targets: str  # root selection: enemy | ally | self | area | allies | enemies | ...
    max_targets: int
    area: tuple[str, int] | None
    only_types: tuple[str, ...]
    rounds: int
    adjudicated: str  # "" when mechanised; else the one-line reason

    @property
    def tracked_only(self) -> bool:
        """Mechanised as a tracked effect only: duration, concentration and dispelling are
        the engine's, the benefit is told to the table (comprehend languages, alarm)."""
        rule_nodes = (n.Attack, n.Save, n.Damage, n.Heal, n.TempHP, n.Condition, n.Counter,
                      n.Move, n.Summon, n.Special, n.Ref)
        return not self.adjudicated and not any(
            isinstance(x, rule_nodes) or (isinstance(x, n.Ongoing) and (
                x.values or x.tick or x.on_hit)) for x in n.walk(self.tree))


def rounds_of(duration: str) -> int:
    d = duration.lower().replace("up to ", "")
    if d.startswith("instant"):
        return 0
    if "dispelled" in d or d.startswith("special"):
        return -1
    num, _, unit = d.partition(" ")
    try:
        count = int(num)
    except ValueError:
        return 0
    return count * _UNITS.get(unit.rstrip("s"), 1)


@cache
def authored() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("effects.toml").read_text("utf-8")
    return tomllib.loads(text)


@cache
def book() -> dict[str, SpellDef]:
    spells = content.spells()
    table = authored()
    unknown = [k for k in table if k not in spells]
    if unknown:
        raise RulesError(f"effects.toml: {unknown[0]!r} is not an SRD spell")
    out = {}
    for idx, sp in spells.items():
        d = build(sp, table.get(idx, {}))
        registry.register(f"spell:{idx}", d.tree)
        out[idx] = d
    return out


def spell_def(index: str) -> SpellDef:
    b = book()
    if index not in b:
        raise RulesError(f"no spell {index!r}")
    return b[index]


def build(sp: dict[str, Any], fx: dict[str, Any]) -> SpellDef:
    where = f"effects.toml[{sp['index']}]"
    bad = [k for k in fx if k not in _SHORTHAND]
    if bad:
        raise RulesError(f"{where}: unknown key {bad[0]!r}")
    rounds = int(fx.get("rounds", rounds_of(sp.get("duration", ""))))
    area = fx.get("area") or sp.get("area")
    area_t = (str(area["type"]), int(area["size"])) if area else None
    reason = fx.get("adjudicate", "")
    if reason or not _mechanisable(sp, fx):
        why = reason or "no mechanical effect in play yet"
        return SpellDef(sp["index"], sp["name"], (n.Text(why, adjudicate=True),), "any", 0,
                        area_t, (), rounds, why)
    targets = fx.get("targets") or _default_targets(sp, fx)
    if fx.get("special") in _ROOT_SPECIALS:
        inner: n.Tree = ()
    elif "effects" in fx:
        inner = n.parse_tree(fx["effects"], where)
    else:
        inner = _derive(sp, fx, where)
    if targets == "area":
        shape, size = area_t or ("sphere", 5)
        root: n.Node = n.Area(shape, size, "enemies", tuple(fx.get("skip_types", ())), inner)
    else:
        root = n.Target(targets, int(fx.get("max", 1)), tuple(fx.get("only_types", ())),
                        tuple(fx.get("skip_types", ())), str(fx.get("skip_immune", "")), inner)
    tree: tuple[n.Node, ...] = ()
    if fx.get("summon"):
        s = fx["summon"]
        tree += (n.Summon(sp["name"].lower(), str(s.get("dice", "spell")),
                          str(s.get("dtype", "force")), str(s.get("per_level", ""))),)
    tree += (root,)
    if "self_buff" in fx:
        tree += (n.Ongoing(self=True, values=_pairs(fx["self_buff"])),)
    if fx.get("special") in _ROOT_SPECIALS:
        tree = (n.Special(fx["special"], _pairs(fx.get("args", {}))),)
    if fx.get("text"):
        tree += (n.Text(str(fx["text"])),)
    return SpellDef(sp["index"], sp["name"], tree, targets, int(fx.get("max", 1)), area_t,
                    tuple(fx.get("only_types", ())), rounds, "")


# Specials that act on all the targets at once rather than on each in turn.
_ROOT_SPECIALS = frozenset({"sleep", "counterspell", "revive", "summon_monster",
                            "extra_turns"})


def _mechanisable(sp: dict[str, Any], fx: dict[str, Any]) -> bool:
    dmg = sp.get("damage") or {}
    return bool(fx) or bool(dmg.get("type") and (dmg.get("slots") or dmg.get("character_levels"))
                            ) or bool(sp.get("heal"))


def _default_targets(sp: dict[str, Any], fx: dict[str, Any]) -> str:
    if sp.get("area") and (sp.get("save") or fx.get("save")) and not fx.get("aura"):
        return "area"
    if sp.get("heal") or fx.get("heal") or fx.get("temp_hp"):
        return "ally"
    if sp.get("damage") or sp.get("attack") or sp.get("save") or fx.get("save") \
            or fx.get("attack") or fx.get("condition"):
        return "enemy"
    return "ally" if sp.get("range_ft", 0) else "self"


def _pairs(d: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted((str(k), tuple(v) if isinstance(v, list) else v) for k, v in d.items()))


def _derive(sp: dict[str, Any], fx: dict[str, Any], where: str) -> n.Tree:
    """The per-target tree from the SRD numbers plus the shorthand keys."""
    dmg = sp.get("damage") or {}
    has_damage = bool(fx.get("dice") or (dmg.get("type") and (dmg.get("slots")
                                                                  or dmg.get("character_levels"))))
    part = n.Part(dice=str(fx.get("dice", "spell")), type=str(fx.get("dtype", "spell")),
                  per_level=str(fx.get("per_level", "")))
    damage = (n.Damage((part,), magical=bool(fx.get("magical", True))),) if has_damage else ()
    extra: tuple[n.Node, ...] = ()
    if fx.get("condition"):
        extra += (n.Condition(str(fx["condition"]), end_save=bool(fx.get("end_save"))),)
    if "buff" in fx:
        extra += (n.Ongoing(values=_pairs(fx["buff"])),)
    if fx.get("move"):
        extra += (n.Move(str(fx["move"])),)
    for c in fx.get("remove", ()):
        extra += (n.Condition(str(c), remove=True),)
    if fx.get("special") and fx["special"] not in _ROOT_SPECIALS:
        extra += (n.Special(str(fx["special"]), _pairs(fx.get("args", {}))),)
    if fx.get("heal"):
        h = fx["heal"]
        extra += (n.Heal(n.Part(dice="spell" if h is True else str(h),
                                per_level=str(fx.get("per_level", "") if h is not True else ""))),)
    elif sp.get("heal"):
        extra += (n.Heal(n.Part(dice="spell")),)
    if fx.get("temp_hp"):
        t = fx["temp_hp"]
        extra += (n.TempHP(n.Part(dice="spell" if t is True else str(t),
                                  per_level=str(fx.get("per_level", "")))),)
    attack = fx.get("attack", sp.get("attack"))
    save = fx.get("save", sp.get("save"))
    if attack:
        rays_at = tuple(sorted((int(a), int(b)) for a, b in (fx.get("rays_at") or {}).items()))
        rng = int(fx.get("range", 0) or 0)
        core: n.Tree = (n.Attack(str(attack), None, int(fx.get("rays", 1)),
                                 int(fx.get("rays_per_level", 0)), rays_at, (rng, 0),
                                 damage + extra),)
    elif save:
        half = fx.get("on_save", sp.get("save_success") or "none") == "half"
        core = (n.Save(str(save), 0, half, damage + extra),)
    else:
        if damage and (int(fx.get("rays", 1)) > 1 or fx.get("rays_per_level")):
            damage = (n.Damage((part,), magical=bool(fx.get("magical", True)),
                               times=int(fx.get("rays", 1)),
                               times_per_level=int(fx.get("rays_per_level", 0))),)
        core = damage + extra
    if fx.get("aura"):
        ongoing = n.Ongoing(self=fx["aura"] == "self",
                            values=(("tags", ("aura",)),) if fx["aura"] == "self" else (),
                            tick=core)
        return (ongoing,) if fx["aura"] == "self" else (ongoing,) + core
    if not core and not any(k in fx for k in ("summon", "self_buff", "text")):
        raise RulesError(f"{where}: nothing to do; add effects or adjudicate")
    return core
