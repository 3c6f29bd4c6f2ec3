"""Multiclass characters (SRD "Multiclassing"): levels in several classes made into one sheet."""

from __future__ import annotations

from typing import Any

from rules import classfeatures, content, levels
from rules.classfeatures import class_levels
from rules.creature import Entity, mod, prof_for_level
from rules.errors import RulesError

# SRD "Multiclassing: Proficiencies": the skills a second class grants (its armour and
# weapon share is classes.json's multiclass_proficiencies, read by rules/proficiency.py).
NEW_CLASS_SKILLS = {"bard": 1, "ranger": 1, "rogue": 1}


def class_level(e: Entity, cls: str) -> int:
    return class_levels(e).get(cls, 0)


def label(e: Entity) -> str:
    """The sheet's class line: "fighter 5 / wizard 2"."""
    return " / ".join(f"{c} {n}" for c, n in class_levels(e).items())


def refusal(e: Entity, cls: str) -> str:
    """'' when e may take a level in cls: a class it already has, or a new one whose
    prerequisite and every current class's prerequisite its scores meet; else why not."""
    if cls not in content.classes():
        return f"no class {cls!r}"
    have = class_levels(e)
    if cls in have:
        return ""
    why = next((w for c in [*have, cls] if (w := levels.can_multiclass(e.abilities, c))), "")
    return f"{e.name} cannot multiclass: {why}" if why else ""


def check_new_class(e: Entity, cls: str) -> None:
    """RulesError (one line) unless e may take a level in cls (see `refusal`)."""
    why = refusal(e, cls)
    if why:
        raise RulesError(why)


def feature_level(e: Entity, key: str) -> int:
    """The level a class feature scales with: its own class's level (Second Wind heals
    1d10 + fighter level; the class is the feature's, or the one its resource belongs to),
    or the total level for a feature of no class (a potion)."""
    from rules.effects import featurebook

    if not e.levels:
        return e.level
    f = next((f for f in featurebook.book().values() if f.key == key), None)
    cls = f.cls if f else ""
    if f and not cls and f.resource:
        cls = next((c for c, table in levels.resource_table().items()
                    if f.resource in table and c in e.levels), "")
    return class_level(e, cls) if cls else e.level


def short_rest_slots(e: Entity) -> None:
    """Pact Magic returns on a short rest: every slot of a warlock alone; beside another
    caster's slots, the pact slots (at their level) only."""
    if e.pact:
        e.slots = list(e.max_slots)
        return
    n = class_level(e, "warlock") if e.levels else 0
    # The slots at the pact level are one pool: restoring up to the pact count of what is
    # spent there is exactly what a caster gets who spends pact slots first, as one may.
    for k, count in enumerate(_row_slots("warlock", n) if n else ()):
        if count:
            e.slots[k] = min(e.max_slots[k], e.slots[k] + count)


def next_hit_die(e: Entity) -> int:
    """The size of the next hit die a short rest spends: each class gives its own (d10 a
    fighter level, d6 a wizard level), spent largest first and regained smallest first."""
    if not e.levels:
        return e.hd_size
    sizes = sorted((int(content.classes()[c]["hit_die"]) for c, n in e.levels.items()
                    for _ in range(n)), reverse=True)
    return sizes[min(len(sizes) - 1, max(0, len(sizes) - e.hit_dice))]


def has_feature(e: Entity, cls: str, level: int) -> bool:
    """Has e reached `level` in `cls` (a class feature's own level)?"""
    return class_level(e, cls) >= level


def attacks(e: Entity) -> int:
    """Attacks one Attack action makes: Extra Attack from several classes does not stack."""
    return max((levels.attacks_per_action(c, n) for c, n in class_levels(e).items()),
               default=1)


