"""Bundled SRD 5.1 classes: hit dice, proficiencies and spell slot tables at levels 1-5."""

from __future__ import annotations

import pytest

from rules import content

HIT_DICE = {
    "barbarian": 12, "bard": 8, "cleric": 8, "druid": 8, "fighter": 10, "monk": 8,
    "paladin": 10, "ranger": 10, "rogue": 8, "sorcerer": 6, "warlock": 8, "wizard": 6,
}
PROGRESSION = {
    "bard": "full", "cleric": "full", "druid": "full", "sorcerer": "full", "wizard": "full",
    "paladin": "half", "ranger": "half", "warlock": "pact",
}


def _slots(cls: str, level: int) -> list[int]:
    return content.cls(cls)["levels"][str(level)]["spell_slots"]


def test_all_twelve_classes_with_hit_dice():
    classes = content.classes()
    assert {k: v["hit_die"] for k, v in classes.items()} == HIT_DICE
    for idx, c in classes.items():
        assert len(c["saving_throws"]) == 2, idx
        assert c["skill_choices"]["choose"] >= 2 and c["skill_choices"]["from"], idx
        assert set(c["skill_choices"]["from"]) <= set(content.skills()), idx
        assert sorted(map(int, c["levels"])) == list(range(1, 21)), idx
        for n in range(1, 6):
            lvl = c["levels"][str(n)]
            assert lvl["proficiency_bonus"] == (2 if n < 5 else 3)
            assert len(lvl["spell_slots"]) == 9


def test_spellcasting_progressions():
    for idx, c in content.classes().items():
        prog = c["spellcasting"]["progression"] if c["spellcasting"] else None
        assert prog == PROGRESSION.get(idx), idx
    assert content.cls("wizard")["spellcasting"]["ability"] == "int"
    assert content.cls("warlock")["spellcasting"]["ability"] == "cha"


@pytest.mark.parametrize("cls", ["bard", "cleric", "druid", "sorcerer", "wizard"])
def test_full_caster_slots(cls):
    expected = [[2], [3], [4, 2], [4, 3], [4, 3, 2]]
    for level, want in enumerate(expected, 1):
        assert _slots(cls, level) == want + [0] * (9 - len(want)), (cls, level)


@pytest.mark.parametrize("cls", ["paladin", "ranger"])
def test_half_caster_slots(cls):
    expected = [[], [2], [3], [3], [4, 2]]
    for level, want in enumerate(expected, 1):
        assert _slots(cls, level) == want + [0] * (9 - len(want)), (cls, level)


def test_warlock_pact_slots_are_both_in_spell_slots_and_class_specific():
    expected = {1: (1, 1), 2: (2, 1), 3: (2, 2), 4: (2, 2), 5: (2, 3)}
    for level, (count, slot_level) in expected.items():
        lvl = content.cls("warlock")["levels"][str(level)]
        assert lvl["class_specific"]["pact_slots"] == count
        assert lvl["class_specific"]["pact_slot_level"] == slot_level
        slots = [0] * 9
        slots[slot_level - 1] = count
        assert lvl["spell_slots"] == slots
    assert _slots("warlock", 3) == [0, 2, 0, 0, 0, 0, 0, 0, 0]


def test_non_casters_have_no_slots_and_keep_class_specifics():
    for cls in ("barbarian", "fighter", "monk", "rogue"):
        assert content.cls(cls)["spellcasting"] is None
        assert all(_slots(cls, n) == [0] * 9 for n in range(1, 21))
    assert content.cls("fighter")["levels"]["1"]["features"] == ["Fighting Style", "Second Wind"]
    assert content.cls("barbarian")["levels"]["1"]["class_specific"]["rage_count"] == 2
    assert content.cls("rogue")["levels"]["3"]["class_specific"]["sneak_attack"] == {
        "dice_count": 2, "dice_value": 6}


def test_known_counts():
    wiz = content.cls("wizard")["levels"]["1"]
    assert wiz["cantrips_known"] == 3 and wiz["spells_known"] is None
    sorc = content.cls("sorcerer")["levels"]["1"]
    assert sorc["cantrips_known"] == 4 and sorc["spells_known"] == 2
    assert content.cls("fighter")["levels"]["1"]["cantrips_known"] is None


def test_proficiencies():
    assert content.cls("fighter")["saving_throws"] == ["str", "con"]
    assert "martial-weapons" in content.cls("fighter")["proficiencies"]
    assert not any(p.startswith("saving-throw") for c in content.classes().values()
                   for p in c["proficiencies"])
