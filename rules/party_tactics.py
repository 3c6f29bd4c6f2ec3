"""The party's AI: score a hero's legal options (rules.tactics) by what each is worth now."""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

from rules import content, dice, multiclass, proficiency, resolver
from rules import intents as it
from rules.combat import weapon_spec
from rules.creature import AUTO_FAIL_STR_DEX
from rules.effects import area, engine, featurebook, selection, spellbook
from rules.effects import nodes as n
from rules.errors import RulesError
from rules.tactics import _best_damage, _can_simple

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game
    from rules.tactics import Option

SLOT_COST = 1.0  # score a spell slot level costs, so a cantrip wins a near tie
ROUNDS = 3.0  # rounds a lasting effect is counted for: most fights last three to five
CONC_KEEP = 15.0  # what dropping a running concentration spell costs
HOURS = 600  # rounds in an hour: a buff this long is cast before the fight
READY = 40.0  # a free or bonus step that readies the attacks to come goes before them
LOW = 0.5  # below this share of its hit points a hero wants healing
# How much of a foe's output a condition takes away, while it lasts.
DISABLING = {"paralyzed": 1.0, "stunned": 1.0, "unconscious": 1.0, "petrified": 1.0,
             "incapacitated": 0.9, "restrained": 0.4, "blinded": 0.4, "frightened": 0.3,
             "charmed": 0.3, "poisoned": 0.2, "prone": 0.15}
# Per round and target: what an ongoing effect's numbers add to an ally's fight.
BUFF = {"atk": 1.5, "save": 0.5, "ac": 1.2, "hasted": 6.0, "adv_attacks": 4.0,
        "dis_against": 2.0, "adv_saves": 0.5, "resist": 1.0}


def score(game: Game, e: Entity, o: Option) -> float:
    """The option's worth to the party, in hit points of harm done or saved; ending the
    turn is 0, so anything worth less is left undone."""
    handler = _BY_INTENT.get(type(o.intent))
    return handler(game, e, o.intent) if handler else 0.0


def prepare(game: Game, e: Entity) -> list[it.Cast]:
    """Before a fight the party knows is coming: the long buffs (an hour or more, no
    concentration) that better the hero's own sheet, such as mage armor, each at its
    lowest slot."""
    out: list[it.Cast] = []
    if proficiency.hampering(e):
        return out  # armour worn unskilled: no spells
    for s in e.spells:
        sp = resolver.spell_data(s)
        sd = spellbook.spell_def(s)
        base = int(sp["level"])
        if sd.adjudicated or sp.get("concentration") or not base or sd.rounds < HOURS \
                or sd.targets not in ("ally", "self") or not any(e.slots[base - 1:]):
            continue
        level = next(k + 1 for k in range(base - 1, 9) if e.slots[k] > 0)
        if _boon(e, sp, _nodes(s), level, e) > SLOT_COST * level:
            out.append(it.Cast(s, e.eid, level))
    return out


# -- numbers the scores share -------------------------------------------------------
def threat(t: Entity) -> float:
    """A foe's average damage a round: its best attack action, plus its legendary ones."""
    if t.kind != "monster":
        return 5.0 + 2.0 * t.level
    return _stat_block_threat(t.monster) if t.monster else max(1.0, _best_damage(t.actions))


@cache
def _stat_block_threat(index: str) -> float:
    # by index, SRD or a game's custom block (content.monster would take it for a name)
    m = content.monster_record(index) or content.monster(index)
    out = _best_damage(m.get("actions", [])) * (1.3 if m.get("legendary_actions") else 1.0)
    return max(1.0, out)


@cache
def _nodes(spell: str) -> list[Any]:
    return n.walk(spellbook.spell_def(spell).tree)


@cache
def hit_chance(bonus: int, ac: int, adv: int) -> float:
    """resolver.hit_chance, remembered: the AI asks it for every option it weighs."""
    return resolver.hit_chance(bonus, ac, adv)


def worth(t: Entity, dmg: float) -> float:
    """Expected damage to a foe as score: wasted past its hit points, and worth more
    against a foe that deals much for how little it takes to drop."""
    if dmg <= 0 or t.hp <= 0:
        return 0.0
    return min(dmg, t.hp) * (1.0 + min(1.0, threat(t) / t.hp))


