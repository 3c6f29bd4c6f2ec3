"""A vampire's bite: only at a creature it grapples, charms, or finds helpless; one a multiattack."""

from __future__ import annotations

import random

import pytest
from rules_helpers import fight, party, turn_of

from rules import events as ev
from rules import intents as it
from rules import tactics
from rules.effects import monsters
from rules.effects.records import Cond
from rules.errors import RulesError
from rules.game import Game, apply


def _vs(monster: str) -> tuple[Game, int, int]:
    g = party(("Thorin", "fighter", 5))
    (v,) = fight(g, monster, 1)
    hero = g.find("Thorin")
    g.entities[v].engaged.append(hero.eid)
    hero.engaged.append(v)
    turn_of(g, v)
    return g, v, hero.eid


def _act(g: Game, v: int, name: str) -> int:
    return next(k for k, a in enumerate(g.entities[v].actions) if a["name"] == name)


def _uses(out: list[object]) -> list[str]:
    return [x.using for x in out if isinstance(x, ev.Attacked)]


@pytest.mark.parametrize(("cond", "src_is_it", "allowed"), [
    ("", False, False), ("grappled", True, True), ("grappled", False, False),
    ("restrained", False, True), ("unconscious", False, True), ("stunned", False, True),
    ("prone", False, False)])
def test_the_bite_takes_only_the_creatures_its_stat_block_names(cond: str, src_is_it: bool,
                                                                allowed: bool) -> None:
    g, v, hero = _vs("vampire-spawn")
    if cond:
        g.entities[hero].conditions[cond] = Cond(src=v if src_is_it else 0)
    bite = g.entities[v].actions[_act(g, v, "Bite")]
    assert (monsters.bars(g, g.entities[v], bite, g.entities[hero]) == "") is allowed
    offered = {o.id for o in tactics.legal_actions(g, v)}
    assert (f"a{_act(g, v, 'Bite')}:{hero}" in offered) is allowed


def test_a_bite_at_a_free_creature_is_refused() -> None:
    g, v, hero = _vs("vampire-spawn")
    with pytest.raises(RulesError, match="Bite takes only a creature"):
        apply(g, v, it.Attack(hero, _act(g, v, "Bite")), random.Random(1))


def test_multiattack_is_two_claws_at_a_free_creature_and_claw_and_bite_at_a_held_one() -> None:
    g, v, hero = _vs("vampire-spawn")
    out = apply(g, v, it.Attack(hero, _act(g, v, "Multiattack")), random.Random(1))
    assert _uses(out) == ["Claws", "Claws"]
    for seed in range(12):
        g, v, hero = _vs("vampire-spawn")
        g.entities[hero].conditions["restrained"] = Cond()
        out = apply(g, v, it.Attack(hero, _act(g, v, "Multiattack")), random.Random(seed))
        assert sorted(_uses(out)) == ["Bite", "Claws"]  # never two bites


def test_the_ai_rates_the_multiattack_by_the_swings_it_will_make() -> None:
    from rules.tactics import _multi_damage

    g, v, hero = _vs("vampire-spawn")
    m, t = g.entities[v], g.entities[hero]
    multi = m.actions[_act(g, v, "Multiattack")]
    free = _multi_damage(g, m, multi, t)
    t.conditions["restrained"] = Cond()
    assert _multi_damage(g, m, multi, t) > free  # a bite (13.5) for a claw (8)


def _rolls(g: Game, *values: int) -> None:
    """The next d20s, in order (the DM's `roll`)."""
    apply(g, None, it.Dm("set_roll", value=values[0], text=" ".join(map(str, values))),
          random.Random(1))


def test_the_vampire_strikes_twice_unless_its_target_may_be_bitten() -> None:
    g, v, hero = _vs("vampire-vampire")
    _rolls(g, 1, 1)  # two misses: nothing grapples, so nothing may be bitten
    out = apply(g, v, it.Attack(hero, _act(g, v, "Multiattack")), random.Random(1))
    assert _uses(out) == ["Unarmed Strike", "Unarmed Strike"]
    g, v, hero = _vs("vampire-vampire")
    g.entities[hero].conditions["charmed"] = Cond(src=v)  # Charm: a willing target
    out = apply(g, v, it.Attack(hero, _act(g, v, "Multiattack")), random.Random(1))
    assert sorted(_uses(out)) == ["Bite", "Unarmed Strike"]


def test_the_vampires_legendary_bite_waits_for_a_target_it_may_bite() -> None:
    g, v, hero = _vs("vampire-vampire")
    pick = tactics.legendary_pick(g, g.entities[v])
    assert pick is not None and pick[0]["name"] != "Bite"
    g.entities[hero].conditions["grappled"] = Cond(src=v)
    pick = tactics.legendary_pick(g, g.entities[v])
    assert pick is not None and pick[0]["name"] == "Bite" and pick[1].eid == hero


def test_every_targets_if_word_names_a_condition() -> None:
    from rules.creature import CONDITIONS

    words = [str(w) for acts in monsters.riders().values() for d in acts.values()
             for w in d.get("targets_if", ())]
    assert len(words) >= 3 * 3  # the vampires' bites at least: spawn, vampire, bat
    assert all(w.removesuffix("_by_it") in CONDITIONS for w in words), words


