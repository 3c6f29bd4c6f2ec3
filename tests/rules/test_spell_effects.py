"""What the newly mechanised spells do in a fight, one rule each."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules import resolver
from rules.dungeon import Dungeon
from rules.effects.records import Cond
from rules.errors import RulesError
from rules.game import Game, apply
from rules.turns import end_turn


def _setup(spell: str, monster: str = "ogre", n: int = 1) -> tuple[Game, list[int]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Mira", "wizard", 5), random.Random(0))
    apply(g, None, it.Join("Thorin", "fighter", 5), random.Random(0))
    foes = fight(g, monster, n)
    g.entities[1].spells = [spell]
    g.entities[1].slots = [3] * 9
    turn_of(g, 1)
    return g, foes


def test_haste_gives_an_extra_action_each_turn_and_ac() -> None:
    g, _ = _setup("haste")
    ac = g.entities[2].current_ac()
    apply(g, 1, it.Cast("haste", 2), random.Random(1))
    assert g.entities[2].current_ac() == ac + 2 and g.entities[1].conc == "haste"
    g.combat["idx"] = g.combat["order"].index(2) - 1
    if g.combat["idx"] < 0:
        g.combat["idx"] = len(g.combat["order"]) - 1
    end_turn(g, g.entities[g.current_turn()], it.EndTurn(), random.Random(2))
    assert g.current_turn() == 2 and g.entities[2].turn["action"] == 2


def test_a_buff_names_who_it_landed_on_and_a_hit_does_not_name_twice() -> None:
    g, (ogre,) = _setup("haste")
    out = apply(g, 1, it.Cast("haste", 2), random.Random(1))
    assert ev.Affected("haste", (2,)) in out  # otherwise nothing says who is hasted
    g.entities[1].spells = ["ray-of-frost"]
    turn_of(g, 1)
    out = apply(g, 1, it.Cast("ray of frost", ogre), random.Random(3))
    assert any(isinstance(x, ev.Attacked) for x in out)
    assert not any(isinstance(x, ev.Affected) for x in out)  # "hits Ogre" names it


def test_a_spell_of_range_self_does_not_name_its_caster_again() -> None:
    g, _ = _setup("blur")
    out = apply(g, 1, it.Cast("blur"), random.Random(1))
    assert any(isinstance(x, ev.SpellCast) for x in out)
    assert not any(isinstance(x, ev.Affected) for x in out)  # "casts Blur L2." says it
    assert any(x.name == "blur" or "blur" in x.name.lower() for x in g.entities[1].effects)


def test_a_smite_says_it_lands_on_the_next_hit_and_spends_its_dice_there() -> None:
    g, (ogre,) = _setup("branding-smite")
    out = apply(g, 1, it.Cast("branding smite"), random.Random(1))
    assert ev.Info(1, ev.NEXT_HIT) in out  # nothing else of it happens now
    assert not any(isinstance(x, ev.Damaged | ev.Affected) for x in out)


def test_conjure_animals_brings_allies_into_the_initiative() -> None:
    g, _ = _setup("conjure-animals")
    out = apply(g, 1, it.Cast("conjure animals"), random.Random(1))
    wolves = [e.eid for e in out if isinstance(e, ev.Spawned)]
    assert len(wolves) == 2
    assert all(g.entities[w].side == "party" and w in g.combat["order"] for w in wolves)
    resolver.end_concentration(g, g.entities[1], [])  # the spell ends: the wolves go
    assert all(g.entities[w].fled for w in wolves)


def test_banishment_on_a_failed_save_removes_the_foe() -> None:
    g, foes = _setup("banishment")
    g.next_d20 = 1
    apply(g, 1, it.Cast("banishment", foes[0]), random.Random(1))
    assert g.entities[foes[0]].fled and not g.entities[foes[0]].engaged


def test_power_word_kill_kills_at_100_hp_or_less_only() -> None:
    g, foes = _setup("power-word-kill", "ogre", 2)
    ogre, other = g.entities[foes[0]], g.entities[foes[1]]
    other.hp = 101
    apply(g, 1, it.Cast("power word kill", ogre.eid), random.Random(1))
    assert ogre.dead
    turn_of(g, 1)
    apply(g, 1, it.Cast("power word kill", other.eid), random.Random(1))
    assert not other.dead and other.hp == 101


def test_dispel_magic_ends_a_lower_level_spell_effect() -> None:
    g, foes = _setup("haste")
    apply(g, 1, it.Cast("haste", 2), random.Random(1))
    g.entities[1].spells.append("dispel-magic")
    turn_of(g, 1)
    apply(g, 1, it.Cast("dispel magic", 2, 3), random.Random(1))
    assert not any(x.name == "haste" for x in g.entities[2].effects)


def test_hypnotic_pattern_incapacitates_until_damaged() -> None:
    g, foes = _setup("hypnotic-pattern", "goblin", 1)
    g.next_d20 = 1
    apply(g, 1, it.Cast("hypnotic pattern", foes[0]), random.Random(1))
    gob = g.entities[foes[0]]
    assert "incapacitated" in gob.conditions


def test_ritual_outside_combat_spends_no_slot_but_in_combat_it_does() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Mira", "wizard", 3), random.Random(0))
    mira = g.entities[1]
    mira.spells.append("detect-magic")
    slots = list(mira.slots)
    apply(g, 1, it.Cast("detect magic"), random.Random(1))
    assert mira.slots == slots and any(x.name == "detect-magic" for x in mira.effects)
    fight(g, "goblin", 1)
    turn_of(g, 1)
    apply(g, 1, it.Cast("detect magic"), random.Random(1))
    assert mira.slots[0] == slots[0] - 1


def test_a_reaction_spell_is_cast_on_another_creatures_turn() -> None:
    g, foes = _setup("hellish-rebuke", "ogre", 1)
    turn_of(g, foes[0])
    out = apply(g, 1, it.Cast("hellish rebuke", foes[0]), random.Random(1))
    assert any(isinstance(e, ev.SpellCast) for e in out) and not g.entities[1].reaction
    with pytest.raises(RulesError, match="reaction already used"):
        apply(g, 1, it.Cast("hellish rebuke", foes[0]), random.Random(1))


def test_bonus_action_spell_then_only_a_cantrip() -> None:
    g, foes = _setup("healing-word", "goblin", 1)
    g.entities[1].spells += ["magic-missile", "fire-bolt"]
    g.entities[2].hp -= 5  # a healing spell needs a wound
    apply(g, 1, it.Cast("healing word", 2), random.Random(1))
    with pytest.raises(RulesError, match="only a cantrip"):
        apply(g, 1, it.Cast("magic missile", foes[0]), random.Random(1))
    out = apply(g, 1, it.Cast("fire bolt", foes[0]), random.Random(1))
    assert any(isinstance(e, ev.SpellCast) and e.spell == "fire-bolt" for e in out)


def test_summoned_allies_take_no_xp_when_the_fight_is_won() -> None:
    g, foes = _setup("conjure-animals", "goblin", 1)
    xp = {k: g.entities[k].xp for k in (1, 2)}
    apply(g, 1, it.Cast("conjure animals"), random.Random(1))
    out = apply(g, None, it.Dm("damage", foes[0], 50, "fire"), random.Random(1))
    ended = [e for e in out if isinstance(e, ev.CombatEnded)]
    assert ended and ended[0].xp == 50
    wolves = [e for e in g.entities.values() if e.monster == "wolf"]
    assert wolves and all(w.xp == 50 for w in wolves)  # a wolf's own XP value, no share
    assert g.entities[1].xp == xp[1] + 25 and g.entities[2].xp == xp[2] + 25


def test_use_names_any_summoned_attacker() -> None:
    g, foes = _setup("flame-blade")
    apply(g, 1, it.Cast("flame blade"), random.Random(1))
    turn_of(g, 1)
    out = apply(g, 1, it.Use("flame blade", foes[0]), random.Random(2))
    att = [e for e in out if isinstance(e, ev.Attacked)]
    assert att and att[0].using == "flame blade"
    assert g.entities[1].turn["bonus"] == 0


def test_hold_monster_does_not_touch_undead() -> None:
    g, foes = _setup("hold-monster", "zombie", 1)
    g.next_d20 = 1
    out = apply(g, 1, it.Cast("hold monster", foes[0]), random.Random(1))
    assert "paralyzed" not in g.entities[foes[0]].conditions
    assert any(isinstance(e, ev.Info) and "unaffected" in e.text for e in out)


def test_see_invisibility_takes_away_an_invisible_foes_edge() -> None:
    g, foes = _setup("see-invisibility", "goblin", 1)
    mira, gob = g.entities[1], g.entities[foes[0]]
    gob.conditions["invisible"] = Cond()
    assert resolver.attack_adv(g, mira, gob, "ranged", (120, 0))[0] == -1
    assert resolver.attack_adv(g, gob, mira, "melee", (5, 0))[0] == 1
    apply(g, 1, it.Cast("see invisibility"), random.Random(1))
    assert resolver.attack_adv(g, mira, gob, "ranged", (120, 0))[0] == 0
    assert resolver.attack_adv(g, gob, mira, "melee", (5, 0))[0] == 0


def test_silence_stops_spells_with_a_verbal_component() -> None:
    g, foes = _setup("silence", "goblin", 1)
    g.next_d20 = None
    apply(g, 1, it.Cast("silence", foes[0]), random.Random(1))
    gob = g.entities[foes[0]]
    gob.spells, gob.slots = ["misty-step", "shield"], [2] * 9
    turn_of(g, gob.eid)
    with pytest.raises(RulesError, match="in silence"):
        apply(g, gob.eid, it.Cast("misty step"), random.Random(1))