def regen_worth(t: Entity, dtypes: set[str], chance: float) -> float:
    """Damage of a type that stops a foe's regeneration (a troll's fire and acid), landing
    with `chance`: on a foe down at 0 HP that would rise at its turn's start, it dies for
    good, worth the hit points it would rise with and a round of its blows; on one still
    up, it is spared the hit points it would regain. Other damage on a rising foe is worth
    nothing: the SRD lets nothing else keep it down."""
    fx = next((x for x in t.effects if x.stop_by and not x.stopped and x.tick
               and dtypes & set(x.stop_by)), None) if t.effects else None
    if fx is None or chance <= 0:
        return 0.0
    if t.rising:
        return chance * (_regains(fx.tick) + threat(t))
    return chance * _regains(fx.tick) if t.hp > 0 else 0.0


@cache
def _regains(tick: str) -> float:
    """The hit points a regeneration tick restores, on average."""
    from rules.effects import registry

    return sum(dice.average(x.part.dice) for x in n.walk(registry.tree(tick))
               if isinstance(x, n.Heal))


def save_fails(t: Entity, ability: str, dc: int, magic: bool = True) -> float:
    """The chance `t` fails a save against `dc` (advantage and magic resistance counted)."""
    if ability in ("str", "dex") and any(c in t.conditions for c in AUTO_FAIL_STR_DEX):
        return 1.0
    ok = min(1.0, max(0.0, (21 - (dc - t.save_mod(ability))) / 20))
    adv = resolver.check_adv(t, ability, save=True)
    if magic and any(x.has("magic_resistance") for x in t.effects):
        adv = max(adv, 1)
    if adv > 0:
        ok = 1 - (1 - ok) ** 2
    elif adv < 0:
        ok = ok**2
    return 1.0 - ok


def _resisted(t: Entity, dtype: str, magical: bool = True) -> float:
    return resolver.adjust_damage(t, 100, dtype, magical) / 100


def _need(t: Entity, amount: float) -> float:
    """Healing as score: bringing back a downed ally is worth most, topping up a hale
    one little."""
    missing = t.max_hp - max(0, t.hp)
    got = min(amount, missing)
    if t.hp <= 0:
        return 25.0 + got
    return got * (1.0 if t.hp < t.max_hp * LOW else 0.25)


# -- weapon attacks -----------------------------------------------------------------
def _attack(game: Game, e: Entity, i: it.Attack) -> float:
    t = game.entities[int(i.target)]
    w = e.weapons[int(i.weapon)]
    swings = 1
    if e.turn["action"] > 0 and e.turn["attacks"] <= 0:
        swings = multiclass.attacks(e)  # the Attack action brings them all
    spec = weapon_spec(e, w)
    value = worth(t, swings * weapon_hit(game, e, t, spec, w))
    if t.effects:
        value += regen_worth(t, {w["type"]}, 1 - (1 - _odds(game, e, t, spec)[1]) ** swings)
    return value


def _odds(game: Game, e: Entity, t: Entity, spec: dict[str, Any]) -> tuple[int, float]:
    """The advantage the resolver will roll one weapon attack with, and its hit chance."""
    adv, _ = resolver.attack_adv(game, e, t, spec["kind"], tuple(spec["range"]),
                                 spec["ability"])
    return adv, hit_chance(spec["bonus"], t.current_ac(), adv)


