"""Bundled SRD 5.1 monsters: counts, key stat blocks and the fixed source errors."""

from __future__ import annotations

import pytest

from rules import content
from rules.errors import RulesError

ACTION_KEYS = {
    "name", "kind", "attack_bonus", "reach", "range", "damage", "save", "multiattack",
    "recharge", "per_day", "area", "riders", "area_shape",
}
MONSTER_KEYS = {
    "index", "name", "size", "type", "alignment", "armor_class", "hit_points", "hit_dice",
    "speed", "abilities", "saves", "skills", "senses", "languages", "challenge_rating", "xp",
    "proficiency_bonus", "damage_resistances", "damage_immunities", "damage_vulnerabilities",
    "condition_immunities", "special_abilities", "actions", "legendary_actions",
    "legendary_per_round", "reactions", "spellcasting", "parry", "trait_facts",
}


def _action(mon: dict, name: str, legendary: bool = False) -> dict:
    pool = mon["legendary_actions"] if legendary else mon["actions"]
    return next(a for a in pool if a["name"] == name)


def test_every_srd_monster_is_present():
    mons = content.monsters()
    # SRD 5.1 has about 320 stat blocks; the source splits a few shapeshifters by form.
    assert 310 <= len(mons) <= 340
    for idx in ("goblin", "aboleth", "tarrasque", "lich", "kobold", "zombie", "wolf",
                "adult-red-dragon", "ancient-gold-dragon", "gelatinous-cube",
                "vampire-vampire", "commoner", "owlbear"):
        assert idx in mons
    # Non-SRD product identity stays out.
    assert "beholder" not in mons and "mind-flayer" not in mons


def test_every_monster_has_exactly_the_contract_keys():
    for idx, mon in content.monsters().items():
        assert set(mon) == MONSTER_KEYS, idx
        assert mon["index"] == idx
        assert set(mon["abilities"]) == {"str", "dex", "con", "int", "wis", "cha"}
        for a in mon["actions"]:
            assert set(a) == ACTION_KEYS, (idx, a["name"])
        for a in mon["legendary_actions"]:
            assert set(a) == ACTION_KEYS | {"cost"}, (idx, a["name"])


def test_goblin_stat_block():
    gob = content.monster("goblin")
    assert (gob["armor_class"], gob["hit_points"], gob["hit_dice"]) == (15, 7, "2d6")
    assert gob["challenge_rating"] == 0.25 and gob["xp"] == 50
    assert gob["abilities"] == {"str": 8, "dex": 14, "con": 10, "int": 10, "wis": 8, "cha": 8}
    assert gob["skills"] == {"stealth": 6}
    assert gob["senses"] == {"darkvision": 60, "passive_perception": 9}
    assert gob["speed"] == {"walk": 30}
    scim = _action(gob, "Scimitar")
    assert scim["kind"] == "melee" and scim["attack_bonus"] == 4 and scim["reach"] == 5
    assert scim["damage"] == [{"dice": "1d6+2", "type": "slashing"}]
    bow = _action(gob, "Shortbow")
    assert bow["kind"] == "ranged" and bow["attack_bonus"] == 4 and bow["range"] == [80, 320]
    assert bow["damage"] == [{"dice": "1d6+2", "type": "piercing"}]


def test_adult_red_dragon_breath_and_legendary_actions():
    dragon = content.monster("adult red dragon")
    assert dragon["legendary_per_round"] == 3
    names = [a["name"] for a in dragon["legendary_actions"]]
    assert names == ["Detect", "Tail Attack", "Wing Attack"]
    wing = _action(dragon, "Wing Attack", legendary=True)
    assert wing["cost"] == 2 and wing["save"] == {"ability": "dex", "dc": 22, "half": False}
    tail = _action(dragon, "Tail Attack", legendary=True)
    assert tail["kind"] == "multiattack" and tail["multiattack"] == [{"action": "Tail", "count": 1}]
    breath = _action(dragon, "Fire Breath")
    assert breath["kind"] == "save" and breath["area"] is True
    assert breath["recharge"] == [5, 6]
    # The source marks this save "none"; the SRD says half damage on a success.
    assert breath["save"] == {"ability": "dex", "dc": 21, "half": True}
    assert breath["damage"] == [{"dice": "18d6", "type": "fire"}]
    multi = _action(dragon, "Multiattack")
    assert {"action": "Claw", "count": 2} in multi["multiattack"]
    assert dragon["damage_immunities"] == ["fire"]
    assert dragon["saves"]["dex"] == 6


def test_every_damaging_breath_weapon_is_half_on_save():
    breaths = [
        (idx, a)
        for idx, mon in content.monsters().items()
        for a in mon["actions"]
        if "breath" in a["name"].lower() and a["damage"]
    ]
    assert len(breaths) > 40
    for idx, a in breaths:
        assert a["save"] is not None and a["save"]["half"], (idx, a["name"])


def test_choose_one_breath_weapons_are_expanded():
    brass = content.monster("adult-brass-dragon")
    fire = _action(brass, "Fire Breath")
    sleep = _action(brass, "Sleep Breath")
    assert fire["save"]["half"] and fire["damage"][0]["type"] == "fire"
    assert sleep["damage"] == [] and sleep["save"]["ability"] == "con"
    assert fire["recharge"] == sleep["recharge"] == [5, 6]


