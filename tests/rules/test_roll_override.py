"""The DM's roll override: the next d20 shows the chosen face, once, and replays exactly."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules.dice import LoadedD20
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _fighter_in_a_fight() -> tuple[Game, int]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("F", "fighter", 1), random.Random(0))
    (foe,) = fight(g)
    turn_of(g, 1)
    return g, foe


def test_next_attack_roll_shows_the_dms_face_then_dice_are_fair_again() -> None:
    g, foe = _fighter_in_a_fight()
    assert apply(g, None, it.Dm("set_roll", value=1), random.Random(0)) == []
    first = apply(g, 1, it.Attack(foe), random.Random(5))
    attacks = [e for e in first if isinstance(e, ev.Attacked)]
    assert attacks[0].nat == 1 and not attacks[0].hit
    assert g.next_d20 is None
    # The same RNG without an override gives its own roll: the override did not leak.
    assert LoadedD20(random.Random(5), 7).randint(1, 6) == random.Random(5).randint(1, 6)


def test_override_survives_serialisation_and_changes_the_digest() -> None:
    g, _ = _fighter_in_a_fight()
    before = g.digest()
    apply(g, None, it.Dm("set_roll", value=20), random.Random(0))
    assert g.digest() != before
    assert Game.from_dict(g.to_dict()).next_d20 == 20


@pytest.mark.parametrize("face", [0, 21, -3])
def test_faces_outside_a_d20_are_refused_without_change(face: int) -> None:
    g, _ = _fighter_in_a_fight()
    before = g.digest()
    with pytest.raises(RulesError, match="1 to 20"):
        apply(g, None, it.Dm("set_roll", value=face), random.Random(0))
    assert g.digest() == before
