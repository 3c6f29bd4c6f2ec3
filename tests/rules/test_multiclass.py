"""Multiclassing in play: level choices through apply, the sheet they make, export and import."""

from __future__ import annotations

import json
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import ARENA, fight, turn_of
from rules_helpers import made as _made

from rules import character_io, content, levels, multiclass
from rules import events as ev
from rules import intents as it
from rules.creature import mod
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply
from rules.pregen import CLASSES, STANDARD


def _level(g: Game, eid: int, cls: str, rng: random.Random) -> list[object]:
    return apply(g, None, it.Dm("level_up", eid, text=cls), rng)


def test_a_new_class_needs_both_prerequisites() -> None:
    rng = random.Random(1)
    g = Game.new(Dungeon.from_dict(ARENA))
    # STR 16 DEX 13 CON 15 INT 9 WIS 14 CHA 11 after the human's +1
    eid = _made(g, "Bo", "fighter", (15, 12, 14, 8, 13, 10), rng)
    with pytest.raises(RulesError, match="wizard needs INT 13"):
        _level(g, eid, "wizard", rng)
    _level(g, eid, "cleric", rng)
    bo = g.entities[eid]
    assert bo.levels == {"fighter": 1, "cleric": 1} and bo.level == 2
    assert "cleric" in multiclass.label(bo) and bo.max_slots[0] == 2


def test_extra_attack_from_two_classes_does_not_stack() -> None:
    rng = random.Random(2)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Kay", "fighter", (15, 10, 14, 8, 12, 13), rng)  # STR 16, CHA 14
    for cls in ["fighter"] * 4 + ["paladin"] * 5:
        _level(g, eid, cls, rng)
    kay = g.entities[eid]
    assert kay.levels == {"fighter": 5, "paladin": 5}
    assert multiclass.attacks(kay) == 2  # two Extra Attacks are still one


def test_pact_magic_sits_beside_the_multiclass_slots() -> None:
    rng = random.Random(3)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Zed", "sorcerer", (8, 12, 14, 10, 13, 15), rng)
    for cls in ["sorcerer", "sorcerer", "warlock", "warlock"]:
        _level(g, eid, cls, rng)
    zed = g.entities[eid]
    # sorcerer 3 alone keeps its own table (4, 2); the warlock's two pact slots add to it
    assert zed.max_slots[:3] == [6, 2, 0] and not zed.pact
    assert "eldritch-blast" in zed.spells and "scorching-ray" in zed.spells


def test_export_keeps_the_classes_and_an_old_export_still_loads() -> None:
    rng = random.Random(4)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Ash", "rogue", (8, 15, 14, 13, 12, 10), rng)
    for cls in ("rogue", "wizard", "wizard"):
        _level(g, eid, cls, rng)
    doc = json.loads(json.dumps(character_io.export(g.entities[eid])))
    assert doc["format"] == "dungeon-character/2" and doc["levels"] == {"rogue": 2, "wizard": 2}
    back = character_io.load(doc)
    assert character_io.export(back) == doc
    other = Game.new(Dungeon.from_dict(ARENA))
    from rules import explore

    explore.enter(other, back)
    _level(other, back.eid, "wizard", rng)  # levels on from the imported choices
    _level(g, eid, "wizard", rng)
    here, there = g.entities[eid], other.entities[back.eid]
    assert there.levels == here.levels == {"rogue": 2, "wizard": 3}
    assert (there.max_hp, there.max_slots, there.abilities) == (
        here.max_hp, here.max_slots, here.abilities)
    old = {k: v for k, v in doc.items() if k not in ("levels", "origin")}
    old["format"] = "dungeon-character/1"
    assert character_io.load(old).levels == {}
    for bad in ({"rogue": 2}, {"rogue": 2, "wizard": 3}, {"rogue": 2, "bard-ish": 2}):
        with pytest.raises(RulesError) as err:
            character_io.load({**doc, "levels": bad})
        assert "\n" not in str(err.value)


@settings(max_examples=25, deadline=None)
@given(primary=st.sampled_from(CLASSES), order=st.permutations(STANDARD),
       picks=st.lists(st.sampled_from(CLASSES), min_size=1, max_size=19),
       seed=st.integers(0, 2**16))
