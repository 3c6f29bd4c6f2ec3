"""The house rules the engine knows: one table of names, defaults and one-line descriptions."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HouseRule:
    name: str
    default: bool
    description: str  # one line, for the DM's console


HOUSE_RULES: dict[str, HouseRule] = {r.name: r for r in (
    HouseRule("auto_reactions", True,
              "shield and counterspell fire by themselves (text play cannot interrupt)"),
    HouseRule("auto_level", True, "crossing an XP threshold levels a character up"),
    HouseRule("torches", True, "the party carries light: a dark room counts as dim"),
    HouseRule("auto_legendary", True,
              "legendary monsters spend legendary actions at the end of other turns"),
    HouseRule("rolled_hp", False,
              "a level-up rolls the hit die for hit points instead of taking the average"),
    HouseRule("rolled_stats", False,
              "character creation may roll ability scores (4d6, drop the lowest)"),
    HouseRule("encumbrance", False,
              "variant encumbrance: over 5x STR lb speed -10, over 10x -20 and disadvantage"),
    HouseRule("friendly_fire", False,
              "area spells also catch the caster's allies in melee with the target"),
    # the node's table setting text_auth (node/identity.py), kept here so a replay reads it
    HouseRule("text_auth", False,
              "only authenticated radio input acts (PKI DMs, signed packets), not channel text"),
)}

# Rules on by default sit in every new game's state; the others are added only when the DM
# names them, so earlier games replay to the same digests.
DEFAULT_HOUSE: dict[str, bool] = {n: True for n, r in HOUSE_RULES.items() if r.default}


def known(name: str) -> HouseRule | None:
    return HOUSE_RULES.get(name)


def effective(house: dict[str, object]) -> dict[str, bool]:
    """Every known rule's setting in a game (its default when the game never named it)."""
    return {n: bool(house.get(n, r.default)) for n, r in HOUSE_RULES.items()}
