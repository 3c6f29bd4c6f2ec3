"""The one resolver of effect trees: spells, monster actions, traits and class features alike."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from rules import dice, multiclass, resolver, tactics
from rules import events as ev
from rules.creature import Entity
from rules.effects import nodes as n
from rules.effects.records import Effect, level_step
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game


@dataclass(slots=True)
class Ctx:
    """One use of a tree: who, at what level, with which numbers, and what was rolled."""

    game: Game
    caster: Entity
    rng: random.Random
    out: list[Any]
    name: str  # the spell, action or feature, as events name it
    key: str  # the registered tree key ("spell:fireball")
    targets: list[Entity] = field(default_factory=list)
    level: int = 0  # slot level (0: a cantrip or not a spell)
    base: int = 0  # the source's own level, where per-level dice start
    spell: dict[str, Any] | None = None
    dc: int = 0
    attack_bonus: int = 0
    mod: int = 0  # the spellcasting modifier that MOD stands for
    char_level: int = 0
    rounds: int = 0  # the source's duration in rounds
    conc: bool = False
    target: Entity | None = None
    rolls: dict[tuple[int, int], int] = field(default_factory=dict)
    half: bool = False
    crit: bool = False
    in_attack: bool = False
    save_ability: str = ""
    magical: bool = True
    dealt: int = 0  # damage dealt by the last damage node (drain)
    adv: int = 0  # the net advantage of the last attack roll (sneak attack)
    meta: tuple[str, ...] = ()  # metamagic and other cast options (careful, overchannel)
    bonused: set[int] = field(default_factory=set)  # targets given a once-a-cast damage bonus
    affected: list[int] = field(default_factory=list)  # who got a lasting effect (Affected)
    cut: int = 0  # damage a reaction takes off this hit (Deflect Missiles)


def run(tree: n.Tree, ctx: Ctx) -> bool:
    """Run nodes in order; a node that cannot happen (no slot for a smite) stops the rest."""
    return all(_HANDLERS[type(node)](node, ctx) is not False for node in tree)


def _each(targets: list[Entity], tree: n.Tree, ctx: Ctx) -> None:
    for t in targets:
        ctx.target = t
        run(tree, ctx)
    ctx.target = None


def _target(node: n.Target, ctx: Ctx) -> None:
    if node.who == "self":
        _each([ctx.caster], node.effects, ctx)
    else:
        _each(_affected(ctx, node.only_types, node.skip_types, node.skip_immune),
              node.effects, ctx)


def _area(node: n.Area, ctx: Ctx) -> None:
    _each(_affected(ctx, (), node.skip_types, ""), node.effects, ctx)


def _affected(ctx: Ctx, only: tuple[str, ...], skip: tuple[str, ...], immune: str
              ) -> list[Entity]:
    """The targets the effect can touch; the others are told they are unaffected."""
    out = []
    low_spell = ctx.spell is not None and max(ctx.level, ctx.base) <= 6
    for t in ctx.targets:
        if (only and t.ctype not in only) or t.ctype in skip or (immune and immune in
                                                                 t.cond_immune) or (
                low_spell and any(x.has("limited_magic_immunity") for x in t.effects)):
            ctx.out.append(ev.Info(t.eid, f"{t.name} is unaffected"))
            continue
        out.append(t)
    return out


def _attack(node: n.Attack, ctx: Ctx) -> None:
    t = _tgt(ctx)
    rays = node.rays
    for lvl, k in node.rays_at:
        if ctx.char_level >= lvl:
            rays = max(rays, k)
    rays += max(0, ctx.level - ctx.base) * node.rays_per_level
    bonus = ctx.attack_bonus if node.bonus is None else node.bonus
    rng_ft = node.range if node.range[0] else (
        (int((ctx.spell or {}).get("range_ft") or 5), 0))
    spec = {"name": ctx.name, "bonus": bonus, "kind": node.kind, "range": rng_ft,
            "damage": (), "spell": ctx.spell is not None}
    was = ctx.in_attack
    ctx.in_attack = True
    for _ in range(rays):
        if t.dead:
            break
        hit, crit, ctx.adv = resolver.roll_attack(ctx.game, ctx.caster, t, spec, ctx.rng,
                                                  ctx.out)
        if hit and node.kind == "ranged" and "rock" in ctx.name.lower() and _catch(t, ctx):
            continue
        ctx.crit = crit
        ctx.target = t
        ctx.cut = resolver.deflect_hit(t, spec, ctx.rng, ctx.out) if hit else 0
        before = t.hp + t.temp_hp
        run(node.hit if hit else node.miss, ctx)
        if t.hp + t.temp_hp < before:
            resolver.retaliate(ctx.game, t, ctx.caster, ctx.rng, ctx.out)
        if hit and not t.dead and _repels(ctx):  # Repelling Blast: 10 ft back, out of reach
            drop_engagements(ctx.game, t)
            ctx.out.append(ev.Info(t.eid, f"{t.name} is pushed back"))
    ctx.crit = False
    ctx.cut = 0
    ctx.in_attack = was


def _catch(t: Entity, ctx: Ctx) -> bool:
    """Rock Catching: the target spends its reaction on a DC 10 Dex save; on a success it
    catches the hurled rock and nothing of the hit happens."""
    if not t.reaction or t.incapacitated or not any(x.has("rock_catching") for x in t.effects):
        return False
    t.reaction = False
    caught = resolver.saving_throw(ctx.game, t, "dex", 10, ctx.rng, ctx.out, "rock catching")
    if caught:
        ctx.out.append(ev.Info(t.eid, f"{t.name} catches the rock"))
    return caught


def _save(node: n.Save, ctx: Ctx) -> None:
    t = _tgt(ctx)
    if t.dead:
        return
    dc = node.dc or ctx.dc
    brave = _adv_against(t, node.fail, node.ability, ctx.spell is not None,
                         ctx.name if ctx.spell is not None else "")
    if brave:  # Brave, Fey Ancestry, Sure-Footed: advantage against this save's condition
        t.effects.append(brave)
    held = t.res.get(resolver.LEGENDARY_RESISTANCE, 0)
    if held and not tactics.worth_legendary_resistance(t, node.fail, ctx):
        t.res[resolver.LEGENDARY_RESISTANCE] = 0  # kept for a save that matters
    else:
        held = 0
    try:
        ok = ("careful" in ctx.meta and t.side == ctx.caster.side) or resolver.saving_throw(
            ctx.game, t, node.ability, dc, ctx.rng, ctx.out, magic=ctx.spell is not None)
    finally:
        if brave:
            t.effects.remove(brave)
        if held:
            t.res[resolver.LEGENDARY_RESISTANCE] = held
    prev, prev_dc = ctx.save_ability, ctx.dc
    ctx.save_ability, ctx.dc = node.ability, dc  # what a "save ends" condition repeats
    evade = node.half and node.ability == "dex" and any(x.has("evasion") for x in t.effects)
    if not ok:
        ctx.half = evade  # Evasion: half on a failure
        run(node.fail, ctx)
        ctx.half = False
    else:
        if (node.half or _potent(ctx)) and not evade:  # Evasion: nothing on a success
            ctx.half = True
            run(tuple(x for x in node.fail if isinstance(x, n.Damage)), ctx)
            ctx.half = False
        run(node.success, ctx)
    ctx.save_ability, ctx.dc = prev, prev_dc


def _repels(ctx: Ctx) -> bool:
    return ctx.spell is not None and ctx.spell.get("index") == "eldritch-blast" and any(
        x.has("repelling_blast") for x in ctx.caster.effects)


def _potent(ctx: Ctx) -> bool:
    """Potent Cantrip: a creature that passes the evoker's cantrip save takes half damage."""
    return ctx.spell is not None and ctx.base == 0 and any(
        x.has("potent_cantrip") for x in ctx.caster.effects)


