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
from rules.effects import describe, registry
from rules.effects import nodes as n

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
    for a in form_actions(monster):
        registry.register(key_for(monster, a["name"]),
                          (n.Special("change_form", (("to", a["form"]),)),))
    from rules.effects import shapes

    for a in shapes.actions(monster):
        registry.register(key_for(monster, a["name"]),
                          (n.Special("shape", (("to", a["shape"]),)),))
    for a in m.get("actions", []) + m.get("legendary_actions", []):
        if a.get("kind") == "multiattack":
            continue  # runs its named parts; a legendary "Paralyzing Touch" is the action's
        registry.register(key_for(monster, a["name"]), compile_action(monster, a))
        for k, stage in enumerate(entry(monster, a["name"]).get("stages") or []):
            # a per-day action that grows with each use (Roar): specials.staged picks one
            where = f"monster_effects.toml[{monster}][{a['name']}].stages[{k}]"
            registry.register(f"{key_for(monster, a['name'])}@{k + 1}", n.parse_tree(stage, where))
        inside = entry(monster, a["name"]).get("inside")
        if inside:  # what a swallowed or engulfed creature suffers (specials.swallow)
            where = f"monster_effects.toml[{monster}][{a['name']}].inside"
            registry.register(key_for(monster, a["name"]) + "@in", n.parse_tree(inside, where))
        if a.get("kind") == "melee" and a.get("range"):  # "Melee or Ranged Weapon Attack"
            registry.register(key_for(monster, a["name"], thrown=True),
                              compile_action(monster, {**a, "kind": "ranged"}))
    for t in m.get("special_abilities", []) + m.get("reactions", []):
        for part, tree in trait_trees(monster, t).items():
            registry.register(trait_key(monster, t) + _SUFFIX[part], tree)


def playable(monster: str, a: dict[str, Any]) -> bool:
    """An action of no attack kind (Teleport, Invisibility) the engine can still play."""
    return a.get("kind") == "other" and bool(action_tree(monster, a))


def in_grip(game: Any, c: Any) -> list[Any]:
    """The living foes the creature is grappling, nearest first (what Swallow takes)."""
    return [e for e in game.here(c.room) if e.side != c.side and not e.dead
            and (g := e.conditions.get("grappled")) is not None and g.src == c.eid]


def ready(game: Any, c: Any, a: dict[str, Any]) -> bool:
    """An action that swallows, engulfs or flings is only worth offering with a foe in its
    grip; one that raises the dead (`needs = "corpse"`) only beside a fresh corpse; a
    Change Shape only to a shape it is not in."""
    from rules.effects import beast_specials, shapes

    d = entry(c.monster, a["name"])
    if (d.get("inside") or d.get("needs") == "grip") and not in_grip(game, c):
        return False
    if d.get("needs") == "corpse" and not beast_specials.corpses(game, c):
        return False
    if d.get("needs") == "engaged" and not c.engaged:
        return False
    return shapes.ready(c, a)


# A flying sword strikes anywhere within this reach of its wielder (a solar's, 50 ft).
SWORD_REACH = 50


def aloft(c: Any) -> str:
    """The weapon action the creature has let fly (a solar's Greatsword), "" if none."""
    fx = next((x for x in c.effects if x.has("sword_aloft")), None) if c.effects else None
    return entry(c.monster, fx.name).get("sword", "") if fx is not None else ""


def bonus_only(c: Any, a: dict[str, Any]) -> bool:
    """An action the creature takes only as a bonus action now: its flying sword's
    strike, or calling the sword back."""
    sword = aloft(c)
    return bool(sword) and (a["name"] == sword or entry(c.monster, a["name"]).get("sword")
                            == sword)


def bonus_strike(c: Any, a: dict[str, Any]) -> bool:
    """An action the creature may take as a bonus action now: a melee attack while hasted
    (a clay golem's slam), or its flying sword's strike or recall."""
    if c.turn.get("bonus", 0) <= 0:
        return False
    return bonus_only(c, a) or (a.get("kind") == "melee" and any(
        x.has("bonus_strike") for x in c.effects))


def flies(c: Any, a: dict[str, Any], t: Any) -> bool:
    """The creature's flying sword strikes `t` where it stands, no move needed."""
    from rules import resolver

    return bool(aloft(c)) and a["name"] == aloft(c) and resolver.distance(c, t) <= SWORD_REACH


