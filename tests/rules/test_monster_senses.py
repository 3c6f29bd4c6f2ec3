"""Monster senses and terrain: blindsight, Echolocation, Web Sense, Iron Scent, Treasure
Sense, camouflage, difficult ground (Ice Walk, Web Walker, Standing and Running Leap) and
Turn Defiance, each played through the real rules and failing if its rule is dropped."""

from __future__ import annotations

import dataclasses
import random
from typing import Any

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules import resolver, turns
from rules.combat import close_cost
from rules.dungeon import Dungeon
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.game import Game, apply


def _game(monster: str, terrain: tuple[str, ...] = (), cls: str = "fighter",
          level: int = 3) -> tuple[Game, Any, Any]:
    """Thorin and one monster in a hall with these terrain tags; combat started."""
    arena = {**ARENA, "rooms": [{**ARENA["rooms"][0], "terrain": list(terrain)},
                                ARENA["rooms"][1]]}
    g = Game.new(Dungeon.from_dict(arena))
    apply(g, None, it.Join("Thorin", cls, level), random.Random(0))
    foe = g.entities[fight(g, monster)[0]]
    return g, g.entities[1], foe


def _sources(g: Game, atk: Any, tgt: Any, kind: str = "melee") -> list[str]:
    return resolver.attack_adv(g, atk, tgt, kind, (5, 0) if kind == "melee" else (80, 320))[1]


def _engage(a: Any, b: Any) -> None:
    a.engaged, b.engaged = [b.eid], [a.eid]


def test_blindsight_sees_the_invisible_within_its_range_only() -> None:
    g, thorin, ooze = _game("gray-ooze")  # blindsight 60 ft
    thorin.effects.append(Effect("invisible", thorin.eid, tags=("invisible",)))
    _engage(thorin, ooze)
    assert "-invisible" not in _sources(g, ooze, thorin)  # its blow is not blind
    assert "invisible" not in _sources(g, thorin, ooze)  # nor is he unseen by it
    g2, thorin2, spider = _game("giant-spider")  # blindsight 10 ft: near is 30 ft
    thorin2.effects.append(Effect("invisible", thorin2.eid, tags=("invisible",)))
    assert "invisible" in _sources(g2, thorin2, spider, "ranged")
    _engage(thorin2, spider)
    assert "invisible" not in _sources(g2, thorin2, spider)


def test_echolocation_loses_blindsight_while_deafened() -> None:
    g, thorin, bat = _game("giant-bat")  # blindsight 60 ft, Echolocation
    thorin.effects.append(Effect("invisible", thorin.eid, tags=("invisible",)))
    _engage(thorin, bat)
    assert "-invisible" not in _sources(g, bat, thorin)
    resolver.add_condition(g, bat, "deafened", [], rounds=1)
    assert "-invisible" in _sources(g, bat, thorin)
    # a deafened ooze has no echolocation: its blindsight still works
    g2, thorin2, ooze = _game("gray-ooze")
    thorin2.effects.append(Effect("invisible", thorin2.eid, tags=("invisible",)))
    _engage(thorin2, ooze)
    resolver.add_condition(g2, ooze, "deafened", [], rounds=1)
    assert "-invisible" not in _sources(g2, ooze, thorin2)


def test_darkness_does_not_blind_a_blindsighted_bat() -> None:
    g, thorin, bat = _game("giant-bat")
    g.house["torches"] = False
    g.dungeon.rooms[1] = dataclasses.replace(g.dungeon.rooms[1], light="dark")
    _engage(thorin, bat)
    assert "-darkness" not in _sources(g, bat, thorin)
    assert "-darkness" in _sources(g, thorin, bat)  # Thorin (a human) has no darkvision


def _hidden(e: Any) -> None:
    e.effects.append(Effect("hidden", e.eid, tags=("hidden",)))


def test_web_sense_finds_the_hidden_only_in_a_webbed_room() -> None:
    for terrain, found in (((), False), (("webs",), True)):
        g, thorin, spider = _game("giant-spider", terrain)
        _hidden(thorin)  # 30 ft off: beyond its 10 ft blindsight
        assert ("hidden" not in _sources(g, thorin, spider, "ranged")) is found


