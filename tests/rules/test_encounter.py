"""Encounter difficulty by SRD XP thresholds, simulation determinism, and the CLI."""

from __future__ import annotations

import json

from rules import tactics
from rules.encounter import difficulty, simulate
from rules.game import Game


def test_difficulty_thresholds() -> None:
    d = difficulty([3, 3, 3, 3], ["goblin"] * 6)
    assert d["xp"] == 300 and d["adjusted_xp"] == 600  # x2 for 3-6 monsters
    assert d["thresholds"] == {"easy": 300, "medium": 600, "hard": 900, "deadly": 1600}
    assert d["difficulty"] == "medium"
    assert difficulty([1], ["ogre"])["difficulty"] == "deadly"
    assert difficulty([5, 5, 5, 5], ["goblin"])["difficulty"] == "easy"


def test_simulation_is_deterministic_and_sane() -> None:
    party = [("fighter", 3), ("wizard", 3), ("cleric", 3), ("rogue", 3)]
    a = simulate(party, [("goblin", 6)], 12, seed=4)
    b = simulate(party, [("goblin", 6)], 12, seed=4)
    assert a == b and 0.5 < a["party_win_rate"] <= 1 and a["mean_rounds"] >= 1
    assert a["refused_options"] == 0
    weak = simulate([("wizard", 1)], [("ogre", 1)], 12, seed=4)
    assert weak["party_win_rate"] < 0.5


def test_profiles_from_stat_blocks() -> None:
    from rules import content

    assert tactics.profile_for(content.monster("wolf")) == "pack"
    assert tactics.profile_for(content.monster("ogre")) == "brute"


def test_multiattack_and_recharge_used(game: Game) -> None:
    import random

    from rules_helpers import fight, turn_of

    foes = fight(game, "owlbear")
    turn_of(game, foes[0])
    opt = tactics.choose(game, foes[0], random.Random(1))
    bear = game.entities[foes[0]]
    assert bear.actions[int(opt.intent.weapon)]["kind"] == "multiattack"
    g2 = Game.from_dict(game.to_dict())
    from rules.game import spawn

    drake = spawn(g2, "young-green-dragon")[0].eid
    g2.combat["order"].append(drake)
    turn_of(g2, drake)
    d = g2.entities[drake]
    names = {o.label.split(" ")[0] for o in tactics.legal_actions(g2, drake)}
    assert "Poison" in names  # breath weapon offered while charged
    d.recharge = {k: False for k in d.recharge}
    names = {o.label.split(" ")[0] for o in tactics.legal_actions(g2, drake)}
    assert "Poison" not in names


def test_cli_srd_and_encounter(capsys) -> None:  # type: ignore[no-untyped-def]
    from node.cli import main

    assert main(["srd", "monster", "goblin", "--json"]) == 0
    m = json.loads(capsys.readouterr().out)
    assert (m["armor_class"], m["hit_points"], m["challenge_rating"]) == (15, 7, 0.25)
    assert m["actions"][0]["attack_bonus"] == 4
    assert m["actions"][0]["damage"][0] == {"dice": "1d6+2", "type": "slashing"}
    assert main(["srd", "spell", "fireball"]) == 0
    assert "8d6" in capsys.readouterr().out
    assert main(["srd", "monster", "qqqqzzzz"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "qqqqzzzz" in err
    args = ["encounter", "simulate", "--party", "fighter:3,wizard:3,cleric:3,rogue:3",
            "--monsters", "goblin:6", "--trials", "8", "--seed", "1", "--json"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    r = json.loads(first)
    assert {"party_win_rate", "mean_rounds", "difficulty"} <= set(r)
