"""Named effects for monster actions and traits no node says: shapes, flinging, raising,
berserk fury, doubled dice while enlarged."""

from __future__ import annotations

from typing import Any

from rules import dice, resolver
from rules import events as ev
from rules.effects.records import Effect


def shape(ctx: Any, args: dict[str, Any]) -> None:
    """The creature takes a guise that keeps its statistics, or its true form again (a
    stat block's own Change Shape goes to its first guise and back)."""
    from rules.effects import shapes

    c = ctx.caster
    to = str(args.get("to") or "")
    if not to:
        listed = shapes.shape_list(c.monster)
        to = shapes.TRUE_FORM if shapes.current(c) or not listed else listed[0]["name"]
    got = shapes.take(c, to)
    ctx.out.append(ev.Info(c.eid, f"{c.name} takes its {got}" + ("" if got == shapes.TRUE_FORM
                                                                else " form")))


def add_shapes(ctx: Any, args: dict[str, Any]) -> None:
    """A shapechanger's Change Shape actions join its actions, and it appears in its
    starting guise if it has one (a mimic waits as an object)."""
    from rules.effects import shapes

    c = ctx.caster
    have = {a["name"] for a in c.actions}
    c.actions += [a for a in shapes.actions(c.monster) if a["name"] not in have]
    if args.get("start"):
        shapes.take(c, str(args["start"]))


def adhere(ctx: Any, args: dict[str, Any]) -> None:
    """While it is in an adhesive guise, the creature it hits is stuck to it: grappled,
    with the escape DC given (a mimic's pseudopod)."""
    c = ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead or not any(x.has("adhesive") for x in c.effects):
        return
    resolver.add_condition(ctx.game, t, "grappled", ctx.out, rounds=-1, dc=int(args["dc"]),
                           src=c.eid)


def fling(ctx: Any, _args: dict[str, Any]) -> bool:
    """A creature in its grip is thrown up to 60 feet (1d6 x 10) and lands prone, free of
    the grip, taking 1d6 bludgeoning for every 10 feet it flew (a kraken's Fling)."""
    from rules.effects import engine, monsters

    game, c = ctx.game, ctx.caster
    held = monsters.in_grip(game, c)
    if not held:
        return False
    t = held[0]
    tens = ctx.rng.randint(1, 6)
    for cond in ("grappled", "restrained"):
        info = t.conditions.get(cond)
        if info is not None and info.src == c.eid:
            resolver.remove_condition(game, t, cond, ctx.out)
    engine.drop_engagements(game, t)
    t.band = "far" if tens >= 3 else "near"
    ctx.out.append(ev.Info(t.eid, f"{c.name} flings {t.name} {tens * 10} feet"))
    resolver.deal(game, t, dice.total(f"{tens}d6", ctx.rng), "bludgeoning", ctx.out,
                  rng=ctx.rng)
    resolver.add_condition(game, t, "prone", ctx.out, rounds=-1, src=c.eid)
    return True


def _raised_by(game: Any, c: Any, name: str) -> list[Any]:
    return [e for e in game.entities.values() if not e.dead and any(
        x.name == name and x.src == c.eid and x.has("summoned") for x in e.effects)]


def corpses(game: Any, c: Any) -> list[Any]:
    """Humanoids slain in this fight near the caster whose spirit has not yet risen."""
    return [e for e in game.here(c.room) if e.dead and e.ctype == "humanoid"
            and e.band != "far" and not any(x.has("risen") for x in e.effects)]


def raise_dead(ctx: Any, args: dict[str, Any]) -> bool:
    """A humanoid slain near it in this fight rises as the creature named, on its side and
    up to the number given (a wraith's specters); with no such corpse nothing happens."""
    from rules.effects import specials

    game, c = ctx.game, ctx.caster
    dead = corpses(game, c)
    if not dead or len(_raised_by(game, c, ctx.name)) >= int(args.get("max", 7)):
        return False
    dead[0].effects.append(Effect("risen", c.eid, tags=("risen",)))
    ctx.out.append(ev.Info(dead[0].eid, f"{dead[0].name}'s spirit rises"))
    specials.summon_monster(ctx, {"monster": args["monster"], "count": 1})
    return True


def animate(ctx: Any, args: dict[str, Any]) -> None:
    """Allies appear that are copies of the creature named with only the actions named (a
    treant's animated trees: treants that can only slam)."""
    from rules.effects import specials

    game, c = ctx.game, ctx.caster
    before = {e.eid for e in _raised_by(game, c, ctx.name)}
    specials.summon_monster(ctx, {"monster": args["monster"], "count": args.get("count", 1)})
    keep = set(args.get("only", ()))
    for e in _raised_by(game, c, ctx.name):
        if e.eid not in before:
            e.actions = [a for a in e.actions if a["name"] in keep]
            e.legendary_actions = []


def berserk(ctx: Any, args: dict[str, Any]) -> None:
    """At the start of its turn at or under the hit points given, a d6: on a 6 it goes
    berserk, attacking the nearest creature, friend or foe, until it regains all its hit
    points."""
    c = ctx.caster
    mad = next((x for x in c.effects if x.has("berserk")), None)
    if mad is not None:
        if c.hp >= c.max_hp:
            c.effects.remove(mad)
            ctx.out.append(ev.Info(c.eid, f"{c.name} is calm again"))
        return
    if c.hp > int(args["hp"]):
        return
    roll = ctx.rng.randint(1, 6)
    ctx.out.append(ev.Rolled(c.eid, "berserk", 0, roll, 6, roll == 6))
    if roll == 6:
        c.effects.append(Effect("berserk", c.eid, tags=("berserk",)))
        ctx.out.append(ev.Info(c.eid, f"{c.name} goes berserk"))


