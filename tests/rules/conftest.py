"""Shared fixtures for the rules tests: a fresh game with a fighter and a wizard."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA

from rules import intents as it
from rules.dungeon import Dungeon
from rules.game import Game, apply


@pytest.fixture
def rng() -> random.Random:
    return random.Random(42)


@pytest.fixture
def game(rng: random.Random) -> Game:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 3), rng)
    apply(g, None, it.Join("Mira", "wizard", 3), rng)
    return g
