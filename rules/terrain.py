"""A room's terrain tags as the rules read them: difficult ground, leaps over it, camouflage.

Snow, ice and webs are difficult terrain: a move through them costs double, except for a
creature whose trait crosses that ground (Ice Walk, Web Walker) or the stretch it leaps
over (Standing Leap; Running Leap after a 10 ft run-up). Camouflage gives advantage on the
Stealth check to hide in a room whose terrain suits it. Among trees a tree strider leaves
melee unopposed; in water a creature susceptible to it is hurt by every 5 ft it moves.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rules.creature import Entity

if TYPE_CHECKING:
    from rules.game import Game

# Difficult ground, and the tag of the trait that crosses it at no extra cost.
DIFFICULT = {"snow": "ice_walk", "ice": "ice_walk", "webs": "web_walker"}
# A camouflage tag and the room terrain it hides in.
CAMOUFLAGE = {"stone_camouflage": "rocky", "water_camouflage": "water",
              "snow_camouflage": "snow"}
RUN_UP = 10  # feet a Running Leap needs before the jump


def tagged(e: Entity, tag: str) -> bool:
    return bool(e.effects) and any(x.has(tag) for x in e.effects)


def terrain(game: Game, room: int) -> tuple[str, ...]:
    r = game.dungeon.rooms.get(room)
    return r.terrain if r is not None else ()


def rough(game: Game, e: Entity) -> bool:
    """The room's ground is difficult for this creature (read once, at its turn's start)."""
    return any(t in DIFFICULT and not tagged(e, DIFFICULT[t]) for t in terrain(game, e.room))


def cost(e: Entity, feet: int) -> int:
    """Movement a move of `feet` takes: double on rough ground, but the stretch it leaps
    over counts once."""
    if not e.turn.get("rough"):
        return feet
    leap = max((x.leap for x in e.effects if x.leap), default=0)
    if leap and tagged(e, "run_up"):
        leap = min(leap, max(0, feet - RUN_UP))
    jumped = min(feet, leap)
    return jumped + 2 * (feet - jumped)


def spend(e: Entity, feet: int) -> None:
    """Movement used this turn: `moved` is what Water Susceptibility counts."""
    e.turn["move"] -= feet
    e.turn["moved"] = e.turn.get("moved", 0) + feet


def hurts(game: Game, e: Entity) -> bool:
    """Moving here hurts it: water, to a creature susceptible to it (1 cold per 5 ft)."""
    return tagged(e, "water_susceptible") and "water" in terrain(game, e.room)


def strides(game: Game, e: Entity) -> bool:
    """Tree Stride: among trees it steps into one and out of another, so leaving melee
    provokes no opportunity attacks."""
    return tagged(e, "tree_stride") and "trees" in terrain(game, e.room)


def camouflaged(game: Game, e: Entity) -> bool:
    """Its camouflage suits this room's terrain: advantage on the Stealth check to hide."""
    if not e.effects:
        return False
    here = terrain(game, e.room)
    return any(where in here and tagged(e, tag) for tag, where in CAMOUFLAGE.items())
