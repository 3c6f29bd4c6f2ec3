"""The one resolver: attacks, saves, damage, healing, conditions and buffs, driven by data."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import dice, proficiency, senses
from rules import events as ev
from rules.classfeatures import favored
from rules.creature import AUTO_CRIT_CLOSE, AUTO_FAIL_STR_DEX, PHYSICAL, Entity
from rules.dungeon import BRIGHT
from rules.effects.records import DEFERS_DEATH, Cond, Effect
from rules.multiclass import class_level

if TYPE_CHECKING:
    from rules.game import Game

Events = list[Any]
LEGENDARY_RESISTANCE = "legendary_resistance"


def spell_data(name: str) -> dict[str, Any]:
    """A spell's shared, read-only record: an exact index skips the copying lookup."""
    from rules import content

    table = content.spells()
    return table[name] if name in table else content.spell(name)


def distance(a: Entity, b: Entity) -> int:
    """Range bands as feet: engaged 5, near 30, far 60."""
    if b.eid in a.engaged or a.eid == b.eid:
        return 5
    if a.side == b.side and a.band != "far" and b.band != "far":
        return 5  # allies in the same band can touch each other
    return 60 if "far" in (a.band, b.band) else 30


# -- advantage ----------------------------------------------------------------------
def attack_adv(game: Game, atk: Entity, tgt: Entity, kind: str, rng_ft: tuple[int, int],
               ability: str = "") -> tuple[int, list[str]]:
    """Net advantage (+1/0/-1) and the named sources, which cancel as the SRD says;
    `ability`: the attack's own (a weapon's STR or DEX), "" for a spell's."""
    adv: list[str] = []
    dis: list[str] = []
    if ability and proficiency.hampers(atk, ability):
        dis.append("armour not proficient")
    d = distance(atk, tgt)
    # Feral Senses: an unseen creature within 30 ft gives the attacker no disadvantage
    feral = d <= 30 and bool(atk.effects) and any(e.has("feral_senses") for e in atk.effects)
    # blindsight perceives through invisibility and darkness within its range (Feral Senses
    # spares the attacker the same disadvantages)
    atk_feels, tgt_feels = feral or senses.feels(atk, d), senses.feels(tgt, d)
    if tgt.conditions:  # most creatures have none: skip the scans on the hot path
        for c in ("blinded", "paralyzed", "stunned", "unconscious", "petrified", "restrained"):
            if c in tgt.conditions:
                adv.append(f"target {c}")
        if "prone" in tgt.conditions:
            (adv if d <= 5 else dis).append("target prone")
        if "invisible" in tgt.conditions and not (atk_feels or _sees_invisible(atk)):
            dis.append("target invisible")
    if atk.conditions:
        for c in ("blinded", "poisoned", "frightened", "restrained", "prone"):
            if c in atk.conditions:
                dis.append(c)
        if "invisible" in atk.conditions and not (tgt_feels or _sees_invisible(tgt)):
            adv.append("invisible")
    if atk.exhaustion >= 3:
        dis.append("exhaustion")
    sight = bool(atk.effects) and any(e.has("devils_sight") for e in atk.effects)
    for e in tgt.effects:
        if not e.tags or (sight and e.name == "darkness"):
            continue
        if e.has("adv_against") or e.has("next_adv"):
            adv.append(e.name)
        if e.has("help") and e.src != atk.eid:
            adv.append("help")
        if e.has("dodge") and not tgt.incapacitated:
            dis.append("dodge")
        if e.has("reckless"):
            adv.append("reckless target")
        if e.has("dis_against") or (e.has("invisible")
                                    and not (atk_feels or _sees_invisible(atk))) \
                or atk.ctype in e.dis_from:
            dis.append(e.name)
    for e in atk.effects:
        if not e.tags or (sight and e.name == "darkness"):
            continue
        if e.has("adv_next") or (e.has("hidden") and not senses.pinpoints(game, tgt, atk, d)):
            adv.append(e.name)
        if e.has("dis_next") or e.has("dis_attacks") or (
                e.has("heavy_load") and kind in ("melee", "ranged")) or (
                e.has("light_sensitive") and game.light_at(atk.room) in BRIGHT) or (
                e.has("sunlight_sensitive") and game.light_at(atk.room) == "sunlight"):
            dis.append(e.name)
        if e.has("reckless") and kind == "melee":
            adv.append("reckless")
        if e.has("blood_frenzy") and kind == "melee" and tgt.hp < tgt.max_hp:
            adv.append("blood frenzy")
        if e.has("grappler") and (g := tgt.conditions.get("grappled")) and g.src == atk.eid:
            adv.append("grappler")
        if e.has("ambusher") and unacted(game, tgt):
            adv.append("ambusher")
        if e.has("adv_attacks") or (e.has("invisible")
                                    and not (tgt_feels or _sees_invisible(tgt))):
            adv.append(e.name)
    if atk.effects and any(e.has("pack_tactics") for e in atk.effects) and any(
            o != atk.eid and game.entities[o].side == atk.side
            and not game.entities[o].incapacitated for o in tgt.engaged):
        adv.append("pack tactics")
    if kind == "ranged":
        if any(_hostile_engaged(game, atk)):
            dis.append("engaged")
        if rng_ft[1] and d > rng_ft[0]:
            dis.append("long range")
    light = game.light_at(atk.room)
    if light == "dark" and _lit(game, atk.room):
        light = "dim"
    if light == "dark":
        if not (atk_feels or atk.sees_in_dark()):
            dis.append("darkness")
        if not (tgt_feels or tgt.sees_in_dark()):
            adv.append("unseen")
    if adv and tgt.effects and not tgt.incapacitated and any(e.has("elusive")
                                                             for e in tgt.effects):
        adv = []  # Elusive: no attack roll against the rogue has advantage
    return (1 if adv else 0) - (1 if dis else 0), adv + ["-" + x for x in dis]