def spell_bonus(ctx: Ctx, dtype: str, t: Entity) -> int:
    """Damage a caster's features add to its spell: Elemental Affinity (its ancestry's type)
    and Empowered Evocation (evocations) to one damage roll a target takes from the cast,
    Agonizing Blast to every eldritch blast beam."""
    from rules import classfeatures

    c = ctx.caster
    if ctx.spell is None or not c.effects:
        return 0
    add = 0
    once = t.eid not in ctx.bonused
    for x in c.effects:
        if once and ((x.has("elemental_affinity") and classfeatures.ancestry(c) == dtype) or (
                x.has("empowered_evocation") and ctx.spell.get("school") == "evocation")):
            add += max(0, ctx.mod)
            ctx.bonused.add(t.eid)
        if x.has("agonizing_blast") and ctx.spell.get("index") == "eldritch-blast":
            add += max(0, ctx.mod)
    return add


# Turn Undead's save is the one whose failure runs destroy_undead; adv_vs names it so.
TURN_MARK, TURN_UNDEAD = "destroy_undead", "turn undead"


def _adv_against(t: Entity, fail: n.Tree, ability: str = "", magic: bool = False,
                 spell: str = "") -> Effect | None:
    """A passing advantage when the bearer resists a condition this save's failure imposes
    (Brave), or a spell's Int/Wis/Cha save (Gnome Cunning)."""
    if not t.effects:
        return None
    if magic and ability in ("int", "wis", "cha") and any(x.has("gnome_cunning")
                                                           for x in t.effects):
        return Effect("gnome cunning", t.eid, tags=("adv_saves",))
    if not any(x.adv_vs for x in t.effects):
        return None
    conds = {x.name for x in n.walk(fail) if isinstance(x, n.Condition) and not x.remove}
    conds |= {spell} if spell else set()  # Land's Stride: advantage against entangle
    if any(isinstance(x, n.Special) and x.name == TURN_MARK for x in n.walk(fail)):
        conds.add(TURN_UNDEAD)  # Turn Defiance: the save whose failure can destroy undead
    if any(conds & set(x.adv_vs) for x in t.effects):
        return Effect("resists " + "/".join(sorted(conds)), t.eid, tags=("adv_saves",))
    return None


