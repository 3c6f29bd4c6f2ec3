"""The Cast intent: which spell, which slot, which targets; the resolver does the rest."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, dice, multiclass, proficiency, resolver
from rules import events as ev
from rules import intents as it
from rules.combat import after_action, close_cost, close_in
from rules.creature import Entity
from rules.effects import nodes as n
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.turns import in_turn, require

if TYPE_CHECKING:
    from rules.game import Game


# -- spells -------------------------------------------------------------------------
def cast(game: Game, a: Entity, i: it.Cast, rng: random.Random) -> list[Any]:
    from rules import metamagic
    from rules.effects import engine, selection, spellbook

    in_combat = game.combat is not None
    spell = _known_spell(a, i.spell)
    reaction = "reaction" in spell.get("casting_time", "")
    if in_combat and not reaction:
        in_turn(game, a)
    elif a.incapacitated or a.hp <= 0:  # a reaction comes on anyone's turn
        raise RulesError(f"{a.name} cannot act")
    proficiency.check_casting(a)
    sd = spellbook.spell_def(spell["index"])
    points = metamagic.check(a, spell, i.meta, i.twin is not None)
    if "extended" in i.meta and sd.rounds < 10:
        raise RulesError("extended: a spell lasting a minute or more")
    if a.effects and any(x.has("wild_shape") for x in a.effects) and not any(
            x.has("beast_spells") for x in a.effects):
        raise RulesError(f"{a.name} cannot cast in beast shape; use revert first")
    if "V" in spell.get("components", ()) and "subtle" not in i.meta and any(
            x.has("silenced") for x in a.effects):
        raise RulesError(f"{spell['name']} has words to speak, and {a.name} is in silence")
    base = int(spell["level"])
    level = base if i.level is None else int(i.level)
    if a.pact and base:
        level = max(level, next((k + 1 for k, n in enumerate(a.max_slots) if n), base))
    if base and not base <= level <= 9:
        raise RulesError(f"{spell['name']} needs a level {base}+ slot")
    # Innate spells (a stat block's "1/day each") spend a use, not a slot, at their level.
    uses = a.innate.get(spell["index"])
    if uses == 0:
        raise RulesError(f"{spell['name']} is used up today")
    if uses is not None:
        level = base
    free = metamagic.free_resource(a, spell["index"]) if uses is None and (
        i.level is None or int(i.level) == base) else ""
    if free:  # a class resource casts it at its own level (Mystic Arcanum)
        level = base
    # A ritual outside combat takes ten minutes more and spends no slot.
    ritual = bool(spell.get("ritual")) and not in_combat and i.level is None
    if base and not ritual and uses is None and not free and a.slots[level - 1] <= 0:
        raise RulesError(f"no level {level} slots left")
    ctime = spell.get("casting_time", "1 action")
    slot = "bonus" if "bonus" in ctime else ("reaction" if "reaction" in ctime else "action")
    if "quickened" in i.meta:
        if slot != "action":
            raise RulesError("quickened: a spell of one action")
        slot = "bonus"
    if in_combat:
        if slot == "reaction":
            if not a.reaction:
                raise RulesError("reaction already used")
        else:
            require(a, slot, spell["name"])
            _bonus_spell_rule(a, slot, base, spell["name"])
        if not ("action" in ctime or "reaction" in ctime):
            raise RulesError(f"{spell['name']} takes {ctime}; cast it outside combat")
    targets = selection.for_spell(game, a, sd, i.target)
    selection.refuse_idle_heal(sd.tree, targets)
    twins = _twin(game, a, sd, targets, i.twin)
    out: list[Any] = []
    root = sd.tree[0]
    melee = any(isinstance(x, n.Attack) and x.kind == "melee" for x in n.walk(sd.tree))
    reach = int(spell.get("range_ft") or 0)
    if "distant" in i.meta:  # Distant Spell: double the range, touch becomes 30 ft
        reach = 2 * reach if reach > 5 else 30
    foe = targets[0] if targets and targets[0].side != a.side else None
    if twins and reach and resolver.distance(a, twins[0]) > max(reach, 5):
        raise RulesError(f"{twins[0].name} is out of range ({reach} ft)")
    if foe is not None and in_combat and melee and foe.eid not in a.engaged:
        cost = close_cost(a, foe)
        if cost > a.turn["move"]:
            raise RulesError(f"{foe.name} is out of reach")
        out += close_in(a, foe, cost)
    elif foe is not None and isinstance(root, n.Target | n.Area) and reach:
        if resolver.distance(a, foe) > max(reach, 5):
            raise RulesError(f"{foe.name} is out of range ({reach} ft)")
    elif foe is not None and isinstance(root, n.Area) and not reach:
        size = sd.area[1] if sd.area else 5
        if resolver.distance(a, foe) > max(size, 5):
            raise RulesError(f"{foe.name} is too far for {spell['name']}")
    # -- all checks passed: spend and resolve --
    if uses is not None and uses > 0:
        a.innate[spell["index"]] -= 1
    elif free:
        metamagic.spend_free(a, free)
    elif base and not ritual and uses is None:
        a.slots[level - 1] -= 1
    if in_combat:
        if slot == "reaction":
            a.reaction = False
        else:
            a.turn[slot] -= 1
            if slot == "bonus":
                a.turn["bonus_spell"] = True
            elif base:
                a.turn["levelled_spell"] = True
    if points:
        a.res["sorcery_points"] -= points
    if foe is not None and a.effects:  # casting at a foe ends the caster's sanctuary
        a.effects[:] = [x for x in a.effects if not x.has("ends_on_attack")]
    out.append(ev.SpellCast(a.eid, spell["index"], level))
    if "overchannel" in i.meta:
        metamagic.overchannel_cost(game, a, level, rng, out)
    if base and _counterspelled(game, a, level, rng, out):
        return out
    if spell.get("concentration") and not sd.adjudicated:
        resolver.end_concentration(game, a, out)
        a.conc = spell["index"]
    if "heightened" in i.meta and targets and targets[0] is not a:
        targets[0].effects.append(Effect("heightened", a.eid, tags=("dis_next_save",)))
    for group in [targets] + ([twins] if twins else []):
        engine.use(game, a, f"spell:{spell['index']}", group, rng, out, level=level,
                   meta=i.meta)
    if in_combat:
        out += after_action(game, a, rng)
    return out


def _twin(game: Game, a: Entity, sd: Any, targets: list[Entity], ref: it.Ref | None
          ) -> list[Entity]:
    """Twinned Spell: a second creature for a spell that targets only one (not self)."""
    if ref is None:
        return []
    if sd.targets not in ("enemy", "ally") or len(targets) != 1:
        raise RulesError(f"{sd.name} cannot be twinned: it is not for one creature")
    t = game.find(ref, room=a.room, living=True)
    if t is targets[0] or (t.side == a.side) != (targets[0].side == a.side):
        raise RulesError("twinned: a second, different target of the same kind")
    return [t]


def _bonus_spell_rule(a: Entity, slot: str, base: int, name: str) -> None:
    """After a bonus-action spell only an action cantrip may follow in the same turn, and a
    bonus-action spell cannot follow a levelled action spell (SRD: Casting Time)."""
    if slot == "action" and base and a.turn.get("bonus_spell"):
        raise RulesError(f"after a bonus-action spell only a cantrip; not {name}")
    if slot == "bonus" and a.turn.get("levelled_spell"):
        raise RulesError(f"{name} is a bonus-action spell; you already cast a levelled spell")


def _counterspelled(game: Game, caster: Entity, level: int, rng: random.Random,
                    out: list[Any]) -> bool:
    if not game.house.get("auto_reactions", True) or game.combat is None:
        return False
    for e in game.here(caster.room):
        if e.side == caster.side or "counterspell" not in e.spells or not e.reaction \
                or proficiency.hampering(e):
            continue
        if e.incapacitated or e.hp <= 0 or not any(e.slots[2:]) or any(
                x.has("no_reactions") for x in e.effects):
            continue
        slot = next(k for k in range(2, 9) if e.slots[k] > 0)
        e.slots[slot] -= 1
        e.reaction = False
        out.append(ev.SpellCast(e.eid, "counterspell", slot + 1))
        if level <= slot + 1:
            out.append(ev.Info(caster.eid, "the spell is countered"))
            return True
        nat, _ = dice.d20(rng, 0)
        total = nat + e.spell_mod(multiclass.spell_ability(e, "counterspell"))
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
