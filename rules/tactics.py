"""Fallback monster AI: list every legal option for a creature, and pick one by profile."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rules import dice, proficiency, resolver, terrain
from rules import intents as it
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game

PROFILES = ("brute", "skirmisher", "archer", "caster", "cowardly", "pack")


@dataclass(frozen=True, slots=True)
class Option:
    id: str
    intent: Any
    label: str


def profile_for(m: dict[str, Any]) -> str:
    """A behaviour profile from a stat block: what it is good at decides how it fights."""
    special = {s.lower() for s in m.get("special_abilities", [])}
    acts = m.get("actions", [])
    if "pack tactics" in special:
        return "pack"
    if any("spellcasting" in s for s in special):
        return "caster"
    if m.get("type") == "beast" and float(m.get("challenge_rating", 0)) < 1:
        return "cowardly"
    ranged = [a for a in acts if a.get("kind") == "ranged"]
    melee = [a for a in acts if a.get("kind") == "melee"]
    if ranged and (not melee or max(_avg(a) for a in ranged) > max(_avg(a) for a in melee)):
        return "archer"
    if "nimble escape" in special or int(m["abilities"].get("dex", 10)) > int(
            m["abilities"].get("str", 10)):
        return "skirmisher"
    return "brute"


def _avg(a: dict[str, Any]) -> float:
    return sum(dice.average(d["dice"]) for d in a.get("damage", []) if d.get("dice"))


def legal_actions(game: Game, eid: int) -> list[Option]:
    """Every option the engine would accept right now for `eid` (always includes ending
    the turn). Options are cheap to validate: each is checked by the same rules `apply`
    uses, so none fails when applied."""
    from rules.combat import close_cost, multi_is_melee
    from rules.effects.monsters import bars, bonus_strike, flies, playable, ready, usable

    e = game.entities[eid]
    if game.combat is None or game.current_turn() != eid or e.incapacitated:
        return []
    foes = game.foes_of(e)
    if e.kind == "monster" and any(x.has("berserk") for x in e.effects):
        foes = berserk_target(game, e)
    opts: list[Option] = []
    move = e.turn["move"]
    if e.turn["action"] > 0 or e.turn["attacks"] > 0 or e.turn.get("bonus", 0) > 0:
        for f in foes:
            reach_ok = f.eid in e.engaged or close_cost(e, f) <= move
            if e.kind == "monster":
                for k, a in enumerate(e.actions):
                    if (e.turn["action"] <= 0 and not bonus_strike(e, a)) or usable(
                            game, e, a) or bars(game, e, a, f):
                        continue
                    kind = a.get("kind")
                    if kind == "other" and f is foes[0] and playable(e.monster, a) \
                            and ready(game, e, a):
                        kind = "self"  # a self action (teleport): one option, any foe
                    elif kind not in ("melee", "ranged", "save", "multiattack"):
                        continue
                    if a.get("recharge") and not e.recharge.get(a["name"], True):
                        continue
                    if a.get("per_day") and e.per_day.get(a["name"], 0) <= 0:
                        continue
                    if kind == "multiattack" and not a.get("multiattack"):
                        continue
                    melee = kind == "melee" or (kind == "multiattack" and multi_is_melee(e, a))
                    thrown = kind == "melee" and a.get("range") and \
                        resolver.distance(e, f) <= max(a["range"])
                    if melee and not reach_ok and not thrown and not flies(e, a, f):
                        continue
                    if kind == "ranged" and resolver.distance(e, f) > max(a.get("range") or [5]):
                        continue
                    opts.append(Option(f"a{k}:{f.eid}", it.Attack(f.eid, k),
                                       f"{a['name']} {f.name}"))
            elif e.turn["action"] > 0 or e.turn["attacks"] > 0:
                for k, w in enumerate(e.weapons):
                    if w["kind"] == "melee" and not reach_ok:
                        continue
                    if w["kind"] == "ranged" and resolver.distance(e, f) > max(w["range"]):
                        continue
                    opts.append(Option(f"w{k}:{f.eid}", it.Attack(f.eid, k),
                                       f"{w['name']} {f.name}"))
    if e.kind == "pc":
        opts += _bonus_strikes(e, foes)
    if e.turn["action"] > 0:
        opts.append(Option("dodge", it.Dodge(), "dodge"))
        opts.append(Option("dash", it.Dash(), "dash"))
        if e.engaged:
            opts.append(Option("disengage", it.Disengage(), "disengage"))
        elif e.kind == "monster" and terrain.camouflaged(game, e) and not any(
                x.has("hidden") for x in e.effects):
            opts.append(Option("hide", it.Hide(), "hide"))  # camouflage: an ambush
    for f in foes:
        if f.eid not in e.engaged and close_cost(e, f) <= move:
            opts.append(Option(f"close:{f.eid}", it.Approach(f.eid), f"close on {f.name}"))
    if e.kind == "monster" and move >= 30:
        opts.append(Option("flee", it.Move("flee"), "flee"))
    elif e.kind == "pc" and e.engaged and move >= 10:
        opts.append(Option("back", it.Move("back"), "step back"))
    opts += _spell_options(game, e, foes)
    if e.kind == "pc":
        opts += _use_options(game, e, foes)
        if not e.engaged and _can_simple(e, "hide"):
            opts.append(Option("hide", it.Hide(), "hide"))
    opts.append(Option("end", it.EndTurn(), "end turn"))
    return opts


def berserk_target(game: Game, e: Entity) -> list[Entity]:
    """A berserk creature's one target: the nearest creature, friend or foe (one engaged
    with it first, then one in its own band)."""
    near = sorted((o for o in game.here(e.room) if o.eid != e.eid and not o.down),
                  key=lambda o: (o.eid not in e.engaged, o.band != e.band, o.eid))
    return near[:1]


def _can_simple(e: Entity, what: str) -> bool:
    from rules.combat import _simple_slot

    try:
        _simple_slot(e, what)
    except RulesError:
        return False
    return True


def _bonus_strikes(e: Entity, foes: list[Entity]) -> list[Option]:
    """A bonus-action strike after the Attack action: an off-hand light weapon, or a
    monk's martial-arts blow, at an engaged foe (the slot combat.attack will spend)."""
    from rules.combat import _attack_slot

    if e.turn["action"] > 0 or e.turn["attacks"] > 0 or e.turn["bonus"] <= 0 \
            or not e.turn.get("attacked"):
        return []
    opts = []
    for k, w in enumerate(e.weapons):
        if w["kind"] != "melee":
            continue
        try:
            _attack_slot(e, w)
        except RulesError:
            continue
        opts += [Option(f"w{k}:{f.eid}", it.Attack(f.eid, k), f"{w['name']} {f.name}")
                 for f in foes if f.eid in e.engaged]
    return opts