def unacted(game: Game, t: Entity) -> bool:
    """In the first round, a creature that has not yet taken a turn (the surprised, as near
    as initiative tells)."""
    c = game.combat
    return bool(c) and c["round"] == 1 and not t.dead and t.eid in c["order"] and \
        c["order"].index(t.eid) > c["idx"]


def _sees_invisible(e: Entity) -> bool:
    return bool(e.effects) and any(x.has("see_invisible") for x in e.effects)


def _lit(game: Game, room: int) -> bool:
    """A creature shedding magical light (light, daylight) makes a dark room dim."""
    return any(e.effects and any(x.has("light") for x in e.effects) for e in game.here(room))


def check_bonus(ent: Entity, rng: random.Random) -> int:
    """Dice effects add to ability checks (guidance, enhance ability)."""
    total = 0
    for e in ent.effects:
        if e.check:
            total += dice.total(e.check.lstrip("-"), rng) * (-1 if e.check[0] == "-" else 1)
    if total:
        _consume_once(ent, "one_check")  # Peerless Skill: one check only
    return total


def skill_d20(ent: Entity, skill: str, rng: random.Random, adv: int = 0) -> int:
    """The d20 of a skill check: Supreme Sneak gives Stealth advantage, Reliable Talent
    lifts a proficient check's roll to 10."""
    tags = {t for e in ent.effects for t in e.tags} if ent.effects else set()
    if skill == "stealth" and "supreme_sneak" in tags:
        adv = min(1, adv + 1)
    nat, _ = dice.d20(rng, max(-1, adv))
    if "reliable_talent" in tags and skill in ent.skills:
        nat = max(nat, 10)
    return nat


def _hostile_engaged(game: Game, e: Entity) -> list[Entity]:
    out = []
    for o in e.engaged:
        other = game.entities.get(o)
        if other and not other.incapacitated and other.side != e.side:
            out.append(other)
    return out


def _consume_once(ent: Entity, tag: str) -> None:
    ent.effects[:] = [e for e in ent.effects if not e.has(tag)]


# -- the attack path ----------------------------------------------------------------
def roll_attack(game: Game, atk: Entity, tgt: Entity, spec: dict[str, Any], rng: random.Random,
                out: Events) -> tuple[bool, bool, int]:
    """One attack roll against AC: advantage, bonuses, inspiration, shield, close crits.
    spec: name, bonus, kind, range, optional adv and crit. Returns (hit, crit, net adv)."""
    kind = spec["kind"]
    if _sanctuary_holds(game, atk, tgt, rng, out):
        return False, False, 0
    net, _sources = attack_adv(game, atk, tgt, kind, tuple(spec.get("range") or (5, 0)),
                               str(spec.get("ability") or ""))
    if spec.get("adv"):
        net = max(-1, min(1, net + spec["adv"]))
    nat, _rolls = dice.d20(rng, net)
    bonus = spec["bonus"]
    for e in atk.effects:
        if e.atk:
            bonus += dice.total(e.atk.lstrip("-"), rng) * (-1 if e.atk[0] == "-" else 1)
    total = nat + bonus
    ac = tgt.current_ac()
    crit_on = spec.get("crit", 20)
    crit = nat >= crit_on
    hit = is_hit(nat, total, ac, crit_on)
    if not hit and nat != 1:  # a bardic inspiration die is spent only to turn a miss
        insp = next((e for e in atk.effects if e.name == "inspiration" and e.die), None)
        if insp is not None:
            total += dice.total(insp.die, rng)
            atk.effects.remove(insp)
            hit = is_hit(nat, total, ac, crit_on)
    if not hit and atk.effects and any(e.has("sure_hit") for e in atk.effects):
        _consume_once(atk, "sure_hit")  # Stroke of Luck: the miss becomes a hit
        out.append(ev.Info(atk.eid, f"{atk.name}'s luck turns the miss"))
        hit = True
    if hit and not crit and (cut := _cutting_words(game, atk, tgt, total - ac, rng, out)):
        total -= cut
        hit = is_hit(nat, total, ac, crit_on)
    if hit and not crit and total < ac + 5 and _auto_shield(game, tgt, rng, out):
        ac = tgt.current_ac()
        hit = total >= ac
    if hit and not crit and kind == "melee" and total < ac + tgt.parry and _parry(game, tgt,
                                                                                  atk, out):
        ac += tgt.parry
        hit = False
    if hit and not crit and total < ac + INTERPOSE_AC and _interpose(game, tgt, atk, out):
        ac += INTERPOSE_AC
        hit = total >= ac
    if hit and not crit and distance(atk, tgt) <= 5 and any(c in tgt.conditions
                                                            for c in AUTO_CRIT_CLOSE):
        crit = True
    if crit and tgt.effects and any(e.has("crit_immune") for e in tgt.effects):
        crit = False
    out.append(ev.Attacked(atk.eid, tgt.eid, nat, total, ac, hit, crit, spec["name"]))
    # Once-only effects are spent by the attack, hit or miss.
    if atk.effects:
        atk.effects[:] = [e for e in atk.effects if not (e.has("hidden") or e.has("dis_next")
                                                         or e.has("adv_next")
                                                         or e.has("ends_on_attack")
                                                         or e.has("camouflage"))]
    if tgt.effects:
        tgt.effects[:] = [e for e in tgt.effects if not (e.has("next_adv") or e.has("help"))]
    atk.turn["attacked"] = True
    if hit and kind == "melee" and tgt.effects and distance(atk, tgt) <= 5:
        for e in [x for x in tgt.effects if x.has("retaliate")]:  # a heated body burns back
            deal(game, atk, dice.total(e.die, rng), e.dtype, out, rng=rng)
        glue = next((x for x in tgt.effects if x.has("adhesive")), None)
        if glue is not None and not atk.dead:  # a mimic in object form: the striker sticks
            add_condition(game, atk, "grappled", out, rounds=-1, dc=glue.dc, src=tgt.eid)
    return hit, crit, net


