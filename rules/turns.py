"""Combat flow: initiative, turn order, start/end of turn effects, victory and XP."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import dice, proficiency, resolver, terrain
from rules import events as ev
from rules import intents as it
from rules.creature import Entity, new_turn
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game


def in_turn(game: Game, ent: Entity) -> None:
    if game.combat is None:
        raise RulesError("not in combat")
    if game.current_turn() != ent.eid:
        raise RulesError(f"not your turn; it is {game.name_of(game.current_turn() or 0)}'s")
    if ent.incapacitated:
        raise RulesError(f"{ent.name} cannot act")


def require(ent: Entity, slot: str, what: str) -> None:
    if ent.turn.get(slot, 0) <= 0:
        word = {"action": "action", "bonus": "bonus action"}[slot]
        raise RulesError(f"no {word} left for {what}")



# -- combat flow --------------------------------------------------------------------
def start_combat(game: Game, rng: random.Random) -> list[Any]:
    if game.combat is not None:
        return []
    fighters = [e for e in game.here() if e.in_fight]
    out: list[Any] = []
    rolls = [_initiative(e, rng, out) for e in fighters]
    order = [eid for *_k, eid in sorted(rolls, reverse=True)]
    totals = {str(eid): total for total, _dex, _tie, eid in rolls}
    game.combat = {"order": order, "idx": 0, "round": 1, "init": totals}
    out.insert(0, ev.CombatStarted(tuple(order)))
    out += begin_turn(game, rng)
    return out


def _initiative(e: Entity, rng: random.Random, out: list[Any]) -> tuple[int, int, float, int]:
    from rules import levels

    if e.kind == "pc":
        levels.regain_on_initiative(e)
    # initiative is a DEX check: unskilled armour gives it disadvantage too
    nat, _ = dice.d20(rng, levels.initiative_advantage(e)
                       - int(proficiency.hampers(e, "dex")))
    total = nat + e.mod("dex")
    out.append(ev.Rolled(e.eid, "initiative", nat, total))
    return total, e.mod("dex"), rng.random(), e.eid  # ties: DEX, then a roll-off


def join_combat(game: Game, fighters: list[Entity], rng: random.Random) -> list[Any]:
    """Creatures that arrive mid-fight roll initiative and take their place in the order;
    the creature whose turn it is keeps it."""
    c = game.combat
    out: list[Any] = []
    current = game.current_turn()
    for e in fighters:
        total, *_rest = _initiative(e, rng, out)
        init = c.setdefault("init", {})
        # after everyone with a higher total (or an equal one: they were there first)
        at = next((k for k, x in enumerate(c["order"])
                   if init.get(str(x), -99) < total), len(c["order"]))
        c["order"].insert(at, e.eid)
        init[str(e.eid)] = total
    c["idx"] = c["order"].index(current) if current is not None else 0
    return out


def begin_turn(game: Game, rng: random.Random) -> list[Any]:
    """Start the current creature's turn; skip (and auto-resolve) those who cannot act."""
    out: list[Any] = []
    for _guard in range(4 * len(game.combat["order"]) + 4):
        if check_end(game, out):
            return out
        eid = game.current_turn()
        e = game.entities[eid]
        if e.dead or e.fled:
            advance_idx(game)
            continue
        out.append(ev.TurnStarted(game.combat["round"], eid))
        hurt = e.turn.get("hurt")  # a rage lives on damage taken since the last turn
        e.turn = new_turn()
        if hurt:
            e.turn["hurt"] = True
        e.turn["move"] = e.effective_speed()
        e.turn["rough"] = terrain.rough(game, e)
        e.reaction = True
        if any(x.has("aggressive") for x in e.effects) and e.turn["bonus"] > 0 and not any(
                game.entities[o].side != e.side for o in e.engaged if o in game.entities):
            e.turn["bonus"] -= 1  # Aggressive: a bonus-action move toward a foe
            e.turn["move"] += e.effective_speed()
        # Every creature is scanned each turn, the fallen too: a plain loop, no generators.
        for other in game.entities.values():
            if other.effects and any(x.has("reactive") for x in other.effects):
                other.reaction = True  # a marilith's reaction comes back every turn
            for x in other.effects:
                if x.until_turn == eid:
                    other.effects[:] = [y for y in other.effects if y.until_turn != eid]
                    break
        for name, ready in list(e.recharge.items()):
            if not ready:
                act = next((a for a in e.actions if a["name"] == name), None)
                need = min(act["recharge"]) if act and act.get("recharge") else 6
                if rng.randint(1, 6) >= need:
                    e.recharge[name] = True
        if e.legendary:
            e.res["legendary"] = e.legendary
        was_down, mark = e.hp <= 0, len(out)
        _ticks(game, e, rng, out)
        if was_down:
            resolver.rise_or_die(game, e, any(isinstance(x, ev.Healed) and x.target == eid
                                              and x.amount > 0 for x in out[mark:]), rng, out)
        if 0 < e.hp <= e.max_hp // 2 and any(x.has("survivor") for x in e.effects):
            resolver.heal(game, e, 5 + e.mod("con"), out)  # Survivor
        if e.dying:
            resolver.death_save(game, e, rng, out)
        if any(x.has("hasted") for x in e.effects):
            e.turn["action"] += 1
        skip = any(x.has("lose_turn") for x in e.effects)
        if skip:
            e.effects[:] = [x for x in e.effects if not x.has("lose_turn")]
        if e.has("prone") and not e.incapacitated and e.hp > 0 and e.turn["move"]:
            # Text play stands a prone creature up at once: it costs half its speed.
            resolver.remove_condition(game, e, "prone", out)
            e.turn["move"] -= e.effective_speed() // 2
        if e.incapacitated or e.hp <= 0 or skip:
            out += end_turn_effects(game, e, rng)
            advance_idx(game)
            continue
        return out
    return out


