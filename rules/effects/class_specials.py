"""Named effect types for class features no node combination says (turn undead, slot recovery)."""

from __future__ import annotations

from typing import Any

from rules import content, resolver
from rules import events as ev
from rules.effects.records import Effect

# Beasts a druid's Wild Shape can take, by the highest CR the druid level allows (SRD table).
WILD_SHAPES = {0.25: "wolf", 0.5: "black-bear", 1.0: "brown-bear"}


def destroy_undead(ctx: Any, _args: dict[str, Any]) -> None:
    """A turned undead of low enough CR is destroyed (the cleric's Destroy Undead table):
    it dies, without the damage, fright or Undead Fortitude a blow would bring to say."""
    from rules.levels import row
    from rules.multiclass import class_level

    c = ctx.caster
    cr = float(row("cleric", max(1, class_level(c, "cleric")))["class_specific"].get(
        "destroy_undead_cr") or -1)
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if not t.dead and t.ctype == "undead" and 0 <= t.cr <= cr:
        resolver.slay(ctx.game, t, ctx.out, ctx.rng)


def each_foe(ctx: Any, args: dict[str, Any]) -> None:
    """Run `effects` on every living foe in the user's room, of `only_types` if given
    (Turn Undead: each undead that can hear the cleric saves); `allies`: on every living
    ally instead, the user too (Countercharm)."""
    from rules.effects import engine

    tree = _subtree(repr(args.get("effects", [])), args.get("effects", []))
    types = set(args.get("only_types", ()))
    c = ctx.caster
    mine = bool(args.get("allies"))
    foes = [t for t in ctx.game.here(c.room) if (t.side == c.side) == mine and not t.down
            and (not types or t.ctype in types)]
    if not foes:
        ctx.out.append(ev.Info(c.eid, f"no foe here answers {ctx.name}"))
    for t in foes:
        ctx.target = t
        engine.run(tree, ctx)
    ctx.target = None


_TREES: dict[str, Any] = {}


def _subtree(key: str, data: Any) -> Any:
    from rules.effects import nodes as n

    if key not in _TREES:
        _TREES[key] = n.parse_tree(data, "class special")
    return _TREES[key]


