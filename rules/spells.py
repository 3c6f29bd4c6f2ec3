"""The Cast intent: which spell, which slot, which targets; the resolver does the rest."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, dice, resolver
from rules import events as ev
from rules import intents as it
from rules.combat import after_action, close_cost, close_in
from rules.creature import Entity
from rules.errors import RulesError
from rules.turns import in_turn, require

if TYPE_CHECKING:
    from rules.game import Game


# -- spells -------------------------------------------------------------------------
def cast(game: Game, a: Entity, i: it.Cast, rng: random.Random) -> list[Any]:
    in_combat = game.combat is not None
    if in_combat:
        in_turn(game, a)
    elif a.incapacitated:
        raise RulesError(f"{a.name} cannot act")
    spell = _known_spell(a, i.spell)
    fx = resolver.effects_table().get(spell["index"])
    if fx is None:
        raise RulesError(f"{spell['name']} is not mechanised yet")
    base = int(spell["level"])
    level = base if i.level is None else int(i.level)
    if a.pact and base:
        level = max(level, next((k + 1 for k, n in enumerate(a.max_slots) if n), base))
    if base and not base <= level <= 9:
        raise RulesError(f"{spell['name']} needs a level {base}+ slot")
    if base and a.slots[level - 1] <= 0:
        raise RulesError(f"no level {level} slots left")
    ctime = spell.get("casting_time", "1 action")
    slot = "bonus" if "bonus" in ctime else ("reaction" if "reaction" in ctime else "action")
    if in_combat:
        if slot == "reaction":
            if not a.reaction:
                raise RulesError("reaction already used")
        else:
            require(a, slot, spell["name"])
    targets = _spell_targets(game, a, spell, fx, i.target)
    out: list[Any] = []
    melee = (fx.get("attack") or spell.get("attack")) == "melee"
    reach = int(spell.get("range_ft") or fx.get("range") or 0)
    if melee and in_combat and targets[0].eid not in a.engaged and targets[0].side != a.side:
        cost = close_cost(a, targets[0])
        if cost > a.turn["move"]:
            raise RulesError(f"{targets[0].name} is out of reach")
        out += close_in(a, targets[0], cost)
    elif fx["targets"] in ("enemy", "area") and reach and targets[0].side != a.side:
        if resolver.distance(a, targets[0]) > max(reach, 5):
            raise RulesError(f"{targets[0].name} is out of range ({reach} ft)")
    elif fx["targets"] in ("enemy", "area") and not reach:
        size = int((spell.get("area") or {}).get("size", 5))
        if resolver.distance(a, targets[0]) > max(size, 5):
            raise RulesError(f"{targets[0].name} is too far for {spell['name']}")
    # -- all checks passed: spend and resolve --
    if base:
        a.slots[level - 1] -= 1
    if in_combat:
        if slot == "reaction":
            a.reaction = False
        else:
            a.turn[slot] -= 1
    out.append(ev.SpellCast(a.eid, spell["index"], level))
    if base and _counterspelled(game, a, level, rng, out):
        return out
    resolver.cast(game, a, spell, targets, level, rng, out)
    if in_combat:
        out += after_action(game, a, rng)
    return out


def _counterspelled(game: Game, caster: Entity, level: int, rng: random.Random,
                    out: list[Any]) -> bool:
    if not game.house.get("auto_reactions", True) or game.combat is None:
        return False
    for e in game.here(caster.room):
        if e.side == caster.side or "counterspell" not in e.spells or not e.reaction:
            continue
        if e.incapacitated or e.hp <= 0 or not any(e.slots[2:]):
            continue
        slot = next(k for k in range(2, 9) if e.slots[k] > 0)
        e.slots[slot] -= 1
        e.reaction = False
        out.append(ev.SpellCast(e.eid, "counterspell", slot + 1))
        if level <= slot + 1:
            out.append(ev.Info(caster.eid, "the spell is countered"))
            return True
        nat, _ = dice.d20(rng, 0)
        total = nat + e.spell_mod()
        ok = total >= 10 + level
        out.append(ev.Rolled(e.eid, "counterspell", nat, total, 10 + level, ok))
        if ok:
            return True
    return False


def _known_spell(a: Entity, ref: it.Ref) -> dict[str, Any]:
    from rules import fuzzy

    if not a.spells:
        raise RulesError(f"{a.name} casts no spells")
    if isinstance(ref, int):
        if not 0 <= ref < len(a.spells):
            raise RulesError(f"no spell #{ref}")
        return resolver.spell_data(a.spells[ref])
    def norm(x: str) -> str:
        return "".join(ch for ch in x.lower() if ch.isalnum())

    try:
        whole = content.spell(str(ref))  # the SRD-wide match decides an exact name
    except RulesError:
        whole = None
    if whole is not None and whole["index"] in a.spells:
        return resolver.spell_data(whole["index"])
    if whole is not None and norm(str(ref)) in (norm(whole["name"]), norm(whole["index"])):
        raise RulesError(f"{a.name} does not know {whole['name']}")
    names = {resolver.spell_data(s)["name"]: s for s in a.spells}
    hit = fuzzy.best_match(str(ref), list(names) + a.spells)
    if hit is None:
        raise RulesError(f"{a.name} does not know {str(ref)[:20]!r}")
    return resolver.spell_data(names.get(hit, hit))


def _spell_targets(game: Game, a: Entity, spell: dict[str, Any], fx: dict[str, Any],
                   ref: it.Ref | None) -> list[Entity]:
    kind = fx.get("targets", "enemy")
    here = [e for e in game.here(a.room)]
    foes = [e for e in here if e.side != a.side and not e.down]
    friends = [e for e in here if e.side == a.side and not e.dead]
    if kind == "self":
        return [a]
    if kind in ("ally", "allies"):
        if fx.get("special") == "revive":
            t = game.find(ref, room=a.room) if ref is not None else None
            if t is None or not t.dead:
                raise RulesError("revivify needs a dead ally")
            return [t]
        first = game.find(ref, room=a.room, living=True) if ref is not None else None
        if first is None:
            hurt = sorted(friends, key=lambda e: (e.hp - e.max_hp, e.eid))
            first = hurt[0] if kind == "allies" and hurt else a
        if first.side != a.side:
            raise RulesError(f"{spell['name']} is for allies")
        if kind == "ally":
            return [first]
        rest = sorted((e for e in friends if e.eid != first.eid), key=lambda e: (e.hp, e.eid))
        return [first] + rest[: int(fx.get("max_targets", 3)) - 1]
    if ref is None:
        if len(foes) != 1:
            raise RulesError(f"cast {spell['name']} at whom?")
        first = foes[0]
    else:
        first = game.find(ref, room=a.room, living=True)
    if first.side == a.side:
        raise RulesError(f"{spell['name']} is aimed at enemies")
    if first.down:
        raise RulesError(f"{first.name} is already down")
    only = fx.get("only_types")
    if only and first.ctype not in only:
        raise RulesError(f"{spell['name']} does not work on {first.ctype or 'that'}")
    if kind == "enemy":
        return [first]
    cap = resolver.area_cap(spell.get("area")) if kind == "area" else int(
        fx.get("max_targets", 3))
    pool = foes
    if kind == "area" and game.house.get("friendly_fire", False):
        # Theatre of the mind: whoever is locked in melee with the target stands in the
        # blast too (the caster aims past themself). Off unless the DM turns it on.
        pool = foes + [e for e in friends if e is not a and first.eid in e.engaged]

    def beside(e: Entity) -> bool:
        return first.eid in e.engaged or bool(set(e.engaged) & set(first.engaged))

    others = sorted((e for e in pool if e.eid != first.eid),
                    key=lambda e: (not beside(e), e.band != first.band, e.eid))
    return [first] + others[: cap - 1]