def dice_for(part: n.Part, ctx: Ctx, what: str = "damage") -> str:
    """The dice expression of one part at this use's slot and character level."""
    expr = part.dice
    if expr == "spell":
        expr = spell_table(ctx.spell, what, ctx.level, ctx.char_level)
    expr = expr.replace("LEVEL", str(ctx.char_level))
    if part.per_level and ctx.level > ctx.base:
        cnt, sides = part.per_level.split("d")
        extra = int(cnt) * (ctx.level - ctx.base)
        expr = _add_dice(expr, extra, sides, part.max_dice)
    if part.bonus_vs and ctx.target is not None and ctx.target.ctype in part.bonus_vs:
        expr = f"{expr}+{part.bonus_dice}"
    return expr.replace(" ", "").replace("MOD", str(ctx.mod)).replace("+-", "-")


def _add_dice(expr: str, extra: int, sides: str, cap: int) -> str:
    head, _, tail = expr.partition("+")
    cnt, d, s = head.partition("d")
    if d and s == sides and cnt.isdigit():
        total = int(cnt) + extra
        if cap:
            total = min(total, cap)
        return f"{total}d{sides}" + (f"+{tail}" if tail else "")
    return f"{expr}+{extra}d{sides}"


def spell_table(spell: dict[str, Any] | None, what: str, level: int, char_level: int) -> str:
    """A spell's dice from its SRD table: by slot level, or by character level for cantrips."""
    rec = (spell or {}).get(what) or {}
    table = rec.get("slots") or {}
    if table:
        key = max((int(k) for k in table if int(k) <= level), default=min(int(k) for k in table))
        return table[str(key)]
    table = rec.get("character_levels") or {}
    if table:
        key = max((int(k) for k in table if int(k) <= max(1, char_level)),
                  default=min(int(k) for k in table))
        return table[str(key)]
    raise RulesError(f"{(spell or {}).get('name', 'that')} has no {what} dice")