def heal_pool(ctx: Any, args: dict[str, Any]) -> None:
    """A pool of per_level x level HP shared among wounded allies in the room, none healed
    above half its maximum (Preserve Life)."""
    c = ctx.caster
    pool = int(args.get("per_level", 5)) * max(1, ctx.char_level)  # the feature's class level
    allies = [t for t in ctx.game.here(c.room) if t.side == c.side and not t.dead]
    for t in sorted(allies, key=lambda e: (e.hp - e.max_hp // 2, e.eid)):
        want = min(pool, max(0, t.max_hp // 2 - t.hp))
        if want and not t.dead:
            pool -= resolver.heal(ctx.game, t, want, ctx.out)
        if pool <= 0:
            break


def recover_slots(ctx: Any, args: dict[str, Any]) -> None:
    """Spent slots come back: combined levels up to half the class level, rounded up, none
    above `max_level` (Arcane / Natural Recovery); `all` restores every slot (Eldritch Master)."""
    c = ctx.caster
    if args.get("all"):
        c.slots = list(c.max_slots)
        ctx.out.append(ev.Info(c.eid, "spell slots recovered"))
        return
    budget = (ctx.char_level + 1) // 2  # the recovering class's level
    got = []
    for lvl in range(min(int(args.get("max_level", 5)), 9), 0, -1):
        while c.slots[lvl - 1] < c.max_slots[lvl - 1] and lvl <= budget:
            c.slots[lvl - 1] += 1
            budget -= lvl
            got.append(lvl)
    ctx.out.append(ev.Info(c.eid, "recovered slots " + (",".join(map(str, got)) or "none")))


def font_of_magic(ctx: Any, args: dict[str, Any]) -> bool:
    """Sorcery points and spell slots trade (Flexible Casting): `create` buys the highest
    missing slot the points afford (1st-5th); otherwise the lowest slot becomes points."""
    c = ctx.caster
    pts = c.res.get("sorcery_points", 0)
    if args.get("create"):
        costs = {1: 2, 2: 3, 3: 5, 4: 6, 5: 7}
        for lvl in range(5, 0, -1):
            if c.slots[lvl - 1] < c.max_slots[lvl - 1] and costs[lvl] <= pts:
                c.res["sorcery_points"] = pts - costs[lvl]
                c.slots[lvl - 1] += 1
                ctx.out.append(ev.Info(c.eid, f"a level {lvl} slot for {costs[lvl]} points"))
                return True
        ctx.out.append(ev.Info(c.eid, "no slot to make with those points"))
        return False
    k = next((i for i, v in enumerate(c.slots) if v > 0), None)
    cap = c.res_max.get("sorcery_points", 0)
    if k is None or pts >= cap:
        ctx.out.append(ev.Info(c.eid, "no slot to turn into points"))
        return False
    c.slots[k] -= 1
    c.res["sorcery_points"] = min(cap, pts + k + 1)
    ctx.out.append(ev.Info(c.eid, f"a level {k + 1} slot becomes {k + 1} points"))
    return True


def wild_shape(ctx: Any, _args: dict[str, Any]) -> None:
    """The druid takes the shape of the strongest beast its level allows: the beast's hit
    points are a pool that soaks damage first, and it attacks with the beast's attacks
    (`form`: combat.attack)."""
    from rules.levels import row
    from rules.multiclass import class_level

    c = ctx.caster
    top = float(row("druid", max(1, class_level(c, "druid")))["class_specific"].get(
        "wild_shape_max_cr") or 0.25)
    beast = content.monsters()[WILD_SHAPES[max(k for k in WILD_SHAPES if k <= top)]]
    c.temp_hp = max(c.temp_hp, int(beast["hit_points"]))
    c.effects[:] = [x for x in c.effects if not x.has("wild_shape")]
    # SRD: the shape lasts half the druid level in hours (600 rounds an hour)
    c.effects.append(Effect("wild-shape", c.eid, rounds=max(1, c.level // 2) * 600,
                            tags=("wild_shape",), form=str(beast["index"])))
    ctx.out.append(ev.Info(c.eid, f"{c.name} becomes a {beast['name'].lower()}"))


def ancestry_resist(ctx: Any, args: dict[str, Any]) -> bool:
    """Elemental Affinity: a sorcery point buys resistance to the Dragon Ancestor's damage
    type for `rounds` (an hour)."""
    from rules import classfeatures

    c = ctx.caster
    dtype = classfeatures.ancestry(c) if any(x.has("elemental_affinity") for x in c.effects) \
        else ""
    if not dtype or c.res.get("sorcery_points", 0) < 1:
        ctx.out.append(ev.Info(c.eid, f"no {ctx.name} to draw on"))
        return False
    c.res["sorcery_points"] -= 1
    c.effects[:] = [x for x in c.effects if x.name != ctx.name]
    c.effects.append(Effect(ctx.name, c.eid, rounds=int(args.get("rounds", 600)),
                            resist=(dtype,)))
    return True


def revert_shape(ctx: Any, _args: dict[str, Any]) -> None:
    """The druid leaves its beast shape: what is left of the beast's hit points goes too."""
    c = ctx.caster
    c.effects[:] = [x for x in c.effects if not x.has("wild_shape")]
    c.temp_hp = 0
    ctx.out.append(ev.Info(c.eid, f"{c.name} returns to its own shape"))


def effect_mod(ctx: Any, args: dict[str, Any]) -> None:
    """An effect whose number is the user's ability modifier (Sacred Weapon: + CHA to
    attack rolls); `field` names the Effect number, `tags` its switches."""
    c = ctx.caster
    m = max(1, c.spell_mod())
    rec = Effect(ctx.name, c.eid, rounds=int(args.get("rounds", 10)),
                 tags=tuple(args.get("tags", ())))
    setattr(rec, str(args.get("field", "atk")), f"{m}")
    c.effects[:] = [x for x in c.effects if x.name != ctx.name]
    c.effects.append(rec)


def turn_flags(ctx: Any, args: dict[str, Any]) -> None:
    """This turn's movement (Step of the Wind): `disengaged`, or `dashed` (more movement)."""
    c = ctx.caster
    if args.get("disengaged"):
        c.turn["disengaged"] = True
    if args.get("dashed"):
        c.turn["dashed"] = True
        c.turn["move"] += c.effective_speed()


def zero_hp(ctx: Any, args: dict[str, Any]) -> None:
    """The target drops to 0 hit points (Quivering Palm on a failed save)."""
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    if not t.dead and t.hp > 0:
        t.temp_hp = 0
        resolver.deal(ctx.game, t, t.hp, str(args.get("type", "force")), ctx.out,
                      magical=True)


def sense(ctx: Any, args: dict[str, Any]) -> None:
    """Which of `types` are about: by name in the user's room (Divine Sense), or only the
    kinds anywhere in the dungeon with `dungeon` (Primeval Awareness)."""
    c = ctx.caster
    types = tuple(args.get("types", ()))
    found = [t for t in ctx.game.entities.values() if t.side != c.side and not t.dead
             and not t.fled and t.ctype in types
             and (args.get("dungeon") or t.room == c.room)]
    if args.get("dungeon") or not found:
        what = ", ".join(sorted({t.ctype for t in found})) or "nothing"
        ctx.out.append(ev.Info(c.eid, f"senses {what}"[:180]))
        return
    for t in found:  # each sensed creature's own event, so clients can mark it
        ctx.out.append(ev.Info(t.eid, f"{t.ctype}, sensed by {c.name}"[:180]))


def end_spell(ctx: Any, _args: dict[str, Any]) -> None:
    """One spell on the target ends, a foe's before a friend's (Cleansing Touch)."""
    t = ctx.target if ctx.target is not None else ctx.targets[0]
    spells = content.spells()
    mine = [x for x in t.effects if x.name in spells]
    hostile = [x for x in mine if (src := ctx.game.entities.get(x.src)) is not None
               and src.side != t.side]
    if not mine:
        ctx.out.append(ev.Info(t.eid, f"no spell on {t.name} to end"))
        return
    gone = (hostile or mine)[0]
    t.effects.remove(gone)
    ctx.out.append(ev.Info(t.eid, f"{gone.name} ends"))


def divine_intervention(ctx: Any, args: dict[str, Any]) -> None:
    """A d100 at or under the user's level (or no roll from `auto_from`): the god answers,
    every living ally in the room is healed in full, and the use waits `wait` long rests;
    otherwise it comes back after a long rest."""
    from rules.levels import WAIT

    c, level = ctx.caster, ctx.char_level  # the cleric's level (a multiclass's own)
    if level < int(args.get("auto_from", 99)):
        nat = ctx.rng.randint(1, 100)
        ctx.out.append(ev.Rolled(c.eid, f"d100 at most {level}", 0, nat, 0, nat <= level))
        if nat > level:
            return
    ctx.out.append(ev.Info(c.eid, "the deity answers"))
    for t in ctx.game.here(c.room):
        if t.side == c.side and not t.dead:
            resolver.heal(ctx.game, t, t.max_hp - t.hp, ctx.out)
    c.res[str(args.get("resource", "divine_intervention")) + WAIT] = int(args.get("wait", 7))


def weapon_each(ctx: Any, args: dict[str, Any]) -> None:
    """One attack with the user's first `kind` weapon against each foe in reach (Whirlwind
    Attack: every foe engaged with it) or around the target (Volley: the target and the foes
    in its band)."""
    from rules.combat import weapon_spec

    c = ctx.caster
    kind = str(args.get("kind", "melee"))
    w = next((w for w in c.weapons if w["kind"] == kind), None)
    if w is None:
        ctx.out.append(ev.Info(c.eid, f"{c.name} has no {kind} weapon"))
        return
    if kind == "melee":
        foes = [ctx.game.entities[o] for o in c.engaged if o in ctx.game.entities]
    else:
        t = ctx.targets[0]
        foes = [x for x in ctx.game.here(c.room) if x.side == t.side
                and (x is t or (x.band == t.band and x.band != "far"))]
    foes = [x for x in foes if x.side != c.side and not x.down]
    if not foes:
        ctx.out.append(ev.Info(c.eid, f"no foe in reach of {ctx.name}"))
    for t in foes:
        if not t.down:
            resolver.attack(ctx.game, c, t, weapon_spec(c, w), ctx.rng, ctx.out)


CLASS_SPECIALS = {
    "sense": sense, "end_spell": end_spell, "divine_intervention": divine_intervention,
    "weapon_each": weapon_each,
    "destroy_undead": destroy_undead, "each_foe": each_foe, "heal_pool": heal_pool, "recover_slots": recover_slots,
    "font_of_magic": font_of_magic, "wild_shape": wild_shape, "effect_mod": effect_mod,
    "turn_flags": turn_flags, "zero_hp": zero_hp, "revert_shape": revert_shape,
    "ancestry_resist": ancestry_resist,
}
