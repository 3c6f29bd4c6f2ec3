"""A tarrasque's Reflective Carapace: magic missile, line spells and ranged spell attacks
aimed at it do nothing to it, and on a 6 they turn back on their caster."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import events as ev
from rules.effects import nodes as n

if TYPE_CHECKING:
    from rules.creature import Entity


def _turned(key: str) -> bool:
    """A spell the carapace turns: magic missile, a line, or a ranged spell attack."""
    from rules.effects import spellbook

    idx = key.removeprefix("spell:").split("#", 1)[0]
    sd = spellbook.spell_def(idx)
    return idx == "magic-missile" or (sd.area is not None and sd.area[0] == "line") or any(
        isinstance(x, n.Attack) and x.kind == "ranged" for x in n.walk(sd.tree))


def reflect(caster: Entity, key: str, targets: list[Entity], rng: random.Random,
            out: list[Any]) -> list[Entity]:
    """The spell's targets once each reflective one has rolled its d6: it drops out, and
    on a 6 the caster takes its place."""
    shelled = [t for t in targets if t.effects and any(x.has("reflective") for x in t.effects)]
    if not shelled or not key.startswith("spell:") or not _turned(key):
        return targets
    left = [t for t in targets if t not in shelled]
    for t in shelled:
        roll = rng.randint(1, 6)
        out.append(ev.Rolled(t.eid, "reflective carapace", 0, roll, 6, roll == 6))
        if roll == 6 and caster not in left:
            left.append(caster)
            out.append(ev.Info(t.eid, f"{t.name}'s carapace turns the spell on {caster.name}"))
        else:
            out.append(ev.Info(t.eid, f"{t.name}'s carapace shrugs off the spell"))
    return left
