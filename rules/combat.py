"""Combat actions: bands and movement, weapon and monster attacks, the simple actions, grapple and shove."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, dice, proficiency, resolver, terrain
from rules import events as ev
from rules import intents as it
from rules.creature import Entity
from rules.dungeon import BRIGHT
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.multiclass import class_level
from rules.turns import check_end, in_turn, require

NEAR_TO_ENGAGED = 10  # feet of movement to close from near to engaged
FAR_TO_NEAR = 30

if TYPE_CHECKING:
    from rules.game import Game


# -- movement in combat -------------------------------------------------------------
def _hostiles_engaged(game: Game, a: Entity) -> list[Entity]:
    return [game.entities[o] for o in a.engaged
            if game.entities[o].side != a.side and not game.entities[o].incapacitated]


def _leave_engagement(game: Game, a: Entity, rng: random.Random) -> list[Any]:
    """Break away from every engaged foe; each may make an opportunity attack."""
    from rules.effects import heads

    out: list[Any] = []
    if not a.turn.get("disengaged") and not any(x.has("flyby") for x in a.effects) \
            and not terrain.strides(game, a):
        for foe in _hostiles_engaged(game, a):
            if (foe.reaction or heads.can_react(foe)) and not a.dead and can_react(foe):
                if foe.kind == "pc":
                    spec = melee_spec(foe)
                    if spec is None:
                        continue
                    foe.reaction = False
                    out.append(ev.ActionTaken(foe.eid, "opportunity attack", a.eid))
                    resolver.attack(game, foe, a, spec, rng, out)
                    continue
                act = next((x for x in foe.actions if x.get("kind") == "melee"
                            and x.get("damage")), None)
                if act is not None:
                    heads.react(foe)  # its own reaction, else a hydra's spare head
                    out.append(ev.ActionTaken(foe.eid, "opportunity attack", a.eid))
                    run_action(game, foe, act, a, rng, out)
    for o in list(a.engaged):
        other = game.entities[o]
        if a.eid in other.engaged:
            other.engaged.remove(a.eid)
    a.engaged.clear()
    return out


def combat_move(game: Game, a: Entity, word: str, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    if word in ("back", "away", "near", "withdraw", "far", "retreat"):
        band = "far" if word in ("far", "retreat") else "near"
        cost = terrain.cost(a, FAR_TO_NEAR if band == "far" and a.band != "far"
                            else NEAR_TO_ENGAGED)
        if not a.engaged and a.band == band:
            raise RulesError(f"already {band}")
        if a.turn["move"] < cost:
            raise RulesError("not enough movement left; dash first")
        terrain.spend(a, cost)
        resolver.stir(a)
        out = _leave_engagement(game, a, rng)
        if not a.dead and a.hp > 0:
            a.band = band
            out.append(ev.Moved(a.eid, band))
        if game.combat:
            check_end(game, out)
        return out
    if a.side == "monsters" and word == "flee":
        x = None
    else:
        x = game.dungeon.find_exit(a.room, word)
        if x.locked and f"{a.room}:{x.to}" not in game.state["unlocked"] \
                and f"{x.to}:{a.room}" not in game.state["unlocked"]:
            raise RulesError("that way is locked")
    need = terrain.cost(a, FAR_TO_NEAR if a.band != "far" else 0)
    if a.turn["move"] < need:
        raise RulesError("not enough movement left to get away; dash first")
    terrain.spend(a, a.turn["move"])
    out = _leave_engagement(game, a, rng)
    if a.dead or a.hp <= 0:
        return out
    a.fled = True
    out.append(ev.ActionTaken(a.eid, "flee"))
    if a.side == "party" and all(e.down for e in game.party() if e.room == game.room):
        dest = x.to if x else game.room
        out += _end_combat_retreat(game, dest)
        return out
    out += after_action(game, a, rng)
    return out


def _end_combat_retreat(game: Game, dest: int) -> list[Any]:
    out: list[Any] = [ev.CombatEnded(0, (), "fled")]
    game.combat = None
    for e in game.party():
        if e.room == game.room and e.fled:
            e.fled = False
            e.room = dest
            e.engaged.clear()
    for m in game.entities.values():
        m.engaged.clear()
    game.room = dest
    return out


def approach(game: Game, a: Entity, i: it.Approach, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    t = game.find(i.target, room=a.room, living=True)
    if t.eid == a.eid:
        raise RulesError("you cannot approach yourself")
    if t.eid in a.engaged:
        raise RulesError(f"already engaged with {t.name}")
    cost = close_cost(a, t)
    if cost > a.turn["move"]:
        raise RulesError("not enough movement left; dash first")
    return close_in(a, t, cost)


def close_cost(a: Entity, t: Entity) -> int:
    far = a.band == "far" or t.band == "far"
    return terrain.cost(a, NEAR_TO_ENGAGED + (FAR_TO_NEAR if far else 0))


def close_in(a: Entity, t: Entity, cost: int) -> list[Any]:
    resolver.stir(a)
    terrain.spend(a, cost)
    a.band = "near"
    t.band = "near" if t.band == "far" else t.band
    a.engaged.append(t.eid)
    if a.eid not in t.engaged:
        t.engaged.append(a.eid)
    return [ev.Moved(a.eid, "engaged", t.eid)]


# -- attacks ------------------------------------------------------------------------
def melee_spec(e: Entity) -> dict[str, Any] | None:
    w = next((w for w in e.weapons if w["kind"] == "melee"), None)
    return weapon_spec(e, w) if w else None


def can_react(e: Entity) -> bool:
    return not any(x.has("no_reactions") for x in e.effects)


def weapon_spec(e: Entity, w: dict[str, Any], *, offhand: bool = False,
                thrown: bool = False) -> dict[str, Any]:
    m = e.mod(w["ability"])
    dmg = w["dice"]
    rng_ft = list(w["range"])
    prof = e.prof if proficiency.weapon_ok(e, w) else 0  # SRD: no bonus unskilled
    return {"name": w["name"], "bonus": m + prof + int(w.get("atk", 0)),
            "kind": "ranged" if thrown else w["kind"],
            "range": rng_ft, "damage": [[dmg, w["type"]]],
            "dmg_bonus": (min(m, 0) if offhand else m) + int(w.get("dmg", 0)), "weapon": True,
            "finesse": w.get("ability") == "dex" and w["kind"] == "melee",
            "ability": w["ability"], "magical": bool(w.get("magical")),
            "crit": int(w.get("crit", 20)), "crit_dice": int(w.get("crit_dice", 0))}


def _pick_weapon(a: Entity, ref: it.Ref | None, t: Entity) -> dict[str, Any]:
    if ref is not None:
        from rules import fuzzy

        names = [w["name"] for w in a.weapons]
        hit = fuzzy.best_match(str(ref), names) if not isinstance(ref, int) else (
            names[ref] if 0 <= ref < len(names) else None)
        if hit is None:
            raise RulesError(f"no weapon like {str(ref)[:20]!r}; you have {', '.join(names)}")
        return next(w for w in a.weapons if w["name"] == hit)
    # Default: the first-listed (main) weapon; fall back to the other kind when the main one
    # cannot be used well (melee out of reach, or ranged while engaged).
    melee = [w for w in a.weapons if w["kind"] == "melee"]
    ranged = [w for w in a.weapons if w["kind"] == "ranged"]
    main = a.weapons[0]
    if main["kind"] == "melee":
        reachable = t.eid in a.engaged or close_cost(a, t) <= a.turn.get("move", 0)
        return main if reachable or not ranged else ranged[0]
    return melee[0] if a.engaged and melee else main


def _aimed(game: Game, a: Entity, i: it.Attack) -> tuple[it.Ref, it.Ref | None]:
    """(target, weapon) of an attack. `atk giant spider` reads as target "giant", weapon
    "spider": the longest run of its words that names a creature here is the target and
    the rest the weapon; with none, when the first word is no creature's name either, a
    player's words that name no weapon of theirs are all the target ("atk giant spidr")."""
    if not isinstance(i.target, str) or not isinstance(i.weapon, str):
        return i.target, i.weapon
    from rules import fuzzy

    words = [i.target, *i.weapon.split()]
    names = {e.name.casefold() for e in game.here(a.room) if not e.dead}
    for k in range(len(words), 1, -1):
        if " ".join(words[:k]).casefold() in names:
            rest = " ".join(words[k:])
            rest = rest[5:] if rest.casefold().startswith("with ") else rest
            return " ".join(words[:k]), rest or None
    if a.kind != "monster" and i.target.casefold() not in names and \
            fuzzy.best_match(i.weapon, [w["name"] for w in a.weapons]) is None:
        return " ".join(words), None
    return i.target, i.weapon