def _use_options(game: Game, e: Entity, foes: list[Entity]) -> list[Option]:
    """The class features and items a hero could `use` now, checked by the rules that
    rules.features.use applies before it changes anything."""
    from rules import features
    from rules.effects import featurebook
    from rules.turns import require

    opts: list[Option] = []
    friends = game.friends_of(e)
    for f in featurebook.book().values():
        # only what the hero's sheet brings: its resources, items, class and summons
        if not (f.resource in e.res_max or f.item in e.inventory or (
                f.cls and f.cls == e.cls and e.level >= f.level) or (
                f.needs_effect and any(x.has(f.needs_effect) for x in e.effects))):
            continue
        try:
            features._check(e, f, True)
            if f.action in ("action", "bonus"):
                require(e, f.action, f.name)
        except RulesError:
            continue
        pool: list[Entity | None]
        if f.target == "self":
            pool = [None]
        elif f.target in ("ally", "wounded_ally", "other_ally", "dying"):
            pool = list(friends)
        elif f.target == "engaged":
            pool = [x for x in foes if x.eid in e.engaged]
        else:
            pool = list(foes)
        for t in pool:
            try:
                features._targets(game, e, f, None if t is None else t.eid)
            except RulesError:
                continue
            ref = None if t is None else t.eid
            opts.append(Option(f"u:{f.key}" + ("" if t is None else f":{t.eid}"),
                               it.Use(f.name, ref), f.name + ("" if t is None else
                                                              f" {t.name}")))
    return opts