def _ticks(game: Game, e: Entity, rng: random.Random, out: list[Any]) -> None:
    """Start-of-turn trees: effects on the creature (moonbeam), and auras of hostile
    creatures it is engaged with (spirit guardians)."""
    from rules.effects import engine

    sources = [x for x in e.effects if x.tick and not x.has("aura")]
    for eid in e.engaged:
        other = game.entities.get(eid)
        if other and other.side != e.side:
            sources += [x for x in other.effects if x.tick and x.has("aura")]
    for x in sources:
        if not e.dead:
            engine.tick(game, e, x, rng, out)


def end_turn_effects(game: Game, e: Entity, rng: random.Random) -> list[Any]:
    out: list[Any] = []
    if e.turn.get("moved") and terrain.hurts(game, e):  # Water Susceptibility
        resolver.deal(game, e, e.turn["moved"] // 5, "cold", out, rng=rng)
    _rage_lapses(e, out)
    for cond, info in list(e.conditions.items()):
        if info.save and not info.harm and not e.dead and resolver.saving_throw(
                game, e, info.save, info.dc, rng, out, f"{cond} save"):
            resolver.remove_condition(game, e, cond, out)
            continue
        if info.rounds > 0:
            if info.rounds == 1:
                resolver.remove_condition(game, e, cond, out)
            else:
                info.rounds -= 1
    keep = []
    for x in e.effects:
        r = x.rounds
        if r == 1:
            if x.name == e.conc and x.src == e.eid:
                e.conc = ""
            if x.has("summoned"):
                resolver.vanish(game, e, out)
            continue
        if r > 1:
            x.rounds = r - 1
        keep.append(x)
    e.effects[:] = keep
    if e.effects and e.kind == "monster":
        from rules.effects import heads

        if heads.has_heads(e):
            heads.regrow(game, e, out)
    return out


def _rage_lapses(e: Entity, out: list[Any]) -> None:
    """A rage ends with a turn in which the bearer neither attacked nor was hurt since its
    last turn, unless it is a persistent rage."""
    rage = next((x for x in e.effects if x.has("rage")), None)
    if rage is not None and not (e.turn.get("attacked") or e.turn.get("hurt")
                                 or rage.has("persistent_rage")):
        e.effects.remove(rage)
        out.append(ev.Info(e.eid, "the rage ends"))
    e.turn.pop("hurt", None)


def advance_idx(game: Game) -> None:
    c = game.combat
    if c.get("reflex") == c["idx"]:  # a Thief's Reflexes turn is over: its seat goes
        del c["order"][c["idx"]]
        c.pop("reflex")
    else:
        c["idx"] += 1
    if c["round"] == 1:
        _thiefs_reflexes(game)
    if c["idx"] >= len(c["order"]):
        c["idx"] = 0
        c["round"] += 1


def _thiefs_reflexes(game: Game) -> None:
    """Thief's Reflexes: in the first round a thief who has acted takes a second turn at its
    initiative - 10, seated just for that turn before the first creature who rolled lower."""
    c = game.combat
    init = c.get("init") or {}
    done = c.setdefault("reflexed", [])
    nxt = c["order"][c["idx"]] if c["idx"] < len(c["order"]) else None
    for eid in c["order"][:c["idx"]]:
        e = game.entities.get(eid)
        if eid in done or e is None or e.down or not e.effects or not any(
                x.has("thiefs_reflexes") for x in e.effects):
            continue
        if nxt is None or init.get(str(nxt), -99) < init.get(str(eid), 0) - 10:
            c["order"].insert(c["idx"], eid)
            c["reflex"] = c["idx"]
            done.append(eid)
            return


def check_end(game: Game, out: list[Any]) -> bool:
    """End combat the way the SRD reads: it goes on while each side has a creature still
    up, and while a hero is dying with foes left, so that hero rolls death saves."""
    if game.combat is None:
        return True
    fighters = [game.entities[x] for x in game.combat["order"] if x in game.entities]
    foes = [e for e in fighters if e.side == "monsters" and e.in_fight]
    heroes = [e for e in fighters if e.side == "party"]
    friends = [e for e in heroes if not e.down]
    if foes and (friends or any(e.dying and not e.fled for e in heroes)):
        return False
    for e in fighters:  # burnt while down: its next turn would start at 0 HP, unhealed
        if e.side == "monsters" and e.hp <= 0 and not e.rising:
            resolver.rise_or_die(game, e, False, None, out)
    if foes or not heroes:
        xp, loot = 0, ()
        outcome = "fell" if heroes else "ended"
    else:
        outcome = "won"
        xp = sum(e.xp for e in fighters if e.side == "monsters" and (e.dead or e.hp <= 0))
        room = game.dungeon.rooms.get(game.room)
        loot = ()
        if room and room.encounter and room.id not in game.state["cleared"]:
            game.state["cleared"].append(room.id)
            loot = room.encounter.loot + tuple(x for x in room.loot)
    game.combat = None
    out.append(ev.CombatEnded(xp, loot, outcome))
    if loot:
        from rules.equipment import share_loot

        out += share_loot(game, list(loot))
    for e in game.party():
        e.fled = False
        e.engaged.clear()
        e.effects[:] = [x for x in e.effects if not (x.until_turn or x.has("dodge"))]
    if xp:
        out += award_xp(game, xp)
    return True


def award_xp(game: Game, xp: int) -> list[Any]:
    """XP is shared by living party members; crossing a threshold levels up automatically
    (house rule auto_level, default on), otherwise the DM uses Dm(op="level_up")."""

    alive = [e for e in game.party() if not e.dead and e.room == game.room and e.kind == "pc"]
    out: list[Any] = []
    if not alive:
        return out
    share = xp // len(alive)
    for e in alive:
        out += gain_xp(game, e, share)
    return out


def gain_xp(game: Game, e: Entity, xp: int) -> list[Any]:
    """One character's XP grows; past a threshold it levels up (house rule auto_level), in
    the class the player chose with `level CLASS` (else the one it has); with auto_level
    off, the player is told the level waits for its choice."""
    from rules import pregen

    was_due = level_due(e)
    e.xp += xp
    if not level_due(e):
        return []
    if game.house.get("auto_level", True):
        return level_up(game, e, pregen.xp_level(e.xp))
    if was_due:
        return []
    return [ev.Info(e.eid, f"{e.name} may reach level {e.level + 1}: send level CLASS, "
                           f"e.g. level {e.origin.get('next') or e.cls}")]


def level_due(e: Entity) -> bool:
    from rules import pregen

    return e.level < pregen.MAX_LEVEL and pregen.xp_level(e.xp) > e.level


def advance(game: Game, a: Entity, i: it.Advance, rng: random.Random) -> list[Any]:
    """`level CLASS`: with a level due (auto_level off), take it in that class now; else
    the class the next level goes to. Refused in one line when the SRD prerequisites fail."""
    from rules import multiclass, pregen

    if a.kind != "pc":
        raise RulesError(f"{a.name} has no class levels")
    if i.improve:
        return _choose_improvement(a, i.improve)
    cls = pregen.class_key(i.cls)
    multiclass.check_new_class(a, cls)
    a.origin["next"] = cls  # it stands for the levels after, until another choice
    if level_due(a):
        return level_up(game, a, pregen.xp_level(a.xp), rng, cls)
    need = pregen.XP_LEVELS[a.level] if a.level < pregen.MAX_LEVEL else 0
    return [ev.Info(a.eid, f"{a.name}'s next level goes to {cls}"
                    + (f" (at {need} XP)" if need else ""))]


def _choose_improvement(a: Entity, words: str) -> list[Any]:
    """Keep the next Ability Score Improvement's choice: two ability points or a feat, its
    prerequisite checked against today's scores. A level that brings one spends it."""
    from rules import content, creation

    picks = creation.improvements(words.split(), a.abilities)
    feats = [p for p in picks if p in content.feats()]
    if (feats and len(picks) != 1) or (not feats and len(picks) != 2):
        raise RulesError("an improvement is two ability points (level asi str dex) or one "
                         "feat (level feat grappler)")
    taken = [x for x in a.origin.get("asi", []) if x in content.feats()]
    if set(feats) & set(taken):
        raise RulesError(f"{a.name} already has {feats[0]}")
    a.origin["asi_next"] = picks
    what = f"the {feats[0]} feat" if feats else " ".join(f"+1 {p.upper()}" for p in picks)
    return [ev.Info(a.eid, f"{a.name}'s next improvement: {what}")]


def _spend_improvement(e: Entity, by_class: dict[str, int]) -> dict[str, Any]:
    """The creation choices after a level: a chosen improvement joins the picks when the
    level brings one (picks go first and the rest fill by the build's order, so earlier
    improvements keep their totals)."""
    from rules import levels, multiclass

    origin = dict(e.origin)
    before = sum(levels.asi_count(c, n) for c, n in multiclass.class_levels(e).items())
    after = sum(levels.asi_count(c, n) for c, n in by_class.items())
    if after > before and origin.get("asi_next"):
        origin["asi"] = [*origin.get("asi", []), *origin.pop("asi_next")]
    return origin


def level_up(game: Game, e: Entity, level: int, rng: random.Random | None = None,
             cls: str = "") -> list[Any]:
    """Level e up to `level` in `cls` (default: the class chosen with `level CLASS`, else
    the primary); RulesError, before any change, if the SRD prerequisites fail."""
    from rules import content, creation, encumbrance, multiclass

    take = cls or str(e.origin.get("next") or "") or e.cls
    if not cls and multiclass.refusal(e, take):
        take = e.cls  # a standing choice no longer allowed: the XP still levels the primary
    multiclass.check_new_class(e, take)
    by_class = multiclass.class_levels(e)
    by_class[take] = by_class.get(take, 0) + level - e.level
    fresh = creation.levelled(e, level, take, _spend_improvement(e, by_class))
    if rng is not None and game.house.get("rolled_hp", False):
        hd = int(content.classes()[take]["hit_die"])
        fresh.max_hp = creation.rolled_max_hp(e, fresh, rng, hd)
    gain = fresh.max_hp - e.max_hp
    fresh.hp = max(0, e.hp + gain) if not e.dead else 0
    fresh.dead, fresh.room, fresh.inventory = e.dead, e.room, e.inventory
    fresh.xp = max(e.xp, fresh.xp)
    fresh.conditions = e.conditions
    fresh.effects = [x for x in e.effects if not x.has("permanent")] + [
        x for x in fresh.effects if x.has("permanent")]  # the new level's standing features
    fresh.slots = [_carried(s, om, m) for s, m, om in zip(e.slots, fresh.max_slots,
                                                         e.max_slots, strict=True)]
    fresh.res = _carried_resources(e, fresh)
    game.entities[e.eid] = fresh
    encumbrance.update(game, fresh)  # a new STR moves the load thresholds
    return [ev.LevelledUp(e.eid, level)]


def _carried(have: int, old_max: int, new_max: int) -> int:
    """A level gained is not a rest: what was spent stays spent, and a maximum that grew
    adds its growth (slots and resources alike)."""
    return max(0, min(new_max, have + max(0, new_max - old_max)))


def _carried_resources(before: Entity, after: Entity) -> dict[str, int]:
    """Resources across a level-up (_carried); counters with no maximum, such as Divine
    Intervention's 7-day wait, carry over as they are."""
    res = dict(after.res)
    for k, have in before.res.items():
        if k in after.res_max:
            res[k] = _carried(have, before.res_max.get(k, 0), after.res_max[k])
        elif k not in before.res_max:
            res[k] = have
    return res


def run_legendary(game: Game, ended: Entity, rng: random.Random) -> list[Any]:
    """At the end of another creature's turn, each legendary monster may act (house rule)."""
    from rules.combat import run_action  # combat builds on turns; import at call time
    from rules.tactics import legendary_pick

    out: list[Any] = []
    if not game.house.get("auto_legendary", True):
        return out
    # Legendary monsters are few and rooms fill with the fallen: test the cheap things first.
    for m in list(game.entities.values()):
        if game.combat is None:
            break
        if (not m.legendary_actions or m.eid == ended.eid or m.side != "monsters" or m.down
                or m.incapacitated):
            continue
        pick = legendary_pick(game, m)
        if pick is None:
            continue
        act, target = pick
        left = m.res.get("legendary", 0)
        m.res["legendary"] = left - int(act.get("cost") or 1)
        out.append(ev.ActionTaken(m.eid, "legendary " + act["name"].lower(), target.eid))
        run_action(game, m, act, target, rng, out)
        check_end(game, out)
    return out


def end_turn(game: Game, a: Entity, _i: it.EndTurn, rng: random.Random) -> list[Any]:
    on_turn(game, a)
    out = end_turn_effects(game, a, rng)
    out += run_legendary(game, a, rng)
    if game.combat is None:
        return out
    advance_idx(game)
    out += begin_turn(game, rng)
    return out


def on_turn(game: Game, a: Entity) -> None:
    if game.combat is None:
        raise RulesError("not in combat")
    if game.current_turn() != a.eid:
        raise RulesError("not your turn")
