"""Character creation steps: SRD races, standard array or point buy, class and background
skills, kits; each mistake is a one-line RulesError and leaves the draft as it was."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA

from rules import creation
from rules import intents as it
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _draft() -> creation.Draft:
    return creation.start("Bo", "fightr")


def test_point_buy_and_standard_array() -> None:
    assert creation.scores(["15", "14", "13", "12", "10", "8"])["str"] == 15
    assert creation.scores(["15", "15", "15", "8", "8", "8"])["con"] == 15  # 27 points
    with pytest.raises(RulesError, match="costs 28 of 27"):
        creation.scores(["15", "15", "15", "9", "8", "8"])
    with pytest.raises(RulesError, match="8-15"):
        creation.scores(["18", "8", "8", "8", "8", "8"])
    with pytest.raises(RulesError, match="six numbers"):
        creation.scores(["15", "14"])


def test_rolled_scores_are_a_house_rule() -> None:
    with pytest.raises(RulesError, match="house rule"):
        creation.scores(["roll"], random.Random(1))
    got = creation.scores(["roll"], random.Random(1), rolled=True)
    assert all(3 <= v <= 18 for v in got.values())


def test_races_and_subraces_change_the_sheet() -> None:
    hd = creation.race("hill dwarf")
    assert dict(hd.bonuses) == {"con": 2, "wis": 1} and hd.speed == 25
    assert hd.darkvision == 60 and "poison" in hd.resist and hd.hp_per_level == 1
    assert dict(creation.race("human").bonuses) == dict.fromkeys(
        ("str", "dex", "con", "int", "wis", "cha"), 1)
    with pytest.raises(RulesError, match="no race like"):
        creation.race("orcish")


def test_skills_follow_the_class_list_and_count() -> None:
    d = _draft()
    assert d.cls == "fighter"
    creation.step(d, "skills", ["athletics", "percep"])
    assert d.skills == ["athletics", "perception"]
    with pytest.raises(RulesError, match="pick 2"):
        creation.step(d, "skills", ["athletics"])
    with pytest.raises(RulesError, match="fighter skills"):
        creation.step(d, "skills", ["arcana", "athletics"])
    assert d.skills == ["athletics", "perception"]  # a refused step keeps the draft


def test_a_finished_draft_builds_and_an_unfinished_one_says_what_is_missing() -> None:
    d = _draft()
    with pytest.raises(RulesError, match="needs race"):
        creation.build(d)
    for what, words in (("race", ["half-orc"]), ("stats", ["15", "13", "14", "8", "12", "10"]),
                        ("skills", ["athletics", "survival"]), ("kit", ["b"])):
        creation.step(d, what, words)
    pc = creation.build(d, 3)
    assert pc.abilities["str"] == 17 and pc.abilities["con"] == 15
    assert "intimidation" in pc.skills and "religion" in pc.skills  # menacing, acolyte
    assert pc.weapons[0]["name"] == "longbow" and pc.level == 3


def test_make_steps_in_a_game_then_join_uses_the_draft() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    r = random.Random(0)
    for step, value in (("class", "rogue"), ("race", "lightfoot halfling"),
                        ("stats", "8 15 14 13 12 10"),
                        ("skills", "stealth acrobatics perception deception")):
        out = apply(g, None, it.Make("Pip", step, value), r)
        assert len(out[0].text.encode()) <= 200
    apply(g, None, it.Join("Pip", "rogue", 2), r)
    pip = g.entities[1]
    assert pip.abilities["dex"] == 17 and pip.speed == 25 and pip.level == 2
    with pytest.raises(RulesError, match="start with"):
        apply(g, None, it.Make("Zed", "race", "human"), r)


def test_levelling_keeps_creation_choices_and_worn_gear() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    r = random.Random(0)
    for step, value in (("class", "fighter"), ("race", "hill dwarf"),
                        ("stats", "15 13 14 8 12 10"), ("skills", "athletics survival")):
        apply(g, None, it.Make("Bo", step, value), r)
    apply(g, None, it.Join("Bo", "fighter", 3), r)
    bo = g.entities[1]
    bo.inventory.append("plate armor")
    apply(g, 1, it.Use("plate armor"), r)
    apply(g, None, it.Dm("level_up", 1), r)
    bo = g.entities[1]
    assert bo.level == 4 and bo.speed == 25 and bo.darkvision == 60  # still a hill dwarf
    assert "survival" in bo.skills and bo.armor == "plate-armor" and bo.ac == 21
    assert bo.max_hp == 10 + 3 + 3 * 9 + 4  # CON 16: +3 a level; dwarven toughness +1 a level


def test_improvements_are_chosen_or_a_feat_taken() -> None:
    d = _draft()
    for what, words in (("race", ["human"]), ("stats", ["15", "13", "14", "8", "12", "10"]),
                        ("skills", ["athletics", "survival"]), ("asi", ["con", "con"])):
        creation.step(d, what, words)
    assert creation.build(d, 4).abilities["con"] == 17  # 14 + 1 human + 2
    creation.step(d, "asi", ["grappler", "str", "str"])
    pc6 = creation.build(d, 6)  # fighter ASIs at 4 (the feat) and 6 (+2 STR)
    assert pc6.abilities["str"] == 18 and pc6.abilities["con"] == 15
    d.scores = {**d.scores, "str": 8}
    with pytest.raises(RulesError, match="grappler needs STR 13"):
        creation.step(d, "asi", ["grappler"])