def _sanctuary_holds(game: Game, atk: Entity, tgt: Entity, rng: random.Random,
                     out: Events) -> bool:
    """Sanctuary (Tranquility), and Nature's Sanctuary against a beast or plant: the
    attacker must pass a WIS save against the bearer's DC or its attack is lost."""
    if not tgt.effects or atk.side == tgt.side or not any(
            e.has("sanctuary") or (e.has("natures_sanctuary") and atk.ctype in ("beast", "plant"))
            for e in tgt.effects):
        return False
    if saving_throw(game, atk, "wis", tgt.spell_dc(), rng, out, "sanctuary"):
        return False
    out.append(ev.Info(atk.eid, f"{atk.name} cannot bring itself to attack {tgt.name}"))
    atk.turn["attacked"] = True
    return True


def _cutting_words(game: Game, atk: Entity, tgt: Entity, margin: int, rng: random.Random,
                   out: Events) -> int:
    """Cutting Words: a bard on the target's side spends its reaction and an inspiration
    die against a hit its die could turn (house rule auto_reactions); the die rolled."""
    if tgt.side != "party" or not game.house.get("auto_reactions", True):
        return 0  # only characters are bards; monsters' attacks on them are the ones cut
    from rules.levels import row

    for b in game.entities.values():
        if b.res.get("inspiration", 0) <= 0 or b.side != tgt.side or b.room != tgt.room or \
                not b.reaction or b.incapacitated or b.fled or not any(
                    e.has("cutting_words") for e in b.effects):
            continue
        sides = int(str(row("bard", max(1, class_level(b, "bard")))["class_specific"].get(
            "bardic_inspiration_die") or 6))
        if margin >= sides:
            return 0  # no die could turn it: keep the reaction
        b.reaction = False
        b.res["inspiration"] -= 1
        cut = dice.total(f"1d{sides}", rng)
        out.append(ev.Info(b.eid, f"{b.name}'s cutting words: -{cut}"))
        return cut
    return 0


def deflect_hit(tgt: Entity, spec: dict[str, Any], rng: random.Random, out: Events) -> int:
    """Deflect Missiles: the monk's reaction cuts a ranged weapon hit by 1d10 + DEX + level."""
    if spec["kind"] != "ranged" or spec.get("spell") or not tgt.reaction or \
            tgt.incapacitated or not tgt.effects or not any(e.has("deflect_missiles")
                                                             for e in tgt.effects):
        return 0
    tgt.reaction = False
    cut = dice.total("1d10", rng) + tgt.mod("dex") + tgt.level
    out.append(ev.Info(tgt.eid, f"{tgt.name} deflects the missile: -{cut}"))
    return cut


def slow_fall(e: Entity, amount: int, out: Events) -> int:
    """Slow Fall: the monk's reaction takes five times its level off falling damage."""
    if not e.reaction or e.incapacitated or not e.effects or not any(
            x.has("slow_fall") for x in e.effects):
        return amount
    e.reaction = False
    out.append(ev.Info(e.eid, f"{e.name} slows the fall"))
    return max(0, amount - 5 * e.level)


def blessing(game: Game, atk: Entity, tgt: Entity, out: Events) -> None:
    """Dark One's Blessing: dropping a hostile creature to 0 HP gives the warlock CHA +
    warlock level temporary hit points."""
    if tgt.hp > 0 or tgt.side == atk.side or not atk.effects or not any(
            e.has("dark_ones_blessing") for e in atk.effects):
        return
    atk.temp_hp = max(atk.temp_hp, max(1, atk.mod("cha") + atk.level))
    out.append(ev.Healed(atk.eid, 0, atk.hp))


def _uncanny_dodge(tgt: Entity, out: Events) -> bool:
    """Uncanny Dodge: the target spends its reaction to halve a hit's damage."""
    if not (tgt.reaction and tgt.effects and any(e.has("uncanny_dodge") for e in tgt.effects)
            and not tgt.incapacitated):
        return False
    tgt.reaction = False
    out.append(ev.Info(tgt.eid, f"{tgt.name} dodges: half damage"))
    return True


def attack(game: Game, atk: Entity, tgt: Entity, spec: dict[str, Any], rng: random.Random,
           out: Events) -> bool:
    """One attack roll and its typed damage parts. spec: name, bonus, kind, damage
    [[dice, type]], range, plus optional dmg_bonus, finesse, weapon, magical. Returns hit."""
    hit, crit, net = roll_attack(game, atk, tgt, spec, rng, out)
    if not hit:
        return False
    magical = bool(spec.get("magical"))
    wounded, before = tgt.hp < tgt.max_hp, tgt.hp + tgt.temp_hp
    first = True
    dodge = _uncanny_dodge(tgt, out)
    deflect = deflect_hit(tgt, spec, rng, out)
    for dmg_dice, dtype in spec["damage"]:
        amount = dice.total(dmg_dice, rng, crit=crit)
        if first:
            amount -= deflect
            amount += spec.get("dmg_bonus", 0)
            amount += _on_hit_extras(game, atk, tgt, spec, net, crit, rng)
            if crit and spec.get("crit_dice"):  # Brutal Critical: more of the weapon's die
                sides = dmg_dice.partition("d")[2].partition("+")[0]
                amount += dice.total(f"{spec['crit_dice']}d{sides}", rng)
            first = False
        amount = amount // 2 if dodge else amount
        deal(game, tgt, max(0, amount), dtype, out, crit=crit, rng=rng, magical=magical)
        blessing(game, atk, tgt, out)
        if tgt.dead:
            break
    if spec.get("weapon") and atk.effects and not tgt.dead:
        _riders(game, atk, tgt, spec, crit, wounded, rng, out)
    if spec.get("weapon") and spec["kind"] == "melee" and not tgt.dead:
        _on_hit_trees(game, atk, tgt, crit, rng, out)
    if tgt.effects:  # a rust monster's hide rusts the metal weapon that struck it
        from rules.effects import corrosion

        corrosion.on_weapon_hit(tgt, atk, spec, out)
    if tgt.hp + tgt.temp_hp < before:
        retaliate(game, tgt, atk, rng, out)
    return True