def _bite(g: Game, v: int, hero: int) -> list[object]:
    g.entities[hero].conditions["restrained"] = Cond()
    apply(g, None, it.Dm("set_roll", value=18), random.Random(1))  # a hit, not a crit
    return apply(g, v, it.Attack(hero, _act(g, v, "Bite")), random.Random(1))


def test_the_bite_drains_the_maximum_until_a_long_rest_and_heals_the_spawn() -> None:
    g, v, hero = _vs("vampire-spawn")
    spawn, thorin = g.entities[v], g.entities[hero]
    spawn.hp -= 30
    before_cap, before_spawn = thorin.hp_cap(), spawn.hp
    out = _bite(g, v, hero)
    necrotic = next(x.amount for x in out if isinstance(x, ev.Damaged)
                    and x.target == hero and x.dtype == "necrotic")
    assert necrotic > 0
    assert thorin.hp_cap() == before_cap - necrotic and thorin.hp <= thorin.hp_cap()
    assert spawn.hp == before_spawn + necrotic
    g.combat = None  # the fight is over (set-up): the rest restores the maximum
    spawn.room = 2
    apply(g, hero, it.Rest("long"), random.Random(1))
    assert thorin.hp_cap() == thorin.max_hp and thorin.hp == thorin.max_hp


def test_a_maximum_drained_to_0_kills() -> None:
    from rules.effects.records import Effect

    g, v, hero = _vs("vampire-spawn")
    thorin = g.entities[hero]
    thorin.effects.append(Effect("drained", v, max_hp=1 - thorin.max_hp))
    thorin.hp = 1
    out = _bite(g, v, hero)
    assert thorin.dead and any(isinstance(x, ev.Died) and x.target == hero for x in out)


def _damage_types(out: list[object], eid: int) -> list[str]:
    return [x.dtype for x in out if isinstance(x, ev.Damaged) and x.target == eid]


@pytest.mark.parametrize(("monster", "blow"), [("vampire-vampire", "Unarmed Strike"),
                                               ("vampire-spawn", "Claws")])
def test_a_blow_that_hits_a_free_foe_grapples_it_instead_and_the_bite_follows(
        monster: str, blow: str) -> None:
    g, v, hero = _vs(monster)
    _rolls(g, 18, 18)  # hits, not crits
    out = apply(g, v, it.Attack(hero, _act(g, v, "Multiattack")), random.Random(1))
    assert _uses(out) == [blow, "Bite"]
    held = g.entities[hero].conditions.get("grappled")
    assert held is not None and held.src == v
    dealt = _damage_types(out, hero)
    assert "bludgeoning" not in dealt and "slashing" not in dealt  # the hold, not the blow
    assert "necrotic" in dealt  # the bite's


def test_a_held_foe_or_one_that_may_be_bitten_takes_the_blow_as_damage() -> None:
    for cond, src_is_it in (("grappled", True), ("restrained", False)):
        g, v, hero = _vs("vampire-vampire")
        g.entities[hero].conditions[cond] = Cond(src=v if src_is_it else 0)
        _rolls(g, 18)
        out = apply(g, v, it.Attack(hero, _act(g, v, "Unarmed Strike")), random.Random(1))
        assert _damage_types(out, hero) == ["bludgeoning"]
        assert ("grappled" in g.entities[hero].conditions) is src_is_it


def test_a_foe_that_cannot_be_grappled_takes_the_blow_as_damage() -> None:
    g, v, hero = _vs("vampire-vampire")
    g.entities[hero].cond_immune = ["grappled"]
    _rolls(g, 18)
    out = apply(g, v, it.Attack(hero, _act(g, v, "Unarmed Strike")), random.Random(1))
    assert _damage_types(out, hero) == ["bludgeoning"]
    assert "grappled" not in g.entities[hero].conditions


def test_a_vampires_charm_is_saved_against_again_when_it_harms_not_at_turn_end() -> None:
    from rules import turns

    g, v, hero = _vs("vampire-vampire")
    _rolls(g, 1)
    apply(g, v, it.Attack(hero, _act(g, v, "Charm")), random.Random(1))
    charm = g.entities[hero].conditions["charmed"]
    assert charm.src == v and charm.harm and charm.save == "wis" and charm.dc == 17
    _rolls(g, 20)
    turns.end_turn_effects(g, g.entities[hero], random.Random(1))
    assert "charmed" in g.entities[hero].conditions  # no save at the turn's end
    turn_of(g, v)
    _rolls(g, 18, 20)  # the strike hits (damage: a charmed foe may be bitten), the save holds
    out = apply(g, v, it.Attack(hero, _act(g, v, "Unarmed Strike")), random.Random(1))
    assert _damage_types(out, hero) == ["bludgeoning"]
    assert "charmed" not in g.entities[hero].conditions


def test_the_harm_flag_survives_a_save_and_a_load() -> None:
    from rules.effects.records import Cond

    c = Cond(-1, "wis", 17, 3, False, True)
    assert Cond.from_dict(c.to_dict()) == c
    assert "harm" not in Cond(-1, "wis", 17, 3).to_dict()  # absent unless set