def _damage(node: n.Damage, ctx: Ctx) -> None:
    t = _tgt(ctx)
    times = node.times + node.times_per_level * max(0, ctx.level - ctx.base)
    parts = list(enumerate(node.parts)) * times
    for k, part in parts:
        if t.dead:
            return
        dtype = part.type
        if dtype == "spell":
            dtype = ((ctx.spell or {}).get("damage") or {}).get("type") or "force"
        expr = dice_for(part, ctx)
        if node.once and times == 1 and not ctx.in_attack and not part.bonus_vs:
            slot = (id(node), k)
            if slot not in ctx.rolls:
                ctx.rolls[slot] = _roll(expr, ctx, False)
            amount = ctx.rolls[slot]
        else:
            amount = _roll(expr, ctx, ctx.crit)
        if k == 0:
            amount += spell_bonus(ctx, dtype, t)
        if ctx.cut and amount > 0:
            taken = min(amount, ctx.cut)
            amount, ctx.cut = amount - taken, ctx.cut - taken
        if ctx.half:
            amount //= 2
        if amount > 0 or not ctx.half:
            ctx.dealt = resolver.deal(ctx.game, t, max(0, amount), dtype, ctx.out,
                                      crit=ctx.crit, rng=ctx.rng,
                                      magical=node.magical and ctx.magical)
            resolver.blessing(ctx.game, ctx.caster, t, ctx.out)
            if ctx.dealt > 0 and t.conditions:
                resolver.harmed(ctx.game, t, ctx.caster, ctx.rng, ctx.out)


def _roll(expr: str, ctx: Ctx, crit: bool) -> int:
    """A spell's damage roll as its cast options change it: Overchannel's maximum, or
    Empowered Spell's rerolls (up to CHA dice)."""
    if "overchannel" in ctx.meta:
        return dice.maximum(expr) * (2 if crit else 1)
    if "empowered" in ctx.meta:
        from rules import metamagic

        return metamagic.empowered_total(expr, ctx.rng, crit, max(1, ctx.caster.mod("cha")))
    return dice.total(expr, ctx.rng, crit=crit)


def _heal(node: n.Heal, ctx: Ctx) -> None:
    t = _tgt(ctx)
    if node.part.dice == "max":
        resolver.heal(ctx.game, t, t.max_hp - t.hp, ctx.out)
        return
    expr = dice_for(node.part, ctx, "heal")
    amount = dice.total(expr, ctx.rng)
    c = ctx.caster
    if ctx.spell is not None and ctx.level >= 1 and c.effects:
        amount = _healer(ctx, t, expr, amount)
    resolver.heal(ctx.game, t, amount, ctx.out,
                  own=ctx.key.startswith("monster:") and t is ctx.caster)


def _healer(ctx: Ctx, t: Entity, expr: str, amount: int) -> int:
    """A healer's spell of 1st level or higher (the Life domain): maximum dice (heal_max),
    2 + the spell's level more (heal_bonus), and, once a casting, as much for the caster
    when it heals another (heal_self)."""
    c = ctx.caster
    if any(x.has("heal_max") for x in c.effects):
        amount = dice.maximum(expr)
    if any(x.has("heal_bonus") for x in c.effects):
        amount += 2 + ctx.level
    if t is not c and (0, -1) not in ctx.rolls and any(x.has("heal_self")
                                                       for x in c.effects):
        ctx.rolls[(0, -1)] = 1  # once a casting, however many it heals
        resolver.heal(ctx.game, c, 2 + ctx.level, ctx.out)
    return amount


