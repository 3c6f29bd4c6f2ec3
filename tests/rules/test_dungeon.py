"""Dungeon rules: exits, locked doors, access rules, traps, light, loot, the bundled crypt."""

from __future__ import annotations

import random

import pytest

from rules import events as ev
from rules import intents as it
from rules.dungeon import Dungeon, load_bundled
from rules.errors import RulesError
from rules.game import Game, apply


def test_bundled_crypt_shape() -> None:
    d = load_bundled("crypt")
    assert len(d.rooms) >= 8
    assert sum(1 for r in d.rooms.values() if r.encounter) >= 4
    assert d.levels == (1, 3)
    from rules import content

    for r in d.rooms.values():
        for name, _ in r.encounter.monsters if r.encounter else ():
            assert content.monster(name)["index"] == name


def test_bad_dungeon_data_is_rules_error() -> None:
    with pytest.raises(RulesError):
        Dungeon.from_dict({"rooms": [{"id": 1, "name": "A", "exits": [{"to": 9}]}]})
    with pytest.raises(RulesError):
        load_bundled("nowhere")


DOORS = {"name": "d", "start": 1, "rooms": [
    {"id": 1, "name": "A", "exits": [
        {"to": 2, "dir": "n", "locked": True, "dc": 15}, {"to": 3, "dir": "e", "locked": True,
                                                           "key": "brass key"},
        {"to": 4, "dir": "s", "min_level": 3}, {"to": 5, "dir": "w", "dm_only": True}]},
    {"id": 2, "name": "B", "exits": [{"to": 1, "dir": "s"}],
     "trap": {"detect_dc": 30, "save": "dex", "dc": 40, "damage": "2d6", "type": "fire"}},
    {"id": 3, "name": "C", "light": "dark"}, {"id": 4, "name": "D"}, {"id": 5, "name": "E"},
]}


def _party() -> Game:
    g = Game.new(Dungeon.from_dict(DOORS))
    apply(g, None, it.Join("Rin", "rogue", 1), random.Random(0))
    return g


def test_locked_door_with_dc_needs_a_check() -> None:
    outcomes = set()
    for seed in range(30):
        g = _party()
        out = apply(g, 1, it.Move("n"), random.Random(seed))
        roll = next(e for e in out if isinstance(e, ev.Rolled))
        assert roll.dc == 15 and roll.what == "pick lock"
        outcomes.add(g.room == 2)
        assert (g.room == 2) == roll.ok
    assert outcomes == {True, False}


def test_trap_springs_when_unseen() -> None:
    g = _party()
    g.state["unlocked"].append("1:2")
    out = apply(g, 1, it.Move("n"), random.Random(1))
    dmg = next(e for e in out if isinstance(e, ev.Damaged))
    assert 2 <= dmg.amount <= 12 and dmg.dtype == "fire"
    assert 2 in g.state["traps"]


def test_key_door_and_access_rules() -> None:
    g = _party()
    g.house["torches"] = False
    with pytest.raises(RulesError, match="brass key"):
        apply(g, 1, it.Move("e"), random.Random(0))
    g.entities[1].inventory.append("brass key")
    apply(g, 1, it.Move("e"), random.Random(0))
    assert g.room == 3
    assert "Too dark" in g.describe_room(3, 1)
    g = _party()
    with pytest.raises(RulesError, match="level 3"):
        apply(g, 1, it.Move("s"), random.Random(0))
    with pytest.raises(RulesError, match="DM"):
        apply(g, 1, it.Move("w"), random.Random(0))
    apply(g, None, it.Dm("unlock", text="w"), random.Random(0))
    apply(g, 1, it.Move("w"), random.Random(0))
    assert g.room == 5


def test_room_description_is_one_line() -> None:
    g = Game.new(load_bundled())
    apply(g, None, it.Join("A", "fighter"), random.Random(0))
    apply(g, None, it.Join("B", "wizard"), random.Random(0))
    text = g.describe_room(g.room, 1)
    assert "\n" not in text and "Mossy Stair" in text and "B" in text
    assert text.startswith("Mossy Stair [dim] exits d")
