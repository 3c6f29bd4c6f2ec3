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
    """An HP pool (5d8 + 2d8 a slot level above 1st) puts the weakest to sleep first."""
    pool = dice.total(f"{5 + 2 * max(0, ctx.level - 1)}d8", ctx.rng)
    ctx.out.append(ev.Rolled(ctx.caster.eid, "sleep", 0, pool))
    skip = set(args.get("skip_types", ()))
    immune = str(args.get("skip_immune", ""))
    for t in sorted(ctx.targets, key=lambda e: (e.hp, e.eid)):
        if t.hp <= 0 or t.ctype in skip or (immune and immune in t.cond_immune) \
                or "unconscious" in t.cond_immune:
            continue
        if t.hp > pool:
            break
        pool -= t.hp
        resolver.add_condition(ctx.game, t, "unconscious", ctx.out, rounds=ctx.rounds or 10,
                               src=ctx.caster.eid)
        t.effects.append(Effect("sleep", ctx.caster.eid, tags=("wake_on_damage",)))


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
    """Spell effects of the slot's level or lower end; higher ones need an ability check."""
    for t in ctx.targets:
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
            if info.get("src") and info.get("src") != t.eid and (info.get("save")
                                                                 or info.get("conc")):
                resolver.remove_condition(ctx.game, t, cond, ctx.out)


def action_surge(ctx: Any, _args: dict[str, Any]) -> None:
    ctx.caster.turn["action"] += 1


def stabilise(ctx: Any, _args: dict[str, Any]) -> None:
    a = ctx.caster
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

    a = ctx.caster
    spec = weapon_spec(a, a.weapons[0])
    for t in ctx.targets:
        for _ in range(int(args.get("times", 1))):
            if not t.down:
                resolver.attack(ctx.game, a, t, spec, ctx.rng, ctx.out)


def summon_attack(ctx: Any, args: dict[str, Any]) -> None:
    """The caster's summoned attacker strikes (spiritual weapon): a melee spell attack."""
    a = ctx.caster
    fx = next(x for x in a.effects if x.has("summon"))
    spec = {"name": fx.name, "bonus": a.spell_attack(), "kind": "melee", "range": (5, 0),
            "damage": ((fx.die.replace("MOD", str(a.spell_mod())), fx.dtype),),
            "magical": True}
    for t in [ctx.target] if ctx.target is not None else ctx.targets:
        resolver.attack(ctx.game, a, t, spec, ctx.rng, ctx.out)


def end_effect(ctx: Any, args: dict[str, Any]) -> None:
    """End named effects on the target (dispelling a specific spell, calm emotions)."""
    names = set(args.get("names", ()))
    for t in ctx.targets:
        t.effects[:] = [x for x in t.effects if x.name not in names]


SPECIALS: dict[str, Special] = {
    "sleep": sleep, "revive": revive, "counterspell": counterspell, "dispel": dispel,
    "action_surge": action_surge, "stabilise": stabilise, "lay_on_hands": lay_on_hands,
    "weapon_attacks": weapon_attacks, "summon_attack": summon_attack, "end_effect": end_effect,
}
