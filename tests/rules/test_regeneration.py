"""Troll Regeneration: down, not dead, at 0 HP; its turn's start raises it or, burnt, kills it."""

from __future__ import annotations

import random

from rules_helpers import fight, party, turn_of

from rules import events as ev
from rules import intents as it
from rules import resolver, tactics
from rules.effects.records import Effect
from rules.game import Game, apply


def _trolls(n: int = 1, cls: str = "fighter", level: int = 5) -> tuple[Game, list[int]]:
    g = party(("Hero", cls, level))
    return g, fight(g, "troll", n)


def _drop(g: Game, eid: int, dtype: str = "slashing") -> list[object]:
    t = g.entities[eid]
    out: list[object] = []
    resolver.deal(g, t, t.hp, dtype, out, rng=random.Random(1))
    return out


def _start_turn(g: Game, eid: int) -> list[object]:
    return apply(g, None, it.Dm("set_turn", eid), random.Random(2))


def _regen(g: Game, eid: int) -> Effect:
    return next(x for x in g.entities[eid].effects if x.name == "trait:Regeneration")


def test_a_troll_dropped_to_0_is_down_unconscious_and_still_in_the_fight() -> None:
    g, (troll,) = _trolls()
    out = _drop(g, troll)
    t = g.entities[troll]
    assert t.hp == 0 and not t.dead and t.rising and t.in_fight
    assert "unconscious" in t.conditions and t.incapacitated
    assert any(isinstance(x, ev.Downed) and x.target == troll for x in out)
    assert not any(isinstance(x, ev.Died) for x in out)
    hero = g.find("Hero")
    assert troll in [f.eid for f in g.foes_of(hero)]
    turn_of(g, hero.eid)
    apply(g, hero.eid, it.EndTurn(), random.Random(1))  # the check at the turn's end
    assert g.combat is not None  # a rising troll keeps the fight going


def test_damage_while_down_does_not_kill_it_not_even_massive_damage() -> None:
    g, (troll,) = _trolls()
    _drop(g, troll)
    out: list[object] = []
    resolver.deal(g, g.entities[troll], 500, "bludgeoning", out, rng=random.Random(1), crit=True)
    assert not g.entities[troll].dead and g.entities[troll].rising
    assert not any(isinstance(x, ev.Died) for x in out)


def test_it_rises_at_its_turn_start_with_10_hp_and_acts() -> None:
    g, (troll,) = _trolls()
    _drop(g, troll)
    out = _start_turn(g, troll)
    t = g.entities[troll]
    assert t.hp == 10 and not t.dead
    assert "unconscious" not in t.conditions and "prone" not in t.conditions
    assert any(isinstance(x, ev.Healed) and x.target == troll and x.amount == 10 for x in out)
    assert g.current_turn() == troll
    assert any(isinstance(o.intent, it.Attack) for o in tactics.legal_actions(g, troll))


def test_fire_while_down_kills_it_at_its_turn_start_not_before() -> None:
    g, (first, second) = _trolls(2)
    _drop(g, first)
    out: list[object] = []
    resolver.deal(g, g.entities[first], 3, "fire", out, rng=random.Random(1))
    t = g.entities[first]
    assert not t.dead and not t.rising and not t.in_fight  # doomed, but its turn decides
    out = _start_turn(g, first)
    assert t.dead and any(isinstance(x, ev.Died) and x.target == first for x in out)
    assert not any(isinstance(x, ev.Healed) and x.target == first for x in out)
    assert g.combat is not None and not g.entities[second].down  # the other fights on


def test_acid_before_it_drops_also_stops_it_rising() -> None:
    g, (first, _second) = _trolls(2)
    out: list[object] = []
    resolver.deal(g, g.entities[first], 5, "acid", out, rng=random.Random(1))
    _drop(g, first)
    out = _start_turn(g, first)
    assert g.entities[first].dead


def test_barred_healing_keeps_it_from_rising() -> None:
    """Chill touch's no_heal: its regeneration cannot restore hit points, so it dies."""
    g, (troll, _other) = _trolls(2)
    _drop(g, troll)
    g.entities[troll].effects.append(Effect("chill touch", 1, rounds=1, tags=("no_heal",)))
    _start_turn(g, troll)
    assert g.entities[troll].dead


def test_the_last_troll_burnt_while_down_ends_the_fight_with_its_xp() -> None:
    g, (troll,) = _trolls()
    _drop(g, troll)
    hero = g.find("Hero")
    turn_of(g, hero.eid)
    out: list[object] = []
    resolver.deal(g, g.entities[troll], 4, "fire", out, rng=random.Random(1))
    out += apply(g, hero.eid, it.EndTurn(), random.Random(1))
    assert g.entities[troll].dead and g.combat is None
    end = next(x for x in out if isinstance(x, ev.CombatEnded))
    assert end.outcome == "won" and end.xp == 1800


def test_the_switch_is_the_traits_data() -> None:
    """Without dies_only_at_turn_start (an oni's Regeneration has none) 0 HP is death."""
    g, (troll,) = _trolls()
    rec = _regen(g, troll)
    rec.tags = tuple(x for x in rec.tags if x != "dies_only_at_turn_start")
    _drop(g, troll)
    assert g.entities[troll].dead
    g2 = party(("Hero", "fighter", 5))
    (oni,) = fight(g2, "oni", 1)
    assert not _regen(g2, oni).has("dies_only_at_turn_start")
    _drop(g2, oni)
    assert g2.entities[oni].dead


def test_the_party_ai_burns_a_downed_troll() -> None:
    """A wizard facing a downed troll and a standing one finishes the downed one with fire
    or acid: the blade cannot, and left alone it rises with 10 HP."""
    g, (down, _up) = _trolls(2, "wizard", 5)
    _drop(g, down)
    assert not g.entities[down].dead
    wiz = g.find("Hero")
    turn_of(g, wiz.eid)
    pick = tactics.choose(g, wiz.eid, random.Random(1))
    apply(g, wiz.eid, pick.intent, random.Random(1))
    t = g.entities[down]
    assert t.dead or _regen(g, down).stopped, pick.label


def test_the_party_ai_wastes_no_spell_holding_a_downed_troll() -> None:
    from rules import party_tactics

    g, (down,) = _trolls(1, "wizard", 5)
    _drop(g, down)
    wiz = g.find("Hero")
    turn_of(g, wiz.eid)
    held = [o for o in tactics.legal_actions(g, wiz.eid)
            if isinstance(o.intent, it.Cast) and o.intent.spell in ("sleep", "hold-person")]
    assert held  # offered: the troll is still a foe in the fight
    for o in held:
        assert party_tactics.score(g, wiz, o) <= 0, o.label