def combine(pc: Entity, by_class: dict[str, int], order: tuple[str, ...],
            race_hp: int = 0) -> Entity:
    """Add the other classes' levels to `pc`, a sheet built at its primary class's level
    (its abilities already take every class's improvements); `race_hp`: HP a level from the
    race (hill dwarf). Mutates and returns pc."""
    total = sum(by_class.values())
    con = mod(pc.abilities["con"])
    proficient = _proficient(pc)
    passives = classfeatures.passives(pc.cls, by_class[pc.cls])
    # The sheet's spellcasting ability is the first caster class's (a monk's ki DC gives
    # way); the other classes' spells are cast with their own (spell_ability below).
    casting = _casting_ability(pc.cls)
    pc.max_slots = spell_slots(by_class)  # first: domain and oath spells go up to these
    pc.slots = list(pc.max_slots)
    for cls, n in by_class.items():
        if cls == pc.cls:
            continue
        hd = int(content.classes()[cls]["hit_die"])
        pc.max_hp += n * (hd // 2 + 1 + con + race_hp)
        pool = [s for s in content.classes()[cls]["skill_choices"]["from"] if s not in proficient]
        proficient |= set(pool[:NEW_CLASS_SKILLS.get(cls, 0)])
        for k, v in levels.class_resources(cls, n, pc.abilities).items():
            pc.res_max[k] = max(v, pc.res_max.get(k, 0))
        pc.spells += [s for s in _class_spells(cls, n) if s not in pc.spells]
        if not casting and _casting_ability(cls):
            casting = pc.spell_ability = _casting_ability(cls)
        pc.speed += _speed_bonus(pc, cls, n)
        if cls == "monk":  # Martial Arts: the unarmed strike, DEX or STR as is better
            from rules.pregen import unarmed_strike

            fist = unarmed_strike(n)
            fist["ability"] = "dex" if pc.abilities["dex"] >= pc.abilities["str"] else "str"
            pc.weapons.insert(0, fist)
        pc.skills = dict.fromkeys(proficient, 0)
        classfeatures.apply_passives(pc, cls, n, order)  # saves, tags, weapons, extra skills
        proficient = _proficient(pc)
        passives += classfeatures.passives(cls, n)
    pc.level, pc.levels, pc.hit_dice = total, dict(by_class), total
    pc.prof = prof_for_level(total)
    pc.skills = dict.fromkeys(proficient, 0)
    classfeatures.skill_bonuses(pc, passives, order)
    pc.pact = set(_casters(by_class)) == {"warlock"}
    pc.res = dict(pc.res_max)
    pc.hp = pc.max_hp
    return pc


def _speed_bonus(pc: Entity, cls: str, n: int) -> int:
    """A second class's speed: Unarmored Movement (monk, no armour or shield), Fast
    Movement (barbarian 5, no heavy armour)."""
    if cls == "monk" and not pc.armor and not pc.shield:
        return int(levels.row(cls, n)["class_specific"].get("unarmored_movement", 0))
    heavy = bool(pc.armor) and content.armor()[pc.armor]["category"] == "heavy"
    return 10 if cls == "barbarian" and n >= 5 and not heavy else 0


def spell_slots(by_class: dict[str, int]) -> list[int]:
    """Slots by level: one caster class uses its own table; several use the multiclass table
    (levels.multiclass_slots), with a warlock's Pact Magic slots added beside them."""
    casters = _casters(by_class)
    own = [c for c in casters if c != "warlock"]
    if len(own) == 1:
        slots = _row_slots(own[0], by_class[own[0]])
    else:
        slots = levels.multiclass_slots({c: by_class[c] for c in own})
    if "warlock" in casters:
        slots = [a + b for a, b in zip(slots, _row_slots("warlock", by_class["warlock"]),
                                       strict=True)]
    return slots


def spell_ability(e: Entity, spell: str) -> str:
    """The ability `e` casts `spell` with (SRD "Multiclassing: Spellcasting": each class's
    spells use that class's spellcasting ability): of e's caster classes whose list has the
    spell, the one with the best modifier; "" for one class, or a spell on none of their
    lists (the sheet's own ability then)."""
    if len(e.levels) < 2:
        return ""
    lists = set((content.spells().get(spell) or {}).get("classes") or ())
    abilities = [a for c in e.levels if c in lists and (a := _casting_ability(c))]
    return max(abilities, key=e.mod, default="")


def _casting_ability(cls: str) -> str:
    return str((content.classes()[cls].get("spellcasting") or {}).get("ability") or "")


def _casters(by_class: dict[str, int]) -> list[str]:
    return [c for c, n in by_class.items() if any(_row_slots(c, n))]


def _row_slots(cls: str, level: int) -> list[int]:
    got = [int(x) for x in (levels.row(cls, level).get("spell_slots") or [])][:9]
    return got + [0] * (9 - len(got))


def _class_spells(cls: str, level: int) -> list[str]:
    """The pregenerated build's spells a class gives at its own level and slot table."""
    from rules.pregen import BUILDS

    slots = _row_slots(cls, level)
    top = max((k + 1 for k, n in enumerate(slots) if n), default=0)
    spells = content.spells()
    return [s for lvl, s in BUILDS[cls].spells
            if lvl <= level and s in spells and int(spells[s]["level"]) <= top]


def _proficient(pc: Entity) -> set[str]:
    """Skills pc is proficient in (not those only Jack of All Trades' half bonus fills)."""
    skill_ab: dict[str, Any] = content.skills()
    return {s for s, v in pc.skills.items()
            if v >= pc.mod(skill_ab.get(s, "wis")) + pc.prof}
