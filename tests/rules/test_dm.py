"""The DM's ops through apply: moving the party, doors, XP, items and coins, sheet bounds."""

from __future__ import annotations

import random

import pytest

from rules import events as ev
from rules import intents as it
from rules.errors import RulesError
from rules.game import Game, apply


def test_dm_moves_the_party_into_a_room_and_its_fight(game: Game, rng: random.Random) -> None:
    out = apply(game, None, it.Dm("move_party", text="n"), rng)
    assert game.room == 2 and all(e.room == 2 for e in game.party())
    assert isinstance(out[0], ev.Entered) and game.combat is not None  # the den's goblins
    with pytest.raises(RulesError, match="end the fight"):
        apply(game, None, it.Dm("move_party", value=1), rng)
    apply(game, None, it.Dm("end_combat"), rng)
    apply(game, None, it.Dm("move_party", value=1), rng)
    assert game.room == 1
    for bad in (it.Dm("move_party", value=99), it.Dm("move_party", text="w"),
                it.Dm("move_party", value=1)):
        with pytest.raises(RulesError):
            apply(game, None, bad, rng)


def test_dm_opens_a_locked_door_the_party_then_walks_through(rng: random.Random) -> None:
    from rules.dungeon import Dungeon

    g = Game.new(Dungeon.from_dict({"name": "t", "start": 1, "rooms": [
        {"id": 1, "name": "Hall", "exits": [{"to": 2, "dir": "n", "locked": True, "key": "k"}]},
        {"id": 2, "name": "Vault", "exits": [{"to": 1, "dir": "s"}]}]}))
    apply(g, None, it.Join("Thorin", "fighter", 1), rng)
    with pytest.raises(RulesError, match="locked"):
        apply(g, 1, it.Move("n"), rng)
    (opened,) = apply(g, None, it.Dm("unlock", text="n"), rng)
    assert isinstance(opened, ev.Info)
    apply(g, 1, it.Move("n"), rng)
    assert g.room == 2


def test_dm_gives_xp_to_one_or_shares_it_and_levels_follow(game: Game,
                                                          rng: random.Random) -> None:
    thorin, mira = game.entities[1], game.entities[2]
    before = (thorin.xp, mira.xp, thorin.level)
    apply(game, None, it.Dm("give_xp", 2, 100), rng)
    assert (thorin.xp, mira.xp) == (before[0], before[1] + 100)
    out = apply(game, None, it.Dm("give_xp", None, 6000), rng)
    assert game.entities[1].xp == before[0] + 3000
    assert any(isinstance(e, ev.LevelledUp) for e in out) and game.entities[1].level > before[2]
    with pytest.raises(RulesError):
        apply(game, None, it.Dm("give_xp", 1, 0), rng)


def test_dm_gives_items_and_coins_that_add_up(game: Game, rng: random.Random) -> None:
    potions = game.entities[1].inventory.count("potion of healing")
    apply(game, None, it.Dm("give_item", 1, 0, "2 Potion of Healing"), rng)
    apply(game, None, it.Dm("give_item", 1, 0, "15 gp"), rng)
    (said,) = apply(game, None, it.Dm("give_item", 1, 0, "10gp"), rng)
    inv = game.entities[1].inventory
    assert inv.count("potion of healing") == potions + 2 and "25 gp" in inv and "15 gp" not in inv
    assert "now holds 25 gp" in said.text
    for bad in ("", "x" * 40):
        with pytest.raises(RulesError):
            apply(game, None, it.Dm("give_item", 1, 1, bad), rng)


def test_sheet_edits_are_bounded(game: Game, rng: random.Random) -> None:
    for bad in ("max_hp=100000", "ac=0", "hp=-1", "speed=lots", "str=18", "name="):
        with pytest.raises(RulesError):
            apply(game, None, it.Dm("edit_sheet", 1, 0, bad), rng)
    apply(game, None, it.Dm("edit_sheet", 1, 0, "max_hp=40"), rng)
    assert game.entities[1].max_hp == 40


def test_unknown_house_rules_are_refused(game: Game, rng: random.Random) -> None:
    with pytest.raises(RulesError, match="no house rule 'flanking'"):
        apply(game, None, it.Dm("house_rule", None, 1, "flanking"), rng)
    assert "flanking" not in game.house
    apply(game, None, it.Dm("house_rule", None, 1, "friendly_fire"), rng)
    assert game.house["friendly_fire"] is True
