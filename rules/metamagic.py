"""Cast options: the sorcerer's Metamagic (SRD), the evoker's Overchannel, free casts from class resources."""

from __future__ import annotations

import random
from typing import Any

from rules import classfeatures, dice, levels, resolver
from rules import events as ev
from rules.creature import Entity
from rules.errors import RulesError

# Sorcery points each option costs (SRD Metamagic); twinned costs the spell's level, 1 for
# a cantrip.
COSTS = {"careful": 1, "distant": 1, "empowered": 1, "extended": 1, "heightened": 3,
         "quickened": 2, "subtle": 1, "twinned": 0}
OVERCHANNEL_MAX = 5  # Overchannel: spells of 1st to 5th level


def known(a: Entity) -> set[str]:
    """The metamagic options the character knows: its picks at creation, as many as its
    level allows, the rest the defaults in class_features.toml."""
    if not a.cls or a.kind != "pc":
        return set()
    defaults: list[str] = []
    for p in classfeatures.held_passives(a):
        defaults += p.get("metamagic", ())
    got = [w for w in a.origin.get("picks", ()) if w in COSTS][:len(defaults)]
    got += [w for w in defaults if w not in got][:len(defaults) - len(got)]
    return set(got)


def check(a: Entity, spell: dict[str, Any], opts: tuple[str, ...], twin: bool) -> int:
    """The sorcery points these options cost; RulesError (one line) when one cannot apply."""
    spells_opts = [o for o in opts if o in COSTS]
    if len(set(spells_opts)) != len(spells_opts):
        raise RulesError("each option once")
    if len([o for o in spells_opts if o != "empowered"]) > 1:
        raise RulesError("one metamagic option a spell (empowered can join another)")
    for o, why in (("careful", "a spell with a save"), ("heightened", "a spell with a save"),
                   ("empowered", "a damage spell")):
        if o in spells_opts and not spell.get("save" if why.endswith("save") else "damage"):
            raise RulesError(f"{o}: {why}")
    if "distant" in spells_opts and int(spell.get("range_ft") or 0) < 5:
        raise RulesError("distant: a spell with a range")
    have = known(a)
    cost = 0
    for o in spells_opts:
        if o not in have:
            raise RulesError(f"{a.name} does not know {o} spell")
        cost += max(1, int(spell["level"])) if o == "twinned" else COSTS[o]
    if "twinned" in spells_opts and not twin:
        raise RulesError("twinned needs two targets: cast SPELL twinned T1 T2")
    if twin and "twinned" not in spells_opts:
        raise RulesError("a second target needs twinned")
    if "overchannel" in opts:
        if "overchannel" not in a.res_max:
            raise RulesError(f"{a.name} cannot overchannel")
        if not 1 <= int(spell["level"]) <= OVERCHANNEL_MAX or not spell.get("damage"):
            raise RulesError("overchannel: a 1st-5th level damage spell")
    if cost > a.res.get("sorcery_points", 0):
        raise RulesError(f"needs {cost} sorcery points")
    return cost


def free_resource(a: Entity, index: str) -> str:
    """The class resource that casts this spell at its own level without a slot (Mystic
    Arcanum, Spell Mastery, Signature Spell) while it has uses left; '' if none."""
    for name, d in levels.resource_table().get(a.cls, {}).items():
        if d.get("spell") == index and a.res.get(name, 0) > 0:
            return name
    return ""


def spend_free(a: Entity, name: str) -> None:
    """Spend one use (an unlimited resource, Spell Mastery's at-will cast, never runs out)."""
    if a.res_max.get(name, 0) < levels.UNLIMITED:
        a.res[name] -= 1


def overchannel_cost(game: Any, a: Entity, level: int, rng: random.Random,
                     out: list[Any]) -> None:
    """The first Overchannel since a long rest is free; each later one deals the wizard
    2d12 necrotic per spell level, 1d12 more per level for each use after that (SRD)."""
    left = a.res.get("overchannel", 0)
    a.res["overchannel"] = left - 1
    if left > 0:
        return
    per = 2 - left  # left 0: 2d12, -1: 3d12...
    dmg = dice.total(f"{per * level}d12", rng)
    out.append(ev.Info(a.eid, f"{a.name} is torn by the overchannelled spell"))
    resolver.deal(game, a, dmg, "necrotic", out)


def empowered_total(expr: str, rng: random.Random, crit: bool, rerolls: int) -> int:
    """Empowered Spell: roll, then reroll up to `rerolls` of the lowest dice below their
    average, keeping the new rolls."""
    c = dice.compile_expr(expr)
    if c.terms is None:
        return dice.total(expr, rng, crit=crit)
    t = 0
    pool: list[tuple[int, int, int]] = []  # (roll, sides, sign)
    for sign, n, sides, _keep in c.terms:
        if n == 0:
            t += sign * sides
            continue
        for _ in range(n * 2 if crit else n):
            pool.append((rng.randint(1, sides), sides, sign))
    pool.sort(key=lambda x: x[0] - (x[1] + 1) / 2)
    for k, (r, sides, sign) in enumerate(pool):
        if k < rerolls and sign > 0 and r < (sides + 1) / 2:
            r = rng.randint(1, sides)
        t += sign * r
    return t
