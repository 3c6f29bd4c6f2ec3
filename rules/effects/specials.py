"""Named effect types for rules no combination of nodes says: each is data-reusable and tested."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rules import dice, resolver
from rules import events as ev
from rules.effects.records import Effect

Special = Callable[[Any, dict[str, Any]], "bool | None"]
STABILISE_DC = 10  # Wisdom (Medicine) to stabilise a dying creature


def sleep(ctx: Any, args: dict[str, Any]) -> None:
    """An HP pool (sleep: 5d8 + 2d8 a slot level above 1st) overcomes the weakest first:
    asleep, or another condition (color spray: blinded)."""
    cnt, _, sides = str(args.get("pool", "5d8")).partition("d")
    per, _, _ = str(args.get("per_level", "2d8")).partition("d")
    pool = dice.total(f"{int(cnt) + int(per) * max(0, ctx.level - ctx.base)}d{sides}", ctx.rng)
    cond = str(args.get("condition", "unconscious"))
    ctx.out.append(ev.Rolled(ctx.caster.eid, ctx.name, 0, pool))
    skip = set(args.get("skip_types", ()))
    immune = str(args.get("skip_immune", ""))
    for t in sorted(ctx.targets, key=lambda e: (e.hp, e.eid)):
        if t.hp <= 0 or t.ctype in skip or (immune and immune in t.cond_immune) \
                or "unconscious" in t.cond_immune:
            continue
        if t.hp > pool:
            break
        pool -= t.hp
        resolver.add_condition(ctx.game, t, cond, ctx.out, rounds=ctx.rounds or 10,
                               src=ctx.caster.eid)
        if cond == "unconscious":
            t.effects.append(Effect(ctx.name, ctx.caster.eid, tags=("wake_on_damage",)))


def revive(ctx: Any, args: dict[str, Any]) -> None:
    """A dead character returns with 1 HP (revivify, raise dead...)."""
    for t in ctx.targets:
        if t.dead and t.kind == "pc":
            t.dead = False
            t.death_s = t.death_f = 0
            t.hp = 0
            resolver.heal(ctx.game, t, int(args.get("hp", 1)), ctx.out)


def counterspell(ctx: Any, _args: dict[str, Any]) -> None:
    ctx.out.append(ev.Info(ctx.caster.eid, "counterspell answers a foe's spell by itself"))


def dispel(ctx: Any, _args: dict[str, Any]) -> None:
    """Spell effects of the slot's level or lower end; higher ones need an ability check.
    An animated object (Antimagic Susceptibility) also saves or falls unconscious."""
    for t in ctx.targets:
        if any(x.has("antimagic_susceptible") for x in t.effects) and not \
                resolver.saving_throw(ctx.game, t, "con", ctx.dc, ctx.rng, ctx.out, magic=True):
            resolver.add_condition(ctx.game, t, "unconscious", ctx.out, rounds=10,
                                   src=ctx.caster.eid)
        keep = []
        for x in t.effects:
            if not x.level:
                keep.append(x)
                continue
            if x.level > ctx.level:
                nat, _ = dice.d20(ctx.rng, 0)
                total = nat + ctx.mod
                ok = total >= 10 + x.level
                ctx.out.append(ev.Rolled(ctx.caster.eid, "dispel", nat, total, 10 + x.level, ok))
                if not ok:
                    keep.append(x)
                    continue
            ctx.out.append(ev.Info(t.eid, f"{x.name} ends"))
        t.effects[:] = keep
        for cond, info in list(t.conditions.items()):
            if info.src and info.src != t.eid and (info.save or info.conc):
                resolver.remove_condition(ctx.game, t, cond, ctx.out)


def action_surge(ctx: Any, _args: dict[str, Any]) -> None:
    ctx.caster.turn["action"] += 1


def stabilise(ctx: Any, args: dict[str, Any]) -> None:
    """A Medicine check against DC 10 stabilises; `auto` (spare the dying) needs none."""
    a = ctx.caster
    if args.get("auto"):
        for t in ctx.targets:
            if t.dying:
                resolver.stabilise(t, ctx.out)
        return
    nat, _ = dice.d20(ctx.rng, resolver.check_adv(a, "wis", save=False))
    total = nat + a.skill_mod("medicine", "wis")
    ok = total >= STABILISE_DC
    ctx.out.append(ev.Rolled(a.eid, "medicine", nat, total, STABILISE_DC, ok))
    if ok:
        for t in ctx.targets:
            resolver.stabilise(t, ctx.out)


def lay_on_hands(ctx: Any, _args: dict[str, Any]) -> None:
    a = ctx.caster
    for t in ctx.targets:
        want = min(a.res.get("lay_on_hands", 0), max(0, t.max_hp - t.hp))
        a.res["lay_on_hands"] -= want
        resolver.heal(ctx.game, t, want, ctx.out)


def weapon_attacks(ctx: Any, args: dict[str, Any]) -> None:
    """Extra weapon attacks with the first weapon (flurry of blows)."""
    from rules.combat import weapon_spec
    from rules.effects import engine
    from rules.effects.class_specials import _subtree

    a = ctx.caster
    spec = weapon_spec(a, a.weapons[0])
    tag = str(args.get("rider_tag", ""))
    rider = _subtree(repr(args.get("rider")), args["rider"]) if tag and any(
        x.has(tag) for x in a.effects) else ()
    for t in ctx.targets:
        for _ in range(int(args.get("times", 1))):
            if not t.down and resolver.attack(ctx.game, a, t, spec, ctx.rng, ctx.out) and \
                    rider and not t.down:
                ctx.target = t  # Open Hand Technique: a hit's rider (`rider_tag` holders)
                engine.run(rider, ctx)
                ctx.target = None


def summon_attack(ctx: Any, args: dict[str, Any]) -> None:
    """The caster's summoned attacker strikes (spiritual weapon): a melee spell attack."""
    a = ctx.caster
    mine = [x for x in a.effects if x.has("summon")]
    fx = next((x for x in mine if x.name == ctx.name), mine[0])
    spec = {"name": fx.name, "bonus": ctx.attack_bonus, "kind": "melee", "range": (5, 0),
            "damage": ((fx.die.replace("MOD", str(ctx.mod)), fx.dtype),),
            "magical": True}
    for t in [ctx.target] if ctx.target is not None else ctx.targets:
        resolver.attack(ctx.game, a, t, spec, ctx.rng, ctx.out)