def _riders(game: Game, atk: Entity, tgt: Entity, spec: dict[str, Any], crit: bool,
            wounded: bool, rng: random.Random, out: Events) -> None:
    """Standing extra damage on weapon hits (Divine Strike, Improved Divine Smite, Colossus
    Slayer, Foe Slayer): `die` of `dtype`, or of the weapon's own type, as the tags allow."""
    for e in atk.effects:
        if not e.has("rider") or (e.has("melee_only") and spec["kind"] != "melee") or (
                e.has("vs_wounded") and not wounded) or (e.vs_types
                                                         and tgt.ctype not in e.vs_types):
            continue
        if e.has("vs_favored") and tgt.ctype not in favored(atk):
            continue
        if e.has("once_turn"):
            if atk.turn.get("rider:" + e.name):
                continue
            atk.turn["rider:" + e.name] = True
        dtype = e.dtype or spec["damage"][0][1]
        deal(game, tgt, dice.total(e.die, rng, crit=crit), dtype, out, crit=crit, rng=rng,
             magical=bool(spec.get("magical") or e.dtype))
        if tgt.dead:
            return


def retaliate(game: Game, tgt: Entity, src: Entity, rng: random.Random, out: Events) -> None:
    """Retaliation: damaged by a creature within 5 ft, the bearer spends its reaction on a
    melee weapon attack against it (house rule auto_reactions)."""
    if not (tgt.effects and tgt.reaction and tgt.hp > 0 and not tgt.incapacitated
            and not src.down and tgt.side != src.side and distance(tgt, src) <= 5
            and game.house.get("auto_reactions", True)
            and any(e.has("retaliation") for e in tgt.effects)):
        return
    from rules.combat import weapon_spec

    weapon = next((w for w in tgt.weapons if w["kind"] == "melee"), None)
    if weapon is None:
        return
    tgt.reaction = False
    out.append(ev.ActionTaken(tgt.eid, "retaliation", src.eid))
    attack(game, tgt, src, weapon_spec(tgt, weapon), rng, out)


def is_hit(nat: int, total: int, ac: int, crit_on: int = 20) -> bool:
    """A natural 1 always misses; a natural crit_on+ always hits; otherwise total vs AC."""
    return nat != 1 and (nat >= crit_on or total >= ac)


def hit_chance(bonus: int, ac: int, adv: int = 0) -> float:
    """The exact chance to hit, enumerating the d20s the same way `attack` rolls them."""
    faces = range(1, 21)
    if adv == 0:
        return sum(is_hit(n, n + bonus, ac) for n in faces) / 20
    pick = max if adv > 0 else min
    return sum(is_hit(pick(a, b), pick(a, b) + bonus, ac) for a in faces for b in faces) / 400


def _on_hit_extras(game: Game, atk: Entity, tgt: Entity, spec: dict[str, Any], net: int,
                   crit: bool, rng: random.Random) -> int:
    """Extra damage of the weapon's own type: rage, sneak attack, a hunter's mark."""
    extra = 0
    if spec.get("weapon"):
        if spec["kind"] == "melee" and spec.get("ability") == "str":
            for e in atk.effects:
                extra += e.dmg_bonus
        if (class_level(atk, "rogue") and not atk.turn.get("sneak")
                and (spec.get("finesse") or spec["kind"] == "ranged")
                and (net > 0 or (net == 0 and any(
                    o != atk.eid and game.entities[o].side == atk.side
                    and not game.entities[o].incapacitated for o in tgt.engaged)))):
            atk.turn["sneak"] = True
            extra += dice.total(f"{(class_level(atk, 'rogue') + 1) // 2}d6", rng, crit=crit)
    for e in tgt.effects:
        if e.tags and e.has("mark") and e.src == atk.eid:
            extra += dice.total(e.die, rng, crit=crit)
    return extra


def _on_hit_trees(game: Game, atk: Entity, tgt: Entity, crit: bool, rng: random.Random,
                  out: Events) -> None:
    """Riders the attacker carries (divine smite): their own trees, their own damage types.
    One without a duration is spent by the hit that uses it."""
    riders = [e for e in atk.effects if e.on_hit]
    if not riders:
        return
    from rules.effects import engine

    for e in riders:
        if engine.rider(game, atk, tgt, e, crit, rng, out) and e.has("one_hit"):
            atk.effects.remove(e)


def _parry(game: Game, tgt: Entity, atk: Entity, out: Events) -> bool:
    """House rule auto_reactions: a creature with Parry uses it when it turns a hit."""
    if not game.house.get("auto_reactions", True) or not tgt.reaction or tgt.incapacitated:
        return False
    if any(e.has("no_reactions") for e in tgt.effects):
        return False
    tgt.reaction = False
    out.append(ev.ActionTaken(tgt.eid, "parry", atk.eid))
    return True


# A shield guardian's Shield: the AC it lends the ally it guards.
INTERPOSE_AC = 2