def attack(game: Game, a: Entity, i: it.Attack, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    target, weapon = _aimed(game, a, i)
    i = it.Attack(target=target, weapon=weapon)
    t = game.find(i.target, room=a.room, living=True)
    if t.eid == a.eid:
        raise RulesError("you cannot attack yourself")
    if t.side == a.side and a.kind == "monster" and not any(x.has("berserk")
                                                            for x in a.effects):
        raise RulesError("monsters do not attack their own")
    if "charmed" in a.conditions and a.conditions["charmed"].src == t.eid:
        raise RulesError(f"{a.name} is charmed by {t.name}")
    if a.kind == "monster":
        return _monster_attack(game, a, t, i.weapon, rng)
    form = next((x.form for x in a.effects if x.form), "")
    if form:
        return _in_form(game, a, t, form, i.weapon, rng)
    w = _pick_weapon(a, i.weapon, t)
    slot = _attack_slot(a, w)
    spec = weapon_spec(a, w, offhand=slot == "offhand")
    out: list[Any] = []
    if w["kind"] == "melee" and t.eid not in a.engaged:
        cost = close_cost(a, t)
        thrown = _thrown_range(w) if w.get("thrown") else None
        if cost <= a.turn["move"]:
            out += close_in(a, t, cost)
        elif thrown and resolver.distance(a, t) <= thrown[1]:
            spec = weapon_spec(a, w, offhand=slot == "offhand", thrown=True)
            spec["range"] = thrown
        else:
            raise RulesError(f"{t.name} is out of reach; approach or dash first")
    if w["kind"] == "ranged" and resolver.distance(a, t) > max(w["range"]):
        raise RulesError(f"{t.name} is out of range")
    _spend_attack(a, slot)
    resolver.attack(game, a, t, spec, rng, out)
    out += after_action(game, a, rng)
    return out


def _in_form(game: Game, a: Entity, t: Entity, form: str, ref: it.Ref | None,
             rng: random.Random) -> list[Any]:
    """A druid in a beast's shape attacks as the beast does, with its numbers (SRD Wild
    Shape: the druid's game statistics are replaced by the beast's): the beast's best attack,
    or the one of its actions `ref` names; a weapon of the druid's own is not in hand."""
    from rules import content, fuzzy

    beast = content.monsters()[form]
    attacks = [x for x in beast["actions"] if x.get("kind") in ("melee", "ranged", "multiattack")]
    if not isinstance(ref, str) or fuzzy.best_match(ref, [x["name"] for x in attacks]) is None:
        ref = None
    kept = a.monster, a.actions
    a.monster, a.actions = form, attacks
    try:
        return _monster_attack(game, a, t, ref, rng)
    finally:
        a.monster, a.actions = kept


def _thrown_range(w: dict[str, Any]) -> list[int] | None:
    from rules import content as c

    try:
        data = c.weapon(w["name"])
    except RulesError:
        return None
    tr = data.get("throw_range")
    return list(tr) if tr else None


def _attack_slot(a: Entity, w: dict[str, Any]) -> str:
    if a.turn["attacks"] > 0:
        return "attack"
    if a.turn["action"] > 0:
        return "action"
    if a.turn["bonus"] > 0 and a.turn.get("attacked"):
        if class_level(a, "monk") and (w.get("monk") or w["name"] == "unarmed strike"):
            return "offhand_monk"
        if w.get("light") and w["kind"] == "melee":
            return "offhand"
    raise RulesError("no attacks left this turn")


def _spend_attack(a: Entity, slot: str) -> None:
    if slot == "action":
        a.turn["action"] -= 1
        a.turn["attacks"] = _extra_attacks(a)
    elif slot == "attack":
        a.turn["attacks"] -= 1
    else:
        a.turn["bonus"] -= 1


def _extra_attacks(a: Entity) -> int:
    """Attacks after the first in one Attack action (Extra Attack; the fighter's 2 and 3)."""
    if not a.cls or a.level < 5:
        return 0
    from rules.multiclass import attacks

    return attacks(a) - 1


def _monster_attack(game: Game, m: Entity, t: Entity, ref: it.Ref | None,
                    rng: random.Random) -> list[Any]:
    from rules.effects import monsters

    act = pick_action(m, ref, t)
    slot = "bonus" if monsters.bonus_only(m, act) or (
        m.turn["action"] <= 0 and monsters.bonus_strike(m, act)) else "action"
    require(m, slot, act["name"])
    why = monsters.usable(game, m, act) or ("" if act.get("kind") != "other" or monsters.ready(
        game, m, act) else f"{act['name']} has nothing to work on now") or monsters.bars(
        game, m, act, t)
    if why:
        raise RulesError(why)
    if act.get("recharge") and not m.recharge.get(act["name"], True):
        raise RulesError(f"{act['name']} is recharging")
    if act.get("per_day") and m.per_day.get(act["name"], 0) <= 0:
        raise RulesError(f"{act['name']} is used up today")
    out: list[Any] = []
    reach_needed = (act.get("kind") == "melee" and not monsters.flies(m, act, t)) or (
        act.get("kind") == "multiattack" and multi_is_melee(m, act))
    thrown = reach_needed and bool(act.get("range")) and t.eid not in m.engaged and \
        close_cost(m, t) > m.turn["move"]
    if thrown and resolver.distance(m, t) > max(act["range"]):
        raise RulesError(f"{t.name} is out of range")
    if reach_needed and not thrown and t.eid not in m.engaged:
        cost = close_cost(m, t)
        if cost > m.turn["move"]:
            raise RulesError(f"{t.name} is out of reach")
        out += close_in(m, t, cost)
    m.turn[slot] -= 1
    if act.get("recharge"):
        m.recharge[act["name"]] = False
    if act.get("per_day"):
        m.per_day[act["name"]] -= 1
    out.append(ev.ActionTaken(m.eid, act["name"].lower(), t.eid))
    run_action(game, m, act, t, rng, out, thrown=thrown)
    out += after_action(game, m, rng)
    return out


def multi_is_melee(m: Entity, act: dict[str, Any]) -> bool:
    for part in act.get("multiattack") or []:
        sub = next((a for a in m.actions if a["name"] == part["action"]), None)
        if sub and sub.get("kind") == "melee":
            return True
    return False


def pick_action(m: Entity, ref: it.Ref | None, t: Entity) -> dict[str, Any]:
    from rules.effects.monsters import playable

    usable = [a for a in m.actions if a.get("kind") in ("melee", "ranged", "save", "multiattack")
              or playable(m.monster, a)]
    if not usable:
        raise RulesError(f"{m.name} has no attack")
    if ref is None:
        multi = [a for a in usable if a["kind"] == "multiattack"]
        if multi:
            return multi[0]
        if t.eid in m.engaged or not any(a["kind"] == "ranged" for a in usable):
            return next((a for a in usable if a["kind"] == "melee"), usable[0])
        return next(a for a in usable if a["kind"] == "ranged")
    if isinstance(ref, int):
        if 0 <= ref < len(m.actions) and m.actions[ref] in usable:
            return m.actions[ref]
        raise RulesError(f"{m.name} has no attack #{ref}")
    from rules import fuzzy

    hit = fuzzy.best_match(ref, [a["name"] for a in usable])
    if hit is None:
        raise RulesError(f"{m.name} has no action like {ref[:20]!r}")
    return next(a for a in usable if a["name"] == hit)


def run_action(game: Game, m: Entity, act: dict[str, Any], t: Entity, rng: random.Random,
               out: list[Any], *, thrown: bool = False) -> None:
    """One monster action; a multiattack runs its parts, retargeting if the target falls."""
    from rules.effects import engine, monsters, selection

    if act.get("kind") == "multiattack":
        used: dict[str, int] = {}
        for part in multi_parts(m, act):
            sub = next((a for a in m.actions if a["name"] == part["action"]), None)
            if sub is None or sub.get("kind") == "multiattack":
                continue
            for _ in range(part_count(m, act, part)):
                if monsters.usable(game, m, sub):  # a shape that lacks it, no limb free
                    break
                if t.down:
                    nxt = next((game.entities[o] for o in m.engaged
                                if not game.entities[o].down
                                and game.entities[o].side != m.side), None)
                    if nxt is None:
                        return
                    t = nxt
                blow = monsters.swing(game, m, act, sub, t, used)
                if (blow.get("kind") == "melee" and t.eid not in m.engaged) or \
                        monsters.bars(game, m, blow, t):
                    continue
                run_action(game, m, blow, t, rng, out)
        return
    key = monsters.key_for(m.monster, act["name"], thrown)
    tree = monsters.action_tree(m.monster, act, thrown)
    if not tree:
        return
    targets = selection.around(game, m, t, tree[0])
    engine.use(game, m, key, targets, rng, out)


def multi_parts(m: Entity, act: dict[str, Any]) -> list[dict[str, Any]]:
    """A multiattack's parts, and the extra ones an effect on the monster adds (a chain
    devil's animated chains: `extra` in monster_effects.toml)."""
    from rules.effects import monsters

    parts = list(act.get("multiattack") or [])
    extra = monsters.entry(m.monster, act["name"]).get("extra")
    if extra and any(x.name == extra["while"] for x in m.effects):
        parts.append({"action": extra["action"], "count": int(extra["count"])})
    return parts


def part_count(m: Entity, act: dict[str, Any], part: dict[str, Any]) -> int:
    """How many times a multiattack part runs: the stat block's count, or one bite per
    head the hydra has now (`count = "heads"` in monster_effects.toml)."""
    from rules.effects import monsters

    if monsters.entry(m.monster, act["name"]).get("count") == "heads":
        return max(0, m.res.get("heads", 0))
    return int(part.get("count", 1))


def after_action(game: Game, a: Entity, rng: random.Random) -> list[Any]:
    out: list[Any] = []
    if game.combat is not None:
        check_end(game, out)
    return out



# -- simple actions -----------------------------------------------------------------
def _simple_slot(a: Entity, what: str, dim: bool = False) -> str:
    """Cunning Action (a level 2+ rogue) and Nimble Escape (disengage or hide) make some
    actions bonus actions; Shadow Stealth makes hiding one out of bright light (`dim`)."""
    quick = (class_level(a, "rogue") >= 2 and what in ("dash", "disengage", "hide")) or (
        what in ("disengage", "hide") and any(x.has("nimble_escape") for x in a.effects)) or (
        what == "hide" and dim and any(x.has("shadow_stealth") for x in a.effects)) or (
        what == "hide" and any(x.has("quick_hide") for x in a.effects))
    # The bonus action first: `hide` then `atk gob1` is the rogue's own turn (Cunning
    # Action frees the action for the attack), and one command per message cannot say which.
    if quick and a.turn["bonus"] > 0:
        return "bonus"
    if a.turn["action"] > 0:
        return "action"
    raise RulesError(f"no action left to {what}")


def dodge(game: Game, a: Entity, _i: it.Dodge, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    slot = _simple_slot(a, "dodge")
    a.turn[slot] -= 1
    a.effects.append(Effect("dodge", a.eid, tags=("dodge",), until_turn=a.eid))
    return [ev.ActionTaken(a.eid, "dodge")]


def dash(game: Game, a: Entity, _i: it.Dash, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    slot = _simple_slot(a, "dash")
    a.turn[slot] -= 1
    a.turn["move"] += a.effective_speed()
    return [ev.ActionTaken(a.eid, "dash")]


def disengage(game: Game, a: Entity, _i: it.Disengage, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    slot = _simple_slot(a, "disengage")
    a.turn[slot] -= 1
    a.turn["disengaged"] = True
    return [ev.ActionTaken(a.eid, "disengage")]


def hide(game: Game, a: Entity, _i: it.Hide, rng: random.Random) -> list[Any]:
    in_combat = game.combat is not None
    if in_combat:
        in_turn(game, a)
        slot = _simple_slot(a, "hide", dim=game.light_at(a.room) not in BRIGHT)
    foes = game.foes_of(a)
    if in_combat and a.engaged:
        raise RulesError("you cannot hide while engaged")
    if in_combat:
        a.turn[slot] -= 1
    dc = max((e.passive() for e in foes), default=10)
    adv = resolver.check_adv(a, "dex", save=False, skill="stealth") + (
        1 if terrain.camouflaged(game, a) else 0)
    nat = resolver.skill_d20(a, "stealth", rng, max(-1, min(1, adv)))
    camouflaged = any(x.has("camouflage") for x in a.effects)
    total = nat + a.skill_mod("stealth", "dex") + (10 if camouflaged else 0)
    ok = total >= dc
    out: list[Any] = [ev.Rolled(a.eid, "stealth", nat, total, dc, ok)]
    if ok:  # a failed roll says so itself; "hides" after it read as the opposite
        if not any(x.has("hidden") for x in a.effects):
            a.effects.append(Effect("hidden", a.eid, tags=("hidden",)))
        out.append(ev.ActionTaken(a.eid, "hide"))
    return out


def help_ally(game: Game, a: Entity, i: it.HelpAlly, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    ally = game.find(i.ally, room=a.room, living=True)
    if ally.side != a.side or ally.eid == a.eid:
        raise RulesError("help an ally")
    foe = next((game.entities[o] for o in a.engaged if not game.entities[o].down), None)
    if foe is None:
        raise RulesError("help needs a foe you are engaged with")
    require(a, "action", "help")
    a.turn["action"] -= 1
    foe.effects.append(Effect("help", a.eid, tags=("help",), until_turn=a.eid))
    return [ev.ActionTaken(a.eid, "help", ally.eid)]



def contest(game: Game, a: Entity, t: Entity, rng: random.Random, out: list[Any]) -> bool:
    """Athletics against the target's better of Athletics and Acrobatics; ties keep the
    status quo, so the attacker loses."""
    skills = content.skills()
    na, _ = dice.d20(rng, resolver.check_adv(a, "str", save=False))
    ta = resolver.str_floor(a, "str", na + a.skill_mod("athletics", skills.get(
        "athletics", "str")) + resolver.check_bonus(a, rng))
    best = max(("athletics", "acrobatics"), key=lambda s: t.skill_mod(s, skills.get(s, "dex")))
    nt, _ = dice.d20(rng, resolver.check_adv(t, skills.get(best, "dex"), save=False))
    tt = resolver.str_floor(t, skills.get(best, "dex"), nt + t.skill_mod(
        best, skills.get(best, "dex")) + resolver.check_bonus(t, rng))
    if t.incapacitated:
        tt = -99
    out.append(ev.Rolled(a.eid, "athletics", na, ta, 0, ta > tt))
    out.append(ev.Rolled(t.eid, best, nt, max(tt, 0), 0, tt >= ta))
    return ta > tt


def _grapple_or_shove(game: Game, a: Entity, ref: it.Ref, rng: random.Random, what: str
                      ) -> list[Any]:
    in_turn(game, a)
    t = game.find(ref, room=a.room, living=True)
    if t.side == a.side or t.eid == a.eid:
        raise RulesError(f"{what} a foe")
    slot = "attack" if a.turn["attacks"] > 0 else "action"
    if slot == "action":
        require(a, "action", what)
    out: list[Any] = []
    if t.eid not in a.engaged:
        cost = close_cost(a, t)
        if cost > a.turn["move"]:
            raise RulesError(f"{t.name} is out of reach")
        out += close_in(a, t, cost)
    _spend_attack(a, slot)
    out.append(ev.ActionTaken(a.eid, what, t.eid))
    if contest(game, a, t, rng, out):
        resolver.add_condition(game, t, "grappled" if what == "grapple" else "prone", out,
                               src=a.eid)
    return out


def grapple(game: Game, a: Entity, i: it.Grapple, rng: random.Random) -> list[Any]:
    """Grapple a foe; aimed at the creature grappling you, it is an attempt to escape."""
    held = a.conditions.get("grappled")
    if held:
        holder = game.entities.get(held.src)
        if holder is not None and not holder.dead:
            t = game.find(i.target, room=a.room, living=True)
            if t.eid == holder.eid:
                return _escape(game, a, holder, rng)
    return _grapple_or_shove(game, a, i.target, rng, "grapple")


def _escape(game: Game, a: Entity, holder: Entity, rng: random.Random) -> list[Any]:
    in_turn(game, a)
    require(a, "action", "escape")
    a.turn["action"] -= 1
    out: list[Any] = [ev.ActionTaken(a.eid, "escape", holder.eid)]
    if escape_contest(game, a, holder, rng, out):
        resolver.end_grapple(game, a, out)
    return out


def escape_contest(game: Game, a: Entity, holder: Entity, rng: random.Random,
                   out: list[Any]) -> bool:
    """The grappled creature's Athletics or Acrobatics against the grappler's Athletics.
    A tie keeps the status quo: the grapple holds (SRD, contests)."""
    skills = content.skills()
    best = max(("athletics", "acrobatics"), key=lambda s: a.skill_mod(s, skills.get(s, "dex")))
    na, _ = dice.d20(rng, resolver.check_adv(a, skills.get(best, "dex"), save=False))
    ta = resolver.str_floor(a, skills.get(best, "dex"), na + a.skill_mod(
        best, skills.get(best, "dex")) + resolver.check_bonus(a, rng))
    nh, _ = dice.d20(rng, resolver.check_adv(holder, "str", save=False))
    th = resolver.str_floor(holder, "str", nh + holder.skill_mod(
        "athletics", skills.get("athletics", "str")) + resolver.check_bonus(holder, rng))
    if holder.incapacitated:
        th = -99
    out.append(ev.Rolled(a.eid, best, na, ta, 0, ta > th))
    out.append(ev.Rolled(holder.eid, "athletics", nh, max(th, 0), 0, th >= ta))
    return ta > th


def shove(game: Game, a: Entity, i: it.Shove, rng: random.Random) -> list[Any]:
    return _grapple_or_shove(game, a, i.target, rng, "shove")