def _temp_hp(node: n.TempHP, ctx: Ctx) -> None:
    t = _tgt(ctx)
    if t.dead or any(x.has("swarm") for x in t.effects):
        return
    amount = dice.total(dice_for(node.part, ctx, "heal"), ctx.rng)
    t.temp_hp = max(t.temp_hp, amount)
    ctx.out.append(ev.Healed(t.eid, 0, t.hp))


def _condition(node: n.Condition, ctx: Ctx) -> None:
    t = _tgt(ctx)
    if node.remove:
        resolver.remove_condition(ctx.game, t, node.name, ctx.out)
        return
    if t.dead or (node.name == "frightened" and any(x.has("no_fear") for x in t.effects)):
        return
    if node.name == "restrained" and ctx.name.lower() == "web" and any(
            x.has("web_walker") for x in t.effects):
        ctx.out.append(ev.Info(t.eid, f"{t.name} walks the web"))
        return
    if node.name == "restrained" and ctx.spell is not None and any(
            x.has("free_moving") for x in t.effects):
        ctx.out.append(ev.Info(t.eid, f"{t.name} moves freely"))
        return
    if node.name == "frightened" and any(x.has("steadfast") for x in t.effects) and any(
            o.side == t.side and o.eid != t.eid and not o.down for o in ctx.game.here(t.room)):
        ctx.out.append(ev.Info(t.eid, f"{t.name} stands fast"))
        return
    rounds = node.rounds or ctx.rounds or -1
    resolver.add_condition(ctx.game, t, node.name, ctx.out, rounds=rounds,
                           save=ctx.save_ability if node.end_save or node.harm_save else "",
                           dc=ctx.dc, src=ctx.caster.eid, conc=ctx.conc, harm=node.harm_save)


def _ongoing(node: n.Ongoing, ctx: Ctx) -> None:
    from rules.effects import registry

    t = ctx.caster if node.self else _tgt(ctx)
    if t.dead:
        return
    kw = dict(node.values)
    per = kw.pop("per_level", {}) or {}
    for k, v in dict(per).items():
        kw[k] = kw.get(k, 0) + int(v) * max(0, ctx.level - ctx.base)
    for k in [k for k in kw if k.endswith("_by_level")]:
        kw[k.removesuffix("_by_level")] = level_step(dict(kw.pop(k)), ctx.char_level)
    if kw.pop("until", "") == "own_turn":
        kw["until_turn"] = ctx.caster.eid
    tick, hit = registry.subkeys(node)
    name = node.name or ctx.name
    rec = Effect(name, ctx.caster.eid, rounds=node.rounds or max(0, ctx.rounds),
                 conc=ctx.conc, level=ctx.level, dc=ctx.dc, tick=tick, on_hit=hit,
                 **{k: tuple(v) if isinstance(v, list | tuple) else v for k, v in kw.items()})
    if rec.ac_base and any(x.name == name for x in t.effects):
        return  # armour formulas do not stack with themselves
    t.effects[:] = [x for x in t.effects if not (x.name == name and x.src == rec.src)]
    t.effects.append(rec)
    ctx.affected.append(t.eid)
    if rec.has("one_hit") and t is ctx.caster:
        ctx.out.append(ev.Info(t.eid, ev.NEXT_HIT))
    if rec.max_hp:
        t.hp += rec.max_hp
    if rec.has("no_reactions"):
        t.reaction = False


def _counter(node: n.Counter, ctx: Ctx) -> bool:
    c = ctx.caster
    if node.resource == "slot":
        k = next((i for i, v in enumerate(c.slots) if v > 0), None)
        if k is None:
            return False
        c.slots[k] -= 1
        ctx.level = k + 1
        return True
    if c.res.get(node.resource, 0) < node.amount:
        return False
    c.res[node.resource] -= node.amount
    return True


def _move(node: n.Move, ctx: Ctx) -> None:
    t = ctx.caster if node.how == "teleport" else _tgt(ctx)
    if t.dead:
        return
    drop_engagements(ctx.game, t)
    band = "far" if node.how == "far" else "near"
    t.band = band
    if node.how in ("teleport", "far", "near"):
        ctx.out.append(ev.Moved(t.eid, band))