def _interpose(game: Game, tgt: Entity, atk: Entity, out: Events) -> bool:
    """A shield guardian within 5 ft of the ally attacked (the amulet's wearer, its
    master) spends its reaction to add 2 to that ally's AC (house rule auto_reactions)."""
    from rules.effects import guardian

    if not game.house.get("auto_reactions", True) or tgt.kind != "monster":
        return False
    guard = next((g for g in guardian.guards_of(game, tgt, "interpose") if g.reaction
                  and not g.incapacitated and distance(g, tgt) <= 5), None)
    if guard is None:
        return False
    guard.reaction = False
    out.append(ev.ActionTaken(guard.eid, "shield", atk.eid))
    return True


def _auto_shield(game: Game, tgt: Entity, rng: random.Random, out: Events) -> bool:
    """House rule auto_reactions: a creature that knows shield casts it when it would help."""
    if not game.house.get("auto_reactions", True):
        return False
    if "shield" not in tgt.spells or not tgt.reaction or tgt.incapacitated or \
            proficiency.hampering(tgt):
        return False
    slot = next((i for i, n in enumerate(tgt.slots) if n > 0), None)
    if slot is None:
        return False
    tgt.slots[slot] -= 1
    tgt.reaction = False
    tgt.effects.append(Effect("shield", tgt.eid, ac=5, until_turn=tgt.eid, level=slot + 1))
    out.append(ev.SpellCast(tgt.eid, "shield", slot + 1))
    return True


# -- damage, death and healing ------------------------------------------------------
def _matches(dtype: str, entries: list[str]) -> bool:
    return any(dtype in x for x in entries)


def adjust_damage(tgt: Entity, amount: int, dtype: str, magical: bool = False) -> int:
    """Immunity, then resistance (halve, round down), then vulnerability (double).
    A monster's bludgeoning/piercing/slashing defences are against nonmagical attacks
    (the SRD's wording for every stat block that has them), so magic passes them."""
    innate = not (magical and dtype in PHYSICAL and tgt.kind == "monster")
    if (innate and _matches(dtype, tgt.immune)) or any(dtype in e.immune for e in tgt.effects):
        return 0
    resist = (innate and _matches(dtype, tgt.resist)) or tgt.has("petrified") or any(
        dtype in e.resist for e in tgt.effects)
    if resist:
        amount //= 2
    if _matches(dtype, tgt.vuln):
        amount *= 2
    return amount