def test_attack_rider_save_carries_its_own_damage():
    bite = _action(content.monster("giant spider"), "Bite")
    assert bite["damage"] == [{"dice": "1d8+3", "type": "piercing"}]
    assert bite["save"] == {
        "ability": "con", "dc": 11, "half": True,
        "damage": [{"dice": "2d8", "type": "poison"}],
    }


def test_multiattack_entries_name_real_actions():
    bad = []
    for idx, mon in content.monsters().items():
        names = {a["name"] for a in mon["actions"]}
        for a in mon["actions"] + mon["legendary_actions"]:
            for ref in a["multiattack"] or []:
                if ref["action"] not in names:
                    bad.append((idx, ref["action"]))
    assert bad == []


def test_numbers_are_numbers():
    for idx, mon in content.monsters().items():
        assert isinstance(mon["armor_class"], int) and mon["armor_class"] > 0, idx
        assert isinstance(mon["hit_points"], int) and mon["hit_points"] > 0, idx
        assert all(isinstance(v, int) for v in mon["speed"].values()), idx
        assert all(isinstance(v, int) for v in mon["senses"].values()), idx
        for a in mon["actions"] + mon["legendary_actions"]:
            assert a["kind"] in {"melee", "ranged", "save", "multiattack", "other"}
            if a["kind"] in ("melee", "ranged"):
                assert isinstance(a["attack_bonus"], int), (idx, a["name"])
            if a["range"] is not None:
                assert a["range"][0] <= a["range"][1]
            for d in a["damage"]:
                assert d["type"] in content.damage_types(), (idx, a["name"], d)


def test_per_day_and_recharge():
    lich = content.monster("lich")
    assert {"Legendary Resistance", "Spellcasting"} <= set(lich["special_abilities"])
    drain = _action(content.monster("vampire-vampire"), "Children of the Night")
    assert drain["per_day"] == 1


def test_monster_lookup_is_forgiving_and_errors_are_one_line():
    assert content.monster("Goblin")["index"] == "goblin"
    assert content.monster("gobln")["index"] == "goblin"
    assert content.monster("adult-red-dragon")["name"] == "Adult Red Dragon"
    with pytest.raises(RulesError) as err:
        content.monster("xqzzt")
    assert str(err.value).startswith("no monster like 'xqzzt'")
    assert "\n" not in str(err.value)
    with pytest.raises(RulesError, match=r"did you mean .*Owlbear"):
        content.monster("owlbare bear")


def test_lookup_returns_a_private_copy():
    gob = content.monster("goblin")
    gob["hit_points"] = 0
    gob["actions"].clear()
    assert content.monster("goblin")["hit_points"] == 7
    assert content.monsters()["goblin"]["actions"]


def test_riders_and_area_shapes_come_from_the_stat_blocks():
    mons = content.monsters()
    assert _action(mons["ghoul"], "Claws")["riders"] == [
        {"condition": "paralyzed", "rounds": 10, "save_ends": True, "when": "fail"}]
    assert _action(mons["wolf"], "Bite")["riders"][0]["condition"] == "prone"
    croc = _action(mons["crocodile"], "Bite")["riders"]
    assert {r["condition"] for r in croc} == {"grappled", "restrained"}
    assert all(r["when"] == "hit" for r in croc) and croc[0]["escape_dc"] == 12
    assert _action(mons["adult-red-dragon"], "Fire Breath")["area_shape"] == {
        "type": "cone", "size": 60}
    assert _action(mons["goblin"], "Scimitar")["riders"] == []
    riders = [r for m in mons.values() for a in m["actions"] + m["legendary_actions"]
              for r in a["riders"]]
    assert len(riders) >= 120
    assert all(r["condition"] in content.conditions() and r["when"] in ("hit", "fail")
               for r in riders)


def test_spellcasting_comes_from_the_stat_blocks():
    mons = content.monsters()
    lich = mons["lich"]["spellcasting"]
    assert (lich["ability"], lich["dc"], lich["attack"]) == ("int", 20, 12)
    assert lich["slots"] == [4, 3, 3, 3, 3, 1, 1, 1, 1]
    assert {"index": "fireball", "per_day": None} in lich["spells"]
    drow = mons["drow"]["spellcasting"]
    assert {"index": "darkness", "per_day": 1} in drow["spells"] and drow["slots"] == [0] * 9
    casters = [m for m in mons.values() if m["spellcasting"]]
    assert len(casters) >= 30
    assert all(s["index"] in content.spells() for m in casters
               for s in m["spellcasting"]["spells"])
    assert mons["goblin"]["spellcasting"] is None


def test_parry_bonus_comes_from_the_reaction():
    mons = content.monsters()
    assert mons["knight"]["parry"] == 2 and mons["marilith"]["parry"] == 5
    assert mons["goblin"]["parry"] == 0


def test_trait_facts_are_the_numbers_the_trait_states():
    mons = content.monsters()
    boar = mons["boar"]["trait_facts"]
    assert boar["Charge"] == {"action": "Tusk", "condition": "prone", "feet": 20,
                              "damage": [{"dice": "1d6", "type": "slashing"}],
                              "save": {"ability": "str", "dc": 11}}
    assert boar["Relentless"] == {"up_to": 7}
    assert mons["basilisk"]["trait_facts"]["Petrifying Gaze"]["condition"] == "restrained"
    assert mons["spy"]["trait_facts"]["Sneak Attack (1/Turn)"]["damage"] == [
        {"dice": "2d6", "type": ""}]
    assert "Amphibious" not in mons["aboleth"]["trait_facts"]  # no numbers, no facts
