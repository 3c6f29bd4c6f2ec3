"""The one resolver: attacks, saves, damage, healing, conditions and buffs, driven by data."""

from __future__ import annotations

import random
import tomllib
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING, Any

from rules import dice
from rules import events as ev
from rules.creature import AUTO_CRIT_CLOSE, AUTO_FAIL_STR_DEX, PHYSICAL, Entity
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game

Events = list[Any]
# Targets an area holds, by the SRD's "targets in area" guidance for theatre of the mind.
AREA_DIVISOR = {"cone": 10, "cube": 5, "square": 5, "cylinder": 5, "sphere": 5, "line": 30}


@lru_cache(maxsize=1)
def effects_table() -> dict[str, dict[str, Any]]:
    text = resources.files("rules.content").joinpath("effects.toml").read_text("utf-8")
    return tomllib.loads(text)


def spell_data(name: str) -> dict[str, Any]:
    """A spell's shared, read-only record: an exact index skips the copying lookup."""
    from rules import content

    table = content.spells()
    return table[name] if name in table else content.spell(name)


def area_cap(area: dict[str, Any] | None) -> int:
    if not area:
        return 1
    return max(1, int(area.get("size", 5)) // AREA_DIVISOR.get(area.get("type", ""), 5))


def distance(a: Entity, b: Entity) -> int:
    """Range bands as feet: engaged 5, near 30, far 60."""
    if b.eid in a.engaged or a.eid == b.eid:
        return 5
    if a.side == b.side and a.band != "far" and b.band != "far":
        return 5  # allies in the same band can touch each other
    return 60 if "far" in (a.band, b.band) else 30


# -- advantage ----------------------------------------------------------------------
def attack_adv(game: Game, atk: Entity, tgt: Entity, kind: str, rng_ft: tuple[int, int]
               ) -> tuple[int, list[str]]:
    """Net advantage (+1/0/-1) and the named sources, which cancel as the SRD says."""
    adv: list[str] = []
    dis: list[str] = []
    d = distance(atk, tgt)
    if tgt.conditions:  # most creatures have none: skip the scans on the hot path
        for c in ("blinded", "paralyzed", "stunned", "unconscious", "petrified", "restrained"):
            if c in tgt.conditions:
                adv.append(f"target {c}")
        if "prone" in tgt.conditions:
            (adv if d <= 5 else dis).append("target prone")
        if "invisible" in tgt.conditions:
            dis.append("target invisible")
    if atk.conditions:
        for c in ("blinded", "poisoned", "frightened", "restrained", "prone"):
            if c in atk.conditions:
                dis.append(c)
        if "invisible" in atk.conditions:
            adv.append("invisible")
    if atk.exhaustion >= 3:
        dis.append("exhaustion")
    for e in tgt.effects:
        if e.get("adv_against"):
            adv.append(e["name"])
        if e.get("next_adv"):
            adv.append(e["name"])
        if e.get("help") and e.get("src") != atk.eid:
            adv.append("help")
        if e.get("dodge") and not tgt.incapacitated:
            dis.append("dodge")
        if e.get("reckless"):
            adv.append("reckless target")
    for e in atk.effects:
        if e.get("hidden"):
            adv.append("hidden")
        if e.get("dis_next"):
            dis.append(e["name"])
        if e.get("reckless") and kind == "melee":
            adv.append("reckless")
    if kind == "ranged":
        if any(_hostile_engaged(game, atk)):
            dis.append("engaged")
        if rng_ft[1] and d > rng_ft[0]:
            dis.append("long range")
    light = game.light_at(atk.room)
    if light == "dark":
        if not atk.darkvision:
            dis.append("darkness")
        if not tgt.darkvision:
            adv.append("unseen")
    return (1 if adv else 0) - (1 if dis else 0), adv + ["-" + x for x in dis]


def _hostile_engaged(game: Game, e: Entity) -> list[Entity]:
    out = []
    for o in e.engaged:
        other = game.entities.get(o)
        if other and not other.incapacitated and other.side != e.side:
            out.append(other)
    return out


def _consume_once(ent: Entity, key: str) -> None:
    ent.effects[:] = [e for e in ent.effects if not e.get(key)]


# -- the attack path ----------------------------------------------------------------
def attack(game: Game, atk: Entity, tgt: Entity, spec: dict[str, Any], rng: random.Random,
           out: Events) -> bool:
    """One attack roll and its damage. spec: name, bonus, kind, damage [[dice, type]], range,
    plus optional dmg_bonus, finesse, spell, weapon. Returns whether it hit."""
    kind = spec["kind"]
    net, _sources = attack_adv(game, atk, tgt, kind, tuple(spec.get("range") or (5, 0)))
    if spec.get("adv"):
        net = max(-1, min(1, net + spec["adv"]))
    nat, _rolls = dice.d20(rng, net)
    bonus = spec["bonus"]
    for e in atk.effects:
        if e.get("atk"):
            bonus += dice.total(e["atk"].lstrip("-"), rng) * (-1 if e["atk"][0] == "-" else 1)
    total = nat + bonus
    ac = tgt.current_ac()
    crit = nat >= spec.get("crit", 20)
    hit = is_hit(nat, total, ac, spec.get("crit", 20))
    if not hit and nat != 1:  # a bardic inspiration die is spent only to turn a miss
        insp = next((e for e in atk.effects if e.get("inspired")), None)
        if insp is not None:
            total += dice.total(insp["inspired"], rng)
            _consume_once(atk, "inspired")
            hit = is_hit(nat, total, ac, spec.get("crit", 20))
    if hit and not crit and total < ac + 5 and _auto_shield(game, tgt, rng, out):
        ac = tgt.current_ac()
        hit = total >= ac
    if hit and not crit and distance(atk, tgt) <= 5 and any(c in tgt.conditions
                                                            for c in AUTO_CRIT_CLOSE):
        crit = True
    out.append(ev.Attacked(atk.eid, tgt.eid, nat, total, ac, hit, crit, spec["name"]))
    # Once-only effects are spent by the attack, hit or miss.
    if atk.effects:
        _consume_once(atk, "hidden")
        _consume_once(atk, "dis_next")
    if tgt.effects:
        tgt.effects[:] = [e for e in tgt.effects if not (e.get("next_adv") or e.get("help"))]
    atk.turn["attacked"] = True
    if not hit:
        return False
    first = True
    for dmg_dice, dtype in spec["damage"]:
        amount = dice.total(dmg_dice, rng, crit=crit)
        if first:
            amount += spec.get("dmg_bonus", 0)
            amount += _on_hit_extras(game, atk, tgt, spec, net, crit, rng)
            first = False
        deal(game, tgt, max(0, amount), dtype, out, crit=crit, rng=rng)
        if tgt.dead:
            break
    return True


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
    """Extra damage from features: rage, sneak attack, smite, marks (same type as the hit)."""
    extra = 0
    melee = spec["kind"] == "melee"
    if spec.get("weapon"):
        for e in atk.effects:
            if e.get("rage") and melee and spec.get("ability") == "str":
                extra += 2
        if (atk.cls == "rogue" and not atk.turn.get("sneak") and net >= 0
                and (spec.get("finesse") or spec["kind"] == "ranged")
                and (net > 0 or any(o != atk.eid and game.entities[o].side == atk.side
                                    and not game.entities[o].incapacitated
                                    for o in tgt.engaged))):
            atk.turn["sneak"] = True
            extra += dice.total(f"{(atk.level + 1) // 2}d6", rng, crit=crit)
        if melee and any(e.get("smite") for e in atk.effects):
            slot = next((i for i, n in enumerate(atk.slots) if n > 0), None)
            if slot is not None:
                atk.slots[slot] -= 1
                n = min(5, 2 + slot + (1 if tgt.ctype in ("undead", "fiend") else 0))
                extra += dice.total(f"{n}d8", rng, crit=crit)
            _consume_once(atk, "smite")
    for e in tgt.effects:
        if e.get("mark") and e.get("src") == atk.eid:
            extra += dice.total(e["mark"], rng, crit=crit)
    return extra


def _auto_shield(game: Game, tgt: Entity, rng: random.Random, out: Events) -> bool:
    """House rule auto_reactions: a creature that knows shield casts it when it would help."""
    if not game.house.get("auto_reactions", True):
        return False
    if "shield" not in tgt.spells or not tgt.reaction or tgt.incapacitated:
        return False
    slot = next((i for i, n in enumerate(tgt.slots) if n > 0), None)
    if slot is None:
        return False
    tgt.slots[slot] -= 1
    tgt.reaction = False
    tgt.effects.append({"name": "shield", "src": tgt.eid, "ac": 5, "until_turn": tgt.eid})
    out.append(ev.SpellCast(tgt.eid, "shield", slot + 1))
    return True


# -- damage, death and healing ------------------------------------------------------
def _matches(dtype: str, entries: list[str]) -> bool:
    return any(dtype in x for x in entries)


def adjust_damage(tgt: Entity, amount: int, dtype: str) -> int:
    """Immunity, then resistance (halve, round down), then vulnerability (double)."""
    if _matches(dtype, tgt.immune):
        return 0
    resist = _matches(dtype, tgt.resist) or tgt.has("petrified") or any(
        dtype in e.get("resist", ()) for e in tgt.effects)
    if resist:
        amount //= 2
    if _matches(dtype, tgt.vuln):
        amount *= 2
    return amount


def deal(game: Game, tgt: Entity, amount: int, dtype: str, out: Events, *, crit: bool = False,
         rng: random.Random | None = None) -> int:
    """Apply damage with resistances, temp HP, dropping to 0, death saves and massive damage."""
    if tgt.dead:
        return 0
    amount = adjust_damage(tgt, amount, dtype)
    if amount <= 0:
        out.append(ev.Damaged(tgt.eid, 0, dtype, tgt.hp))
        return 0
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
    if any(e.get("wake_on_damage") for e in tgt.effects):
        tgt.effects[:] = [e for e in tgt.effects if not e.get("wake_on_damage")]
        remove_condition(game, tgt, "unconscious", out)
    absorbed = min(tgt.temp_hp, amount)
    tgt.temp_hp -= absorbed
    rest = amount - absorbed
    overflow = rest - tgt.hp
    tgt.hp = max(0, tgt.hp - rest)
    out.append(ev.Damaged(tgt.eid, amount, dtype, tgt.hp))
    if tgt.hp == 0:
        if tgt.kind != "pc" or overflow >= tgt.max_hp:
            _die(game, tgt, out)
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


def _die(game: Game, tgt: Entity, out: Events) -> None:
    tgt.dead = True
    tgt.hp = 0
    tgt.death_f = min(3, max(tgt.death_f, 3 if tgt.kind == "pc" else 0))
    out.append(ev.Died(tgt.eid))
    _drop_out(game, tgt, out)


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
        if held and held.get("src") == tgt.eid:
            remove_condition(game, other, "grappled", out)


def heal(game: Game, tgt: Entity, amount: int, out: Events) -> int:
    if tgt.dead or amount <= 0 or tgt.ctype in ("undead", "construct"):
        return 0
    was_down = tgt.hp <= 0
    cap = tgt.max_hp + sum(int(e.get("max_hp", 0)) for e in tgt.effects)
    if tgt.exhaustion >= 4:  # exhaustion 4 halves the HP maximum
        cap //= 2
    before = tgt.hp
    tgt.hp = min(cap, tgt.hp + amount)
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
def check_adv(ent: Entity, ability: str, *, save: bool) -> int:
    adv = dis = False
    if save:
        if ability == "dex" and (ent.has("restrained")):
            dis = True
        if ability == "dex" and any(e.get("dodge") for e in ent.effects):
            adv = True
        if ent.exhaustion >= 3:
            dis = True
    else:
        if ent.exhaustion >= 1 or ent.has("poisoned") or ent.has("frightened"):
            dis = True
    if ability == "str" and any(e.get("rage") for e in ent.effects):
        adv = True
    return int(adv) - int(dis)


def saving_throw(game: Game, ent: Entity, ability: str, dc: int, rng: random.Random,
                 out: Events, what: str = "") -> bool:
    if ability in ("str", "dex") and any(c in ent.conditions for c in AUTO_FAIL_STR_DEX):
        out.append(ev.Rolled(ent.eid, what or f"{ability} save", 0, 0, dc, False))
        return False
    nat, _ = dice.d20(rng, check_adv(ent, ability, save=True))
    total = nat + ent.save_mod(ability)
    for e in ent.effects:
        if e.get("save"):
            s = e["save"]
            total += dice.total(s.lstrip("-"), rng) * (-1 if s[0] == "-" else 1)
    if total < dc:  # a bardic inspiration die is spent only when the save would fail
        insp = next((e for e in ent.effects if e.get("inspired")), None)
        if insp is not None:
            total += dice.total(insp["inspired"], rng)
            _consume_once(ent, "inspired")
    ok = total >= dc
    out.append(ev.Rolled(ent.eid, what or f"{ability} save", nat, total, dc, ok))
    return ok


# -- conditions and effects ---------------------------------------------------------
def add_condition(game: Game, ent: Entity, cond: str, out: Events, *, rounds: int = -1,
                  save: str = "", dc: int = 0, src: int = 0, conc: bool = False) -> bool:
    if cond in ent.cond_immune or ent.dead:
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
    ent.conditions[cond] = {"rounds": rounds, "save": save, "dc": dc, "src": src,
                            "conc": int(conc)}
    if fresh:
        out.append(ev.ConditionChanged(ent.eid, cond, True))
    if cond in ("unconscious", "paralyzed", "stunned", "petrified", "incapacitated"):
        if ent.conc:
            end_concentration(game, ent, out)
        if cond == "unconscious":
            ent.conditions.setdefault("prone", {"rounds": -1, "save": "", "dc": 0, "src": 0,
                                                "conc": 0})
    return True


def remove_condition(game: Game, ent: Entity, cond: str, out: Events) -> None:
    if cond == "exhaustion":
        if ent.exhaustion:
            ent.exhaustion -= 1
            out.append(ev.ConditionChanged(ent.eid, cond, False))
        return
    if ent.conditions.pop(cond, None) is not None:
        out.append(ev.ConditionChanged(ent.eid, cond, False))


def end_concentration(game: Game, caster: Entity, out: Events) -> None:
    """Concentration ends: every effect and condition the caster holds up falls away."""
    if not caster.conc:
        return
    caster.conc = ""
    for e in game.entities.values():
        if any(x.get("conc") and x.get("src") == caster.eid for x in e.effects):
            e.effects[:] = [x for x in e.effects
                            if not (x.get("conc") and x.get("src") == caster.eid)]
        for cond, info in list(e.conditions.items()):
            if info.get("conc") and info.get("src") == caster.eid:
                remove_condition(game, e, cond, out)


# -- spells -------------------------------------------------------------------------
def spell_dice(spell: dict[str, Any], fx: dict[str, Any], level: int, char_level: int) -> str:
    """The damage dice for a cast at `level` (slots) or by a caster of `char_level` (cantrips)."""
    if fx.get("dice"):
        base = fx["dice"]
        per = fx.get("dice_per_level")
        extra = level - int(spell["level"]) if per and spell["level"] else 0
        if extra > 0 and not fx.get("rays"):
            n, sides = per.split("d")
            return f"{base}+{int(n) * extra}d{sides}"
        return base
    dmg = spell.get("damage") or {}
    table = dmg.get("slots") or {}
    if table:
        key = str(max((int(k) for k in table if int(k) <= level), default=int(spell["level"])))
        return table.get(key, next(iter(table.values())))
    table = dmg.get("character_levels") or {}
    if table:
        key = str(max((int(k) for k in table if int(k) <= max(1, char_level)), default=1))
        return table[key]
    raise RulesError(f"{spell['name']} has no damage dice")


def cantrip_rays(fx: dict[str, Any], char_level: int) -> int:
    rays = int(fx.get("rays", 1))
    for lvl, n in (fx.get("rays_at") or {}).items():
        if char_level >= int(lvl):
            rays = max(rays, int(n))
    return rays


def with_mod(expr: str, m: int) -> str:
    e = expr.replace(" ", "")
    return e.replace("+MOD", f"{m:+d}").replace("MOD", str(m))


def cast(game: Game, caster: Entity, spell: dict[str, Any], targets: list[Entity], level: int,
         rng: random.Random, out: Events) -> None:
    """Resolve a spell on already-validated targets. Slots and actions are spent by the caller."""
    fx = effects_table()[spell["index"]]
    name = spell["index"]
    conc = bool(spell.get("concentration"))
    if conc:
        end_concentration(game, caster, out)
        caster.conc = name
    special = fx.get("special", "")
    dc = caster.spell_dc()
    rounds = int(fx.get("rounds", 0))
    save_ab = fx.get("save") or spell.get("save")
    attack_kind = fx.get("attack") or spell.get("attack")
    has_damage = bool(spell.get("damage") and (spell["damage"].get("type") or fx.get("dtype"))
                      ) or bool(fx.get("dice") and special != "sleep")
    dtype = fx.get("dtype") or (spell.get("damage") or {}).get("type") or "force"
    up = level - int(spell["level"]) if spell["level"] else 0
    if special == "sleep":
        _sleep(game, caster, spell, fx, targets, level, rng, out)
        return
    if special == "counterspell":
        out.append(ev.Info(caster.eid, "counterspell needs a spell to answer"))
        return
    if special == "teleport":
        if caster.engaged:
            _drop_engagements(game, caster)
        caster.band = "near"
        out.append(ev.Moved(caster.eid, "near"))
        return
    if special == "revive":
        for t in targets:
            if t.dead and t.kind == "pc":
                t.dead = False
                t.death_s = t.death_f = 0
                t.hp = 0
                heal(game, t, 1, out)
        return
    if special == "restore":
        for t in targets:
            for c in ("blinded", "deafened", "paralyzed", "poisoned"):
                remove_condition(game, t, c, out)
        return
    if special == "mage_armor":
        for t in targets:
            if not any(e["name"] == "mage-armor" for e in t.effects):
                t.effects.append({"name": "mage-armor", "src": caster.eid,
                                  "ac": max(0, 13 + t.mod("dex") - t.ac)})
        return
    if special == "aura" and fx.get("targets") == "self":
        caster.effects.append({"name": name, "src": caster.eid, "conc": conc, "rounds": rounds,
                               "aura": spell_dice(spell, fx, level, caster.level),
                               "aura_type": dtype, "aura_save": save_ab or "wis", "dc": dc,
                               "aura_self": True})
        return
    if special == "weapon":
        caster.effects.append({"name": name, "src": caster.eid, "rounds": rounds,
                               "weapon": with_mod(spell_dice(spell, fx, level, 0),
                                                  caster.spell_mod()), "weapon_type": dtype})
    rays = cantrip_rays(fx, caster.level) + max(0, up) * int(fx.get("rays_per_level", 0))
    # A save spell rolls its damage once for every target, as the SRD says.
    shared = dice.total(spell_dice(spell, fx, level, caster.level), rng) if (
        save_ab and has_damage and not attack_kind and not fx.get("autohit")) else 0
    for t in targets:
        hit = True
        saved = False
        if fx.get("autohit"):
            d = spell_dice(spell, fx, level, caster.level)
            amount = sum(dice.total(d, rng) for _ in range(rays))
            deal(game, t, amount, dtype, out, rng=rng)
            continue
        if attack_kind and has_damage:
            spec = {"name": name, "bonus": caster.spell_attack(), "kind": attack_kind,
                    "range": [int(spell.get("range_ft") or fx.get("range") or 5), 0],
                    "damage": [[with_mod(spell_dice(spell, fx, level, caster.level),
                                         caster.spell_mod()), dtype]], "spell": True}
            hit = False
            for _ in range(rays):
                if t.dead:
                    break
                hit = attack(game, caster, t, spec, rng, out) or hit
            if not hit:
                continue
        elif save_ab:
            if t.side != caster.side or fx.get("targets") in ("enemy", "enemies", "area"):
                saved = saving_throw(game, t, save_ab, dc, rng, out)
            if has_damage:
                amount = shared
                if saved:
                    amount = amount // 2 if fx.get("on_save", "none") == "half" else 0
                if amount or not saved:
                    deal(game, t, amount, dtype, out, rng=rng)
            if saved:
                continue
        if special == "aura":
            t.effects.append({"name": name, "src": caster.eid, "conc": conc, "rounds": rounds,
                              "aura": spell_dice(spell, fx, level, caster.level),
                              "aura_type": dtype, "aura_save": save_ab or "con", "dc": dc})
            continue
        if special == "push" and not t.dead:
            _drop_engagements(game, t)
        if special == "next_adv" and not t.dead:
            t.effects.append({"name": name, "src": caster.eid, "next_adv": True,
                              "until_turn": caster.eid})
        if special == "no_reactions":
            t.reaction = False
        if spell.get("heal") and (fx.get("heal") or fx.get("temp_hp")):
            table = spell["heal"]["slots"]
            key = str(max((int(k) for k in table if int(k) <= level), default=spell["level"]))
            amount = dice.total(with_mod(table[key], caster.spell_mod()), rng)
            if fx.get("temp_hp"):
                t.temp_hp = max(t.temp_hp, amount)
                out.append(ev.Healed(t.eid, 0, t.hp))
            else:
                heal(game, t, amount, out)
        if fx.get("condition") and not t.dead:
            add_condition(game, t, fx["condition"], out, rounds=rounds,
                          save=save_ab if fx.get("save_ends") else "", dc=dc, src=caster.eid,
                          conc=conc)
        if fx.get("condition_clear"):
            remove_condition(game, t, fx["condition_clear"], out)
        if fx.get("buff") and not t.dead:
            buff = dict(fx["buff"])
            if buff.get("max_hp"):
                buff["max_hp"] = 5 * (level - 1)
                t.hp += buff["max_hp"]
            # ac, speed, atk, save and mark are read live from effects where they apply
            t.effects.append({"name": name, "src": caster.eid, "conc": conc, "rounds": rounds,
                              **buff})


def _sleep(game: Game, caster: Entity, spell: dict[str, Any], fx: dict[str, Any],
           targets: list[Entity], level: int, rng: random.Random, out: Events) -> None:
    pool = dice.total(f"{5 + 2 * (level - 1)}d8", rng)
    out.append(ev.Rolled(caster.eid, "sleep", 0, pool))
    skip = set(fx.get("skip_types", []))
    for t in sorted(targets, key=lambda e: (e.hp, e.eid)):
        if t.hp <= 0 or t.ctype in skip or "unconscious" in t.cond_immune:
            continue
        if t.hp > pool:
            break
        pool -= t.hp
        add_condition(game, t, "unconscious", out, rounds=int(fx.get("rounds", 10)),
                      src=caster.eid)
        t.effects.append({"name": "sleep", "src": caster.eid, "wake_on_damage": True})


def _drop_engagements(game: Game, e: Entity) -> None:
    for o in e.engaged:
        other = game.entities.get(o)
        if other and e.eid in other.engaged:
            other.engaged.remove(e.eid)
    e.engaged.clear()


# -- monster actions ----------------------------------------------------------------
def action_spec(a: dict[str, Any]) -> dict[str, Any]:
    """A monster action as an attack spec for `attack`."""
    rng_ft = a.get("range") or [int(a.get("reach") or 5), 0]
    return {"name": a["name"], "bonus": int(a.get("attack_bonus") or 0),
            "kind": "ranged" if a.get("kind") == "ranged" else "melee", "range": list(rng_ft),
            "damage": [[d["dice"], d.get("type") or "bludgeoning"] for d in a.get("damage", [])
                       if d.get("dice")]}


def monster_save_action(game: Game, m: Entity, a: dict[str, Any], targets: list[Entity],
                        rng: random.Random, out: Events) -> None:
    save = a.get("save") or {}
    for t in targets:
        ok = saving_throw(game, t, save.get("ability", "dex"), int(save.get("dc", 10)), rng, out)
        for d in a.get("damage", []):
            if not d.get("dice"):
                continue
            amount = dice.total(d["dice"], rng)
            if ok:
                amount = amount // 2 if save.get("half") else 0
            if amount:
                deal(game, t, amount, d.get("type") or "bludgeoning", out, rng=rng)


__all__ = ["PHYSICAL", "attack", "deal", "heal", "saving_throw", "cast", "add_condition",
           "remove_condition", "end_concentration", "death_save", "adjust_damage"]