def deal(game: Game, tgt: Entity, amount: int, dtype: str, out: Events, *, crit: bool = False,
         rng: random.Random | None = None, magical: bool = False) -> int:
    """Apply damage with resistances, temp HP, dropping to 0, death saves and massive damage."""
    if tgt.dead:
        return 0
    if tgt.effects and amount > 0 and any(dtype in e.absorb for e in tgt.effects):
        heal(game, tgt, amount, out, own=True)  # lightning absorption: it heals instead
        return 0
    amount = adjust_damage(tgt, amount, dtype, magical)
    if amount > 0 and tgt.effects and any(e.has("damage_transfer") for e in tgt.effects):
        amount = _transfer(game, tgt, amount, dtype, out, rng, magical)
    if amount > 0 and tgt.kind == "monster" and tgt.side == "monsters":
        from rules.effects import guardian

        amount = guardian.share(game, tgt, amount, dtype, out, rng, magical)
    if tgt.effects:
        for e in tgt.effects:
            if e.stop_by and dtype in e.stop_by:
                e.stopped = True
        if amount > 0:
            _flinch(tgt, dtype)
    # a pudding splits when subjected to it, immune or not
    if tgt.hp >= SPLIT_MIN_HP and dtype in SPLIT_BY and tgt.reaction and \
            tgt.res.get("splits", 0) > 0 and any(e.has("splits") for e in tgt.effects):
        _split(game, tgt, out)
    if amount <= 0:
        out.append(ev.Damaged(tgt.eid, 0, dtype, tgt.hp))
        return 0
    if tgt.hp <= 0 and tgt.kind != "pc" and defers_death(tgt):
        out.append(ev.Damaged(tgt.eid, amount, dtype, 0))
        return amount  # it stays down: only its turn's start decides (stop_by is marked)
    if tgt.hp <= 0:  # already down: damage is a failed death save (two on a crit)
        out.append(ev.Damaged(tgt.eid, amount, dtype, 0))
        if amount >= tgt.max_hp:
            _die(game, tgt, out)
            return amount
        tgt.stable = False
        tgt.death_f = min(3, tgt.death_f + (2 if crit else 1))
        out.append(ev.DeathSave(tgt.eid, 0, tgt.death_s, tgt.death_f))
        if tgt.death_f >= 3:
            _die(game, tgt, out)
        return amount
    if any(e.has("wake_on_damage") for e in tgt.effects):
        _consume_once(tgt, "wake_on_damage")
        remove_condition(game, tgt, "unconscious", out)
    if tgt.effects and any(e.has("rage") for e in tgt.effects):
        tgt.turn["hurt"] = True  # keeps the rage going
    absorbed = min(tgt.temp_hp, amount)
    tgt.temp_hp -= absorbed
    if absorbed and not tgt.temp_hp and any(e.has("wild_shape") for e in tgt.effects):
        _consume_once(tgt, "wild_shape")  # the beast's hit points are gone: the druid is back
        out.append(ev.Info(tgt.eid, f"{tgt.name} returns to its own shape"))
    rest = amount - absorbed
    overflow = rest - tgt.hp
    tgt.hp = max(0, tgt.hp - rest)
    if rest > 0 and tgt.effects and tgt.hp > 0:
        from rules.effects import heads

        if heads.has_heads(tgt) and heads.on_damage(game, tgt, rest, dtype, out):
            tgt.hp = 0  # a hydra whose last head dies dies with it
    if tgt.hp == 0 and tgt.effects and overflow < tgt.max_hp:
        ward = next((e for e in tgt.effects if e.has("death_ward")
                     and (not e.ward_max or amount <= e.ward_max)), None)
        if ward is not None:  # death ward: drop to 1 HP instead, once
            tgt.effects.remove(ward)
            tgt.hp = 1
        elif rng is not None and any(e.has("relentless") for e in tgt.effects):
            tries = tgt.res.get("relentless", 0)  # each try after the first: DC +5
            tgt.res["relentless"] = tries + 1
            if saving_throw(game, tgt, "con", 10 + 5 * tries, rng, out, "relentless rage"):
                tgt.hp = 1
        elif (rng is not None and dtype != "radiant" and not crit
              and any(e.has("undead_fortitude") for e in tgt.effects)
              and saving_throw(game, tgt, "con", 5 + amount, rng, out, "undead fortitude")):
            tgt.hp = 1
    out.append(ev.Damaged(tgt.eid, amount, dtype, tgt.hp))
    if tgt.hp == 0 and tgt.kind != "pc" and dtype != "radiant" and tgt.effects and any(
            e.has("misty_escape") for e in tgt.effects):  # a vampire escapes as mist
        tgt.fled = True
        out.append(ev.Info(tgt.eid, f"{tgt.name} escapes as mist"))
        _drop_out(game, tgt, out)
        return amount
    if tgt.hp == 0:
        if tgt.kind != "pc" and defers_death(tgt):
            out.append(ev.Downed(tgt.eid))
            add_condition(game, tgt, "unconscious", out, rounds=-1)
            if tgt.rising:  # else burnt already: it will not rise, as its turn will say
                out.append(ev.Info(tgt.eid, "its wounds knit"))
        elif tgt.kind != "pc" or overflow >= tgt.max_hp:
            _die(game, tgt, out, rng)
        else:
            tgt.death_s = tgt.death_f = 0
            tgt.stable = False
            out.append(ev.Downed(tgt.eid))
            add_condition(game, tgt, "unconscious", out, rounds=-1)
        return amount
    if tgt.conc and rng is not None:
        dc = max(10, amount // 2)
        if not saving_throw(game, tgt, "con", dc, rng, out, "concentration"):
            end_concentration(game, tgt, out)
    return amount


def _transfer(game: Game, tgt: Entity, amount: int, dtype: str, out: Events,
              rng: random.Random | None, magical: bool) -> int:
    """Damage Transfer: while it grapples a creature (a cloaker attached, a rug smothering)
    the bearer takes half the damage, rounded down, and that creature the rest."""
    from rules.effects.monsters import in_grip

    held = in_grip(game, tgt)
    if not held:
        return amount
    deal(game, held[0], amount - amount // 2, dtype, out, rng=rng, magical=magical)
    return amount // 2


# A pudding or jelly splits on these damage types while it has this many HP or more.
SPLIT_BY = ("lightning", "slashing")
SPLIT_MIN_HP = 10


def _split(game: Game, tgt: Entity, out: Events) -> None:
    """Split (its reaction): a second creature of its kind appears beside it, the two
    sharing its hit points; each is a size smaller, so `splits` counts what is left."""
    from rules.explore import spawn

    tgt.reaction = False
    tgt.res["splits"] -= 1
    made = spawn(game, tgt.monster, 1, tgt.band, side=tgt.side)
    twin = game.entities[made[0].eid]
    twin.room = tgt.room
    twin.hp = twin.max_hp = tgt.hp // 2
    tgt.hp -= twin.hp
    twin.res["splits"] = tgt.res["splits"]
    if game.combat is not None:
        game.combat["order"].append(twin.eid)
    out += made
    out.append(ev.Info(tgt.eid, f"{tgt.name} splits in two"))


def _flinch(tgt: Entity, dtype: str) -> None:
    """A flesh golem's aversion of fire, a water elemental's freeze: one round of it."""
    if dtype == "fire" and any(e.has("fire_averse") for e in tgt.effects):
        tgt.effects.append(Effect("aversion of fire", tgt.eid, rounds=1, tags=("dis_attacks",)))
    if dtype == "cold" and any(e.has("freezes") for e in tgt.effects):
        tgt.effects.append(Effect("frozen", tgt.eid, rounds=1, speed=-20))


def _die(game: Game, tgt: Entity, out: Events, rng: random.Random | None = None) -> None:
    if tgt.kind == "monster" and rng is not None and not tgt.dead:
        from rules.effects import engine

        tgt.dead = True  # the burst's own damage cannot kill it twice
        engine.on_death(game, tgt, rng, out)
    tgt.dead = True
    tgt.hp = 0
    tgt.death_f = min(3, max(tgt.death_f, 3 if tgt.kind == "pc" else 0))
    out.append(ev.Died(tgt.eid))
    _drop_out(game, tgt, out)


def defers_death(e: Entity) -> bool:
    """Dropped to 0 HP it is down, not dead: its own turn's start decides."""
    return bool(e.effects) and any(x.has(DEFERS_DEATH) for x in e.effects)


def rise_or_die(game: Game, e: Entity, regenerated: bool, rng: random.Random | None,
                out: Events) -> None:
    """A creature that began its turn down and defers its death, after its start-of-turn
    trees: if they did not heal it (its regeneration stopped, or healing barred) it dies;
    raised by them, it is back in the fight (or down again, if an aura felled it anew)."""
    if e.dead or e.kind == "pc" or not defers_death(e):
        return
    if not regenerated:
        out.append(ev.Info(e.eid, "its wounds do not knit"))
        _die(game, e, out, rng)
    elif e.hp > 0:
        out.append(ev.Info(e.eid, "rises again"))


def slay(game: Game, tgt: Entity, out: Events, rng: random.Random | None = None) -> None:
    """A death no damage decides: a hit point maximum drained to 0."""
    if not tgt.dead:
        _die(game, tgt, out, rng)


def _drop_out(game: Game, tgt: Entity, out: Events) -> None:
    """A creature that falls leaves every engagement and loses concentration."""
    for o in tgt.engaged:
        other = game.entities.get(o)
        if other and tgt.eid in other.engaged:
            other.engaged.remove(tgt.eid)
    tgt.engaged.clear()
    if tgt.conc:
        end_concentration(game, tgt, out)
    for other in game.entities.values():  # a fallen grappler lets go
        held = other.conditions.get("grappled")
        if held and held.src == tgt.eid:
            end_grapple(game, other, out)
        if any(x.has("swallowed") and x.src == tgt.eid for x in other.effects):
            _spat_out(game, other, tgt.eid, out)


def _spat_out(game: Game, ent: Entity, src: int, out: Events) -> None:
    """A fallen swallower frees what it held inside: its effect and open-ended conditions."""
    ent.effects[:] = [x for x in ent.effects if not (x.has("swallowed") and x.src == src)]
    for cond, info in list(ent.conditions.items()):
        if info.src == src and info.rounds == -1 and not info.save:
            remove_condition(game, ent, cond, out)


def heal(game: Game, tgt: Entity, amount: int, out: Events, *, own: bool = False) -> int:
    """Regain hit points; own=True is the creature's own trait (regeneration, absorption),
    which works for undead and constructs that healing magic does not touch."""
    if tgt.dead or amount <= 0 or (tgt.ctype in ("undead", "construct") and not own):
        return 0
    if tgt.effects and any(e.has("no_heal") for e in tgt.effects):
        return 0
    was_down = tgt.hp <= 0
    cap = tgt.hp_cap()
    before = tgt.hp
    tgt.hp = min(cap, tgt.hp + amount)
    if own and tgt.hp == before:
        return 0  # regeneration at full health: nothing to tell, and airtime is dear
    out.append(ev.Healed(tgt.eid, tgt.hp - before, tgt.hp))
    if was_down and tgt.hp > 0:
        tgt.death_s = tgt.death_f = 0
        tgt.stable = False
        remove_condition(game, tgt, "unconscious", out)
    return tgt.hp - before


def death_save(game: Game, ent: Entity, rng: random.Random, out: Events) -> None:
    nat = rng.randint(1, 20)
    if nat == 20:
        ent.death_s = ent.death_f = 0
        out.append(ev.DeathSave(ent.eid, nat, 0, 0))
        heal(game, ent, 1, out)
        return
    if nat == 1:
        ent.death_f = min(3, ent.death_f + 2)
    elif nat >= 10:
        ent.death_s = min(3, ent.death_s + 1)
    else:
        ent.death_f = min(3, ent.death_f + 1)
    out.append(ev.DeathSave(ent.eid, nat, ent.death_s, ent.death_f))
    if ent.death_f >= 3:
        _die(game, ent, out)
    elif ent.death_s >= 3:
        stabilise(ent, out)


def stabilise(ent: Entity, out: Events) -> None:
    ent.stable = True
    ent.death_s = ent.death_f = 0
    out.append(ev.Stabilised(ent.eid))


# -- checks and saves ---------------------------------------------------------------
def check_adv(ent: Entity, ability: str, *, save: bool, skill: str = "") -> int:
    """Net advantage (+1/0/-1) on a check or save; `skill` names a check's skill (Stealth in
    armour the SRD table marks, such as chain mail, has disadvantage)."""
    adv = dis = False
    if save:
        if ability == "dex" and (ent.has("restrained")):
            dis = True
        if ability == "dex" and any(e.has("dodge") or e.has("danger_sense") for e in ent.effects):
            adv = True
        if any(e.has("adv_saves") for e in ent.effects):
            adv = True
        if ent.exhaustion >= 3:
            dis = True
    else:
        if ent.exhaustion >= 1 or ent.has("poisoned") or ent.has("frightened"):
            dis = True
    if ability == "str" and any(e.has("rage") or e.has("enlarged") for e in ent.effects):
        adv = True
    if ability in ("str", "dex", "con") and any(e.has("heavy_load") for e in ent.effects):
        dis = True
    if proficiency.hampers(ent, ability):
        dis = True
    if skill == "stealth" and ent.armor:
        from rules import content

        dis = dis or bool(content.armor()[ent.armor].get("stealth_disadvantage"))
    return int(adv) - int(dis)


def saving_throw(game: Game, ent: Entity, ability: str, dc: int, rng: random.Random,
                 out: Events, what: str = "", *, magic: bool = False) -> bool:
    """A save against `dc`; magic=True when a spell forces it (magic resistance)."""
    if ability in ("str", "dex") and any(c in ent.conditions for c in AUTO_FAIL_STR_DEX):
        out.append(ev.Rolled(ent.eid, what or f"{ability} save", 0, 0, dc, False))
        return False
    adv = check_adv(ent, ability, save=True)
    if ent.effects and any(e.has("dis_next_save") for e in ent.effects):
        _consume_once(ent, "dis_next_save")  # Heightened Spell: this save at a disadvantage
        adv -= 1
    if magic and adv < 1 and any(e.has("magic_resistance") for e in ent.effects):
        adv += 1
    nat, _ = dice.d20(rng, adv)
    total = nat + ent.save_mod(ability)
    for e in ent.effects:
        if e.save and not e.radius:
            s = e.save
            total += dice.total(s.lstrip("-"), rng) * (-1 if s[0] == "-" else 1)
    total += max((dice.total(x.save, rng) for x in auras(game, ent) if x.save), default=0)
    if total < dc:  # a bardic inspiration die is spent only when the save would fail
        insp = next((e for e in ent.effects if e.name == "inspiration" and e.die), None)
        if insp is not None:
            total += dice.total(insp.die, rng)
            ent.effects.remove(insp)
    ok = total >= dc
    out.append(ev.Rolled(ent.eid, what or f"{ability} save", nat, total, dc, ok))
    if not ok and what != "concentration" and ent.res.get(LEGENDARY_RESISTANCE, 0) > 0 \
            and any(e.has(LEGENDARY_RESISTANCE) for e in ent.effects):
        ent.res[LEGENDARY_RESISTANCE] -= 1  # spent on any failed save that matters
        out.append(ev.Info(ent.eid, f"{ent.name} uses legendary resistance"))
        return True
    return ok


# protection from evil and good: the warded types cannot charm or frighten the bearer
WARDED = ("charmed", "frightened")


def auras(game: Game, ent: Entity) -> list[Effect]:
    """Auras covering `ent` (a paladin's): its own and its allies' within their radius, each
    only while its bearer is conscious. The strongest of a kind counts, not their sum."""
    out = []
    for o in game.here(ent.room):
        if o.side != ent.side or not o.effects or o.hp <= 0 or o.incapacitated:
            continue
        for x in o.effects:
            if x.radius and (o is ent or distance(o, ent) <= x.radius):
                out.append(x)
    return out


def stir(ent: Entity) -> None:
    """Moving gives camouflage away (Hide in Plain Sight)."""
    if ent.effects:
        ent.effects[:] = [e for e in ent.effects if not e.has("camouflage")]


def str_floor(ent: Entity, ability: str, total: int) -> int:
    """Indomitable Might: a STR check's total below the STR score uses the score."""
    if ability == "str" and any(e.has("str_floor") for e in ent.effects):
        return max(total, ent.abilities.get("str", 10))
    return total


# -- conditions and effects ---------------------------------------------------------
def add_condition(game: Game, ent: Entity, cond: str, out: Events, *, rounds: int = -1,
                  save: str = "", dc: int = 0, src: int = 0, conc: bool = False,
                  harm: bool = False) -> bool:
    if cond in ent.cond_immune or ent.dead:
        return False
    kind = game.entities[src].ctype if src in game.entities else ""
    if any(cond in x.cond_immune for x in ent.effects if not x.radius) or any(
            cond in x.cond_immune for x in auras(game, ent)) or (
            cond in WARDED and any(kind in x.dis_from for x in ent.effects)):
        out.append(ev.Info(ent.eid, f"cannot be {cond}"))
        return False
    if cond == "exhaustion":
        ent.exhaustion = min(6, ent.exhaustion + 1)
        out.append(ev.ConditionChanged(ent.eid, "exhaustion", True))
        if ent.exhaustion >= 4:
            ent.hp = min(ent.hp, ent.max_hp // 2)
        if ent.exhaustion >= 6:
            _die(game, ent, out)
        return True
    fresh = cond not in ent.conditions
    ent.conditions[cond] = Cond(rounds, save, dc, src, conc, harm)
    if fresh:
        out.append(ev.ConditionChanged(ent.eid, cond, True))
    if cond in ("unconscious", "paralyzed", "stunned", "petrified", "incapacitated"):
        if ent.conc:
            end_concentration(game, ent, out)
        if cond == "unconscious":
            ent.conditions.setdefault("prone", Cond())
            ent.effects[:] = [x for x in ent.effects if not x.has("rage")]  # rage ends
    return True


def harmed(game: Game, ent: Entity, by: Entity, rng: random.Random, out: Events) -> None:
    """`by` harmed `ent`: a condition whose source is `by` or one of its allies, and whose
    save repeats on harm (Cond.harm: a vampire's Charm), gets that save again; a success
    ends it."""
    for cond, info in list(ent.conditions.items()):
        src = game.entities.get(info.src)
        if info.harm and info.save and src is not None and src.side == by.side and \
                not ent.dead and saving_throw(game, ent, info.save, info.dc, rng, out,
                                              f"{cond} save"):
            remove_condition(game, ent, cond, out)


def remove_condition(game: Game, ent: Entity, cond: str, out: Events) -> None:
    if cond == "exhaustion":
        if ent.exhaustion:
            ent.exhaustion -= 1
            out.append(ev.ConditionChanged(ent.eid, cond, False))
        return
    if ent.conditions.pop(cond, None) is not None:
        out.append(ev.ConditionChanged(ent.eid, cond, False))


def end_grapple(game: Game, ent: Entity, out: Events) -> None:
    """The grapple ends, and with it what lasts "until this grapple ends": the grappler's
    other open-ended conditions on the creature (a constrictor's restraint)."""
    held = ent.conditions.get("grappled")
    if held is None:
        return
    for cond, info in list(ent.conditions.items()):
        if cond == "grappled" or (info.src == held.src and info.rounds == -1 and not info.save):
            remove_condition(game, ent, cond, out)


def end_concentration(game: Game, caster: Entity, out: Events) -> None:
    """Concentration ends: every effect and condition the caster holds up falls away."""
    if not caster.conc:
        return
    caster.conc = ""
    for e in list(game.entities.values()):
        if any(x.conc and x.src == caster.eid for x in e.effects):
            ending = [x for x in e.effects if x.conc and x.src == caster.eid]
            e.effects[:] = [x for x in e.effects if not (x.conc and x.src == caster.eid)]
            if any(x.has("summoned") for x in ending):
                vanish(game, e, out)
        for cond, info in list(e.conditions.items()):
            if info.conc and info.src == caster.eid:
                remove_condition(game, e, cond, out)


def vanish(game: Game, e: Entity, out: Events) -> None:
    """A summoned creature whose spell ends leaves play."""
    for o in e.engaged:
        other = game.entities.get(o)
        if other and e.eid in other.engaged:
            other.engaged.remove(e.eid)
    e.engaged.clear()
    e.fled = True
    out.append(ev.Info(e.eid, f"{e.name} vanishes"))


__all__ = ["PHYSICAL", "attack", "deal", "heal", "saving_throw", "add_condition",
           "remove_condition", "end_concentration", "death_save", "adjust_damage"]
