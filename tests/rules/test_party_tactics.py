"""The party AI plays its sheet: class features, sensible spells, healing, and only legal moves."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rules_helpers import turn_of

from rules import events as ev
from rules import intents as it
from rules import party_tactics, tactics
from rules.dungeon import Dungeon
from rules.encounter import ARENA, LABELS, difficulty, simulate
from rules.errors import RulesError
from rules.game import Game, apply, spawn, start_combat


def _play(party: list[tuple[str, int]], foe: str, count: int, seed: int,
          rounds: int = 6) -> tuple[Game, list[Any]]:
    """A fight played by rules.tactics for both sides; every event it made."""
    rng = random.Random(seed)
    g = Game.new(Dungeon.from_dict(ARENA))
    for k, (cls, level) in enumerate(party):
        apply(g, None, it.Join(f"{cls}{k}", cls, level), rng)
    spawn(g, foe, count)
    out: list[Any] = list(start_combat(g, rng))
    for _ in range(2000):
        if g.combat is None or g.combat["round"] > rounds:
            break
        eid = g.current_turn()
        out += apply(g, eid, tactics.choose(g, eid, rng).intent, rng)
    return g, out


def _actions(out: list[Any], g: Game, cls: str) -> set[str]:
    return {x.action for x in out if isinstance(x, ev.ActionTaken)
            and g.entities[x.eid].kind == "pc" and g.entities[x.eid].cls == cls}


def test_martial_heroes_use_their_features() -> None:
    # a fight the paladin stays up in (at seed 2 an ogre drops it before it can smite)
    g, out = _play([("barbarian", 5), ("paladin", 5), ("fighter", 5), ("monk", 5)],
                   "ogre", 3, seed=3)
    assert "rage" in _actions(out, g, "barbarian")
    assert "divine smite" in _actions(out, g, "paladin")
    assert "action surge" in _actions(out, g, "fighter")
    assert _actions(out, g, "monk") & {"flurry of blows", "stunning strike"}
    paladin = next(e for e in g.party() if e.cls == "paladin")
    assert sum(paladin.slots) < sum(paladin.max_slots)  # the smite spent a slot
    turns = sum(1 for x in out if isinstance(x, ev.TurnStarted) and x.eid == paladin.eid)
    smites = sum(1 for x in out if isinstance(x, ev.ActionTaken) and x.eid == paladin.eid
                 and x.action == "divine smite")
    assert smites <= turns + 1  # readied at most once a turn (and once before its first)


def _on_turn(cls: str, level: int, foe: str) -> tuple[Game, Any]:
    """One hero against one foe, on the hero's turn."""
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Hero", cls, level), random.Random(1))
    spawn(g, foe, 1)
    start_combat(g, random.Random(1))
    hero = g.find("Hero")
    turn_of(g, hero.eid)
    return g, hero


def _once(g: Game, hero: Any, feature: str, option: str) -> None:
    """The feature works once, is refused again this turn, and is no longer offered."""
    apply(g, hero.eid, it.Use(feature), random.Random(1))
    with pytest.raises(RulesError, match="already active"):
        apply(g, hero.eid, it.Use(feature), random.Random(1))
    assert not any(o.id.startswith(option) for o in tactics.legal_actions(g, hero.eid))


def test_a_smite_is_readied_once() -> None:
    """features.toml's smite named an `active` effect the smite never left, so it could be
    stacked: every readied smite spent a slot on the next hit (and the AI looped on it)."""
    g, pal = _on_turn("paladin", 10, "troll")
    _once(g, pal, "divine smite", "u:smite")


def test_no_fire_at_a_fire_immune_dragon() -> None:
    g, out = _play([("wizard", 20), ("cleric", 20)], "adult-red-dragon", 1, seed=1,
                   rounds=3)
    from rules import resolver

    cast = [x.spell for x in out if isinstance(x, ev.SpellCast) and g.entities[x.eid].kind == "pc"]
    assert cast, "the casters cast nothing"
    assert not [s for s in cast if (resolver.spell_data(s).get("damage") or {}).get("type")
                == "fire"]


