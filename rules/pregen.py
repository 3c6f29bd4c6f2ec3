"""Pregenerated characters for the 12 SRD classes at levels 1-20: `join Thorin fighter` plays at once."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from rules import classfeatures, content, levels
from rules.creature import ABILITIES, Entity, mod
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.levels import MAX_LEVEL, XP_LEVELS, xp_level

CLASSES = ("barbarian", "bard", "cleric", "druid", "fighter", "monk", "paladin", "ranger",
           "rogue", "sorcerer", "warlock", "wizard")
__all__ = ["CLASSES", "MAX_LEVEL", "XP_LEVELS", "character", "weapon_entry", "xp_level"]


@dataclass(frozen=True, slots=True)
class Build:
    order: tuple[str, ...]  # abilities from highest to lowest (standard array)
    weapons: tuple[str, ...]
    armor: str | None
    shield: bool
    spells: tuple[tuple[int, str], ...] = ()  # (minimum character level, spell index)
    skills: tuple[str, ...] = ()


STANDARD = (15, 14, 13, 12, 10, 8)
BUILDS: dict[str, Build] = {
    "barbarian": Build(("str", "con", "dex", "wis", "cha", "int"), ("greataxe", "handaxe"), None,
                       False, skills=("athletics", "perception")),
    "bard": Build(("cha", "dex", "con", "wis", "int", "str"), ("rapier", "dagger"), "leather-armor",
                  False, ((1, "vicious-mockery"), (1, "healing-word"), (1, "cure-wounds"),
                          (1, "thunderwave"), (1, "sleep"), (3, "shatter"), (3, "hold-person"),
                          (5, "hypnotic-pattern"), (7, "greater-invisibility"),
                          (7, "polymorph"), (9, "hold-monster"), (11, "irresistible-dance"),
                          (13, "forcecage"), (15, "power-word-stun"),
                          (17, "power-word-kill")),
                  ("performance", "persuasion", "stealth")),
    "cleric": Build(("wis", "con", "str", "dex", "cha", "int"), ("mace",), "chain-mail", True,
                    ((1, "sacred-flame"), (1, "guiding-bolt"), (1, "cure-wounds"),
                     (1, "healing-word"), (1, "bless"), (1, "shield-of-faith"),
                     (1, "inflict-wounds"), (1, "command"), (1, "bane"),
                     (3, "spiritual-weapon"), (3, "hold-person"),
                     (5, "spirit-guardians"), (5, "mass-healing-word"), (5, "revivify"),
                     (7, "guardian-of-faith"), (7, "banishment"), (9, "flame-strike"),
                     (9, "mass-cure-wounds"), (11, "heal"), (11, "harm"),
                     (13, "fire-storm"), (15, "holy-aura"), (17, "mass-heal")),
                    ("medicine", "insight")),
    "druid": Build(("wis", "con", "dex", "int", "str", "cha"), ("scimitar",), "leather-armor",
                   True, ((1, "produce-flame"), (1, "poison-spray"), (1, "entangle"),
                          (1, "cure-wounds"), (1, "healing-word"), (1, "faerie-fire"),
                          (1, "thunderwave"), (3, "moonbeam"),
                          (5, "call-lightning"), (7, "ice-storm"), (7, "blight"),
                          (9, "insect-plague"), (11, "sunbeam"), (11, "heal"),
                          (13, "fire-storm"), (15, "sunburst"), (17, "storm-of-vengeance")),
                   ("nature", "perception")),
    "fighter": Build(("str", "con", "dex", "wis", "cha", "int"), ("longsword", "crossbow-light"),
                     "chain-mail", True, skills=("athletics", "perception")),
    "monk": Build(("dex", "wis", "con", "str", "int", "cha"), ("shortsword",), None, False,
                  skills=("acrobatics", "stealth")),
    "paladin": Build(("str", "cha", "con", "wis", "dex", "int"), ("longsword", "javelin"),
                     "chain-mail", True, ((2, "bless"), (2, "cure-wounds"),
                                          (2, "shield-of-faith"), (2, "command"), (5, "aid"),
                                          (9, "revivify"), (13, "banishment"),
                                          (17, "dispel-evil-and-good")),
                     ("athletics", "persuasion")),
    "ranger": Build(("dex", "wis", "con", "str", "int", "cha"), ("longbow", "shortsword"),
                    "scale-mail", False, ((2, "hunters-mark"), (2, "cure-wounds"),
                                          (2, "goodberry"), (5, "spike-growth"),
                                          (9, "conjure-animals"), (13, "freedom-of-movement"),
                                          (17, "commune-with-nature")),
                    ("perception", "stealth", "survival")),
    "rogue": Build(("dex", "con", "int", "wis", "cha", "str"), ("rapier", "shortbow", "dagger"),
                   "leather-armor", False,
                   skills=("stealth", "acrobatics", "perception", "sleight-of-hand")),
    "sorcerer": Build(("cha", "con", "dex", "wis", "int", "str"), ("dagger",), None, False,
                      ((1, "fire-bolt"), (1, "ray-of-frost"), (1, "shocking-grasp"),
                       (1, "magic-missile"), (1, "burning-hands"), (1, "shield"),
                       (3, "scorching-ray"), (3, "misty-step"), (5, "fireball"),
                       (7, "polymorph"), (9, "cone-of-cold"), (11, "chain-lightning"),
                       (11, "disintegrate"), (13, "finger-of-death"), (15, "sunburst"),
                       (17, "meteor-swarm")),
                      ("arcana", "intimidation")),
    "warlock": Build(("cha", "con", "dex", "wis", "int", "str"), ("dagger",), "leather-armor",
                     False, ((1, "eldritch-blast"), (1, "charm-person"), (3, "misty-step"),
                             (3, "hold-person"), (5, "counterspell"),
                             (7, "banishment"), (9, "hold-monster"), (11, "circle-of-death"),
                             (13, "finger-of-death"), (15, "power-word-stun"),
                             (17, "power-word-kill")),
                     ("arcana", "deception")),
    "wizard": Build(("int", "con", "dex", "wis", "cha", "str"), ("dagger",), None, False,
                    ((1, "fire-bolt"), (1, "ray-of-frost"), (1, "acid-splash"),
                     (1, "magic-missile"), (1, "shield"), (1, "sleep"), (1, "burning-hands"),
                     (1, "mage-armor"), (3, "misty-step"), (3, "scorching-ray"),
                     (3, "hold-person"), (5, "fireball"), (5, "counterspell"),
                     (5, "lightning-bolt"), (7, "ice-storm"), (7, "greater-invisibility"),
                     (9, "cone-of-cold"), (9, "hold-monster"), (11, "chain-lightning"),
                     (11, "disintegrate"), (13, "delayed-blast-fireball"),
                     (15, "sunburst"), (17, "meteor-swarm")),
                    ("arcana", "investigation")),
}
PROFILE = {"barbarian": "brute", "fighter": "brute", "paladin": "brute", "monk": "skirmisher",
           "rogue": "skirmisher", "ranger": "archer"}


def gear_name(item: dict[str, Any]) -> str:
    """The name a player types: "light crossbow", not the list form "Crossbow, light"."""
    head, sep, tail = item["name"].lower().partition(", ")
    return f"{tail} {head}" if sep else head


def weapon_entry(w: dict[str, Any], abilities: dict[str, int], shield: bool = False
                 ) -> dict[str, Any]:
    """A weapon as the attack resolver wants it: dice, type, kind, ability, range, flags.
    A versatile weapon is wielded two-handed (its larger die) when no shield is carried."""
    props = set(w.get("properties", []))
    ranged = w.get("range_type") == "ranged"
    if "finesse" in props:
        ability = "dex" if mod(abilities["dex"]) >= mod(abilities["str"]) else "str"
    else:
        ability = "dex" if ranged else "str"
    two_hands = bool(w.get("versatile")) and not shield
    return {"name": gear_name(w), "dice": w["versatile"] if two_hands else w["damage"],
            "type": w["type"],
            "kind": "ranged" if ranged else "melee", "ability": ability,
            "range": [int(w.get("normal_range") or 5), int(w.get("long_range") or 0)],
            "light": "light" in props, "thrown": "thrown" in props,
            "versatile": w.get("versatile"), "two_handed": "two-handed" in props}


def unarmed_strike(monk_level: int) -> dict[str, Any]:
    """The monk's unarmed strike: the Martial Arts die of its monk level, DEX."""
    ma = levels.row("monk", monk_level)["class_specific"]["martial_arts"]
    return {"name": "unarmed strike", "dice": f"{ma['dice_count']}d{ma['dice_value']}",
            "type": "bludgeoning", "kind": "melee", "ability": "dex", "range": [5, 0],
            "light": True, "thrown": False, "versatile": None, "two_handed": False,
            "monk": True}