def _spell_options(game: Game, e: Entity, foes: list[Entity]) -> list[Option]:
    if proficiency.hampering(e):
        return []  # armour worn unskilled: no spells (rules/proficiency.py)
    opts = []
    friends = game.friends_of(e)
    from rules import metamagic
    from rules.effects import nodes as n
    from rules.effects import spellbook

    for s in e.spells:
        sp = resolver.spell_data(s)
        sd = spellbook.spell_def(s)
        if sd.adjudicated:
            continue
        lvl = int(sp["level"])
        uses = e.innate.get(s)
        if uses == 0:
            continue
        levels = [lvl]
        if lvl and uses is None and not (e.kind == "pc" and metamagic.free_resource(e, s)):
            avail = [k + 1 for k in range(lvl - 1, 9) if e.slots[k] > 0]
            if not avail:
                continue
            lvl = avail[0]
            levels = [lvl]
            if e.kind == "pc" and avail[-1] > lvl and not e.pact and _scales(sp):
                levels.append(avail[-1])  # the upcast: its biggest slot
        slot = "bonus" if "bonus" in sp.get("casting_time", "") else "action"
        if "reaction" in sp.get("casting_time", "") or e.turn[slot] <= 0:
            continue
        if (slot == "bonus" and e.turn.get("levelled_spell")) or (
                slot == "action" and lvl and e.turn.get("bonus_spell")):
            continue  # the bonus-action spell rule
        kind = sd.targets
        if kind in ("enemy", "area", "enemies"):
            reach = int(sp.get("range_ft") or 0) or int((sp.get("area") or {}).get("size", 5))
            melee = any(isinstance(x, n.Attack) and x.kind == "melee" for x in n.walk(sd.tree))
            for f in foes:
                if sd.only_types and f.ctype not in sd.only_types:
                    continue
                if melee:
                    if f.eid not in e.engaged and resolver.distance(e, f) > 5 and \
                            _close_cost(e, f) > e.turn["move"]:
                        continue
                elif resolver.distance(e, f) > max(reach, 5):
                    continue
                opts += _casts(s, sp, f, levels)
        elif kind in ("ally", "allies"):
            if sp.get("heal"):
                for f in friends:
                    if f.hp < f.max_hp:
                        opts += _casts(s, sp, f, levels)
            elif not any(x.name == s for x in e.effects):
                opts += _casts(s, sp, e, levels, "self")
        elif kind == "self" and e.kind == "pc" and e.conc != s:
            opts += _casts(s, sp, e, levels, "self")
    return opts


def _casts(s: str, sp: dict[str, Any], t: Entity, levels: list[int], who: str = ""
           ) -> list[Option]:
    """One option a slot level: the lowest slot keeps the id callers know; an upcast
    adds its level to the id."""
    return [Option(f"s:{s}:{t.eid}" + (f"@{lv}" if k else ""), it.Cast(s, t.eid, lv or None),
                   f"{sp['name']} {who or t.name}" + (f" (level {lv})" if k else ""))
            for k, lv in enumerate(levels)]


def _scales(sp: dict[str, Any]) -> bool:
    """A spell that does more from a higher slot (its SRD table has slot rows)."""
    return any(len((sp.get(k) or {}).get("slots") or {}) > 1 for k in ("damage", "heal"))

def _caught(game: Game, e: Entity, t: Entity, a: dict[str, Any]) -> float:
    """An area action's worth against `t` per creature caught: the target and the foes
    its area holds around it (selection.around, as the action will resolve), each after
    the first worth three quarters (some save for half)."""
    from rules.effects import monsters, selection

    tree = monsters.action_tree(e.monster, a)
    n = len(selection.around(game, e, t, tree[0])) if tree else 1
    return 1.0 + 0.75 * (n - 1)


def _best_damage(actions: list[dict[str, Any]]) -> float:
    """The average damage of a stat block's best attack action (a multiattack summed)."""
    by = {x["name"]: x for x in actions}
    best = 0.0
    for a in actions:
        if a.get("kind") == "multiattack":
            best = max(best, sum(_avg(by.get(p["action"], {})) * int(p.get("count", 1))
                                 for p in a.get("multiattack") or []))
        elif a.get("kind") in ("melee", "ranged"):
            best = max(best, _avg(a))
    return best