def test_a_downed_ally_is_healed_first(game: Game) -> None:
    apply(game, None, it.Join("Hale", "cleric", 5), random.Random(1))
    foes_ = spawn(game, "goblin", 1)
    start_combat(game, random.Random(3))
    thorin = game.find("Thorin")
    thorin.hp = 0
    cleric = game.find("Hale")
    turn_of(game, cleric.eid)
    pick = tactics.choose(game, cleric.eid, random.Random(1))
    assert isinstance(pick.intent, it.Cast | it.Use) and pick.intent.target == thorin.eid
    assert foes_  # the goblin is there to be ignored


def test_action_surge_once_a_turn() -> None:
    g, ser = _on_turn("fighter", 17, "ogre")
    assert ser.res["action_surge"] == 2
    _once(g, ser, "action surge", "u:action-surge")
    apply(g, ser.eid, it.EndTurn(), random.Random(1))
    while g.current_turn() != ser.eid:
        apply(g, g.current_turn(), it.EndTurn(), random.Random(1))
    apply(g, ser.eid, it.Use("action surge"), random.Random(1))  # a new turn: allowed again
    assert ser.res["action_surge"] == 0


def test_the_wizard_puts_on_mage_armor_before_the_fight() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Mira", "wizard", 5), random.Random(1))
    mira = g.find("Mira")
    plan = party_tactics.prepare(g, mira)
    assert [c.spell for c in plan] == ["mage-armor"]
    for c in plan:
        apply(g, mira.eid, c, random.Random(1))
    assert mira.current_ac() == 13 + mira.mod("dex") > mira.ac


def test_a_level_20_party_beats_an_easy_dragon() -> None:
    """The brief's yardstick: an 'easy' adult red dragon used to beat this party half the
    time (0.39 over 500 fights), with the party casting fire at it and never surging."""
    r = simulate([("fighter", 20), ("cleric", 20), ("rogue", 20), ("wizard", 20)],
                 [("adult-red-dragon", 1)], 30, seed=1)
    assert r["difficulty"] == "easy" and r["party_win_rate"] >= 0.9
    assert r["refused_options"] == 0


CLASSES = ("barbarian", "bard", "cleric", "druid", "fighter", "monk", "paladin", "ranger",
           "rogue", "sorcerer", "warlock", "wizard")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(classes=st.lists(st.sampled_from(CLASSES), min_size=1, max_size=3),
       level=st.sampled_from((1, 3, 5, 9, 13, 20)),
       foe=st.sampled_from(("goblin", "zombie", "ogre", "troll", "young-green-dragon")),
       seed=st.integers(0, 10_000))
def test_the_party_ai_picks_only_legal_options(classes: list[str], level: int, foe: str,
                                               seed: int) -> None:
    rng = random.Random(seed)
    g = Game.new(Dungeon.from_dict(ARENA))
    for k, cls in enumerate(classes):
        apply(g, None, it.Join(f"{cls}{k}", cls, level), rng)
    spawn(g, foe, 2)
    start_combat(g, rng)
    for _ in range(150):
        if g.combat is None or g.combat["round"] > 4:
            break
        eid = g.current_turn()
        pick = tactics.choose(g, eid, rng)
        if g.entities[eid].kind == "pc":
            assert pick.id in {o.id for o in tactics.legal_actions(g, eid)}
        apply(g, eid, pick.intent, rng)  # a refused pick raises RulesError here


def test_cli_table_rows_match_their_difficulty() -> None:
    out = subprocess.run([sys.executable, "-m", "node.cli", "encounter", "table", "--levels",
                          "3", "--trials", "3", "--json"], capture_output=True, text=True,
                         timeout=300, check=True).stdout
    doc = json.loads(out)
    assert [r["difficulty"] for r in doc["rows"]] == list(LABELS)
    for r in doc["rows"]:
        name, _, count = r["monsters"].partition(":")
        d = difficulty([3] * 4, [name] * int(count))
        assert d["difficulty"] == r["difficulty"] and 0 <= r["party_win_rate"] <= 1
    bad = subprocess.run([sys.executable, "-m", "node.cli", "encounter", "table", "--levels",
                          "30"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