def test_iron_scent_finds_a_hidden_foe_carrying_iron() -> None:
    g, thorin, rust = _game("rust-monster")
    _hidden(thorin)  # chain mail and a longsword
    assert "hidden" not in _sources(g, thorin, rust, "ranged")
    thorin.armor, thorin.weapons = "", [w for w in thorin.weapons if w["name"] == "club"]
    assert "hidden" in _sources(g, thorin, rust, "ranged")


@pytest.mark.parametrize(("monster", "terrain"), [
    ("grick", "rocky"), ("octopus", "water"), ("winter-wolf", "snow")])
def test_camouflage_gives_advantage_to_hide_in_its_terrain(monster: str, terrain: str) -> None:
    for here, kept in (((), 1), ((terrain,), 19)):
        g, _thorin, m = _game(monster, here)
        turn_of(g, m.eid)
        g.next_d20 = [1, 19]  # with advantage it keeps the 19
        out = apply(g, m.eid, it.Hide(), random.Random(1))
        roll = next(x for x in out if isinstance(x, ev.Rolled) and x.what == "stealth")
        assert roll.nat == kept


def test_dungeon_terrain_is_checked() -> None:
    bad = {**ARENA, "rooms": [{**ARENA["rooms"][0], "terrain": ["lava"]}, ARENA["rooms"][1]]}
    with pytest.raises(RulesError, match="terrain"):
        Dungeon.from_dict(bad)


@pytest.mark.parametrize("monster", ["ghast", "lich"])
def test_turn_defiance_gives_advantage_against_turn_undead(monster: str) -> None:
    def save_kept(m: str) -> int:
        g, cleric, undead = _game(m, cls="cleric", level=5)
        undead.hp = undead.max_hp = 500  # past destroy undead's reach either way
        turn_of(g, cleric.eid)
        g.next_d20 = [1, 19]
        out = apply(g, cleric.eid, it.Use("turn undead"), random.Random(2))
        return next(x for x in out if isinstance(x, ev.Rolled) and x.eid == undead.eid).nat
    assert save_kept(monster) == 19
    assert save_kept("ghoul") == 1  # no such trait: one die


def test_treasure_sense_finds_a_hidden_foe_carrying_coins() -> None:
    g, thorin, xorn = _game("xorn")
    _hidden(thorin)
    assert "hidden" in _sources(g, thorin, xorn, "ranged")  # a potion is no treasure
    thorin.inventory.append("12 gp")
    assert "hidden" not in _sources(g, thorin, xorn, "ranged")


def _on_turn(g: Game, e: Any) -> None:
    """Begin `e`'s turn through the turn rules (which read the room's ground)."""
    g.combat["idx"] = g.combat["order"].index(e.eid)
    turns.begin_turn(g, random.Random(0))


def _costs(monster: str, terrain: tuple[str, ...]) -> tuple[int, int, int, int]:
    """(its cost to close from near, from far; Thorin's from near, from far)."""
    g, thorin, m = _game(monster, terrain)
    out = []
    for a, b in ((m, thorin), (thorin, m)):
        _on_turn(g, a)
        a.band = b.band = "near"
        out.append(close_cost(a, b))
        b.band = "far"
        out.append(close_cost(a, b))
    return out[0], out[1], out[2], out[3]


def test_snow_ice_and_webs_are_difficult_ground_but_not_for_their_walkers() -> None:
    assert _costs("young-white-dragon", ()) == (10, 40, 10, 40)
    assert _costs("young-white-dragon", ("snow",)) == (10, 40, 20, 80)  # Ice Walk
    assert _costs("young-white-dragon", ("ice",)) == (10, 40, 20, 80)
    assert _costs("giant-spider", ("webs",)) == (10, 40, 20, 80)  # Web Walker
    assert _costs("ogre", ("webs",)) == (20, 80, 20, 80)
    assert _costs("ogre", ("rocky",)) == (10, 40, 10, 40)  # rocky ground is not difficult


