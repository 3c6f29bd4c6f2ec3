"""What a creature perceives without sight: blindsight, and the senses that pinpoint a foe.

Blindsight (a stat block's `senses`) sees within its range through invisibility and
darkness; Echolocation loses it while deafened. Web Sense, Iron Scent and Treasure Sense
only say where a foe is: a hidden foe gains nothing against the creature.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from rules.creature import Entity
from rules.terrain import tagged, terrain

if TYPE_CHECKING:
    from rules.game import Game

# Armour of iron or steel (hide, leather and padded are not), for Iron Scent.
IRON_ARMOR = frozenset({"breastplate", "chain-mail", "chain-shirt", "half-plate-armor",
                        "plate-armor", "ring-mail", "scale-mail", "splint-armor"})
# Weapons with no iron in them; every other weapon has a blade, head or point of it.
NO_IRON = frozenset({"club", "greatclub", "quarterstaff", "sling", "blowgun", "net",
                     "unarmed strike"})
# Within this many feet Iron Scent smells ferrous metal (the rust monster's stat block).
IRON_SCENT_FT = 30
# A Thief's Blindsense knows where hidden or invisible creatures within 10 ft are.
BLINDSENSE_FT = 10
# Treasure Sense smells coins and gems (loot like "12 gp", "silver ring") within 60 ft.
TREASURE_FT = 60
TREASURE_RE = re.compile(r"\b(?:\d+ [cseg]p|\d+ pp|coins?|gems?|gold|silver|platinum|"
                         r"jewel\w*|diamond|ruby|emerald|sapphire|pearl)\b", re.I)


def feels(who: Entity, feet: int) -> bool:
    """`who` perceives a creature `feet` away by blindsight (an echolocator not deafened)."""
    if not who.blindsight or feet > who.blindsight:
        return False
    return not ("deafened" in who.conditions and tagged(who, "echolocation"))


def carries_iron(e: Entity) -> bool:
    return e.armor in IRON_ARMOR or any(
        str(w.get("name", "")).lower() not in NO_IRON for w in e.weapons)


def carries_treasure(e: Entity) -> bool:
    return any(TREASURE_RE.search(item) for item in e.inventory)


def pinpoints(game: Game, who: Entity, other: Entity, feet: int) -> bool:
    """`who` knows where `other` is, `feet` away, though it may not see it: hiding from it
    gains nothing."""
    if feels(who, feet):
        return True
    if not who.effects or who.room != other.room:
        return False
    if tagged(who, "blindsense") and feet <= BLINDSENSE_FT and "deafened" not in who.conditions:
        return True  # a Thief hears where the hidden are
    if tagged(who, "web_sense") and "webs" in terrain(game, who.room):
        return True  # the whole room is webbed: everyone in it touches the same web
    if tagged(who, "treasure_sense") and feet <= TREASURE_FT and carries_treasure(other):
        return True
    return tagged(who, "iron_scent") and feet <= IRON_SCENT_FT and carries_iron(other)

