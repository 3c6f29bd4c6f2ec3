"""Dice: the safe d20 wrapper, caps, errors, determinism and exact probabilities."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rules import dice
from rules.errors import RulesError
from rules.resolver import hit_chance


def test_same_seed_same_rolls() -> None:
    a = [dice.roll("4d6kh3+2", random.Random(7)).total for _ in range(3)]
    b = [dice.roll("4d6kh3+2", random.Random(7)).total for _ in range(3)]
    assert a == b


def test_does_not_touch_global_random() -> None:
    random.seed(5)
    expected = random.random()
    random.seed(5)
    dice.roll("10d6", random.Random(1))
    assert random.random() == expected


@pytest.mark.parametrize("expr", ["(" * 2000 + "1" + ")" * 2000, "+1" * 500, "1" + "+1" * 40,
                                  "101d6", "hello", "1d6>3", "", "1d0", "5/0"])
def test_bad_expressions_are_one_line_rules_errors(expr: str) -> None:
    with pytest.raises(RulesError) as err:
        dice.roll(expr, random.Random(1))
    assert "\n" not in str(err.value)


def test_ranges_and_keep_highest() -> None:
    rng = random.Random(3)
    for _ in range(300):
        r = dice.roll("1d6+2", rng)
        assert 3 <= r.total <= 8 and len(r.dice) == 1
        assert 3 <= dice.roll("4d6kh3", rng).total <= 18
        assert -6 <= dice.total("1-1d6", rng) <= 0


def test_crit_doubles_dice_not_modifier() -> None:
    r = dice.roll("2d6+3", random.Random(9), crit=True)
    assert len(r.dice) == 4 and r.total == sum(r.dice) + 3


def test_general_evaluator_for_multiplication() -> None:
    r = dice.roll("2*(1d4+1)", random.Random(2))
    assert r.total == 2 * (r.dice[0] + 1)


def test_advantage_probability_matches_exact() -> None:
    rng = random.Random(1234)
    n = 20000
    hits = sum(dice.d20(rng, 1)[0] >= 11 for _ in range(n))
    assert abs(hits / n - 0.75) < 0.015  # exact: 1 - (10/20)^2
    dis = sum(dice.d20(rng, -1)[0] >= 11 for _ in range(n))
    assert abs(dis / n - 0.25) < 0.015


def test_exact_hit_chance_and_empirical_agree() -> None:
    assert hit_chance(0, 11, 1) == pytest.approx(0.75)
    assert hit_chance(4, 15, 0) == pytest.approx(0.5)
    assert hit_chance(30, 10, 0) == pytest.approx(0.95)  # a natural 1 still misses
    assert hit_chance(-30, 30, 0) == pytest.approx(0.05)  # a natural 20 still hits


@given(st.integers(-5, 15), st.integers(5, 30))
def test_advantage_never_lowers_hit_chance(bonus: int, ac: int) -> None:
    assert hit_chance(bonus, ac, 1) >= hit_chance(bonus, ac, 0) >= hit_chance(bonus, ac, -1)


@given(st.text(max_size=80))
def test_any_text_is_a_result_or_rules_error(text: str) -> None:
    try:
        r = dice.roll(text, random.Random(0))
    except RulesError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(r.total, int)