def armor_class(cls: str, level: int, ab: dict[str, int], armor: str | None,
                shield: bool) -> int:
    """AC from armour (or the class's unarmoured defence), shield and passive features."""
    ac = _ac(cls, ab, armor, shield)
    for p in classfeatures.passives(cls, level):
        if armor and p.get("ac_armored"):
            ac += int(p["ac_armored"])
        if not armor and p.get("unarmored_ac"):
            ac = max(ac, int(p["unarmored_ac"]) + mod(ab["dex"]) + (2 if shield else 0))
    return ac


def _ac(cls: str, ab: dict[str, int], armor: str | None, shield: bool) -> int:
    dex = mod(ab["dex"])
    if armor is None:
        base = 10 + dex
        if cls == "barbarian":
            base += mod(ab["con"])
        elif cls == "monk":
            base += mod(ab["wis"])
    else:
        a = _shared(content.armor(), content.armor_item, armor)
        bonus = dex if a["dex_bonus"] else 0
        if a.get("max_bonus") is not None:
            bonus = min(bonus, int(a["max_bonus"]))
        base = int(a["base_ac"]) + bonus
    return base + (2 if shield else 0)


def improve(ab: dict[str, int], order: tuple[str, ...], points: int,
            picks: tuple[str, ...] = (), taken: list[str] | None = None) -> dict[str, int]:
    """Ability score improvements, two points each: a pick takes a point (an ability) or a
    whole improvement (a feat: "grappler", added to `taken`); the rest go to the first
    ability (by the build's order) still under 20, the SRD's cap."""
    out = dict(ab)
    queue = list(picks)
    while points > 0 and queue:
        p = queue.pop(0)
        if p in out and out[p] < 20:
            out[p] += 1
            points -= 1
        elif p not in out and points >= 2:
            points -= 2  # a feat instead of the improvement
            if taken is not None:
                taken.append(p)
    for _ in range(points):
        best = next((a for a in order if out[a] < 20), None)
        if best is None:
            break
        out[best] += 1
    return out