def usable(game: Any, c: Any, a: dict[str, Any]) -> str:
    """Why the creature cannot use this action now ("" when it can): its shape lacks it,
    the resource each use spends (a manticore's tail spikes) is gone, or every limb it
    grapples with is busy (`max_grip`: a roper's six tendrils)."""
    from rules.effects import shapes

    if shapes.locked(c, a):
        return f"{a['name']} is not in its present shape"
    sword = aloft(c)
    if sword and any(p["action"] == sword for p in a.get("multiattack") or []):
        return f"its {sword.lower()} is flying"
    if bonus_only(c, a) and c.turn.get("bonus", 0) <= 0:
        return "no bonus action left"
    d = entry(c.monster, a["name"])
    spend = d.get("spend")
    if spend and c.res.get(str(spend), 0) <= 0:
        return f"{a['name']}: no {str(spend).replace('_', ' ')} left"
    if d.get("max_grip") and len(in_grip(game, c)) >= int(d["max_grip"]):
        return f"{a['name']}: all {d['max_grip']} are holding a creature"
    return ""


def bars(game: Any, c: Any, a: dict[str, Any], t: Any) -> str:
    """Why the action cannot be aimed at `t` ("" when it can): a vampire's bite takes only
    a creature it grapples, one incapacitated or one restrained (`targets_if`, each a
    condition, `incapacitated`, or a condition `_by_it`: imposed by the attacker)."""
    need = entry(c.monster, a["name"]).get("targets_if")
    if not need or any(_allows(c, t, str(w)) for w in need):
        return ""
    return f"{a['name']} takes only a creature {_either(need)}"


def _either(need: list[Any]) -> str:
    """`targets_if` in words: "grappled by it, incapacitated or restrained"."""
    words = [str(w).replace("_by_it", " by it") for w in need]
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]


def _allows(c: Any, t: Any, want: str) -> bool:
    if want == "incapacitated":
        return t.incapacitated
    if want.endswith("_by_it"):
        info = t.conditions.get(want.removesuffix("_by_it"))
        return info is not None and info.src == c.eid
    return want in t.conditions


def swing(game: Any, c: Any, act: dict[str, Any], sub: dict[str, Any], t: Any,
          used: dict[str, int]) -> dict[str, Any]:
    """The attack one swing of a multiattack makes at `t`: its own part, or the one of
    the multiattack's `pick` with the most average damage that `t` allows, each at most
    `at_most` times a multiattack ("two attacks, only one of which can be a bite").
    `used` counts this multiattack's picks so far."""
    from rules.tactics import _avg

    d = entry(c.monster, act["name"])
    pick = d.get("pick") or ()
    if sub["name"] not in pick:
        return sub
    cap = d.get("at_most") or {}
    options = [a for a in c.actions if a["name"] in pick and not usable(game, c, a)
               and (a["name"] not in cap or used.get(a["name"], 0) < int(cap[a["name"]]))
               and not bars(game, c, a, t)]
    best = max(options, key=_avg, default=sub)
    used[best["name"]] = used.get(best["name"], 0) + 1
    return best


SHAPECHANGER = "Shapechanger"


@cache
def forms(monster: str) -> tuple[str, ...]:
    """A shapechanger's other forms that are SRD stat blocks of their own (werewolf-human:
    werewolf-hybrid, werewolf-wolf)."""
    table = content.monsters()
    if SHAPECHANGER not in (table.get(monster) or {}).get("special_abilities", []) \
            or "-" not in monster:
        return ()
    kin = monster.rsplit("-", 1)[0]
    return tuple(i for i, m in table.items() if i != monster and "-" in i
                 and i.rsplit("-", 1)[0] == kin and SHAPECHANGER in m["special_abilities"])


def form_actions(monster: str) -> list[dict[str, Any]]:
    """One Change Shape action per other form, played by specials.change_form."""
    table = content.monsters()
    return [{"name": f"Change Shape ({table[f]['name']})", "kind": "other", "form": f,
             "damage": [], "multiattack": None, "recharge": None, "per_day": None}
            for f in forms(monster)]


def trait_key(monster: str, trait: str) -> str:
    return f"monster:{monster}:trait:{trait}"


# A trait's trees: `trait` runs on the creature when it appears, `ride` on a hit with one of
# its attacks, `death` on the foes engaged with it when it dies.
_SUFFIX = {"trait": "", "ride": "@ride", "death": "@death"}