def _self_score(game: Game, e: Entity, a: dict[str, Any]) -> float:
    """A self action: slip away (teleport) when badly hurt in melee; turn unseen before
    striking when not already."""
    from rules.effects import monsters
    from rules.effects import nodes as n

    if monsters.entry(e.monster, a["name"]).get("sword"):
        return -1.0  # letting its sword fly (or calling it back) is the DM's choice
    if a.get("shape") is not None or any(
            isinstance(x, n.Special) and x.name == "shape"
            for x in monsters.action_tree(e.monster, a)):  # back when its guise cannot fight
        from rules.effects import shapes

        return 30.0 if shapes.current(e) and any(shapes.locked(e, x) for x in e.actions) \
            else -1.0
    if a.get("form"):  # change shape when the other form strikes clearly harder
        from rules import content

        other = content.monsters()[a["form"]].get("actions", [])
        return 10.0 if _best_damage(other) > 1.25 * _best_damage(e.actions) else -1.0
    tree = n.walk(monsters.action_tree(e.monster, a))
    if any(isinstance(x, n.Special) and x.name == "banish" for x in tree):
        return 25.0 if e.hp < e.max_hp * 0.3 else -1.0  # slip into the Ethereal Plane
    if any(isinstance(x, n.Special) and x.name == "touch_heal" for x in tree):
        low = min((f.hp / f.max_hp for f in game.here(e.room) if f.side == e.side
                   and f.eid != e.eid and not f.dead), default=1.0)
        return 60.0 if low < 0.25 else 12.0 if low < 0.5 else -1.0  # save a falling ally
    if any(isinstance(x, n.Special) and x.name == "lure" for x in tree):
        # a harpy's song: each foe it holds spell-bound is a foe that cannot fight
        return 12.0 * len([f for f in game.foes_of(e) if f.ctype in ("humanoid", "giant")
                           and "charmed" not in f.conditions])
    more = (monsters.entry(e.monster, "Multiattack").get("extra") or {}).get("while")
    if more and any(isinstance(x, n.Ongoing) and x.name == more for x in tree):
        return -1.0 if any(x.name == more for x in e.effects) else 1.5 * _best_damage(e.actions)
    root = monsters.action_tree(e.monster, a)
    if root and isinstance(root[0], n.Area) and any(isinstance(x, n.Damage) for x in tree):
        return _area_worth(game, e, root[0], tree) * (1.3 if a.get("recharge") else 1.0)
    raise_ = next((dict(x.args) for x in tree if isinstance(x, n.Special)
                   and x.name in ("raise_dead", "animate")), None)
    if raise_ is not None:  # an ally for the rest of the fight: a few rounds of its blows
        from rules import content

        ally = content.monsters()[str(raise_["monster"])]["actions"]
        return 3.0 * _best_damage(ally) * int(raise_.get("count", 1))
    if any(isinstance(x, n.Special) and x.name == "summon_monster" for x in tree):
        return 9.0
    if any(isinstance(x, n.Move) for x in tree):
        return 25.0 if e.engaged and e.hp < e.max_hp * 0.3 else -1.0
    if any(isinstance(x, n.Ongoing) and "hidden" in dict(x.values).get("tags", ())
           for x in tree):
        return -1.0 if any(x.has("hidden") for x in e.effects) else 6.0
    boost = next((set(dict(x.values).get("tags", ())) for x in tree
                  if isinstance(x, n.Ongoing)
                  and {"enlarged", "bonus_strike"} & set(dict(x.values).get("tags", ()))), None)
    if boost is not None:  # enlarge or haste itself before striking, while not already
        if any(x.has("enlarged") or x.has("bonus_strike") for x in e.effects):
            return -1.0
        return _best_damage(e.actions) * (1.5 if "enlarged" in boost else 0.9)
    return 1.0


def _area_worth(game: Game, e: Entity, area: Any, tree: list[Any]) -> float:
    """An authored area action (no damage numbers in its stat block): its average damage
    for every foe the area would catch around the nearest one, as _caught counts them."""
    from rules.effects import nodes as n
    from rules.effects import selection

    foes = game.foes_of(e)
    if not foes:
        return -1.0
    dmg = sum(dice.average(p.dice) for x in tree if isinstance(x, n.Damage) for p in x.parts)
    caught = len(selection.around(game, e, foes[0], area))
    return dmg * (1.0 + 0.75 * (caught - 1))


