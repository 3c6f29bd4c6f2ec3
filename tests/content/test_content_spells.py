"""Bundled SRD 5.1 spells: schema and the spells the rules engine leans on."""

from __future__ import annotations

import pytest

from rules import content
from rules.errors import RulesError

SPELL_KEYS = {
    "index", "name", "level", "school", "classes", "range_ft", "range", "concentration",
    "ritual", "casting_time", "duration", "attack", "save", "damage", "heal", "area",
    "save_success", "components",
}


def test_spell_count_and_keys():
    spells = content.spells()
    assert 300 <= len(spells) <= 330
    for idx, sp in spells.items():
        assert set(sp) == SPELL_KEYS, idx
        assert 0 <= sp["level"] <= 9
        assert sp["attack"] in (None, "melee", "ranged")
        assert sp["save"] in (None, "str", "dex", "con", "int", "wis", "cha")
        assert sp["save_success"] in ((None,) if sp["save"] is None else ("half", "none", "other"))
        assert set(sp["components"]) <= {"V", "S", "M"} and sp["components"], idx
        if sp["damage"]:
            assert sp["damage"]["type"] in content.damage_types(), idx
            assert sp["damage"]["slots"] or sp["damage"]["character_levels"], idx


def test_fireball():
    fb = content.spell("fireball")
    assert fb["level"] == 3 and fb["school"] == "evocation"
    assert fb["damage"]["type"] == "fire"
    assert fb["damage"]["slots"]["3"] == "8d6" and fb["damage"]["slots"]["4"] == "9d6"
    assert fb["save"] == "dex" and fb["attack"] is None
    assert fb["area"] == {"type": "sphere", "size": 20}
    assert fb["range"] == "150 feet" and fb["range_ft"] == 150
    assert fb["classes"] == ["sorcerer", "wizard"]
    assert fb["concentration"] is False and fb["ritual"] is False


def test_cure_wounds_heals_and_fire_bolt_scales_by_character_level():
    cw = content.spell("cure wounds")
    assert cw["heal"] == {"slots": {str(n): f"{n}d8 + MOD" for n in range(1, 10)}}
    assert cw["damage"] is None and cw["range"] == "Touch" and cw["range_ft"] == 5
    bolt = content.spell("Fire Bolt")
    assert bolt["level"] == 0 and bolt["attack"] == "ranged"
    assert bolt["damage"]["character_levels"] == {"1": "1d10", "5": "2d10", "11": "3d10",
                                                  "17": "4d10"}


def test_concentration_and_self_range():
    hold = content.spell("hold person")
    assert hold["concentration"] is True and hold["save"] == "wis"
    shield = content.spell("shield")
    assert shield["range"] == "Self" and shield["range_ft"] == 0


def test_typeless_dice_are_not_damage():
    assert content.spell("sleep")["damage"] is None


def test_spell_shorthands():
    assert content.spell("fb")["name"] == "Fire Bolt"
    assert content.spell("mm")["name"] == "Magic Missile"
    assert content.spell("firebal")["name"] == "Fireball"
    assert content.spell("magic-missile")["name"] == "Magic Missile"
    with pytest.raises(RulesError, match=r"^no spell like 'fyrbll zzz'"):
        content.spell("fyrbll zzz")


def test_save_success_and_components_come_from_the_source():
    sp = content.spells()
    assert sp["fireball"]["save_success"] == "half" and sp["sacred-flame"]["save_success"] == "none"
    assert sp["fireball"]["components"] == ["V", "S", "M"]
    assert sp["misty-step"]["components"] == ["V"]