def weapon_hit(game: Game, e: Entity, t: Entity, spec: dict[str, Any],
               w: dict[str, Any]) -> float:
    """Expected damage of one weapon attack: the hit chance the resolver will roll with,
    rage, sneak attack when it would land, a smite waiting for the hit."""
    adv, p = _odds(game, e, t, spec)
    avg = dice.average(w["dice"]) + spec["dmg_bonus"]
    if spec["kind"] == "melee" and spec.get("ability") == "str":
        avg += sum(x.dmg_bonus for x in e.effects)
    if multiclass.class_level(e, "rogue") and not e.turn.get("sneak") and (
            spec.get("finesse") or spec["kind"] == "ranged") and (adv > 0 or (
            adv == 0 and any(game.entities[o].side == e.side and o != e.eid
                             and not game.entities[o].incapacitated for o in t.engaged))):
        avg += 3.5 * ((multiclass.class_level(e, "rogue") + 1) // 2)
    if any(x.on_hit and x.has("one_hit") for x in e.effects):
        avg += _smite_dice(e, t)
    return p * avg * _resisted(t, w["type"], bool(spec.get("magical")))


def _smite_dice(e: Entity, t: Entity) -> float:
    lowest = next((k + 1 for k, v in enumerate(e.slots) if v > 0), 1)
    count = min(5, 1 + lowest) + (1 if t.ctype in ("undead", "fiend") else 0)
    return 4.5 * count


def _best_strike(game: Game, e: Entity, t: Entity) -> float:
    """The expected damage of the hero's best weapon attack against `t`."""
    return max((weapon_hit(game, e, t, weapon_spec(e, w), w) for w in e.weapons), default=0.0)


# -- spells -------------------------------------------------------------------------
def _cast(game: Game, e: Entity, i: it.Cast) -> float:
    sp = resolver.spell_data(str(i.spell))
    sd = spellbook.spell_def(sp["index"])
    base = int(sp["level"])
    if sp.get("concentration") and e.conc == sp["index"]:
        return -1.0  # already running: casting it again only starts it over
    level = int(i.level or base)
    t = game.entities[int(i.target)] if i.target is not None else e
    foes = game.foes_of(e)
    if sd.targets in ("area", "enemies") and t.side != e.side:
        cap = area.targets_in_area(*sd.area) if sd.targets == "area" and sd.area else \
            sd.max_targets
        caught = selection.neighbours(game, e, t, cap, foes)
    elif sd.targets == "allies":
        rest = sorted((f for f in game.friends_of(e) if f.eid != t.eid), key=lambda f: f.hp)
        caught = [t] + rest[: sd.max_targets - 1]
    else:
        caught = [t]
    nodes = _nodes(sp["index"])
    # Lasting as the engine runs it: a tick each round, or a summoned attacker; a
    # concentration area without a tick deals its damage once.
    lasting = any(isinstance(x, n.Ongoing) and x.tick or isinstance(x, n.Summon)
                  for x in nodes)
    if sd.targets == "self" and lasting:  # an aura: it bites the foes engaged with the caster
        caught = [f for f in foes if f.eid in e.engaged] or foes[:1]
    value = sum(_spell_on(game, e, sp, nodes, level, c) for c in caught)
    if lasting:
        value *= ROUNDS
    if sp.get("concentration") and e.conc:  # it would end the running one
        value -= CONC_KEEP + 0.5 * max(0.0, value)
    return value - SLOT_COST * level * (1 if base else 0)


def _spell_on(game: Game, e: Entity, sp: dict[str, Any], nodes: list[Any], level: int,
              t: Entity) -> float:
    """The spell's expected worth on one creature it lands on."""
    if t.side == e.side:
        return _boon(e, sp, nodes, level, t)
    ability = multiclass.spell_ability(e, str(sp.get("index", "")))
    save = next((x for x in nodes if isinstance(x, n.Save)), None)
    atk = next((x for x in nodes if isinstance(x, n.Attack)), None)
    fail = 1.0
    if atk is not None:
        adv, _ = resolver.attack_adv(game, e, t, atk.kind, (int(sp.get("range_ft") or 5), 0))
        fail = hit_chance(e.spell_attack(ability), t.current_ac(), adv)
    elif save is not None:
        fail = save_fails(t, save.ability, save.dc or e.spell_dc(ability))
    legendary = t.res.get(resolver.LEGENDARY_RESISTANCE, 0) > 0
    value = 0.0
    by_type = _spell_damage(e, sp, nodes, level, t, ability)
    dmg = sum(by_type.values())
    if dmg:
        land = fail + ((1 - fail) * 0.5 if save is not None and save.half else 0.0)
        value += worth(t, dmg * land)
        if t.effects:  # a half-damage save lands something either way
            times = max(x.times for x in nodes if isinstance(x, n.Damage))
            some = 1.0 if save is not None and save.half else 1 - (1 - fail) ** times
            value += regen_worth(t, {k for k, v in by_type.items() if v > 0}, some)
    if t.hp <= 0:
        return value  # a foe down already (a troll waiting to rise): nothing more to hold
    for x in nodes:
        if isinstance(x, n.Condition) and not x.remove and x.name not in t.conditions \
                and x.name not in t.cond_immune:
            lasts = 2.0 if x.end_save else ROUNDS
            value += (0.1 if legendary else fail) * DISABLING.get(x.name, 0.1) * threat(
                t) * lasts
        elif isinstance(x, n.Special):
            value += _special_on(x, t, 0.1 if legendary else fail)
        elif isinstance(x, n.Ongoing) and not x.tick and not x.self:
            value += fail * _hex(game, e, dict(x.values), t) * ROUNDS
    return value


def _hex(game: Game, e: Entity, v: dict[str, Any], t: Entity) -> float:
    """What a lasting mark on a foe is worth a round: the caster's extra damage die on
    each hit (hunter's mark), the party's advantage (faerie fire), its worse attacks
    (bane)."""
    tags = set(v.get("tags", ()))
    out = 0.0
    if "mark" in tags and v.get("die"):
        swings = multiclass.attacks(e)
        out += dice.average(str(v["die"])) * 0.65 * swings
    if "adv_against" in tags:
        out += 1.5 * sum(1 for f in game.friends_of(e) if f.hp > 0)
    if str(v.get("atk", "")).startswith("-"):
        out += 0.1 * threat(t)
    return out


def _special_on(x: n.Special, t: Entity, fail: float) -> float:
    args = dict(x.args)
    if x.name in ("banish", "polymorph"):
        return fail * threat(t) * ROUNDS
    if x.name == "hp_threshold":
        if t.hp > int(args.get("max_hp", 0)):
            return 0.0
        return worth(t, t.hp) if args.get("kill") else threat(t) * ROUNDS
    if x.name == "sleep":
        return threat(t) * ROUNDS if t.hp <= 20 and t.ctype != "undead" else 0.0
    if x.name == "summon_monster":
        return 6.0 * ROUNDS
    return 1.0


def _spell_damage(e: Entity, sp: dict[str, Any], nodes: list[Any], level: int,
                  t: Entity, ability: str) -> dict[str, float]:
    """Average damage the spell's damage nodes roll at this slot, after `t`'s
    resistances and immunities, by damage type; `ability`: the one it is cast with."""
    base = int(sp["level"])
    dtype_spell = (sp.get("damage") or {}).get("type") or "force"
    total: dict[str, float] = {}
    for x in nodes:
        if not isinstance(x, n.Damage):
            continue
        times = x.times + x.times_per_level * max(0, level - base)
        for p in x.parts:
            try:
                expr = engine.spell_table(sp, "damage", level, e.level) if p.dice == "spell" \
                    else p.dice
                expr = expr.replace("LEVEL", str(e.level)).replace(
                    "MOD", str(e.spell_mod(ability)))
                avg = dice.average(expr.replace(" ", "").replace("+-", "-"))
            except (RulesError, ValueError):
                avg = 3.0
            if p.per_level and level > base:
                cnt, _, sides = p.per_level.partition("d")
                avg += int(cnt) * (level - base) * (int(sides) + 1) / 2
            dtype = dtype_spell if p.type == "spell" else p.type
            total[dtype] = total.get(dtype, 0.0) + avg * times * _resisted(t, dtype, x.magical)
    return total


def _boon(e: Entity, sp: dict[str, Any], nodes: list[Any], level: int, t: Entity) -> float:
    """A heal or a buff on an ally: hit points restored, or what the buff adds a round."""
    ability = multiclass.spell_ability(e, str(sp.get("index", "")))
    value = 0.0
    for x in nodes:
        if isinstance(x, n.Heal):
            if x.part.dice == "max":
                amount = float(t.max_hp)
            else:
                try:
                    expr = engine.spell_table(sp, "heal", level, e.level) \
                        if x.part.dice == "spell" else x.part.dice
                    amount = dice.average(expr.replace("MOD", str(e.spell_mod(ability)))
                                          .replace(" ", "").replace("+-", "-"))
                except (RulesError, ValueError):
                    amount = 8.0
            value += _need(t, amount)
        elif isinstance(x, n.Ongoing) and not x.tick:
            v = dict(x.values)
            tags = set(v.get("tags", ()))
            round_worth = sum(w for k, w in BUFF.items() if k in tags or (
                k in v and k not in ("ac",))) + BUFF["ac"] * int(v.get("ac", 0) or 0)
            if v.get("ac_base"):
                round_worth += BUFF["ac"] * max(0, int(v["ac_base"]) + t.mod("dex") - t.ac)
            value += round_worth * ROUNDS
    return value


# -- class features and items -------------------------------------------------------
Scorer = Callable[["Game", "Entity", "Entity | None"], float]


def _rage(game: Game, e: Entity, _t: Entity | None) -> float:
    foes = game.foes_of(e)
    return READY if foes and (e.turn["action"] > 0 or e.turn["attacks"] > 0) else -1.0


def _surge(game: Game, e: Entity, _t: Entity | None) -> float:
    spent = e.turn["action"] <= 0 and e.turn["attacks"] <= 0
    return 20.0 if spent and game.foes_of(e) else -1.0


def _smite(game: Game, e: Entity, _t: Entity | None) -> float:
    """Ready a smite for the next hit when an attack is still to come this turn, at a foe
    worth a slot (one the smite's dice do not mostly overkill); it is spent only by a hit,
    so it goes before the attack."""
    if e.turn["action"] <= 0 and e.turn["attacks"] <= 0:
        return -1.0
    targets = [game.entities[x] for x in e.engaged if not game.entities[x].down] or \
        game.foes_of(e)
    best = max(targets, key=lambda f: f.hp, default=None)
    if best is None or best.hp < 15:
        return -1.0
    return READY + _smite_dice(e, best) - SLOT_COST


def _self_heal(share: float, amount: Callable[[Entity], float]) -> Scorer:
    def f(game: Game, e: Entity, _t: Entity | None) -> float:
        return _need(e, amount(e)) if e.hp < e.max_hp * share else -1.0
    return f


def _heal_ally(amount: Callable[[Entity], float], share: float = LOW) -> Scorer:
    def f(game: Game, e: Entity, t: Entity | None) -> float:
        t = t or e
        return _need(t, amount(e)) if t.hp < t.max_hp * share else -1.0
    return f


def _vs_types(types: tuple[str, ...], each: float) -> Scorer:
    def f(game: Game, e: Entity, _t: Entity | None) -> float:
        hit = [x for x in game.foes_of(e) if not types or x.ctype in types]
        return each * sum(min(2.0, threat(x) / 5) for x in hit) - 2.0 if hit else -1.0
    return f


def _preserve(game: Game, e: Entity, _t: Entity | None) -> float:
    want = sum(max(0, f.max_hp // 2 - f.hp) for f in game.friends_of(e))
    return min(want, 5 * e.level) * (1.5 if any(f.hp <= 0 for f in game.friends_of(e))
                                     else 1.0) - 10 if want else -1.0


def _stun(game: Game, e: Entity, t: Entity | None) -> float:
    if t is None or "stunned" in t.conditions or "stunned" in t.cond_immune:
        return -1.0
    return save_fails(t, "con", e.spell_dc(), magic=False) * threat(t) * 1.5 - 4.0


def _wild_shape(game: Game, e: Entity, _t: Entity | None) -> float:
    return 12.0 if not any(e.slots) and e.temp_hp <= 0 else -1.0


def _once(value: float) -> Scorer:
    """A lasting boon the rules already refuse twice: worth taking while foes stand."""
    def f(game: Game, e: Entity, _t: Entity | None) -> float:
        return value if game.foes_of(e) else -1.0
    return f


def _reckless(game: Game, e: Entity, _t: Entity | None) -> float:
    fresh = not any(x.has("reckless") for x in e.effects)
    ready = e.turn["action"] > 0 and any(x.has("rage") for x in e.effects)
    return 3.0 if fresh and ready and e.hp > e.max_hp * LOW else -1.0


def _ki_defence(game: Game, e: Entity, _t: Entity | None) -> float:
    hurt = e.hp < e.max_hp * 0.3 and e.engaged
    return 4.0 if hurt and not any(x.has("dodge") for x in e.effects) else -1.0


def _inspire(game: Game, e: Entity, t: Entity | None) -> float:
    return 4.0 if t is not None and not any(x.name == "inspiration" for x in t.effects) \
        else -1.0


def _scroll_fire(game: Game, e: Entity, _t: Entity | None) -> float:
    return sum(worth(f, 28 * (save_fails(f, "dex", 15) * 0.5 + 0.5) * _resisted(f, "fire"))
               + regen_worth(f, {"fire"}, 1.0) for f in game.foes_of(e))


def _strike(times: int) -> Scorer:
    """Extra weapon attacks at an engaged foe (flurry of blows, frenzy)."""
    def f(game: Game, e: Entity, t: Entity | None) -> float:
        return worth(t, times * _best_strike(game, e, t)) if t is not None else -1.0
    return f


def _flat(value: float) -> Scorer:
    def f(game: Game, e: Entity, t: Entity | None) -> float:
        return value if t is None or t.side == e.side or not t.down else -1.0
    return f


def _potion(avg: float) -> Scorer:
    return _heal_ally(lambda _e: avg, share=0.35)


# Feature key (features.toml) -> how much using it is worth now; a feature not listed
# is never used by the AI (it would not know when it helps). Arcane Recovery and its
# kin are left out: the SRD grants them on a short rest, not as a combat action.
FEATURES: dict[str, Scorer] = {
    "rage": _rage, "action-surge": _surge, "smite": _smite, "reckless": _reckless,
    "second-wind": _self_heal(LOW, lambda e: 5.5 + e.level),
    "lay-on-hands": _heal_ally(lambda e: float(e.res.get("lay_on_hands", 0))),
    "flurry": _strike(2), "frenzy": _strike(1), "summon-attack": _flat(10.0),
    "stunning-strike": _stun, "patient-defense": _ki_defence,
    "wholeness-of-body": _self_heal(0.4, lambda e: 3.0 * e.level),
    "quivering-palm": _flat(40.0), "hurl-through-hell": _flat(45.0),
    "inspiration": _inspire, "turn-undead": _vs_types(("undead",), 8.0),
    "turn-the-unholy": _vs_types(("undead", "fiend"), 8.0), "preserve-life": _preserve,
    "sacred-weapon": _once(12.0), "holy-nimbus": _once(30.0), "wild-shape": _wild_shape,
    "potion-of-healing": _potion(7.0), "potion-of-greater-healing": _potion(14.0),
    "potion-of-superior-healing": _potion(28.0), "potion-of-supreme-healing": _potion(45.0),
    "scroll-of-cure-wounds": _potion(7.5), "scroll-of-magic-missile": _flat(10.0),
    "scroll-of-fireball": _scroll_fire, "potion-of-heroism": _once(6.0),
    "potion-of-speed": _once(10.0),
}


def _use(game: Game, e: Entity, i: it.Use) -> float:
    f = featurebook.find(str(i.item))
    scorer = FEATURES.get(f.key) if f is not None else None
    if scorer is None:
        return -1.0
    t = game.entities.get(int(i.target)) if i.target is not None else None
    return scorer(game, e, t)


# -- moving and the simple actions --------------------------------------------------
def _melee_first(e: Entity) -> bool:
    return bool(e.weapons) and e.weapons[0]["kind"] == "melee" and e.profile != "caster"


def _approach(game: Game, e: Entity, _i: it.Approach) -> float:
    if e.engaged or (e.turn["action"] <= 0 and e.turn["attacks"] <= 0):
        return -0.5  # already in melee, or nothing left to do once there
    return 2.0 if _melee_first(e) else 0.1


def _hide(game: Game, e: Entity, _i: it.Hide) -> float:
    """Hide with the bonus action after attacking (Cunning Action): the next attack
    comes with advantage, so with sneak attack."""
    bonus = e.turn["action"] <= 0 or e.turn.get("attacked")
    return 4.0 if bonus and _can_simple(e, "hide") and e.cls == "rogue" else -1.0


def _dash(game: Game, e: Entity, _i: it.Dash) -> float:
    return 0.5 if _melee_first(e) and e.turn["action"] > 0 else -0.5


def _dodge(game: Game, e: Entity, _i: it.Dodge) -> float:
    return 0.3 if e.engaged else -0.5


def _step(game: Game, e: Entity, _i: Any) -> float:
    return -1.0


_BY_INTENT: dict[type, Callable[[Game, Entity, Any], float]] = {
    it.Attack: _attack, it.Cast: _cast, it.Use: _use, it.Approach: _approach,
    it.Hide: _hide, it.Dash: _dash, it.Dodge: _dodge, it.Move: _step, it.Disengage: _step,
}