def trait_names(monster: str) -> list[str]:
    """The monster's traits that put effects on it when it appears, in stat-block order."""
    m = content.monster_record(monster) or {}
    return [t for t in m.get("special_abilities", []) + m.get("reactions", [])
            if "trait" in trait_trees(monster, t)]


def death_keys(monster: str) -> list[tuple[str, int]]:
    """A monster's death trees and how far each reaches (feet; 5: the foes engaged)."""
    m = content.monster_record(monster) or {}
    return [(trait_key(monster, t) + _SUFFIX["death"], int(entry(monster, t).get("within", 5)))
            for t in m.get("special_abilities", []) if "death" in trait_trees(monster, t)]


def _rides(monster: str, action: str) -> n.Tree:
    """Refs to the traits that ride on this action's hits (Charge on a tusk, Sneak Attack)."""
    m = content.monster_record(monster) or {}
    out: tuple[n.Node, ...] = ()
    for t in m.get("special_abilities", []):
        d = entry(monster, t)
        melee = any(a["name"] == action and a.get("kind") == "melee"
                    for a in m.get("actions", []))
        if "ride" in trait_trees(monster, t) and (
                d.get("family") in ("sneak", "surprise", "consume")
                or (d.get("family") in ("rampage", "eminence") and melee)
                or (m.get("trait_facts") or {}).get(t, {}).get("action") == action):
            out += (n.Ref(trait_key(monster, t) + _SUFFIX["ride"]),)
    return out


@cache
def trait_trees(monster: str, trait: str) -> dict[str, n.Tree]:
    """A trait's trees, from its monster_effects.toml tree or from its family and the
    numbers its stat block states (monsters.json `trait_facts`)."""
    d = entry(monster, trait)
    where = f"monster_effects.toml[{monster}][{trait}]"
    if "trait" in d:
        return {"trait": n.parse_tree(d["trait"], where)}
    fam = d.get("family")
    facts = ((content.monster_record(monster) or {}).get("trait_facts") or {}).get(trait, {})
    if fam == "forms":
        facts = {"forms": forms(monster)}
    build = _FAMILIES.get(fam or "")
    return build(d, facts) if build else {}


def _save_fail(d: dict[str, Any], facts: dict[str, Any]) -> n.Tree:
    """What failing the trait's save does: its damage, then its condition."""
    out: tuple[n.Node, ...] = ()
    if facts.get("damage") and d.get("family") != "charge":
        out += (n.Damage(_parts(facts["damage"]), magical=False),)
    if facts.get("condition"):
        out += (n.Condition(facts["condition"], int(d.get("rounds", -1)),
                            end_save=bool(d.get("end_save"))),)
    return out


def _save(d: dict[str, Any], facts: dict[str, Any]) -> n.Tree:
    s = facts.get("save")
    if not s or not _save_fail(d, facts):
        return ()
    return (n.Save(s["ability"], int(s["dc"]), bool(facts.get("damage"))
                   and d.get("family") != "charge", _save_fail(d, facts)),)


