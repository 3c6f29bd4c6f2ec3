"""The simple combat actions: Dash, Help, Hide, two-weapon fighting, Cunning Action."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules import resolver
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _game(*members: tuple[str, str, int]) -> Game:
    g = Game.new(Dungeon.from_dict(ARENA))
    for name, cls, level in members:
        apply(g, None, it.Join(name, cls, level), random.Random(0))
    return g


def test_dash_doubles_movement() -> None:
    g = _game(("F", "fighter", 1))
    fight(g)
    turn_of(g, 1)
    apply(g, 1, it.Dash(), random.Random(0))
    assert g.entities[1].turn["move"] == 60 and g.entities[1].turn["action"] == 0


def test_help_gives_ally_advantage_once() -> None:
    g = _game(("F", "fighter", 1), ("R", "rogue", 1))
    foes = fight(g)
    turn_of(g, 1)
    apply(g, 1, it.Approach(foes[0]), random.Random(0))
    apply(g, 1, it.HelpAlly(2), random.Random(0))
    gob = g.entities[foes[0]]
    assert resolver.attack_adv(g, g.entities[2], gob, "melee", (5, 0))[0] == 1
    turn_of(g, 2)
    apply(g, 2, it.Attack(foes[0], "rapier"), random.Random(0))
    assert not any(e.has("help") for e in gob.effects)


def test_hide_rolls_stealth_against_passive_perception() -> None:
    g = _game(("R", "rogue", 1))
    fight(g)
    turn_of(g, 1)
    out = apply(g, 1, it.Hide(), random.Random(3))
    roll = next(e for e in out if isinstance(e, ev.Rolled))
    assert roll.what == "stealth" and roll.dc == 9
    assert roll.ok == any(e.has("hidden") for e in g.entities[1].effects)


def test_cunning_action_uses_bonus_action() -> None:
    g = _game(("R", "rogue", 2))
    foes = fight(g)
    turn_of(g, 1)
    apply(g, 1, it.Attack(foes[0], "shortbow"), random.Random(0))
    apply(g, 1, it.Disengage(), random.Random(0))
    assert g.entities[1].turn["bonus"] == 0 and g.entities[1].turn["disengaged"]
    with pytest.raises(RulesError):
        apply(g, 1, it.Dash(), random.Random(0))


def test_a_rogue_hides_with_the_bonus_action_and_then_attacks() -> None:
    g = _game(("R", "rogue", 2))
    foes = fight(g)
    turn_of(g, 1)
    apply(g, 1, it.Hide(), random.Random(0))
    assert g.entities[1].turn["bonus"] == 0 and g.entities[1].turn["action"] == 1
    out = apply(g, 1, it.Attack(foes[0], "shortbow"), random.Random(0))
    assert any(isinstance(e, ev.Attacked) for e in out)
    with pytest.raises(RulesError, match="no action left to dash"):
        apply(g, 1, it.Dash(), random.Random(0))


def test_two_weapon_fighting_offhand_adds_no_modifier() -> None:
    g = _game(("R", "rogue", 1))
    foes = fight(g, "ogre")
    rogue = g.entities[1]
    rogue.weapons.insert(0, dict(next(w for w in rogue.weapons if w["name"] == "dagger")))
    turn_of(g, 1)
    apply(g, 1, it.Attack(foes[0], 0), random.Random(0))
    seen = set()
    for seed in range(40):
        h = Game.from_dict(g.to_dict())
        out = apply(h, 1, it.Attack(foes[0], "dagger"), random.Random(seed))
        assert h.entities[1].turn["bonus"] == 0
        for e in out:
            if isinstance(e, ev.Damaged) and not any(
                    isinstance(x, ev.Attacked) and x.crit for x in out):
                seen.add(e.amount)
    assert seen and max(seen) <= 4 and min(seen) >= 1  # 1d4, no DEX, no sneak (no ally)