def test_any_legal_sequence_of_level_choices_makes_a_consistent_sheet(
        primary: str, order: list[int], picks: list[str], seed: int) -> None:
    rng = random.Random(seed)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Pat", primary, tuple(order), rng)
    for cls in picks:
        before = g.entities[eid]
        had = multiclass.class_levels(before)
        try:
            _level(g, eid, cls, rng)
        except RulesError as err:  # refused: one line, nothing changed
            assert cls not in had and "\n" not in str(err)
            assert levels.can_multiclass(before.abilities, cls) or any(
                levels.can_multiclass(before.abilities, c) for c in had)
            assert g.entities[eid] is before
            continue
        e = g.entities[eid]
        got = multiclass.class_levels(e)
        assert got == {**had, cls: had.get(cls, 0) + 1}
        assert e.level == sum(got.values()) == before.level + 1
        assert e.prof == 2 + (e.level - 1) // 4 and e.hit_dice == e.level
        hd = int(content.classes()[cls]["hit_die"])
        if mod(e.abilities["con"]) == mod(before.abilities["con"]):
            gain = e.max_hp - before.max_hp  # the average, +1 a sorcerer level (Draconic)
            assert hd // 2 + 1 + mod(e.abilities["con"]) <= gain <= hd // 2 + 2 + mod(
                e.abilities["con"])
        assert sum(e.max_slots) >= sum(before.max_slots)  # a level never takes slots away
        assert multiclass.attacks(e) == max(levels.attacks_per_action(c, n)
                                            for c, n in got.items())
        for c, n in got.items():
            assert set(levels.class_resources(c, n, e.abilities)) <= set(e.res_max)
        assert multiclass.label(e) == " / ".join(f"{c} {n}" for c, n in got.items())
        assert character_io.export(character_io.load(character_io.export(e))) == \
            character_io.export(e)


def test_features_scale_with_their_own_class_level_and_pact_slots_return_on_a_short_rest(
) -> None:
    rng = random.Random(5)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Rue", "wizard", (13, 14, 12, 15, 10, 8), rng)  # STR 14 INT 16
    for cls in ["wizard"] * 3 + ["fighter"]:
        _level(g, eid, cls, rng)
    rue = g.entities[eid]
    assert rue.levels == {"wizard": 4, "fighter": 1}
    rue.hp = 1
    events = apply(g, eid, it.Use("second wind"), rng)
    healed = next(e for e in events if type(e).__name__ == "Healed")
    assert 2 <= healed.amount <= 11  # 1d10 + fighter level 1, not + 5
    rue.slots = [0] * 9
    events = apply(g, eid, it.Use("arcane recovery"), rng)
    assert sum(rue.slots[k] * (k + 1) for k in range(9)) == 2  # half of wizard 4, not of 5
    zed = g.entities[_made(g, "Zed", "sorcerer", (8, 12, 14, 10, 13, 15), rng)]
    for cls in ("warlock", "warlock"):
        _level(g, zed.eid, cls, rng)
    zed = g.entities[zed.eid]
    assert zed.max_slots[:2] == [4, 0] and not zed.pact  # sorcerer 1: 2, pact: 2
    zed.slots = [0] * 9
    apply(g, zed.eid, it.Rest("short"), rng)
    assert g.entities[zed.eid].slots[0] == 2  # the pact slots only


def test_a_second_class_brings_its_speed_and_skill() -> None:
    rng = random.Random(6)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Sun", "sorcerer", (8, 13, 14, 10, 12, 15), rng)  # DEX 14, WIS 13
    skills = set(g.entities[eid].skills)
    _level(g, eid, "monk", rng)
    assert g.entities[eid].speed == 30
    _level(g, eid, "monk", rng)
    assert g.entities[eid].speed == 40  # Unarmored Movement at monk 2, no armour worn
    fist = g.entities[eid].weapons[0]
    assert (fist["name"], fist["dice"], fist["ability"]) == ("unarmed strike", "1d4", "dex")
    _level(g, eid, "rogue", rng)
    sun = g.entities[eid]
    gained = {s for s, v in sun.skills.items() if v >= sun.mod(content.skills()[s]) + sun.prof}
    assert len(gained - skills) == 1  # the rogue's one multiclass skill


def test_a_monk_who_learns_wizardry_casts_with_intelligence() -> None:
    rng = random.Random(7)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Li", "monk", (8, 15, 12, 13, 14, 10), rng)  # DEX 16 WIS 15 INT 14
    assert g.entities[eid].spell_ability == "wis"  # the ki save DC
    _level(g, eid, "wizard", rng)
    li = g.entities[eid]
    assert li.spell_ability == "int" and li.spell_dc() == 8 + 2 + 2


def test_hit_dice_are_each_classs_own_spent_largest_first() -> None:
    rng = random.Random(8)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Kit", "fighter", (15, 12, 14, 13, 10, 8), rng)  # INT 14
    for cls in ("fighter", "wizard", "wizard"):
        _level(g, eid, cls, rng)
    kit = g.entities[eid]
    assert kit.hit_dice == 4
    sizes = []
    while kit.hit_dice:
        sizes.append(multiclass.next_hit_die(kit))
        kit.hit_dice -= 1
    assert sizes == [10, 10, 6, 6]
    kit.hit_dice, kit.hp = 4, 1
    apply(g, eid, it.Rest("short"), rng)
    assert kit.hit_dice < 4 and kit.hp > 1


