"""The Use intent: class features and items from features.toml, run by the effect engine."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import events as ev
from rules import intents as it
from rules import multiclass
from rules.combat import after_action
from rules.creature import Entity
from rules.effects import selection
from rules.errors import RulesError
from rules.turns import in_turn, require

if TYPE_CHECKING:
    from rules.effects.featurebook import FeatureDef
    from rules.game import Game


def use(game: Game, a: Entity, i: it.Use, rng: random.Random) -> list[Any]:
    from rules import fuzzy
    from rules.effects import engine, featurebook

    in_combat = game.combat is not None
    if in_combat:
        in_turn(game, a)
    word = str(i.item).lower().replace("stabilize", "stabilise")
    summons = [x.name for x in a.effects if x.has("summon")]
    pool = featurebook.names() + summons + [x for x in a.inventory
                                            if x not in featurebook.names()]
    pool += [w["name"] for w in a.weapons]
    # What the character carries comes first: "use potion" with a potion of healing in the
    # pack drinks it, rather than naming some other potion of the rules' ("no potion of
    # speed left"). The rest of the pool keeps its forgiving spelling.
    mine = fuzzy.word_matches(word, [*summons, *a.inventory])
    hit = mine[0] if mine else fuzzy.best_match(word, pool)
    if hit is None:
        raise RulesError(f"nothing called {word[:20]!r} to use")
    f = featurebook.find("summon attack" if hit in summons else hit)
    if f is None:
        from rules import equipment

        kit = equipment.gear(a, hit)
        if kit is not None:  # using carried gear equips it
            return equipment.equip(game, a, *kit)
        raise RulesError(f"{hit} has no use in play yet")
    _check(a, f, in_combat)
    targets = _targets(game, a, f, i.target)
    cost = f.action
    if f.item and cost == "action" and any(x.has("fast_hands") for x in a.effects):
        cost = "bonus"  # Fast Hands: Cunning Action uses an object
    if in_combat and cost in ("action", "bonus"):
        require(a, cost, f.name)
    # -- all checks passed: spend and resolve --
    if in_combat and cost in ("action", "bonus"):
        a.turn[cost] -= 1
    if f.resource and not f.keep_resource:
        a.res[f.resource] -= 1
    if f.item:
        a.inventory.remove(f.item)
    out: list[Any] = [ev.ActionTaken(a.eid, f.name, targets[0].eid if targets and
                                     targets[0] is not a else 0)]
    engine.use(game, a, f"feature:{f.key}", targets, rng, out,
               name=hit if hit in summons else "")
    if in_combat and cost in ("action", "bonus"):
        out += after_action(game, a, rng)
    return out


def _check(a: Entity, f: FeatureDef, in_combat: bool) -> None:
    if f.resource:
        if f.resource not in a.res_max:
            raise RulesError(f"{a.name} lacks {f.name}")
        if a.res.get(f.resource, 0) <= 0:
            raise RulesError(f"{f.name} is used up; rest first")
    if f.cls and not multiclass.has_feature(a, f.cls, f.level):
        raise RulesError(f"{f.name} is a level {f.level} {f.cls} feature")
    if f.combat and not in_combat:
        raise RulesError(f"{f.name} is for combat")
    if f.peace and in_combat:
        raise RulesError(f"{f.name} takes a minute; not in combat")
    if f.item and f.item not in a.inventory:
        raise RulesError(f"no {f.item} left")
    if f.active and any(x.name == f.active or f.active in x.tags for x in a.effects):
        raise RulesError(f"{f.name} is already active")
    if f.needs_slot and not any(a.slots):
        raise RulesError(f"no spell slots left for {f.name}")
    if f.needs_effect and not any(x.has(f.needs_effect) for x in a.effects):
        raise RulesError(f"no {f.name} summoned")
    if f.after_attack and (not a.turn.get("attacked") or a.turn["action"] > 0):
        raise RulesError(f"{f.name} follows the Attack action")


def _targets(game: Game, a: Entity, f: FeatureDef, ref: it.Ref | None) -> list[Entity]:
    """Who a use lands on; RulesError (one line) for a target it cannot have."""
    targets = _pick(game, a, f, ref)
    selection.refuse_idle_heal(f.tree, targets)
    return targets


def _pick(game: Game, a: Entity, f: FeatureDef, ref: it.Ref | None) -> list[Entity]:
    if f.target == "self":
        return [a]
    if f.target in ("ally", "wounded_ally"):
        t = game.find(ref, room=a.room) if ref is not None else a
        if t.dead or t.side != a.side:
            raise RulesError(f"{f.name} is for a living ally")
        if f.target == "wounded_ally" and t.unhurt:
            raise RulesError(f"{t.name} needs no healing")
        return [t]
    if f.target == "other_ally":
        if ref is None:
            raise RulesError(f"{f.name} for whom?")
        t = game.find(ref, room=a.room, living=True)
        if t.eid == a.eid or t.side != a.side:
            raise RulesError(f"{f.name} is for an ally, not yourself")
        return [t]
    if f.target == "dying":
        if ref is None:
            raise RulesError(f"{f.name} whom?")
        t = game.find(ref, room=a.room)
        if not t.dying:
            raise RulesError(f"{t.name} is not dying")
        return [t]
    if f.target == "engaged":
        t = game.find(ref, room=a.room, living=True) if ref is not None else None
        if t is None:
            t = next((game.entities[o] for o in a.engaged if not game.entities[o].down), None)
        if t is None or t.eid not in a.engaged:
            raise RulesError(f"{f.name} needs an engaged target")
        return [t]
    t = game.find(ref, room=a.room, living=True) if ref is not None else None
    if t is None or t.side == a.side:
        raise RulesError(f"{f.name}: strike whom?")
    return [t]