def drop_engagements(game: Game, e: Entity) -> None:
    for o in e.engaged:
        other = game.entities.get(o)
        if other and e.eid in other.engaged:
            other.engaged.remove(e.eid)
    e.engaged.clear()


def _summon(node: n.Summon, ctx: Ctx) -> None:
    part = n.Part(dice=node.dice, per_level=node.per_level)
    expr = dice_for(part, ctx)
    c = ctx.caster
    c.effects[:] = [x for x in c.effects if x.name != node.name]
    c.effects.append(Effect(node.name, c.eid, rounds=max(0, ctx.rounds), conc=ctx.conc,
                            tags=("summon",), die=expr, dtype=node.dtype, level=ctx.level))


def _special(node: n.Special, ctx: Ctx) -> bool | None:
    from rules.effects import specials

    fn = specials.SPECIALS.get(node.name)
    if fn is None:
        raise RulesError(f"no special effect {node.name!r}")
    return fn(ctx, dict(node.args))


def _text(node: n.Text, ctx: Ctx) -> None:
    if node.adjudicate:
        ctx.out.append(ev.Info(ctx.caster.eid, f"{ctx.name}: DM rules: {node.text}"[:180]))
    else:
        ctx.out.append(ev.Info(ctx.caster.eid, node.text[:180]))


def _ref(node: n.Ref, ctx: Ctx) -> bool:
    from rules.effects import registry

    return run(registry.tree(node.key), ctx)


def _tgt(ctx: Ctx) -> Entity:
    return ctx.target if ctx.target is not None else (ctx.targets[0] if ctx.targets
                                                      else ctx.caster)


_HANDLERS: dict[type, Any] = {
    n.Target: _target, n.Area: _area, n.Attack: _attack, n.Save: _save, n.Damage: _damage,
    n.Heal: _heal, n.TempHP: _temp_hp, n.Condition: _condition, n.Ongoing: _ongoing,
    n.Counter: _counter, n.Move: _move, n.Summon: _summon, n.Special: _special,
    n.Text: _text, n.Ref: _ref,
}


# -- entry points -------------------------------------------------------------------
def context(game: Game, caster: Entity, key: str, rng: random.Random, out: list[Any],
            targets: list[Entity], *, level: int = 0) -> Ctx:
    """The context for a use of the tree `key`, with the caster's numbers filled in."""
    kind, _, rest = key.partition(":")
    idx = rest.split("#", 1)[0]
    # a multiclass caster casts its other class's spells with that class's ability
    ability = multiclass.spell_ability(caster, idx) if kind == "spell" else ""
    ctx = Ctx(game, caster, rng, out, rest, key, targets, level=level,
              char_level=max(caster.level, 1), dc=caster.spell_dc(ability),
              attack_bonus=caster.spell_attack(ability), mod=caster.spell_mod(ability))
    if kind == "spell":
        from rules.effects import spellbook

        sd = spellbook.spell_def(idx)
        ctx.spell = resolver.spell_data(idx)
        ctx.name = idx
        ctx.base = int(ctx.spell["level"])
        ctx.rounds = sd.rounds
        ctx.conc = bool(ctx.spell.get("concentration"))
    elif kind == "feature":
        from rules.multiclass import feature_level

        ctx.name = rest.split("#", 1)[0]
        ctx.base = 1
        ctx.char_level = max(feature_level(caster, ctx.name), 1)
    elif kind == "monster":
        ctx.name = rest.split(":", 1)[-1].split("#", 1)[0]
        ctx.magical = any(e.has("magic_weapon") for e in caster.effects)
    return ctx


