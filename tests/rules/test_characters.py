"""Pregenerated characters for all 12 classes at levels 1-20; rests; level-ups."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA

from rules import classfeatures, content, levels
from rules import events as ev
from rules import intents as it
from rules.dungeon import Dungeon
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.game import Game, apply
from rules.pregen import CLASSES, character


@pytest.mark.parametrize("cls", CLASSES)
def test_every_class_and_level_builds(cls: str) -> None:
    for level in range(1, 21):
        c = character("X", cls, level)
        assert c.level == level and c.hp == c.max_hp > 0 and 10 <= c.ac <= 22
        assert c.prof == 2 + (level - 1) // 4 and c.hit_dice == level
        top = 24 if (cls, level) == ("barbarian", 20) else 20  # Primal Champion
        assert c.weapons and max(c.abilities.values()) <= top
        granted = {x for p in classfeatures.passives(cls, level) for _, x in p.get("spells", ())}
        free = {d["spell"] for n, d in levels.resource_table().get(cls, {}).items()
                if d.get("spell") and n in c.res_max}  # Mystic Arcanum: cast without a slot
        for s in c.spells:  # every prepared spell is on the class list (or the subclass's)
            sp = content.spells()[s]
            assert (cls in sp["classes"] or s in granted) and (
                sp["level"] == 0 or any(c.slots[sp["level"] - 1:]) or s in free)


def test_hit_points_by_hit_die() -> None:
    assert character("F", "fighter", 1).max_hp == 10 + 2  # d10 + CON 14
    assert character("W", "wizard", 1).max_hp == 6 + 2
    assert character("B", "barbarian", 2).max_hp == 12 + 2 + 7 + 2


def test_full_half_and_pact_slots() -> None:
    assert character("W", "wizard", 3).slots[:3] == [4, 2, 0]
    assert character("W", "wizard", 5).slots[:3] == [4, 3, 2]
    assert not any(character("P", "paladin", 1).slots)
    assert character("P", "paladin", 2).slots[:2] == [2, 0]
    wl = character("K", "warlock", 3)
    assert wl.pact and wl.slots[:2] == [0, 2]


def test_unknown_class_and_bad_level() -> None:
    with pytest.raises(RulesError):
        character("X", "plumber", 1)
    with pytest.raises(RulesError):
        character("X", "fighter", 21)
    with pytest.raises(RulesError):
        character("X", "fighter", 0)


def test_levels_6_to_20_follow_the_class_tables() -> None:
    f20 = character("F", "fighter", 20)
    assert f20.res == {"second_wind": 1, "action_surge": 2, "indomitable": 3}
    assert levels.attacks_per_action("fighter", 11) == 3
    assert levels.attacks_per_action("fighter", 20) == 4
    assert levels.attacks_per_action("wizard", 20) == 1
    assert character("W", "wizard", 17).slots == [4, 3, 3, 3, 2, 1, 1, 1, 1]
    assert character("P", "paladin", 17).slots[:5] == [4, 3, 3, 3, 1]
    wl = character("K", "warlock", 11)
    assert wl.slots == [0, 0, 0, 0, 3, 0, 0, 0, 0]
    m = character("M", "monk", 17)
    assert m.res["ki"] == 17 and m.weapons[0]["dice"] == "1d10" and m.speed == 55
    assert character("B", "barbarian", 20).res["rage"] == 99  # unlimited
    assert character("C", "cleric", 18).res["channel_divinity"] == 3
    # six ASIs by 20: +2 each, main ability first, capped at 20
    assert character("F", "fighter", 20).abilities["str"] == 20


def test_xp_table_reaches_level_20() -> None:
    assert levels.xp_level(0) == 1 and levels.xp_level(6500) == 5
    assert levels.xp_level(354999) == 19 and levels.xp_level(355000) == 20


def test_multiclass_spell_slots_and_prerequisites() -> None:
    # a wizard 3 / cleric 2 casts as a 5th-level caster; paladin 4 adds 2 levels
    assert levels.multiclass_slots({"wizard": 3, "cleric": 2})[:3] == [4, 3, 2]
    assert levels.multiclass_slots({"wizard": 3, "paladin": 4})[:3] == [4, 3, 2]
    assert levels.multiclass_slots({"fighter": 5, "warlock": 3}) == [0] * 9
    ab = {"str": 15, "dex": 12, "con": 14, "int": 8, "wis": 13, "cha": 10}
    assert levels.can_multiclass(ab, "fighter") == ""
    assert levels.can_multiclass(ab, "cleric") == ""
    assert levels.can_multiclass(ab, "paladin") == "paladin needs STR and CHA 13"


def test_a_short_rest_restores_short_rest_resources() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("C", "cleric", 6), random.Random(0))
    apply(g, None, it.Join("W", "wizard", 6), random.Random(0))
    c, w = g.entities[1], g.entities[2]
    c.res["channel_divinity"] = 0
    w.res["arcane_recovery"] = 0
    apply(g, 1, it.Rest("short"), random.Random(1))
    assert c.res["channel_divinity"] == 2 and w.res["arcane_recovery"] == 0


def test_join_plays_at_once() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    out = apply(g, None, it.Join("Thorin", "fighter"), random.Random(0))
    assert out == [ev.Joined(1, "Thorin", "fighter", 1)]
    with pytest.raises(RulesError, match="already"):
        apply(g, None, it.Join("thorin", "wizard"), random.Random(0))


def test_short_rest_spends_hit_dice_and_long_rest_restores() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("F", "fighter", 3), random.Random(0))
    f = g.entities[1]
    f.hp = 5
    f.res["second_wind"] = 0
    apply(g, 1, it.Rest("short"), random.Random(1))
    assert f.hit_dice < 3 and f.hp > 5 and f.res["second_wind"] == 1
    f.slots = [0] * 9
    apply(g, 1, it.Rest("long"), random.Random(1))
    assert f.hp == f.max_hp and f.hit_dice >= 1


def test_xp_threshold_levels_up() -> None:
    from rules.game import award_xp

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("F", "fighter", 1), random.Random(0))
    out = award_xp(g, 300)
    assert ev.LevelledUp(1, 2) in out and g.entities[1].level == 2
    out = apply(g, None, it.Dm("level_up", 1), random.Random(0))
    assert out == [ev.LevelledUp(1, 3)]


def test_a_level_gained_is_not_a_rest() -> None:
    # Spent uses stay spent (a new maximum adds only its growth), and Divine Intervention's
    # week-long wait survives the sheet being rebuilt at the new level.
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("C", "cleric", 10), random.Random(0))
    c = g.entities[1]
    c.res["channel_divinity"] = 0
    wait_key = "divine_intervention" + levels.WAIT  # how Divine Intervention keeps its wait
    c.res[wait_key] = 7
    apply(g, None, it.Dm("level_up", 1), random.Random(0))
    c = g.entities[1]
    assert c.level == 11
    assert c.res["channel_divinity"] == 0  # no growth in uses from 10th to 11th
    assert c.res[wait_key] == 7
    apply(g, 1, it.Rest("long"), random.Random(1))
    assert c.res["channel_divinity"] == c.res_max["channel_divinity"]


def test_paladin_smite_and_lay_on_hands() -> None:
    from rules_helpers import fight, turn_of

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("P", "paladin", 2), random.Random(0))
    foes = fight(g, "ogre")
    turn_of(g, 1)
    pal = g.entities[1]
    pal.hp = 3
    apply(g, 1, it.Use("lay on hands", 1), random.Random(0))
    assert pal.hp == 3 + 10 and pal.res["lay_on_hands"] == 0
    turn_of(g, 1)
    apply(g, 1, it.Use("smite"), random.Random(0))
    for seed in range(20):
        out = apply(Game.from_dict(g.to_dict()), 1, it.Attack(foes[0]), random.Random(seed))
        if any(isinstance(e, ev.Attacked) and e.hit for e in out):
            break
    assert pal.slots[0] == 2  # the copy spent it, not the original


def test_monk_flurry_and_bard_inspiration() -> None:
    from rules_helpers import fight, turn_of

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("M", "monk", 2), random.Random(0))
    apply(g, None, it.Join("B", "bard", 1), random.Random(0))
    foes = fight(g, "ogre")
    turn_of(g, 1)
    apply(g, 1, it.Attack(foes[0]), random.Random(0))
    out = apply(g, 1, it.Use("flurry", foes[0]), random.Random(0))
    assert sum(isinstance(e, ev.Attacked) for e in out) == 2 and g.entities[1].res["ki"] == 1
    turn_of(g, 2)
    apply(g, 2, it.Use("inspiration", 1), random.Random(0))
    assert any(e.name == "inspiration" and e.die == "1d6" for e in g.entities[1].effects)


def test_stabilise_a_dying_ally_with_medicine() -> None:
    from rules import resolver

    results = set()
    for seed in range(25):
        g = Game.new(Dungeon.from_dict(ARENA))
        apply(g, None, it.Join("C", "cleric", 1), random.Random(0))
        apply(g, None, it.Join("W", "wizard", 1), random.Random(0))
        resolver.deal(g, g.entities[2], g.entities[2].hp, "fire", [])
        out = apply(g, 1, it.Use("stabilize", 2), random.Random(seed))
        roll = next(e for e in out if isinstance(e, ev.Rolled))
        assert roll.what == "medicine" and roll.dc == 10
        assert g.entities[2].stable == roll.ok
        results.add(roll.ok)
    assert results == {True, False}


def test_inspiration_die_helps_a_failing_save() -> None:
    from rules import resolver

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("W", "wizard", 1), random.Random(0))
    w = g.entities[1]
    w.effects.append(Effect("inspiration", 9, die="1d6"))
    out: list = []
    resolver.saving_throw(g, w, "wis", 99, random.Random(1), out)
    assert not any(e.name == "inspiration" for e in w.effects)  # spent on the failing save


def test_rolled_hit_points_are_a_house_rule() -> None:
    gains = set()
    for seed in range(12):
        g = Game.new(Dungeon.from_dict(ARENA))
        apply(g, None, it.Join("F", "fighter", 1), random.Random(0))
        apply(g, None, it.Dm("house_rule", text="rolled_hp", value=1), random.Random(0))
        apply(g, None, it.Dm("level_up", 1), random.Random(seed))
        gain = g.entities[1].max_hp - 12
        assert 1 + 2 <= gain <= 10 + 2  # 1d10 + CON 14
        gains.add(gain)
    assert len(gains) > 2  # rolled, not the fixed 8
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("F", "fighter", 1), random.Random(0))
    apply(g, None, it.Dm("level_up", 1), random.Random(5))
    assert g.entities[1].max_hp == 12 + 6 + 2  # the table's default: the average
