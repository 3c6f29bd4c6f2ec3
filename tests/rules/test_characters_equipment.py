"""Equipping carried gear: weapons become the main one, armour and shields set the AC."""

from __future__ import annotations

import random

import pytest
from rules_helpers import party

from rules import intents as it
from rules.errors import RulesError
from rules.game import Game, apply


def _fighter() -> Game:
    return party(("F", "fighter", 3))


def test_the_sheet_names_weapons_as_players_type_them() -> None:
    g = _fighter()
    assert [w["name"] for w in g.entities[1].weapons] == ["longsword", "light crossbow"]


def test_wielding_a_carried_weapon_makes_it_the_main_one() -> None:
    g = _fighter()
    f = g.entities[1]
    f.inventory.append("greataxe")
    apply(g, 1, it.Use("greataxe"), random.Random(0))
    assert f.weapons[0]["name"] == "greataxe" and "greataxe" not in f.inventory
    apply(g, 1, it.Use("light crossbow"), random.Random(0))
    assert f.weapons[0]["name"] == "light crossbow" and len(f.weapons) == 3


def test_armour_sets_the_ac_and_the_old_one_goes_in_the_pack() -> None:
    g = _fighter()
    f = g.entities[1]
    assert (f.armor, f.shield, f.ac) == ("chain-mail", True, 19)  # 16 + shield + Defense
    f.inventory.append("plate armor")
    apply(g, 1, it.Use("plate armor"), random.Random(0))
    assert f.ac == 21 and f.armor == "plate-armor" and "chain mail" in f.inventory
    apply(g, None, it.Dm("spawn", text="goblin", value=1), random.Random(0))
    apply(g, None, it.Dm("start_combat"), random.Random(0))
    apply(g, None, it.Dm("set_turn", 1), random.Random(0))
    with pytest.raises(RulesError, match="not in a fight"):
        apply(g, 1, it.Use("chain mail"), random.Random(0))