def use(game: Game, caster: Entity, key: str, targets: list[Entity], rng: random.Random,
        out: list[Any], *, level: int = 0, name: str = "", meta: tuple[str, ...] = ()) -> Ctx:
    """Run a registered tree once; returns the context (what was rolled, the level used).
    `name` overrides the source's name (which summoned attacker strikes); `meta` are the
    cast's options (metamagic, overchannel)."""
    from rules.effects import carapace, registry

    ctx = context(game, caster, key, rng, out, targets, level=level)
    ctx.name = name or ctx.name
    ctx.meta = meta
    if "extended" in meta and ctx.rounds >= 10:  # Extended Spell: a minute or more, doubled
        ctx.rounds *= 2
    ctx.targets = carapace.reflect(caster, key, targets, rng, out)
    if targets and not ctx.targets:
        return ctx  # every target shrugged it off: nothing left to hit
    start = len(out)
    run(registry.tree(key), ctx)
    if ctx.spell is not None:
        _tell_affected(ctx, out[start:])
    return ctx


def _tell_affected(ctx: Ctx, said: list[Any]) -> None:
    """Name who a spell's lasting effect landed on, unless its other events already do (a
    hit, a save, a condition): a blessing is otherwise silent on the channel."""
    named = {getattr(e, "target", None) for e in said} | {
        t for e in said for t in getattr(e, "targets", ())}
    quiet = [t for t in dict.fromkeys(ctx.affected) if t not in named]
    if quiet == [ctx.caster.eid] and str((ctx.spell or {}).get("range", "")) == "Self":
        return  # "casts Blur L2" says it: a spell of range Self lands on nobody else
    if quiet:
        ctx.out.append(ev.Affected(ctx.name, tuple(quiet)))


def rider(game: Game, atk: Entity, tgt: Entity, fx: Effect, crit: bool, rng: random.Random,
          out: list[Any]) -> bool:
    """An on-hit rider the attacker carries; False when it could not happen (no slot)."""
    from rules.effects import registry

    ctx = context(game, atk, fx.on_hit, rng, out, [tgt], level=fx.level)
    ctx.target, ctx.crit, ctx.in_attack = tgt, crit, True
    return run(registry.tree(fx.on_hit), ctx)


def tick(game: Game, bearer: Entity, fx: Effect, rng: random.Random, out: list[Any]) -> None:
    """An ongoing effect's start-of-turn tree, run by its source on `bearer`."""
    from rules.effects import registry

    if fx.stopped:  # regeneration after fire: this turn's tick does not happen
        fx.stopped = False
        return
    if fx.has("sun_only") and game.light_at(bearer.room) != "sunlight":
        return
    src = game.entities.get(fx.src) or bearer
    ctx = context(game, src, fx.tick, rng, out, [bearer], level=fx.level)
    ctx.dc = fx.dc or ctx.dc
    ctx.target = bearer
    run(registry.tree(fx.tick), ctx)


def on_death(game: Game, e: Entity, rng: random.Random, out: list[Any]) -> None:
    """A dying monster's death trees (a mephit's Death Burst) on the foes engaged with it;
    a shapechanger reverts to its true form, and one that rejuvenates starts its wait."""
    from rules.effects import monsters, rejuvenation, shapes

    if shapes.current(e) is not None:
        shapes.take(e, shapes.TRUE_FORM)
    rejuvenation.on_death(game, e, rng, out)

    for key, within in monsters.death_keys(e.monster):
        foes = [game.entities[o] for o in e.engaged if o in game.entities
                and game.entities[o].side != e.side and not game.entities[o].dead]
        if within > 5:  # a wide blast (Death Throes): every foe not far off
            foes = [f for f in game.here(e.room) if f.side != e.side and not f.dead
                    and (f.band != "far" or f in foes)]
        if foes:
            use(game, e, key, foes, rng, out)


def traits(game: Game, e: Entity, rng: random.Random, out: list[Any]) -> None:
    """A new creature's traits with effect data become effects on it (regeneration)."""
    from rules.effects import monsters

    for name in monsters.trait_names(e.monster):
        use(game, e, monsters.trait_key(e.monster, name), [e], rng, out)