def enlarged(ctx: Any, args: dict[str, Any]) -> None:
    """While it is enlarged its weapon's damage dice are doubled: one more roll of them on
    a hit (a duergar's war pick)."""
    c = ctx.caster
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead or not any(x.has("enlarged") for x in c.effects):
        return
    resolver.deal(ctx.game, t, dice.total(str(args["dice"]), ctx.rng, crit=ctx.crit),
                  str(args.get("type") or "bludgeoning"), ctx.out, crit=ctx.crit,
                  rng=ctx.rng, magical=ctx.magical)


def corrode(ctx: Any, args: dict[str, Any]) -> None:
    """The target's metal armour loses a point of AC (a gray ooze's touch); a rust
    monster's antennae (gear) corrode its shield or its metal weapon when it wears none."""
    from rules.effects import corrosion

    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead:
        return
    gear = bool(args.get("gear"))
    if corrosion.corrode_armour(t, ctx.out, shield=gear) or not gear:
        return
    w = next((w for w in t.weapons if w["kind"] == "melee"
              and w["name"] not in corrosion.NOT_METAL and not w.get("magical")), None)
    if w is not None:
        corrosion.rust_weapon(t, w["name"], ctx.out)


def lure(ctx: Any, _args: dict[str, Any]) -> None:
    """At the start of its turn a creature charmed by the singer (a harpy's Luring Song)
    moves to it by the most direct route; once the charm ends, or the singer is
    incapacitated, it is free of the song."""
    from rules.combat import close_in

    c, t = ctx.caster, ctx.target if ctx.target is not None else ctx.targets[0]
    charm = t.conditions.get("charmed")
    if charm is None or charm.src != c.eid or c.incapacitated or c.room != t.room:
        for cond in ("charmed", "incapacitated"):
            info = t.conditions.get(cond)
            if info is not None and info.src == c.eid:
                resolver.remove_condition(ctx.game, t, cond, ctx.out)
        t.effects[:] = [x for x in t.effects if not (x.name == ctx.name and x.src == c.eid)]
        return
    if c.eid not in t.engaged:
        ctx.out += close_in(t, c, 0)
        ctx.out.append(ev.Info(t.eid, f"{t.name} walks to {c.name}'s song"))


def gibber(ctx: Any, _args: dict[str, Any]) -> None:
    """A creature maddened by gibbering at the start of its turn: no reactions, and a d8
    rules its turn: 1-4 it does nothing; 5-6 it staggers off at random; 7-8 it strikes a
    random creature within its reach (or does nothing)."""
    from rules import combat

    game, t = ctx.game, ctx.target if ctx.target is not None else ctx.targets[0]
    if t.dead:
        return
    t.reaction = False
    roll = ctx.rng.randint(1, 8)
    ctx.out.append(ev.Rolled(t.eid, "gibbering", 0, roll))
    t.turn.update({"action": 0, "bonus": 0, "move": 0, "attacks": 0})
    if 5 <= roll <= 6:
        ctx.out += combat._leave_engagement(game, t, ctx.rng)
        t.band = ctx.rng.choice(("near", "far"))
        ctx.out.append(ev.Moved(t.eid, t.band))
        return
    near = [o for o in game.here(t.room) if o.eid != t.eid and not o.down
            and resolver.distance(t, o) <= 5]
    if roll < 7 or not near:
        ctx.out.append(ev.Info(t.eid, f"{t.name} stands babbling"))
        return
    victim = ctx.rng.choice(near)
    if t.kind == "pc":
        spec = combat.melee_spec(t)
        if spec is not None:
            resolver.attack(game, t, victim, spec, ctx.rng, ctx.out)
        return
    act = next((a for a in t.actions if a.get("kind") == "melee" and a.get("damage")), None)
    if act is not None:
        combat.run_action(game, t, act, victim, ctx.rng, ctx.out)


def fly_sword(ctx: Any, _args: dict[str, Any]) -> None:
    """It lets its sword fly, to strike at its bidding as a bonus action (its hands are
    empty of it meanwhile); used again, a bonus action, the sword returns to its hand."""
    c = ctx.caster
    held = [x for x in c.effects if x.has("sword_aloft")]
    if held:
        c.effects.remove(held[0])
        ctx.out.append(ev.Info(c.eid, f"{c.name}'s sword returns to its hand"))
        return
    c.effects.append(Effect(ctx.name, c.eid, tags=("sword_aloft",)))
    ctx.out.append(ev.Info(c.eid, f"{c.name}'s sword hovers, ready to fly"))


BEAST_SPECIALS = {
    "shape": shape, "add_shapes": add_shapes, "adhere": adhere, "fling": fling,
    "raise_dead": raise_dead, "animate": animate, "berserk": berserk, "enlarged": enlarged,
    "corrode": corrode, "lure": lure, "gibber": gibber, "fly_sword": fly_sword,
}
