"""Metal that rusts or corrodes on a monster: a weapon's damage penalty, armour's AC penalty.

A rust monster or gray ooze hit by a nonmagical metal weapon leaves it -1 to damage for
good (destroyed at -5); a rust monster's antennae or a gray ooze's pseudopod take a point
of AC from metal armour (destroyed at AC 10) or a shield (destroyed at +0). The SRD's
weapon and armour tables do not say what is metal: these lists do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules import content
from rules import events as ev
from rules.effects.records import Effect

if TYPE_CHECKING:
    from rules.creature import Entity

# Weapons of wood, leather or cord; every other SRD weapon has a metal blade or head.
NOT_METAL = frozenset({"club", "greatclub", "quarterstaff", "whip", "sling", "net",
                       "shortbow", "longbow", "blowgun"})
METAL_ARMOUR = frozenset({"chain-shirt", "scale-mail", "breastplate", "half-plate-armor",
                          "ring-mail", "chain-mail", "splint-armor", "plate-armor"})
WEAPON_LIMIT = 5  # the penalty that destroys a weapon
ARMOUR_FLOOR = 10  # armour whose AC falls to this is destroyed
RUSTED = "corroded armour"


def rust_weapon(e: Entity, name: str, out: list[Any]) -> bool:
    """The named nonmagical metal weapon of `e` takes -1 to damage (gone at -5)."""
    w = next((w for w in e.weapons if w["name"] == name), None)
    if w is None or w.get("magical") or w["name"] in NOT_METAL:
        return False
    w["rust"] = int(w.get("rust", 0)) + 1
    w["dmg"] = int(w.get("dmg", 0)) - 1
    if w["rust"] >= WEAPON_LIMIT:
        e.weapons.remove(w)
        out.append(ev.Info(e.eid, f"{e.name}'s {name} crumbles to rust"))
    else:
        out.append(ev.Info(e.eid, f"{e.name}'s {name} corrodes (-{w['rust']} damage)"))
    return True


def on_weapon_hit(tgt: Entity, atk: Entity, spec: dict[str, Any], out: list[Any]) -> None:
    """Rust Metal, Corrode Metal: a nonmagical metal weapon (not ammunition) that hits."""
    if spec.get("weapon") and not spec.get("magical") and any(
            x.has("rusts_metal") for x in tgt.effects):
        w = next((w for w in atk.weapons if w["name"] == spec["name"]), None)
        if w is not None and w["kind"] == "melee":
            rust_weapon(atk, spec["name"], out)


def corrode_armour(e: Entity, out: list[Any], *, shield: bool = True) -> bool:
    """Metal armour (else a shield, when `shield`) of `e` gives 1 less AC for good."""
    from rules import pregen

    if e.armor in METAL_ARMOUR:
        rec = next((x for x in e.effects if x.name == RUSTED), None)
        if rec is None:
            rec = Effect(RUSTED, 0, tags=("permanent",))
            e.effects.append(rec)
        rec.ac -= 1
        base = int(content.armor()[e.armor]["base_ac"])
        if base + rec.ac <= ARMOUR_FLOOR:
            lvl = max(1, e.level)
            e.ac += pregen.armor_class(e.cls, lvl, e.abilities, None, e.shield) - \
                pregen.armor_class(e.cls, lvl, e.abilities, e.armor, e.shield)
            e.effects.remove(rec)
            out.append(ev.Info(e.eid, f"{e.name}'s {e.armor.replace('-', ' ')} falls apart"))
            e.armor = ""
        else:
            out.append(ev.Info(e.eid, f"{e.name}'s armour corrodes ({rec.ac} AC)"))
        return True
    if shield and e.shield:
        rec = next((x for x in e.effects if x.name == "corroded shield"), None)
        if rec is None:
            rec = Effect("corroded shield", 0, tags=("permanent",))
            e.effects.append(rec)
        rec.ac -= 1
        if rec.ac <= -2:  # a shield's +2 gone: it is destroyed
            e.effects.remove(rec)
            e.shield = False
            e.ac -= 2
            out.append(ev.Info(e.eid, f"{e.name}'s shield falls apart"))
        else:
            out.append(ev.Info(e.eid, f"{e.name}'s shield corrodes ({rec.ac} AC)"))
        return True
    return False