def worth_legendary_resistance(e: Entity, fail: Any, ctx: Any) -> bool:
    """Spend Legendary Resistance on a failed save only when failing matters: it would
    impose a condition or an effect, or its damage (after the creature's immunities and
    resistances) is at least a quarter of the hit points it has left."""
    from rules.effects import engine
    from rules.effects import nodes as n

    nodes = n.walk(fail)
    if any(isinstance(x, n.Condition | n.Ongoing | n.Special | n.Move) for x in nodes):
        return True
    hurt = 0.0
    for x in nodes:
        if isinstance(x, n.Damage):
            for p in x.parts:
                dtype = p.type if p.type != "spell" else (
                    ((ctx.spell or {}).get("damage") or {}).get("type") or "force")
                try:
                    avg = dice.average(engine.dice_for(p, ctx))
                except RulesError:
                    avg = 10.0
                hurt += resolver.adjust_damage(e, int(avg), dtype, x.magical)
    return hurt >= max(1, e.hp) / 4


def legendary_pick(game: Game, m: Entity) -> tuple[dict[str, Any], Entity] | None:
    """The legendary action a monster takes at the end of another's turn, and its target:
    Detect when a foe is hidden from it, a move away when badly hurt in melee, a heal of
    its own when half down, else the costliest attack it can make now (a save
    needs no reach, an attack needs a foe engaged with it)."""
    from rules.effects import monsters
    from rules.effects import nodes as n

    left = m.res.get("legendary", 0)
    acts = [a for a in m.legendary_actions if int(a.get("cost") or 1) <= left
            and not monsters.usable(game, m, a)]
    if not acts:
        return None
    foes = game.foes_of(m)
    if not foes:
        return None
    hidden = [f for f in foes if any(x.has("hidden") for x in f.effects)]
    cornered = bool(m.engaged) and m.hp < m.max_hp * 0.3
    for a in acts:
        tree = () if a.get("kind") == "multiattack" else n.walk(
            monsters.action_tree(m.monster, a))
        if hidden and any(isinstance(x, n.Special) and x.name == "detect" for x in tree):
            return a, hidden[0]
        if cornered and any(isinstance(x, n.Move) for x in tree):
            return a, foes[0]  # slip away from the melee that is killing it
        if m.hp < m.max_hp * 0.5 and any(isinstance(x, n.Heal) for x in tree):
            return a, foes[0]  # heal itself while half down
        lasting = [dict(x.values) for x in tree if isinstance(x, n.Ongoing)]
        if m.engaged and m.hp < m.max_hp * 0.75 and any(v.get("ac") for v in lasting):
            return a, foes[0]  # shield itself while melee wears it down
        if any(f.hp < f.max_hp * 0.5 for f in foes) and any(
                "no_heal" in v.get("tags", ()) for v in lasting):
            return a, foes[0]  # deny healing to a foe that needs it
    def casts(a: dict[str, Any]) -> bool:  # a spell reaches foes beyond its reach
        if a.get("kind") == "multiattack":
            return False
        first = next(iter(monsters.action_tree(m.monster, a)), None)
        return isinstance(first, n.Special) and first.name == "cast"

    def slot_left(a: dict[str, Any]) -> bool:
        level = int(dict(monsters.action_tree(m.monster, a)[0].args).get("level", 0))
        return not level or m.slots[level - 1] > 0

    acts = [a for a in acts if a.get("damage") or a.get("multiattack") or (
        casts(a) and slot_left(a)) or (
        a.get("kind") == "other" and isinstance(
            next(iter(monsters.action_tree(m.monster, a)), None), n.Ref))]
    if not acts:
        return None
    engaged = [f for f in foes if f.eid in m.engaged]
    for act in sorted(acts, key=lambda a: (int(a.get("cost") or 1), a["name"]), reverse=True):
        if act.get("kind") != "save" and not casts(act) and not engaged:
            return None
        # the costliest it can aim: a vampire's bite only at a creature the bite allows
        t = next((f for f in engaged or foes if not monsters.bars(game, m, act, f)), None)
        if t is not None:
            return act, t
    return None


def _close_cost(e: Entity, f: Entity) -> int:
    from rules.combat import close_cost

    return close_cost(e, f)