def _charge(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    if not facts.get("action") or not (facts.get("damage") or facts.get("save")):
        return {}
    tree: n.Tree = (n.Special("charged"),)
    if facts.get("damage"):
        tree += (n.Damage(_parts(facts["damage"]), magical=False, once=False),)
    return {"ride": tree + _save({**d, "rounds": -1}, facts)}


def _sneak(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    dmg = (facts.get("damage") or [{}])[0]
    if not dmg.get("dice"):
        return {}
    return {"ride": (n.Special("sneak_attack", (
        ("ally_only", bool(d.get("ally_only"))), ("dice", dmg["dice"]),
        ("type", dmg.get("type") or ""))),)}


def _dice_ride(special: str, dtype: str = "") -> Any:
    """A family whose hits add the trait's stated dice through one special (Surprise
    Attack, Divine Eminence); `dtype` when the trait names no type."""
    def build(_d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
        dmg = (facts.get("damage") or [{}])[0]
        if not dmg.get("dice"):
            return {}
        return {"ride": (n.Special(special, (("dice", dmg["dice"]),
                                             ("type", dmg.get("type") or dtype))),)}
    return build


def _rampage(d: dict[str, Any], _facts: dict[str, Any]) -> dict[str, n.Tree]:
    return {"ride": (n.Special("rampage", (("action", d.get("bite", "Bite")),)),)}


def _consume(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    save = facts.get("save") or {}
    if not d.get("heal") or not save.get("dc"):
        return {}
    return {"ride": (n.Special("consume_life", (("dc", int(save["dc"])),
                                                ("dice", str(d["heal"])))),)}


def _ward(_d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    if not facts.get("up_to"):
        return {}
    return {"trait": (n.Ongoing(values=(("tags", ("death_ward",)),
                                        ("ward_max", int(facts["up_to"])))),)}


def _death(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    save = _save(d, facts)
    return {"death": (n.Target("enemies", effects=save),)} if save else {}


def _retaliate(_d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    dmg = (facts.get("damage") or [{}])[0]
    if not dmg.get("dice"):
        return {}
    return {"trait": (n.Ongoing(values=(("die", dmg["dice"]), ("dtype", dmg["type"]),
                                        ("tags", ("retaliate",)))),)}


def _aura(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    save = _save(d, facts)
    return {"trait": (n.Ongoing(values=(("tags", ("aura",)),), tick=save),)} if save else {}


def _leap(d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    """A long jump over difficult ground (rules/terrain.py), its feet from the stat block."""
    if not facts.get("leap"):
        return {}
    tags = ("run_up",) if d.get("run_up") else ()
    return {"trait": (n.Ongoing(values=(("leap", int(facts["leap"])), ("tags", tags))),)}


def _forms(_d: dict[str, Any], facts: dict[str, Any]) -> dict[str, n.Tree]:
    return {"trait": (n.Special("add_forms"),)} if facts.get("forms") else {}


def _shapes(d: dict[str, Any], _facts: dict[str, Any]) -> dict[str, n.Tree]:
    start = (("start", d["start"]),) if d.get("start") else ()
    return {"trait": (n.Special("add_shapes", start),)} if d.get("shapes") else {}


_FAMILIES = {"rampage": _rampage, "forms": _forms, "surprise": _dice_ride("surprise"),
             "leap": _leap, "charge": _charge, "sneak": _sneak, "ward": _ward, "death_burst": _death,
             "retaliate": _retaliate, "aura": _aura, "consume": _consume,
             "eminence": _dice_ride("eminence", "radiant"), "shapes": _shapes}


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
    `fail` and `area` replace the derived ones where a stat block needs more, and its
    `hit_first` runs before a hit's damage (a node of it that stops stops the damage)."""
    extra = entry(monster, a["name"])
    where = f"monster_effects.toml[{monster}][{a['name']}]"
    on_fail = n.parse_tree(extra["fail"], where) if "fail" in extra else _riders(a, "fail")
    on_hit = n.parse_tree(extra["hit"], where) if "hit" in extra else _riders(a, "hit")
    on_hit += _rides(monster, a["name"])
    if "effects" in extra:  # an action no stat-block number says (Detect)
        return n.parse_tree(extra["effects"], where)
    first = n.parse_tree(extra["hit_first"], where) if "hit_first" in extra else ()
    tree = _numbers(monster, a, on_hit, on_fail, first)
    if extra.get("spend") and tree:  # each use spends one (a manticore's tail spikes)
        return (n.Counter(str(extra["spend"]), 1),) + tree
    return tree


def _numbers(monster: str, a: dict[str, Any], on_hit: n.Tree, on_fail: n.Tree,
             first: n.Tree = ()) -> n.Tree:
    """An attack or save action's tree from its stat-block numbers and riders."""
    extra = entry(monster, a["name"])
    kind = a.get("kind")
    save = a.get("save") or {}
    if kind in ("melee", "ranged"):
        hit: n.Tree = first
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


def entry(monster: str, name: str) -> dict[str, Any]:
    """The effect data for one action or trait: a custom stat block's own `effects`
    (rules.custom), else monster_effects.toml's entry for the monster, else for any."""
    own = ((content.monster_record(monster) or {}).get("effects") or {}).get(name)
    table = riders()
    return own or table.get(monster, {}).get(name) or table.get(ANY, {}).get(name) or {}


def _moves(m: dict[str, Any], mode: str) -> int:
    """The feet of a movement mode the creature has: range bands move it at its best speed
    (creature.best_speed), so a swim or climb speed is how it crosses the fight."""
    v = (m.get("speed") or {}).get(mode)
    return v if type(v) is int else 0


def trait_does(m: dict[str, Any], trait: str) -> tuple[bool, str]:
    """(mechanised, one line of what the trait does in play) for one stat-block trait."""
    d = entry(m["index"], trait)
    trees = trait_trees(m["index"], trait)
    if trees:
        line = d.get("does") or "; ".join(x for tree in trees.values()
                                          for x in describe.lines(tree))
        if "{" in line:  # a number the stat block states: "{leap} ft" from trait_facts
            line = line.format_map((m.get("trait_facts") or {}).get(trait, {}))
        return True, line
    if d.get("numbers"):  # "included in the attack": the engine rolls it with the attack
        return True, d.get("does", "already in its attacks' numbers")
    if "moves" in d and _moves(m, d["moves"]):
        return True, f"{d.get('does', trait)} ({d['moves']} {_moves(m, d['moves'])} ft, "\
                     "the speed its range-band moves use)"
    if d.get("in_shape"):  # a rule its shape carries (a mimic's Adhesive as an object)
        from rules.effects import shapes

        if any(s["name"] == d["in_shape"] for s in shapes.shape_list(m["index"])):
            return True, d.get("does") or trait
    if d.get("rejuvenate"):  # rules/effects/rejuvenation.py, on the party's long rests
        return True, d.get("does") or f"destroyed, it re-forms after {d['rejuvenate']} days"
    if trait in ("Spellcasting", "Innate Spellcasting") and m.get("spellcasting"):
        sc = m["spellcasting"]
        return True, (f"casts {len(sc.get('spells', []))} spells through the spell engine "
                      f"(DC {sc.get('dc') or '-'}, slots or per-day uses)")
    return False, "DM rules: " + (d.get("prompt") or f"the stat block's {trait}, as narrated")


def action_does(m: dict[str, Any], a: dict[str, Any], played: set[str]) -> tuple[bool, str]:
    """(mechanised, one line) for an action: mechanised when the engine has its tree (a
    multiattack when every part has one)."""
    if a["kind"] == "multiattack":
        parts = a.get("multiattack") or []
        ok = bool(parts) and all(p["action"] in played for p in parts)
        line = "makes " + ", ".join(f"{p['count']}x {p['action']}" for p in parts)
        d = entry(m["index"], a["name"])
        if d.get("pick"):  # "only one of which can be a bite"
            line += "; each blow the best of " + ", ".join(
                f"{x} (at most {d['at_most'][x]})" if x in (d.get("at_most") or {}) else x
                for x in d["pick"]) + " its target allows"
        return ok, line if ok else "DM rules: " + (entry(m["index"], a["name"]).get(
            "prompt") or f"{a['name']}, as the stat block says")
    if a["name"] not in played:
        form = entry(m["index"], a["name"]).get("form_only")
        if form:  # a vampire's legendary bite: never offered to the mist, which has no bite
            return True, (f"only in its {content.monsters()[form]['name']} form (Change "
                          "Shape): this form cannot use it, so it is never offered")
        return False, "DM rules: " + (entry(m["index"], a["name"]).get("prompt")
                                      or f"{a['name']}, as the stat block says")
    d = entry(m["index"], a["name"])
    line = d.get("does") or "; ".join(describe.lines(action_tree(m["index"], a))) or a["name"]
    if d.get("targets_if"):
        line += "; only at a creature " + _either(d["targets_if"])
    return True, line


def reaction_does(m: dict[str, Any], r: str) -> tuple[bool, str]:
    if r == "Parry" and m.get("parry"):
        return True, f"adds {m['parry']} to its AC against one melee hit (its reaction)"
    d = entry(m["index"], r)
    if trait_trees(m["index"], r):  # a reaction the rules take for it (Split)
        return True, d.get("does") or r
    return False, "DM rules: " + (d.get("prompt") or f"the reaction {r}, as narrated")


def abilities(m: dict[str, Any]) -> list[dict[str, Any]]:
    """Every action, legendary action, trait and reaction of a stat block, each with its
    state (mechanised or adjudicated) and one line of what it does in play."""
    idx = m["index"]
    acts = m.get("actions", []) + m.get("legendary_actions", [])
    played = {a["name"] for a in acts if a["kind"] != "multiattack" and action_tree(idx, a)}
    rows: list[tuple[str, str, tuple[bool, str]]] = []
    rows += [(a["name"], "action", action_does(m, a, played)) for a in m.get("actions", [])]
    rows += [(a["name"], "legendary", action_does(m, a, played))
             for a in m.get("legendary_actions", [])]
    rows += [(t, "trait", trait_does(m, t)) for t in m.get("special_abilities", [])]
    rows += [(r, "reaction", reaction_does(m, r)) for r in m.get("reactions", [])]
    return [{"name": name, "kind": kind, "state": "mechanised" if ok else "adjudicated",
             "does": does} for name, kind, (ok, does) in rows]
