"""Who an effect lands on: the named target, its neighbours in an area, allies or self."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules.creature import Entity
from rules.effects import nodes as n
from rules.effects.area import targets_in_area
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.game import Game
    from rules.intents import Ref


def neighbours(game: Game, caster: Entity, first: Entity, count: int,
               pool: list[Entity]) -> list[Entity]:
    """The first target plus those nearest it: engaged with it, then in its band."""
    def beside(e: Entity) -> bool:
        return first.eid in e.engaged or bool(set(e.engaged) & set(first.engaged))

    others = sorted((e for e in pool if e.eid != first.eid),
                    key=lambda e: (not beside(e), e.band != first.band, e.eid))
    return [first] + others[: count - 1]


def around(game: Game, caster: Entity, first: Entity, root: Any) -> list[Entity]:
    """A monster action's targets: its target, and for an area whoever else it holds."""
    if isinstance(root, n.Area):
        foes = [e for e in game.here(caster.room) if e.side == first.side and not e.down
                and e.ctype not in root.skip_types]
        return neighbours(game, caster, first, targets_in_area(root.shape, root.size), foes)
    return [first]


def for_spell(game: Game, a: Entity, sd: Any, ref: Ref | None) -> list[Entity]:
    """A spell's targets from its definition and the caster's pick; raises before changes."""
    kind = sd.targets
    foes, friends = game.foes_of(a), game.friends_of(a)
    if kind == "self":
        return [a]
    if kind == "any":
        return [game.find(ref, room=a.room)] if ref is not None else []
    if kind == "dead_ally":
        t = game.find(ref, room=a.room) if ref is not None else None
        if t is None or not t.dead:
            raise RulesError(f"{sd.name} needs a dead ally")
        return [t]
    if kind in ("ally", "allies"):
        first = game.find(ref, room=a.room, living=True) if ref is not None else None
        if first is None:
            hurt = sorted(friends, key=lambda e: (e.hp - e.max_hp, e.eid))
            first = hurt[0] if kind == "allies" and hurt else a
        if first.side != a.side:
            raise RulesError(f"{sd.name} is for allies")
        if kind == "ally":
            return [first]
        rest = sorted((e for e in friends if e.eid != first.eid), key=lambda e: (e.hp, e.eid))
        return [first] + rest[: sd.max_targets - 1]
    if ref is None:
        if len(foes) != 1:
            raise RulesError(f"cast {sd.name} at whom?")
        first = foes[0]
    else:
        first = game.find(ref, room=a.room, living=True)
    if first.side == a.side:
        raise RulesError(f"{sd.name} is aimed at enemies")
    if not first.in_fight:
        raise RulesError(f"{first.name} is already down")
    if sd.only_types and first.ctype not in sd.only_types:
        raise RulesError(f"{sd.name} does not work on {first.ctype or 'that'}")
    if kind == "enemy":
        return [first]
    if kind == "area":
        shape, size = sd.area or ("sphere", 5)
        cap = targets_in_area(shape, size)
    else:
        cap = sd.max_targets
    pool = foes
    if kind == "area" and game.house.get("friendly_fire", False) and not _sculpts(a, sd):
        # Theatre of the mind: whoever is locked in melee with the target stands in the
        # blast too (the caster aims past themself). Off unless the DM turns it on.
        pool = foes + [e for e in friends if e is not a and first.eid in e.engaged]
    return neighbours(game, a, first, cap, pool)


def _sculpts(a: Entity, sd: Any) -> bool:
    """Sculpt Spells: an evoker's evocation leaves its allies out of the area."""
    from rules import resolver

    return any(x.has("sculpt_spells") for x in a.effects) and (
        resolver.spell_data(sd.index).get("school") == "evocation")


def refuse_idle_heal(tree: n.Tree, targets: list[Entity]) -> None:
    """RulesError ("Ana needs no healing") for a spell or use that only heals (cure wounds,
    a potion, Second Wind) aimed only at the unhurt: a slip that would spend its slot or its
    use for nothing."""
    done = [x for x in n.walk(tree or ()) if not isinstance(x, n.Target | n.Area)]
    if targets and done and all(isinstance(x, n.Heal) for x in done) and all(
            t.unhurt for t in targets):
        raise RulesError(f"{targets[0].name} needs no healing")