def _multi_damage(game: Game, e: Entity, a: dict[str, Any], t: Entity) -> float:
    """A multiattack's average damage at `t`, swing by swing as combat.run_action picks
    them (a vampire's bite in place of a claw when `t` allows it)."""
    from rules.combat import multi_parts, part_count
    from rules.effects.monsters import swing

    used: dict[str, int] = {}
    total = 0.0
    for p in multi_parts(e, a):
        sub = next((x for x in e.actions if x["name"] == p["action"]), None)
        if sub is not None:
            total += sum(_avg(swing(game, e, a, sub, t, used)) for _ in range(
                part_count(e, a, p)))
    return total


def _score(game: Game, e: Entity, o: Option, profile: str) -> float:
    i = o.intent
    if isinstance(i, it.Attack):
        t = game.entities[int(i.target)]
        if e.kind == "monster" and e.actions[int(i.weapon)].get("kind") == "other":
            return _self_score(game, e, e.actions[int(i.weapon)])
        if e.kind == "monster":
            a = e.actions[int(i.weapon)]
            dmg = _avg(a)
            if a.get("kind") == "multiattack":
                dmg = _multi_damage(game, e, a, t)
            if a.get("kind") == "save" and a.get("area"):
                dmg *= _caught(game, e, t, a)
            if a.get("recharge"):
                dmg *= 1.3
            ranged = a.get("kind") == "ranged"
        else:
            w = e.weapons[int(i.weapon)]
            dmg = dice.average(w["dice"]) + e.mod(w["ability"])
            ranged = w["kind"] == "ranged"
        focus = 1.0 + (1.0 / max(1, t.hp))  # finish off the wounded
        if profile == "archer" and ranged:
            dmg *= 1.5
        if profile in ("brute", "pack") and not ranged:
            dmg *= 1.2
        if profile == "pack" and any(game.entities[o].side == e.side for o in t.engaged):
            dmg *= 1.3
        if t.kind == "pc" and t.hp <= 0:
            dmg *= 0.2
        if ranged and e.engaged:
            dmg *= 0.6
        return dmg * focus
    if isinstance(i, it.Cast):

        sp = resolver.spell_data(str(i.spell))
        if sp.get("heal"):
            t = game.entities[int(i.target)]
            return 30.0 if t.hp <= 0 else 8.0 * (1 - t.hp / max(1, t.max_hp))
        if sp.get("damage"):
            from rules.effects import area, engine, spellbook

            sd = spellbook.spell_def(sp["index"])
            try:
                d = dice.average(engine.spell_table(sp, "damage", i.level or sp["level"],
                                                    e.level))
            except RulesError:
                d = 3.0
            n = area.targets_in_area(*sd.area) if sd.targets == "area" and sd.area else 1
            return d * (1 + 0.6 * (n - 1)) * (0.8 if sp["level"] else 1.0)
        return 4.0 if sp["level"] else 1.0
    if isinstance(i, it.Approach):
        if e.engaged or (e.turn["action"] <= 0 and e.turn["attacks"] <= 0):
            return -0.5  # already in melee, or nothing left to do once there
        return 2.0 if profile != "archer" else 0.1
    if isinstance(i, it.Move):
        hurt = e.hp < e.max_hp * 0.3
        return 50.0 if profile == "cowardly" and hurt else -1.0
    if isinstance(i, it.Dash):
        return 0.5 if profile != "archer" else 0.0
    if isinstance(i, it.Dodge):
        return 0.3
    if isinstance(i, it.Hide):
        return 2.5  # hidden, it closes in and strikes with advantage next turn
    if isinstance(i, it.EndTurn):
        return 0.0
    return 0.0


def choose(game: Game, eid: int, rng: random.Random) -> Option:
    """The best legal option for the creature's profile; ties broken by `rng`."""
    opts = legal_actions(game, eid)
    if not opts:
        return Option("end", it.EndTurn(), "end turn")
    e = game.entities[eid]
    if e.kind == "pc":
        from rules import party_tactics

        scored = [(party_tactics.score(game, e, o) + rng.random() * 0.01, k)
                  for k, o in enumerate(opts)]
        return opts[max(scored)[1]]
    profile = e.profile if e.kind == "monster" else "player"
    scored = [(_score(game, e, o, profile) + rng.random() * 0.01, k) for k, o in enumerate(opts)]
    best = max(scored)[1]
    return opts[best]
