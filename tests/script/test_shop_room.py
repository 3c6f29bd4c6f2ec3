"""A dungeon room that is a shop: its wares sell there and nowhere else; a bad ware is refused at load."""

from __future__ import annotations

from pathlib import Path

from test_scripts import dungeon

TOWN = '''name = "town"
start = 1
[[rooms]]
id = 1
name = "Market"
shop = ["longsword", "torch", "potion of healing"]
exits = [{ to = 2, dir = "n" }]
[[rooms]]
id = 2
name = "Road"
exits = [{ to = 1, dir = "s" }]
'''


def test_a_room_shop_sells_only_in_its_room(tmp_path: Path) -> None:
    town = tmp_path / "town.toml"
    town.write_text(TOWN, "utf-8")
    script = ("join Vex rogue 3\ndm: give Vex 20 gp\nVex: shop\nVex: buy torch\n"
              "expect Vex stat coins_cp = 1999\nVex: n\n! Vex: buy torch\n! Vex: shop\n"
              "Vex: s\nVex: sell torch\nexpect Vex stat coins_cp = 1999\n")
    run = dungeon("script", "-", "--dungeon", str(town), stdin=script)
    assert run.returncode == 0, run.stderr
    assert "shop 1/1: longsword 15gp, torch 1cp, potion of healing 50gp" in run.stdout


def test_a_ware_not_in_the_srd_is_refused_at_load(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(TOWN.replace('"torch"', '"tourch"').replace('"longsword", ', '"laser", '),
                   "utf-8")
    run = dungeon("script", "-", "--dungeon", str(bad), stdin="join Vex rogue 3\n")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1
    assert "laser" in run.stderr