@dataclass(frozen=True, slots=True)
class Race:
    """What a race (and subrace) adds to the sheet: rules/creation.py builds it from data."""

    index: str
    bonuses: tuple[tuple[str, int], ...] = ()
    speed: int = 30
    darkvision: int = 0
    resist: tuple[str, ...] = ()
    hp_per_level: int = 0
    skills: tuple[str, ...] = ()


def class_key(cls: str) -> str:
    """The class index a typed class names (forgiving); RulesError listing them if none."""
    key = cls.strip().lower()
    if key in BUILDS:
        return key
    from rules import fuzzy

    guess = fuzzy.best_match(key, CLASSES)
    if guess is None:
        raise RulesError(f"no class like {cls!r}; try one of: {', '.join(CLASSES)}")
    return guess


def character(name: str, cls: str, level: int = 1, eid: int = 0, *,
              scores: dict[str, int] | None = None, race: Race | None = None,
              skills: tuple[str, ...] | None = None, kit: Build | None = None,
              asi: tuple[str, ...] = (), extra_asi: int = 0) -> Entity:
    """A ready-to-play character; RulesError for an unknown class or a level outside 1-20.
    `scores`, `race`, `skills` and `kit` are creation choices (rules/creation.py validates
    them); without them it is the pregenerated build. `extra_asi`: improvements a
    multiclass character's other classes give (rules/multiclass.py)."""
    key = class_key(cls)
    if not 1 <= level <= MAX_LEVEL:
        raise RulesError(f"level must be 1-{MAX_LEVEL}")
    b = kit or BUILDS[key]
    if skills is not None:
        b = dataclasses.replace(b, skills=skills)
    data = _shared(content.classes(), content.cls, key)
    base = dict(scores) if scores else dict(zip(b.order, STANDARD, strict=True))
    for a, n in race.bonuses if race else ():
        base[a] += n
    feats: list[str] = []
    ab = improve(base, b.order, 2 * (levels.asi_count(key, level) + extra_asi), asi, feats)
    ab = classfeatures.improve_abilities({a: ab[a] for a in ABILITIES}, key, level)
    lv = data["levels"][str(level)]
    prof = int(lv.get("proficiency_bonus", 2 + (level - 1) // 4))
    hd = int(data["hit_die"])
    con = mod(ab["con"])
    max_hp = hd + con + (level - 1) * (hd // 2 + 1 + con) + (race.hp_per_level * level
                                                            if race else 0)
    spell_cfg = data.get("spellcasting") or {}
    slots = [int(x) for x in (lv.get("spell_slots") or [])][:9]
    slots += [0] * (9 - len(slots))
    max_slot = max((i + 1 for i, n in enumerate(slots) if n), default=0)
    spells = [s for lvl, s in b.spells if lvl <= level]
    spells = [s for s in spells if _spell_level(s) <= max_slot]
    skill_ab = content.skills()
    skills = {s: mod(ab[skill_ab.get(s, "wis")]) + prof
              for s in b.skills + (race.skills if race else ())}
    weapons = [weapon_entry(_shared(content.weapons(), content.weapon, w), ab, b.shield)
               for w in b.weapons]
    speed = race.speed if race else 30
    if key == "monk":
        speed += int(lv["class_specific"].get("unarmored_movement", 0))
        weapons.insert(0, unarmed_strike(level))
        for w in weapons:
            w["ability"] = "dex" if ab["dex"] >= ab["str"] else "str"
    if key == "barbarian" and level >= 5 and b.armor is None:
        speed += 10  # Fast Movement (no heavy armour)
    res = levels.class_resources(key, level, ab)
    inventory = ["potion of healing"] + (["thieves' tools"] if key == "rogue" else [])
    pc = Entity(
        eid=eid, name=name, side="party", kind="pc", abilities=ab,
        ac=armor_class(key, level, ab, b.armor, b.shield), hp=max_hp, max_hp=max_hp, cls=key, level=level,
        prof=prof, speed=speed, save_prof=list(data.get("saving_throws", [])), skills=skills,
        weapons=weapons, spells=spells,
        spell_ability=spell_cfg.get("ability") or levels.save_dc_ability(key),
        slots=list(slots), max_slots=list(slots), pact=spell_cfg.get("progression") == "pact",
        res=dict(res), res_max=dict(res), hit_dice=level, hd_size=hd, inventory=inventory,
        xp=XP_LEVELS[level - 1], profile=PROFILE.get(key, "caster"),
        darkvision=race.darkvision if race else 0, resist=list(race.resist) if race else [],
        armor=b.armor or "", shield=b.shield,
    )
    classfeatures.apply_passives(pc, key, level, b.skills)
    for f in feats:  # Grappler: advantage on attacks against a creature it grapples
        pc.effects.append(Effect(f, eid, tags=(f, "permanent")))
    return pc

def _shared(table: dict[str, dict[str, Any]], lookup: Any, key: str) -> dict[str, Any]:
    """An exact index reads the shared (read-only) table; anything else the forgiving lookup."""
    return table[key] if key in table else lookup(key)


def _spell_level(index: str) -> int:
    try:
        return int(_shared(content.spells(), content.spell, index)["level"])
    except RulesError:
        return 99  # a spell the content lacks is simply not offered
