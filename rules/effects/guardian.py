"""A shield guardian and the wearer of its amulet: the ally it shields and suffers for.

The game has no amulet to hand out: the wearer is taken to be the guardian's master, the
strongest other creature on its side in the room (highest challenge rating, then the one
that came first).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game


def master(game: Game, guard: Entity) -> Entity | None:
    allies = [e for e in game.here(guard.room) if e.side == guard.side and e.eid != guard.eid
              and not e.dead and not any(x.has("interpose") for x in e.effects)]
    return min(allies, key=lambda e: (-e.cr, e.eid), default=None)


def guards_of(game: Game, tgt: Entity, tag: str) -> list[Entity]:
    """The guardians (bearing `tag`) whose amulet `tgt` wears."""
    return [g for g in game.here(tgt.room) if g.eid != tgt.eid and g.side == tgt.side
            and not g.dead and g.effects and any(x.has(tag) for x in g.effects)
            and (m := master(game, g)) is not None and m.eid == tgt.eid]


def share(game: Game, tgt: Entity, amount: int, dtype: str, out: list[Any], rng: Any,
          magical: bool) -> int:
    """Bound: half the damage the wearer takes (rounded up) goes to its guardian."""
    from rules import resolver

    guards = guards_of(game, tgt, "bound_guard")
    if not guards:
        return amount
    give = (amount + 1) // 2
    resolver.deal(game, guards[0], give, dtype, out, rng=rng, magical=magical)
    return amount - give
