"""Bundled SRD 5.1 weapons, armor, skills, conditions and damage types."""

from __future__ import annotations

from rules import content


def test_weapons():
    weapons = content.weapons()
    assert len(weapons) == 37
    ls = content.weapon("longsword")
    assert (ls["category"], ls["range_type"], ls["damage"], ls["type"]) == (
        "martial", "melee", "1d8", "slashing")
    assert ls["versatile"] == "1d10" and ls["properties"] == ["versatile"]
    bow = content.weapon("longbow")
    assert (bow["normal_range"], bow["long_range"]) == (150, 600)
    assert {"ammunition", "heavy", "two-handed"} <= set(bow["properties"])
    dagger = content.weapon("dagger")
    assert dagger["normal_range"] == 5 and dagger["throw_range"] == [20, 60]
    assert {"finesse", "light", "thrown"} <= set(dagger["properties"])
    for w in weapons.values():
        assert w["category"] in ("simple", "martial") and w["range_type"] in ("melee", "ranged")


def test_armor():
    arm = content.armor()
    assert len(arm) == 13
    assert content.armor_item("chain mail") == {
        "index": "chain-mail", "name": "Chain Mail", "category": "heavy", "base_ac": 16,
        "dex_bonus": False, "max_bonus": None, "str_minimum": 13, "stealth_disadvantage": True,
    }
    assert content.armor_item("breastplate")["max_bonus"] == 2
    assert content.armor_item("shield")["category"] == "shield"
    assert content.armor_item("shield")["base_ac"] == 2
    assert content.armor_item("studded leather")["dex_bonus"] is True


def test_skills_conditions_damage_types():
    skills = content.skills()
    assert len(skills) == 18
    assert skills["sleight-of-hand"] == "dex" and skills["athletics"] == "str"
    conditions = content.conditions()
    assert len(conditions) == 15 and "prone" in conditions and "exhaustion" in conditions
    assert all(c == c.lower() for c in conditions)
    assert len(content.damage_types()) == 13 and "radiant" in content.damage_types()


def test_gear_prices_and_weights():
    gear = content.gear()
    assert {"longsword", "chain-mail", "torch", "potion-of-healing", "arrow"} <= set(gear)
    assert (gear["longsword"]["cost_cp"], gear["longsword"]["weight"]) == (1500, 3)
    assert (gear["chain-mail"]["cost_cp"], gear["chain-mail"]["weight"]) == (7500, 55)
    assert gear["torch"]["cost_cp"] == 1 and gear["arrow"]["quantity"] == 20
    assert set(content.weapons()) | set(content.armor()) <= set(gear)
    for g in gear.values():
        assert g["cost_cp"] >= 0 and g["weight"] >= 0 and g["quantity"] >= 1
