"""Magic items: attunement to at most three, kept across a long rest; potions used up."""

from __future__ import annotations

import random

import pytest
from rules_helpers import party

from rules import intents as it
from rules.errors import RulesError
from rules.game import Game, apply


def _vex() -> Game:
    return party(("Vex", "rogue", 5))


def test_attuned_items_raise_ac_and_saves_and_survive_a_long_rest() -> None:
    g = _vex()
    v = g.entities[1]
    base = v.current_ac()
    v.inventory += ["ring of protection", "cloak of protection"]
    apply(g, 1, it.Use("ring of protection"), random.Random(1))
    apply(g, 1, it.Use("cloak of protection"), random.Random(1))
    assert v.current_ac() == base + 2 and "ring of protection" in v.inventory
    with pytest.raises(RulesError, match="already active"):
        apply(g, 1, it.Use("ring of protection"), random.Random(1))
    apply(g, 1, it.Rest("long"), random.Random(1))
    assert v.current_ac() == base + 2


def test_no_more_than_three_attuned_items() -> None:
    g = _vex()
    v = g.entities[1]
    items = ["ring of protection", "cloak of protection", "brooch of shielding",
             "ring of fire resistance"]
    v.inventory += items
    for name in items[:3]:
        apply(g, 1, it.Use(name), random.Random(1))
    with pytest.raises(RulesError, match="attuned to 3"):
        apply(g, 1, it.Use(items[3]), random.Random(1))
    assert "fire" not in [r for x in v.effects for r in x.resist]


def test_an_item_not_carried_cannot_be_attuned_and_a_potion_is_used_up() -> None:
    g = _vex()
    v = g.entities[1]
    with pytest.raises(RulesError, match="no ring of protection"):
        apply(g, 1, it.Use("ring of protection"), random.Random(1))
    v.inventory.append("potion of heroism")
    apply(g, 1, it.Use("potion of heroism"), random.Random(1))
    assert v.temp_hp == 10 and "potion of heroism" not in v.inventory


def test_loot_goes_to_characters_not_a_party_pile() -> None:
    from rules.equipment import share_loot

    g = _vex()
    apply(g, None, it.Join("Ana", "cleric", 5), random.Random(0))
    v, a = g.entities[1], g.entities[2]
    before = len(v.inventory), len(a.inventory)
    out = share_loot(g, ["potion of healing", "ring of protection", "50 gp"])
    assert len(v.inventory) + len(a.inventory) == sum(before) + 3 and not g.loot
    assert len(out) == 3 and all(e.text.startswith(("Vex", "Ana")) for e in out)