def test_a_leap_clears_its_long_jump_of_difficult_ground() -> None:
    assert _costs("bulette", ("snow",))[:2] == (10, 30 + 2 * 10)  # Standing Leap 30 ft
    assert _costs("frog", ("snow",))[:2] == (10, 10 + 2 * 30)  # 10 ft
    # Running Leap 25 ft needs a 10 ft run-up first: none when closing from near
    assert _costs("lion", ("snow",))[:2] == (20, 10 * 2 + 25 + 5 * 2)
    assert _costs("lion", ())[:2] == (10, 40)


def test_difficult_ground_stops_a_short_move() -> None:
    for terrain, ok in (((), True), (("webs",), False)):
        g, thorin, ogre = _game("ogre", terrain)
        _on_turn(g, thorin)
        thorin.turn["move"] = 15
        if ok:
            apply(g, thorin.eid, it.Approach(ogre.eid), random.Random(0))
            assert ogre.eid in thorin.engaged
        else:
            with pytest.raises(RulesError, match="not enough movement"):
                apply(g, thorin.eid, it.Approach(ogre.eid), random.Random(0))


def test_tree_stride_leaves_melee_unopposed_only_among_trees() -> None:
    for terrain, opposed in (((), True), (("trees",), False)):
        g, thorin, dryad = _game("dryad", terrain)
        _engage(thorin, dryad)
        _on_turn(g, dryad)
        out = apply(g, dryad.eid, it.Move("back"), random.Random(0))
        assert any(isinstance(x, ev.ActionTaken) and x.action == "opportunity attack"
                   for x in out) is opposed
        assert not dryad.engaged


def test_water_susceptibility_burns_per_five_feet_moved_in_water() -> None:
    for terrain, burn in (((), 0), (("water",), 8)):
        g, thorin, fire = _game("fire-elemental", terrain)
        thorin.band = "far"
        _on_turn(g, fire)
        apply(g, fire.eid, it.Approach(thorin.eid), random.Random(0))  # 40 ft from far
        out = apply(g, fire.eid, it.EndTurn(), random.Random(0))
        cold = [x.amount for x in out if isinstance(x, ev.Damaged) and x.target == fire.eid]
        assert sum(cold) == burn


def test_the_ai_hides_a_camouflaged_monster_in_its_terrain_when_no_foe_is_in_reach() -> None:
    from rules import tactics

    for here, hides in (((), False), (("rocky",), True)):
        g, thorin, grick = _game("grick", here)
        thorin.band = "far"  # out of its reach this turn: an ambush is worth its action
        _on_turn(g, grick)
        opts = tactics.legal_actions(g, grick.eid)
        assert any(isinstance(o.intent, it.Hide) for o in opts) is hides
        picked = tactics.choose(g, grick.eid, random.Random(0))
        assert isinstance(picked.intent, it.Hide) is hides


def test_srd_lines_say_what_the_traits_do_with_the_stat_blocks_numbers() -> None:
    from rules import content
    from rules.effects import monsters

    def row(m: str, name: str) -> dict[str, Any]:
        return next(a for a in monsters.abilities(content.monsters()[m]) if a["name"] == name)

    assert row("bulette", "Standing Leap") == {
        "name": "Standing Leap", "kind": "trait", "state": "mechanised",
        "does": "leaps over difficult ground: a move's first 30 ft (its long jump) cost no extra"}
    assert "25 ft" in row("lion", "Running Leap")["does"]
    for m, trait in (("bat", "Echolocation"), ("grick", "Stone Camouflage"),
                     ("giant-spider", "Web Sense"), ("ghast", "Turn Defiance"),
                     ("young-white-dragon", "Ice Walk"), ("dryad", "Tree Stride"),
                     ("fire-elemental", "Water Susceptibility"), ("xorn", "Treasure Sense")):
        assert row(m, trait)["state"] == "mechanised"
    assert row("grimlock", "Blind Senses")["state"] == "adjudicated"  # smell: not in the game
