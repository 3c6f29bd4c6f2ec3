"""What a character carries, in pounds (SRD gear weights), and the load rules that follow
(the variant encumbrance, the carrying capacity, heavy armour too heavy for its wearer)."""

from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from rules import content
from rules.creature import Entity
from rules.effects.records import Effect
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game

COINS_PER_LB = 50  # SRD "Coins": fifty coins weigh a pound
SHIELD_LB = 6
COIN = re.compile(r"^(\d{1,6}) ?(cp|sp|ep|gp|pp)$")
# The effects a load puts on its bearer (the variant rule's penalties), by load level.
LOADS = ("", "encumbered", "heavily encumbered")
TOO_HEAVY = "heavy armour"  # worn below its Strength: speed -10 (SRD "Heavy Armor")


def item_name(index: str) -> str:
    """The name a pack holds for a gear index: "light crossbow" for a weapon or armour (so
    `use` wields or dons it), "arrows (20)" for ammunition sold by the bundle, else the SRD
    name in lower case."""
    from rules.pregen import gear_name

    g = content.gear()[index]
    if g["category"] in ("weapon", "armor"):
        return gear_name(g)
    n = int(g.get("quantity", 1))
    return f"{g['name'].lower()}s ({n})" if n > 1 else g["name"].lower()


@cache
def _weights() -> dict[str, float]:
    """Every way a gear item is written (index, name, "light crossbow") -> pounds."""
    from rules.pregen import gear_name

    out: dict[str, float] = {}
    for k, v in content.gear().items():
        w = float(v["weight"])
        out[k] = out[k.replace("-", " ")] = out[v["name"].lower()] = out[gear_name(v)] = w
        out[item_name(k)] = w
    return out


def item_weight(name: str) -> float:
    """Pounds of one carried item as written in an inventory (unknown things weigh 0)."""
    s = name.strip().lower()
    coins = COIN.match(s)
    if coins:
        return int(coins.group(1)) / COINS_PER_LB
    return _weights().get(s, 0.0)


def carried(e: Entity) -> float:
    """Pounds carried: the pack, the weapons in hand, the armour and shield worn."""
    lb = sum(item_weight(x) for x in e.inventory)
    lb += sum(item_weight(w["name"]) for w in e.weapons if not w.get("monk"))
    if e.armor:
        lb += item_weight(e.armor)
    return lb + (SHIELD_LB if e.shield else 0)


def capacity(e: Entity) -> int:
    """SRD carrying capacity: 15 x STR pounds."""
    return 15 * e.abilities.get("str", 10)


def level(e: Entity, lb: float | None = None) -> int:
    """The variant rule's load: 0 light, 1 encumbered (over 5 x STR), 2 heavily (over 10 x STR)."""
    load = carried(e) if lb is None else lb
    strength = e.abilities.get("str", 10)
    return 2 if load > 10 * strength else 1 if load > 5 * strength else 0


def check_pickup(game: Game, e: Entity, extra_lb: float) -> None:
    """Without the variant rule, a pick-up past the 15 x STR capacity is refused."""
    if game.house.get("encumbrance", False):
        return
    now = carried(e)
    if now + extra_lb > capacity(e):
        raise RulesError(f"{e.name} can carry {capacity(e)} lb and has {now:g}; too heavy")


def update(game: Game, e: Entity) -> None:
    """Set the load effects after the pack, the armour or STR changed: armour worn below its
    Strength, speed -10; under the variant rule (house rule encumbrance) encumbered, speed
    -10, heavily encumbered, speed -20 and disadvantage on STR/DEX/CON checks, saves and
    weapon attacks."""
    e.effects[:] = [x for x in e.effects if x.name not in (*LOADS[1:], TOO_HEAVY)]
    if e.kind != "pc":
        return
    need = int(content.armor()[e.armor].get("str_minimum") or 0) if e.armor else 0
    if e.abilities.get("str", 10) < need:
        e.effects.append(Effect(TOO_HEAVY, e.eid, speed=-10, tags=("permanent",)))
    if not game.house.get("encumbrance", False):
        return
    n = level(e)
    if n == 1:
        e.effects.append(Effect(LOADS[1], e.eid, speed=-10, tags=("permanent",)))
    elif n == 2:
        e.effects.append(Effect(LOADS[2], e.eid, speed=-20, tags=("permanent", "heavy_load")))


def sheet_note(game: Game, e: Entity) -> str:
    """The sheet's carry line: "carry 57/150 lb" (and the load under the variant rule)."""
    lb = carried(e)
    word = LOADS[level(e, lb)] if game.house.get("encumbrance", False) else ""
    return f"carry {lb:g}/{capacity(e)} lb" + (f" {word}" if word else "")
