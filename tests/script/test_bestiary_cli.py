"""Monster names, custom monsters and dungeon files through the installed CLI (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

LURKER = """name = "Bog Lurker"
armor_class = 13
hit_points = 30
challenge_rating = 1
abilities = { str = 15, dex = 12, con = 14, int = 3, wis = 10, cha = 5 }

[[actions]]
name = "Bite"
kind = "melee"
attack_bonus = 4
damage = [{ dice = "2d6+2", type = "piercing" }]
"""

ROOMS = """name = "Two Rooms"
[[rooms]]
id = 1
name = "Porch"
exits = [{ to = 2, dir = "n" }]
[[rooms]]
id = 2
name = "Den"
exits = [{ to = 1, dir = "s" }]
encounter = { monsters = [["bog lurker", 1]] }
"""


def dungeon(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_srd_monster_lists_every_candidate_of_an_ambiguous_name() -> None:
    run = dungeon("srd", "monster", "dragon")
    assert run.returncode == 1 and run.stdout == ""
    lines = run.stderr.splitlines()
    assert "'dragon' matches 42 monsters" in lines[0]
    assert "  Ancient Red Dragon" in lines and "  Dragon Turtle" in lines


def test_srd_monster_says_which_monster_a_partial_name_chose() -> None:
    run = dungeon("srd", "monster", "young", "red")
    assert run.returncode == 0 and run.stdout.startswith("Young Red Dragon")
    assert "'young red' is Young Red Dragon" in run.stderr


def test_encounter_refuses_an_ambiguous_monster_in_one_line() -> None:
    run = dungeon("encounter", "simulate", "--party", "fighter:3", "--monsters", "dragon:1",
                  "--trials", "2")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "Adult" in run.stderr or "Wyrmling" in run.stderr


def test_encounter_names_the_monster_it_used() -> None:
    run = dungeon("encounter", "simulate", "--party", "fighter:3", "--monsters", "gobln:2",
                  "--trials", "2", "--json")
    assert run.returncode == 0, run.stderr
    assert "'gobln' is Goblin" in run.stderr
    assert json.loads(run.stdout)["xp"] == 100  # two goblins, 50 XP each


def test_script_spawns_a_custom_monster_from_a_folder(tmp_path: Path) -> None:
    (tmp_path / "bog.toml").write_text(LURKER)
    text = "join Ana fighter 3\ndm: spawn bog lurker\nexpect Bog Lurker hp = 30\n"
    run = dungeon("script", "-", "--monsters", str(tmp_path), stdin=text)
    assert run.returncode == 0, run.stderr
    assert "Bog Lurker appears" in run.stdout
    without = dungeon("script", "-", stdin=text)
    assert without.returncode == 2 and "no monster like 'bog lurker'" in without.stderr


def test_script_refuses_a_bad_monster_file_naming_the_field(tmp_path: Path) -> None:
    bad = tmp_path / "bog.toml"
    bad.write_text(LURKER.replace("armor_class = 13", 'armor_class = "tough"'))
    run = dungeon("script", "-", "--monsters", str(bad), stdin="join Ana fighter 3\n")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "bog.toml monster 1" in run.stderr and "armor_class" in run.stderr


def test_script_plays_a_dungeon_file_with_custom_monsters(tmp_path: Path) -> None:
    (tmp_path / "two.toml").write_text(ROOMS)
    (tmp_path / "bog.toml").write_text(LURKER)
    text = "join Ana fighter 3\nAna: go n\nexpect Bog Lurker hp = 30\n"
    run = dungeon("script", "-", "--dungeon", str(tmp_path / "two.toml"),
                  "--monsters", str(tmp_path / "bog.toml"), stdin=text)
    assert run.returncode == 0, run.stderr
    (tmp_path / "two.toml").write_text(ROOMS.replace("bog lurker", "dragon"))
    bad = dungeon("script", "-", "--dungeon", str(tmp_path / "two.toml"), stdin=text)
    assert bad.returncode == 2 and "room 2: 'dragon' matches 42 monsters" in bad.stderr


def test_node_lists_the_dungeons_for_an_unknown_name(tmp_path: Path) -> None:
    run = dungeon("node", "--data-dir", str(tmp_path), "--radio", "loopback",
                  "--dungeon", "nowhere")
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "crypt, mill" in run.stderr


def test_node_refuses_a_bad_dungeon_file_in_one_line(tmp_path: Path) -> None:
    (tmp_path / "two.toml").write_text(ROOMS.replace("to = 1", "to = 7").replace("bog lurker",
                                                                                "goblin"))
    run = dungeon("node", "--data-dir", str(tmp_path), "--radio", "loopback",
                  "--dungeon", str(tmp_path / "two.toml"))
    assert run.returncode == 2 and run.stderr.strip().splitlines() == [
        "dungeon node: dungeon two.toml: room 2 exit leads to missing room 7"]


GRABBER = """name = "Mire Grabber"
armor_class = 12
hit_points = 20
challenge_rating = 1
abilities = { str = 16, dex = 12, con = 14, int = 3, wis = 10, cha = 5 }
special_abilities = ["Reckless"]

[[actions]]
name = "Tendril"
kind = "melee"
attack_bonus = 5
damage = [{ dice = "1d6+3", type = "bludgeoning" }]
save = { ability = "str", dc = 13 }

[effects.Tendril]
fail = [{ type = "condition", name = "restrained", rounds = -1, end_save = true }]
"""

GRAB = """join Ana wizard 3
dm: spawn mire grabber
dm: start combat
dm: turn Mire Grabber
dm: roll 19 19 1
Mire Grabber: atk Ana tendril
expect Mire Grabber effect trait:Reckless
"""


def test_a_custom_monsters_effect_data_and_srd_traits_play(tmp_path: Path) -> None:
    (tmp_path / "grab.toml").write_text(GRABBER)
    run = dungeon("script", "-", "--monsters", str(tmp_path / "grab.toml"),
                  stdin=GRAB + "expect Ana has restrained\n")
    assert run.returncode == 0, run.stderr
    (tmp_path / "grab.toml").write_text(GRABBER.split("[effects.Tendril]")[0])
    plain = dungeon("script", "-", "--monsters", str(tmp_path / "grab.toml"),
                    stdin=GRAB + "expect Ana not restrained\n")
    assert plain.returncode == 0, plain.stderr  # the save alone imposes nothing


def test_bad_effect_data_is_refused_naming_the_field(tmp_path: Path) -> None:
    (tmp_path / "grab.toml").write_text(GRABBER.replace('"restrained"', '"sleepy"'))
    run = dungeon("script", "-", "--monsters", str(tmp_path / "grab.toml"), stdin="")
    assert run.returncode == 2 and "effects.Tendril.fail[0].name" in run.stderr