def end_effect(ctx: Any, args: dict[str, Any]) -> None:
    """End named effects on the target (dispelling a specific spell, calm emotions)."""
    names = set(args.get("names", ()))
    for t in ctx.targets:
        t.effects[:] = [x for x in t.effects if x.name not in names]


def drain(ctx: Any, _args: dict[str, Any]) -> None:
    """The caster regains half the damage just dealt (vampiric touch)."""
    resolver.heal(ctx.game, ctx.caster, ctx.dealt // 2, ctx.out)


# The effect that holds a life drain's cut to a hit point maximum, until a long rest.
DRAINED = "drained"


def life_drain(ctx: Any, args: dict[str, Any]) -> None:
    """The target's hit point maximum drops by the damage of its type (necrotic) the hit
    just dealt, until a long rest, and a maximum cut to 0 kills; the attacker regains as
    much, unless heal is false (a wight's, a wraith's or a specter's drain heals nobody)."""
    t, dtype = ctx.target, str(args.get("type") or "necrotic")
    taken = 0
    for x in reversed(ctx.out):  # this hit's own damage: back to its attack roll
        if isinstance(x, ev.Attacked):
            break
        if isinstance(x, ev.Damaged) and x.target == t.eid and x.dtype == dtype:
            taken = x.amount
            break
    if taken <= 0 or t.dead:
        return
    fx = next((x for x in t.effects if x.name == DRAINED), None)
    if fx is None:
        fx = Effect(DRAINED, ctx.caster.eid)
        t.effects.append(fx)
    fx.max_hp -= taken
    t.hp = min(t.hp, max(0, t.hp_cap()))
    ctx.out.append(ev.Info(t.eid, f"max HP -{taken}"))
    if t.hp_cap() <= 0:
        resolver.slay(ctx.game, t, ctx.out, ctx.rng)
    if args.get("heal", True):
        resolver.heal(ctx.game, ctx.caster, taken, ctx.out, own=True)


def knock(ctx: Any, _args: dict[str, Any]) -> None:
    """Every locked way out of the caster's room opens."""
    game = ctx.game
    room = game.dungeon.rooms.get(ctx.caster.room)
    for x in room.exits if room else ():
        key = f"{room.id}:{x.to}"
        if x.locked and key not in game.state["unlocked"]:
            game.state["unlocked"].append(key)
            ctx.out.append(ev.Info(ctx.caster.eid, f"the way {x.dir or x.name} opens"))


def banish(ctx: Any, _args: dict[str, Any]) -> None:
    """The target leaves the fight (banished, imprisoned, lost in a maze, shifted away)."""
    from rules.effects.engine import drop_engagements

    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead:
        return
    drop_engagements(ctx.game, t)
    t.fled = True
    ctx.out.append(ev.Info(t.eid, f"{t.name} is gone ({ctx.name})"))


def polymorph(ctx: Any, args: dict[str, Any]) -> None:
    """A foe becomes a harmless beast for the fight: out of it, like a banishment; a
    creature of immutable form (a golem) is not changed."""
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if any(x.has("immutable") for x in t.effects):
        ctx.out.append(ev.Info(t.eid, f"{t.name}'s form does not change"))
        return
    banish(ctx, args)


def hp_threshold(ctx: Any, args: dict[str, Any]) -> None:
    """Power words: a target at or under the HP limit dies, or takes the condition."""
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead or t.hp > int(args.get("max_hp", 0)):
        ctx.out.append(ev.Info(t.eid, f"{t.name} shrugs off {ctx.name}"))
        return
    if args.get("kill"):
        resolver.deal(ctx.game, t, t.hp + t.max_hp, "psychic", ctx.out, magical=True)
    else:
        resolver.add_condition(ctx.game, t, str(args.get("condition", "stunned")), ctx.out,
                               rounds=-1, save="con", dc=ctx.dc, src=ctx.caster.eid)


def extra_turns(ctx: Any, args: dict[str, Any]) -> None:
    """The caster acts again (time stop): extra actions this turn."""
    n = dice.total(str(args.get("dice", "1")), ctx.rng)
    ctx.caster.turn["action"] += n
    ctx.out.append(ev.Info(ctx.caster.eid, f"{n} extra actions"))


def summon_monster(ctx: Any, args: dict[str, Any]) -> None:
    """SRD creatures join the caster's side and the initiative order (conjure animals)."""
    from rules.explore import spawn

    count = int(args.get("count", 1)) + int(args.get("per_level", 0)) * max(
        0, ctx.level - ctx.base)
    game, c = ctx.game, ctx.caster
    made = spawn(game, str(args["monster"]), min(count, 8), c.band, side=c.side)
    for e in made:
        ally = game.entities[e.eid]
        ally.room = c.room
        ally.effects.append(Effect(ctx.name, c.eid, rounds=max(0, ctx.rounds), conc=ctx.conc,
                                   tags=("summoned",), level=ctx.level))
        if game.combat is not None:
            game.combat["order"].append(e.eid)
    ctx.out += made


def grant(ctx: Any, args: dict[str, Any]) -> None:
    """Uses of a resource the creature starts with (legendary resistance 3/day)."""
    c = ctx.caster
    c.res[str(args["resource"])] = c.res_max[str(args["resource"])] = int(args["amount"])


def charged(ctx: Any, _args: dict[str, Any]) -> bool:
    """Only after a charge: on its own turn the creature moved to reach this foe (closing in
    from near or far covers the stat block's 10-30 feet straight at it); else the rest stops."""
    c = ctx.caster
    full = c.effective_speed() * (2 if c.turn.get("dashed") else 1)
    return ctx.game.current_turn() == c.eid and c.turn.get("move", 0) < full


def sneak_attack(ctx: Any, args: dict[str, Any]) -> None:
    """Once a turn, extra dice of the hit's type when the attack had advantage, or when an
    ally of the attacker is engaged with the target and it had no disadvantage."""
    c, t = ctx.caster, ctx.target if ctx.target is not None else ctx.targets[0]
    if c.turn.get("sneak") or t.dead or ctx.adv < 0:
        return
    if args.get("ally_only"):  # martial advantage: an ally beside the target, nothing else
        ctx.adv = 0
    ally = any(o != c.eid and o in ctx.game.entities and ctx.game.entities[o].side == c.side
               and not ctx.game.entities[o].incapacitated for o in t.engaged)
    if ctx.adv > 0 or ally:
        c.turn["sneak"] = True
        amount = dice.total(str(args["dice"]), ctx.rng, crit=ctx.crit)
        resolver.deal(ctx.game, t, amount, str(args.get("type") or "piercing"), ctx.out,
                      crit=ctx.crit, rng=ctx.rng, magical=ctx.magical)


def surprise(ctx: Any, args: dict[str, Any]) -> None:
    """Extra dice on a hit in the first round against a foe that has not yet taken a turn
    (the surprised, as near as initiative tells)."""
    game, t = ctx.game, ctx.target if ctx.target is not None else ctx.targets[0]
    if not resolver.unacted(game, t):
        return
    resolver.deal(game, t, dice.total(str(args["dice"]), ctx.rng, crit=ctx.crit),
                  str(args.get("type") or "piercing"), ctx.out, crit=ctx.crit, rng=ctx.rng,
                  magical=ctx.magical)


def rampage(ctx: Any, args: dict[str, Any]) -> None:
    """On its own turn, a melee hit that drops a foe lets it (a bonus action) move up to
    half its speed to another foe not far off and bite it."""
    from rules.combat import close_in
    from rules.effects import engine, monsters

    game, c = ctx.game, ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.hp > 0 or game.current_turn() != c.eid or c.turn.get("bonus", 0) <= 0:
        return
    foes = sorted((e for e in game.here(c.room) if e.side != c.side and not e.down
                   and e.band != "far"), key=lambda e: (e.eid not in c.engaged, e.eid))
    if not foes:
        return
    c.turn["bonus"] -= 1
    nxt = foes[0]
    if nxt.eid not in c.engaged:
        ctx.out += close_in(c, nxt, 0)  # the rampage's own half-speed move
    ctx.out.append(ev.Info(c.eid, f"{c.name} rampages on to {nxt.name}"))
    engine.use(game, c, monsters.key_for(c.monster, str(args["action"])), [nxt], ctx.rng,
               ctx.out)


def detect(ctx: Any, _args: dict[str, Any]) -> None:
    """A Wisdom (Perception) check against each hidden foe's Stealth (10 + its modifier):
    a foe it beats is no longer hidden."""
    c = ctx.caster
    hidden = [e for e in ctx.game.here(c.room) if e.side != c.side and not e.down
              and any(x.has("hidden") for x in e.effects)]
    if not hidden:
        return
    nat, _ = dice.d20(ctx.rng, resolver.check_adv(c, "wis", save=False))
    total = nat + c.skill_mod("perception", "wis") + resolver.check_bonus(c, ctx.rng)
    for e in hidden:
        dc = 10 + e.skill_mod("stealth", "dex")
        ok = total >= dc
        ctx.out.append(ev.Rolled(c.eid, "perception", nat, total, dc, ok))
        if ok:
            e.effects[:] = [x for x in e.effects if not x.has("hidden")]
            ctx.out.append(ev.Info(e.eid, f"{c.name} spots {e.name}"))


def change_form(ctx: Any, args: dict[str, Any]) -> None:
    """A shapechanger takes another of its forms (its own SRD stat block: werewolf-hybrid):
    that form's AC, speed, defences and actions; its hit points and effects stay."""
    from rules import content
    from rules.creature import best_speed
    from rules.effects import monsters

    c = ctx.caster
    m = content.monsters()[str(args["to"])]
    c.monster, c.ac, c.speed = m["index"], int(m["armor_class"]), best_speed(m["speed"])
    c.actions = [dict(a) for a in m.get("actions", [])] + monsters.form_actions(m["index"])
    c.legendary_actions = [dict(a) for a in m.get("legendary_actions", [])]
    c.resist, c.immune = list(m["damage_resistances"]), list(m["damage_immunities"])
    c.vuln, c.cond_immune = list(m["damage_vulnerabilities"]), list(m["condition_immunities"])
    c.recharge = {a["name"]: True for a in c.actions if a.get("recharge")}
    c.per_day = {a["name"]: int(a["per_day"]) for a in c.actions if a.get("per_day")}
    ctx.out.append(ev.Info(c.eid, f"{c.name} becomes {m['name']}"))


def touch_heal(ctx: Any, args: dict[str, Any]) -> None:
    """The most wounded ally of the caster (not itself) regains the dice in hit points and
    is freed of poison, blindness and deafness."""
    c = ctx.caster
    hurt = sorted((e for e in ctx.game.here(c.room) if e.side == c.side and e.eid != c.eid
                   and not e.dead and e.hp < e.max_hp), key=lambda e: (e.hp / e.max_hp, e.eid))
    if not hurt:
        return
    t = hurt[0]
    resolver.heal(ctx.game, t, dice.total(str(args["dice"]), ctx.rng), ctx.out)
    for cond in ("poisoned", "blinded", "deafened"):
        if cond in t.conditions:
            resolver.remove_condition(ctx.game, t, cond, ctx.out)


def add_forms(ctx: Any, _args: dict[str, Any]) -> None:
    """A shapechanger's Change Shape actions, one per other form, join its actions."""
    from rules.effects import monsters

    c = ctx.caster
    have = {a["name"] for a in c.actions}
    c.actions += [a for a in monsters.form_actions(c.monster) if a["name"] not in have]


def swallow(ctx: Any, args: dict[str, Any]) -> None:
    """A foe in its grip is swallowed or engulfed, one at a time (after a bite, only if the
    bite hits): the grapple ends, and inside it is blinded, restrained and hurt each turn
    until the swallower falls."""
    from dataclasses import replace

    from rules.effects import engine, monsters, registry
    from rules.effects import nodes as n

    game, c = ctx.game, ctx.caster
    if any(x.has("swallowed") and x.src == c.eid for e in game.entities.values()
           for x in e.effects):
        return
    held = monsters.in_grip(game, c)
    if not held:
        ctx.out.append(ev.Info(c.eid, f"{c.name} has no one in its grip to {ctx.name.lower()}"))
        return
    t = ctx.target if ctx.target in held else held[0]
    inside = (n.Special("end_grapple"), n.Ref(monsters.key_for(c.monster, ctx.name) + "@in"))
    tree: Any = inside
    if args.get("action"):
        atk = registry.tree(monsters.key_for(c.monster, str(args["action"])))[0]
        tree = (replace(atk, hit=atk.hit + inside),)
    sub = engine.context(game, c, monsters.key_for(c.monster, ctx.name), ctx.rng, ctx.out, [t])
    sub.target = t
    engine.run(tree, sub)


def end_grapple(ctx: Any, _args: dict[str, Any]) -> None:
    """The target's grapple (and what lasts until it ends) is over."""
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    resolver.end_grapple(ctx.game, t, ctx.out)


def grapple_instead(ctx: Any, _args: dict[str, Any]) -> bool:
    """A foe it does not yet hold is grappled instead of taking the hit's damage, while an
    action of its own waits on that hold (a vampire's bite); otherwise the blow deals damage."""
    from rules.effects import monsters

    c = ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead or not any(monsters.bars(ctx.game, c, a, t) for a in c.actions):
        return True  # nothing it does waits on holding this foe: the blow deals damage
    resolver.add_condition(ctx.game, t, "grappled", ctx.out, rounds=-1, src=c.eid)
    held = t.conditions.get("grappled")
    # immune, or held by another: the blow lands as damage after all
    return held is None or held.src != c.eid


def second_hit(ctx: Any, args: dict[str, Any]) -> None:
    """The second hit of the caster's turn on the same target imposes `condition` (a
    shambling mound grapples a creature both slams hit)."""
    c = ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    first = [x for x in t.effects if x.name == "struck once" and x.src == c.eid]
    if not first:  # the mark lasts until the caster's next turn starts
        t.effects.append(Effect("struck once", c.eid, until_turn=c.eid))
        return
    t.effects[:] = [x for x in t.effects if x not in first]
    resolver.add_condition(ctx.game, t, str(args["condition"]), ctx.out, src=c.eid)


def buff_allies(ctx: Any, args: dict[str, Any]) -> None:
    """The caster's living allies in the room (not itself) add dice to attack rolls and
    saves for `rounds` (a knight's Leadership)."""
    c = ctx.caster
    for e in ctx.game.here(c.room):
        if e.side == c.side and e.eid != c.eid and not e.dead:
            e.effects[:] = [x for x in e.effects if x.name != ctx.name]  # one die at a time
            e.effects.append(Effect(ctx.name, c.eid, rounds=int(args.get("rounds", 10)),
                                    atk=str(args.get("atk", "")), save=str(args.get("save", ""))))


def reel(ctx: Any, _args: dict[str, Any]) -> None:
    """Every foe the caster grapples is pulled into melee with it (a roper's Reel)."""
    from rules.combat import close_in
    from rules.effects import monsters

    c = ctx.caster
    for t in monsters.in_grip(ctx.game, c):
        if t.eid not in c.engaged:
            ctx.out += close_in(t, c, 0)
            ctx.out.append(ev.Info(t.eid, f"{c.name} reels in {t.name}"))


def reaction(ctx: Any, _args: dict[str, Any]) -> bool:
    """The caster spends its reaction on what follows; without one the rest stops."""
    if not ctx.caster.reaction or ctx.caster.incapacitated:
        return False
    ctx.caster.reaction = False
    return True


def hurt_grapplers(ctx: Any, args: dict[str, Any]) -> None:
    """Whoever grapples the caster takes the dice (a barbed devil's hide)."""
    c = ctx.caster
    held = c.conditions.get("grappled")
    holder = ctx.game.entities.get(held.src) if held else None
    if holder is not None and not holder.dead:
        resolver.deal(ctx.game, holder, dice.total(str(args["dice"]), ctx.rng),
                      str(args.get("type") or "piercing"), ctx.out, rng=ctx.rng)


def consume_life(ctx: Any, args: dict[str, Any]) -> None:
    """On its turn, a foe it has just dropped to 0 HP (and still alive): a bonus action, a
    Con save or the foe dies and the caster regains the dice in hit points."""
    game, c = ctx.game, ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.hp > 0 or t.dead or game.current_turn() != c.eid or c.turn.get("bonus", 0) <= 0:
        return
    c.turn["bonus"] -= 1
    if resolver.saving_throw(game, t, "con", int(args["dc"]), ctx.rng, ctx.out, ctx.name,
                             magic=True):
        return
    resolver.deal(game, t, t.max_hp, "necrotic", ctx.out, rng=ctx.rng, magical=True)
    resolver.heal(game, c, dice.total(str(args["dice"]), ctx.rng), ctx.out, own=True)


def cast(ctx: Any, args: dict[str, Any]) -> bool:
    """A spell of the caster's list cast at the target as another action's effect (a lich's
    legendary Cantrip, a sphinx's Cast a Spell): `level` spends a slot of that level, none
    for a cantrip. Out of range, or with no slot left, nothing happens."""
    from rules.effects import engine, selection, spellbook

    game, c = ctx.game, ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    sp = resolver.spell_data(str(args["spell"]))
    level = int(args.get("level", 0))
    if t.down or resolver.distance(c, t) > max(int(sp.get("range_ft") or 5), 5) or (
            level and c.slots[level - 1] <= 0):
        return False
    if level:
        c.slots[level - 1] -= 1
    targets = selection.for_spell(game, c, spellbook.spell_def(sp["index"]), t.eid)
    ctx.out.append(ev.SpellCast(c.eid, sp["index"], level))
    engine.use(game, c, f"spell:{sp['index']}", targets, ctx.rng, ctx.out,
               level=level or int(sp["level"]))
    return True


def drain_charmed(ctx: Any, args: dict[str, Any]) -> bool:
    """A foe the caster has charmed takes the dice, and the caster regains what it took (an
    aboleth's Psychic Drain); with no such foe nothing happens."""
    game, c = ctx.game, ctx.caster
    held = [e for e in game.here(c.room) if e.side != c.side and not e.dead
            and (ch := e.conditions.get("charmed")) is not None and ch.src == c.eid]
    if not held:
        return False
    took = resolver.deal(game, held[0], dice.total(str(args["dice"]), ctx.rng),
                         str(args.get("type") or "psychic"), ctx.out, rng=ctx.rng, magical=True)
    resolver.heal(game, c, took, ctx.out, own=True)
    return True


def staged(ctx: Any, _args: dict[str, Any]) -> None:
    """A per-day action whose every use is stronger (an androsphinx's three roars): the
    use just spent picks its stage tree (`<key>@1`, `@2`, ...)."""
    from rules.effects import engine, monsters, registry

    c = ctx.caster
    act = next((a for a in c.actions if a["name"] == ctx.name), None)
    if act is None or not act.get("per_day"):
        return
    used = max(1, int(act["per_day"]) - c.per_day.get(ctx.name, 0))
    key = f"{monsters.key_for(c.monster, ctx.name)}@{used}"
    foes = [e for e in ctx.game.here(c.room) if e.side != c.side and not e.down]
    sub = engine.context(ctx.game, c, monsters.key_for(c.monster, ctx.name), ctx.rng, ctx.out,
                         foes)  # a roar reaches the whole fight
    engine.run(registry.tree(key), sub)


def eminence(ctx: Any, args: dict[str, Any]) -> None:
    """On its turn, a bonus action and its lowest spell slot make its melee hits deal extra
    radiant dice until the turn ends (+1d6 a slot level above 1st: a priest's Divine
    Eminence)."""
    game, c = ctx.game, ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if game.current_turn() != c.eid or t.dead:
        return
    level = int(c.turn.get("eminence", 0))
    if not level:
        level = next((k + 1 for k, left in enumerate(c.slots) if left > 0), 0)
        if not level or c.turn.get("bonus", 0) <= 0:
            return
        c.turn["bonus"] -= 1
        c.slots[level - 1] -= 1
        c.turn["eminence"] = level
    cnt, _, sides = str(args["dice"]).partition("d")
    amount = dice.total(f"{int(cnt) + level - 1}d{sides}", ctx.rng, crit=ctx.crit)
    resolver.deal(game, t, amount, str(args.get("type") or "radiant"), ctx.out, crit=ctx.crit,
                  rng=ctx.rng, magical=True)


SPECIALS: dict[str, Special] = {
    "sleep": sleep, "revive": revive, "counterspell": counterspell, "dispel": dispel,
    "action_surge": action_surge, "stabilise": stabilise, "lay_on_hands": lay_on_hands,
    "weapon_attacks": weapon_attacks, "summon_attack": summon_attack, "end_effect": end_effect,
    "drain": drain, "knock": knock, "banish": banish, "polymorph": polymorph,
    "hp_threshold": hp_threshold, "extra_turns": extra_turns, "summon_monster": summon_monster,
    "grant": grant, "change_form": change_form, "touch_heal": touch_heal, "add_forms": add_forms, "charged": charged, "sneak_attack": sneak_attack, "surprise": surprise, "rampage": rampage, "detect": detect,
    "swallow": swallow, "end_grapple": end_grapple, "second_hit": second_hit,
    "grapple_instead": grapple_instead,
    "buff_allies": buff_allies, "reel": reel, "reaction": reaction,
    "hurt_grapplers": hurt_grapplers, "consume_life": consume_life,
    "cast": cast, "staged": staged, "eminence": eminence, "drain_charmed": drain_charmed,
    "life_drain": life_drain,
}


def _register_class_specials() -> None:
    from rules.effects.beast_specials import BEAST_SPECIALS
    from rules.effects.class_specials import CLASS_SPECIALS
    from rules.effects.item_specials import ITEM_SPECIALS

    SPECIALS.update(CLASS_SPECIALS)
    SPECIALS.update(ITEM_SPECIALS)
    SPECIALS.update(BEAST_SPECIALS)


_register_class_specials()