@pytest.mark.parametrize("seed", range(8))
def test_rolled_hp_rolls_the_die_of_the_class_taken(seed: int) -> None:
    rng = random.Random(seed)
    g = Game.new(Dungeon.from_dict(ARENA), house_rules={"rolled_hp": True})
    eid = _made(g, "Oz", "barbarian", (15, 12, 14, 13, 10, 8), rng)  # d12; INT 14
    before = g.entities[eid].max_hp
    _level(g, eid, "wizard", rng)
    gain = g.entities[eid].max_hp - before
    assert 1 + 2 <= gain <= 6 + 2  # a d6 + CON 15's +2, never the barbarian's d12


def test_the_party_ai_counts_extra_attack_from_a_second_class() -> None:
    from rules import party_tactics
    from rules.game import spawn, start_combat

    rng = random.Random(3)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Rue", "wizard", (15, 10, 14, 13, 12, 8), rng)  # STR 15, INT 13+
    for cls in ["wizard"] * 3 + ["fighter"] * 5:
        _level(g, eid, cls, rng)
    rue = g.entities[eid]
    assert rue.levels == {"wizard": 4, "fighter": 5} and rue.cls == "wizard"
    foe = spawn(g, "ogre", 1)[0].eid
    start_combat(g, rng)
    rue.turn.update(action=1, attacks=0)
    hit = it.Attack(target=foe, weapon=0)
    two = party_tactics._attack(g, rue, hit)
    rue.levels = {}  # the same sheet read as a single-class wizard 9: one attack
    assert two == pytest.approx(2 * party_tactics._attack(g, rue, hit))


def test_a_second_class_gets_its_standing_effects_from_its_own_class_table() -> None:
    rng = random.Random(4)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Ash", "fighter", (15, 10, 14, 8, 12, 13), rng)  # STR 16, CHA 14
    for cls in ["warlock", "warlock"]:
        _level(g, eid, cls, rng)
    ash = g.entities[eid]
    assert ash.levels == {"fighter": 1, "warlock": 2}
    # warlock 2 knows two invocations (the fighter's table at level 3 knows none), and Dark
    # One's Blessing is a warlock passive the fighter's features never had
    assert {t for x in ash.effects for t in x.tags} >= {"agonizing_blast", "devils_sight",
                                                         "dark_ones_blessing"}


def test_a_second_class_sorcerer_knows_its_metamagic_and_ancestry() -> None:
    from rules import classfeatures, metamagic

    rng = random.Random(5)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = _made(g, "Sol", "fighter", (15, 10, 14, 8, 12, 13), rng)  # STR 16, CHA 14
    for cls in ["sorcerer"] * 3:
        _level(g, eid, cls, rng)
    sol = g.entities[eid]
    assert sol.levels == {"fighter": 1, "sorcerer": 3}
    assert len(metamagic.known(sol)) == 2  # sorcerer 3: two options; a fighter's table has none
    assert classfeatures.ancestry(sol)  # Draconic Bloodline's default colour gives a type


@pytest.mark.parametrize("primary, second", [("cleric", "wizard"), ("wizard", "cleric")])
def test_each_class_casts_its_spells_with_its_own_ability(primary: str, second: str) -> None:
    """SRD Multiclassing, Spellcasting: a cleric's spells use WIS, a wizard's INT, on the
    same sheet, whichever class came first."""
    rng = random.Random(5)
    g = Game.new(Dungeon.from_dict(ARENA))
    # INT 14 (+2) and WIS 16 (+3) after the human's +1: the two can be told apart
    eid = _made(g, "Ida", primary, (8, 12, 14, 13, 15, 10), rng)
    _level(g, eid, second, rng)
    ida = g.entities[eid]
    assert ida.levels == {primary: 1, second: 1}
    assert (ida.mod("int"), ida.mod("wis"), ida.prof) == (2, 3, 2)
    (ogre,) = fight(g, "ogre", 1, rng)
    g.entities[ogre].hp = g.entities[ogre].max_hp = 500
    turn_of(g, eid)
    out = apply(g, eid, it.Cast("fire bolt", ogre), random.Random(1))
    hit = next(x for x in out if isinstance(x, ev.Attacked))
    assert hit.total - hit.nat == 2 + 2  # proficiency + INT, not + WIS
    turn_of(g, eid)
    out = apply(g, eid, it.Cast("sacred flame", ogre), random.Random(1))
    save = next(x for x in out if isinstance(x, ev.Rolled) and x.dc)
    assert save.dc == 8 + 2 + 3  # WIS, not INT
    assert multiclass.spell_ability(ida, "cure-wounds") == "wis"
    assert multiclass.spell_ability(ida, "eldritch-blast") == ""  # on neither list
