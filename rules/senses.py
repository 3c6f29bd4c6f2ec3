"""What a creature perceives without sight: blindsight, and the senses that pinpoint a foe.

Blindsight (a stat block's `senses`) sees within its range through invisibility and
darkness; Echolocation loses it while deafened. Web Sense and Iron Scent only say where a
foe is: a hidden foe gains nothing against the creature. Camouflage gives advantage on the
Stealth check to hide in a room whose terrain (the dungeon's `terrain` tags) suits it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.creature import Entity

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
# A camouflage tag and the room terrain it hides in.
CAMOUFLAGE = {"stone_camouflage": "rocky", "water_camouflage": "water",
              "snow_camouflage": "snow"}


def _tagged(e: Entity, tag: str) -> bool:
    return bool(e.effects) and any(x.has(tag) for x in e.effects)


def terrain(game: Game, room: int) -> tuple[str, ...]:
    r = game.dungeon.rooms.get(room)
    return r.terrain if r is not None else ()


def feels(who: Entity, feet: int) -> bool:
    """`who` perceives a creature `feet` away by blindsight (an echolocator not deafened)."""
    if not who.blindsight or feet > who.blindsight:
        return False
    return not ("deafened" in who.conditions and _tagged(who, "echolocation"))


def carries_iron(e: Entity) -> bool:
    return e.armor in IRON_ARMOR or any(
        str(w.get("name", "")).lower() not in NO_IRON for w in e.weapons)


def pinpoints(game: Game, who: Entity, other: Entity, feet: int) -> bool:
    """`who` knows where `other` is, `feet` away, though it may not see it: hiding from it
    gains nothing."""
    if feels(who, feet):
        return True
    if not who.effects or who.room != other.room:
        return False
    if _tagged(who, "web_sense") and "webs" in terrain(game, who.room):
        return True  # the whole room is webbed: everyone in it touches the same web
    return _tagged(who, "iron_scent") and feet <= IRON_SCENT_FT and carries_iron(other)


def camouflaged(game: Game, e: Entity) -> bool:
    """Its camouflage suits this room's terrain: advantage on the Stealth check to hide."""
    if not e.effects:
        return False
    here = terrain(game, e.room)
    return any(where in here and _tagged(e, tag) for tag, where in CAMOUFLAGE.items())
