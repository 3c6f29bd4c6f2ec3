"""The 15 SRD conditions' mechanical effects, exhaustion levels and durations."""

from __future__ import annotations

import random

from rules_helpers import fight, turn_of

from rules import content, resolver
from rules import intents as it
from rules.creature import CONDITIONS
from rules.effects.records import Cond
from rules.game import Game, apply


def test_all_fifteen_conditions_known() -> None:
    assert sorted(CONDITIONS) == sorted(content.conditions()) and len(CONDITIONS) == 15


def test_blinded_and_invisible_cancel(game: Game) -> None:
    foes = fight(game)
    t, g = game.entities[1], game.entities[foes[0]]
    t.conditions["blinded"] = Cond()
    net, src = resolver.attack_adv(game, t, g, "melee", (5, 0))
    assert net == -1 and "-blinded" in src
    t.conditions["invisible"] = Cond()
    assert resolver.attack_adv(game, t, g, "melee", (5, 0))[0] == 0


def test_prone_depends_on_distance(game: Game) -> None:
    foes = fight(game)
    t, g = game.entities[1], game.entities[foes[0]]
    g.conditions["prone"] = Cond()
    assert resolver.attack_adv(game, t, g, "ranged", (80, 320))[0] == -1
    t.engaged.append(g.eid)
    g.engaged.append(t.eid)
    assert resolver.attack_adv(game, t, g, "melee", (5, 0))[0] == 1


def test_paralyzed_fails_dex_saves_and_is_crit_close(game: Game) -> None:
    foes = fight(game)
    g = game.entities[foes[0]]
    resolver.add_condition(game, g, "paralyzed", [])
    assert not resolver.saving_throw(game, g, "dex", 1, random.Random(1), [])
    t = game.entities[1]
    t.engaged.append(g.eid)
    g.engaged.append(t.eid)
    out: list = []
    spec = {"name": "x", "bonus": 50, "kind": "melee", "range": [5, 0],
            "damage": [["1d4", "slashing"]]}
    resolver.attack(game, t, g, spec, random.Random(3), out)
    assert out[0].crit or out[0].nat == 1


def test_incapacitated_cannot_act(game: Game) -> None:
    foes = fight(game)
    turn_of(game, 1)
    game.entities[1].conditions["stunned"] = Cond()
    import pytest

    from rules.errors import RulesError

    with pytest.raises(RulesError, match="cannot act"):
        apply(game, 1, it.Attack(foes[0]), random.Random(1))


def test_grappled_and_restrained_stop_movement(game: Game) -> None:
    t = game.entities[1]
    assert t.effective_speed() == 30
    t.conditions["grappled"] = Cond()
    assert t.effective_speed() == 0


def test_exhaustion_levels(game: Game) -> None:
    t = game.entities[1]
    for _ in range(2):
        resolver.add_condition(game, t, "exhaustion", [])
    assert t.exhaustion == 2 and t.effective_speed() == 15
    assert resolver.check_adv(t, "str", save=False) == -1
    for _ in range(2):
        resolver.add_condition(game, t, "exhaustion", [])
    assert t.hp <= t.max_hp // 2
    resolver.add_condition(game, t, "exhaustion", [])
    resolver.add_condition(game, t, "exhaustion", [])
    assert t.dead


def test_poisoned_gives_disadvantage_on_checks_and_attacks(game: Game) -> None:
    t = game.entities[1]
    resolver.add_condition(game, t, "poisoned", [])
    assert resolver.check_adv(t, "dex", save=False) == -1


def test_condition_immunity(game: Game) -> None:
    foes = fight(game, "skeleton")
    sk = game.entities[foes[0]]
    assert not resolver.add_condition(game, sk, "poisoned", [])


def test_durations_rounds_and_save_ends(game: Game) -> None:
    foes = fight(game)
    g = game.entities[foes[0]]
    resolver.add_condition(game, g, "frightened", [], rounds=2)
    resolver.add_condition(game, g, "restrained", [], save="str", dc=40)
    from rules.turns import end_turn_effects

    end_turn_effects(game, g, random.Random(1))
    assert g.has("frightened") and g.has("restrained")
    end_turn_effects(game, g, random.Random(1))
    assert not g.has("frightened") and g.has("restrained")
    g.conditions["restrained"].dc = 1
    end_turn_effects(game, g, random.Random(1))
    assert not g.has("restrained")


def test_prone_creature_stands_for_half_speed(game: Game) -> None:
    foes = fight(game)
    g = game.entities[1]
    g.conditions["prone"] = Cond()
    order = game.combat["order"]
    game.combat["idx"] = (order.index(1) - 1) % len(order)
    prev = game.current_turn()
    apply(game, prev, it.EndTurn(), random.Random(0))
    assert foes and game.current_turn() == 1
    assert not g.has("prone") and g.turn["move"] == 15
