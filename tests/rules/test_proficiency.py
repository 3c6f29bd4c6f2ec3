"""Armour and weapon proficiencies in play: attack bonus, STR/DEX disadvantage, no spells."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import ARENA, fight, made, party, turn_of

from rules import content, creation, dice, pregen, proficiency, resolver, tactics
from rules import events as ev
from rules import intents as it
from rules.combat import weapon_spec
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _wearing(cls: str, *gear: str, level: int = 3) -> Game:
    """A pregenerated `cls` (id 1) that was given `gear` and put it on (`use`)."""
    g = party(("Wiz", cls, level))
    for item in gear:
        apply(g, None, it.Dm("give_item", 1, text=item), random.Random(0))
        apply(g, 1, it.Use(item), random.Random(0))
    return g


def test_an_unskilled_weapon_attack_adds_no_proficiency_bonus() -> None:
    g = _wearing("wizard", "greataxe")
    wiz = g.entities[1]
    assert wiz.weapons[0]["name"] == "greataxe"
    foe = fight(g)[0]
    turn_of(g, 1)
    out = apply(g, 1, it.Attack(foe, "greataxe"), random.Random(3))
    hit = next(e for e in out if isinstance(e, ev.Attacked))
    assert hit.total - hit.nat == wiz.mod("str")  # no +2
    dagger = next(w for w in wiz.weapons if w["name"] == "dagger")
    assert weapon_spec(wiz, dagger)["bonus"] == wiz.mod("dex") + wiz.prof


def test_equip_says_the_cost_in_one_clause() -> None:
    g = party(("Wiz", "wizard", 3), ("Bo", "fighter", 3))
    for eid, item in ((1, "chain mail"), (1, "greataxe"), (2, "greataxe")):
        apply(g, None, it.Dm("give_item", eid, text=item), random.Random(0))
    said = [apply(g, eid, it.Use(item), random.Random(0))[0].text
            for eid, item in ((1, "chain mail"), (1, "greataxe"), (2, "greataxe"))]
    assert said[0].endswith("(not proficient: disadvantage on STR/DEX rolls, no spells)")
    assert said[1].endswith("(not proficient: no proficiency bonus to hit)")
    assert "proficient" not in said[2]
    assert "AC 16 (chain mail: not proficient)" in g.describe(1, "sheet")
    assert "greataxe (not proficient)" in g.describe(1, "sheet")
    assert "not proficient" not in g.describe(2, "sheet")


def test_a_shop_says_so_before_the_gold_is_spent() -> None:
    from rules import shop

    g = party(("Wiz", "wizard", 3), ("Bo", "fighter", 3))
    apply(g, None, it.Dm("shop.open", text="chain mail, torch"), random.Random(0))
    said = []
    for eid, item in ((1, "chain mail"), (1, "torch"), (2, "chain mail")):
        shop.set_purse(g.entities[eid], 10000)
        said.append(apply(g, eid, it.Trade("buy", item), random.Random(0))[0].text)
    assert said[0].startswith("buys the chain mail (not proficient) for 75gp")
    assert "proficient" not in said[1] + said[2]


def test_unskilled_armour_gives_disadvantage_on_a_dex_save_and_an_attack() -> None:
    g = _wearing("wizard", "chain mail")
    wiz = g.entities[1]
    assert resolver.check_adv(wiz, "dex", save=True) == -1
    assert resolver.check_adv(wiz, "str", save=False) == -1
    assert resolver.check_adv(wiz, "con", save=True) == 0  # only STR and DEX
    out: list[object] = []
    resolver.saving_throw(g, wiz, "dex", 10, dice.LoadedD20(random.Random(1), [20, 1]), out)
    assert out[-1].nat == 1  # two dice, the lower kept
    foe = fight(g)[0]
    turn_of(g, 1)
    out = apply(g, 1, it.Attack(foe, "dagger"), dice.LoadedD20(random.Random(1), [20, 1]))
    assert next(e for e in out if isinstance(e, ev.Attacked)).nat == 1


def test_the_same_armour_worn_with_proficiency_costs_nothing() -> None:
    g = _wearing("fighter", "plate armor")
    bo = g.entities[1]
    assert bo.armor == "plate-armor" and proficiency.hampering(bo) == ""
    assert resolver.check_adv(bo, "dex", save=True) == 0
    foe = fight(g)[0]
    turn_of(g, 1)
    out = apply(g, 1, it.Attack(foe), dice.LoadedD20(random.Random(1), [20, 1]))
    assert next(e for e in out if isinstance(e, ev.Attacked)).nat == 20


@pytest.mark.parametrize(("item", "worn"), [("chain mail", "chain mail"), ("shield", "shield")])
def test_no_spells_in_unskilled_armour_or_behind_an_unskilled_shield(item: str,
                                                                       worn: str) -> None:
    g = _wearing("wizard", item)
    foe = fight(g)[0]
    turn_of(g, 1)
    with pytest.raises(RulesError, match=rf"^you cannot cast in armour you are not "
                                         rf"proficient with \({worn}\)$"):
        apply(g, 1, it.Cast("fire bolt", foe), random.Random(0))
    assert not [o for o in tactics.legal_actions(g, 1) if isinstance(o.intent, it.Cast)]


def test_no_reaction_spell_either() -> None:
    g = _wearing("wizard", "chain mail")
    wiz = g.entities[1]
    foe = fight(g)[0]
    turn_of(g, foe)
    before = list(wiz.slots)
    for seed in range(30):  # the goblin's hits that shield would turn find no shield
        wiz.hp = wiz.max_hp
        wiz.reaction = True
        turn_of(g, foe)
        apply(g, foe, it.Attack(1), random.Random(seed))
    assert wiz.slots == before


def test_a_fighter_then_wizard_keeps_all_armour() -> None:
    rng = random.Random(1)
    g = Game.new(Dungeon.from_dict(ARENA))
    eid = made(g, "Bo", "fighter", (15, 12, 14, 13, 10, 8), rng)  # INT 14 after +1
    apply(g, None, it.Dm("level_up", eid, text="wizard"), rng)
    bo = g.entities[eid]
    assert bo.levels == {"fighter": 1, "wizard": 1}
    assert {"all-armor", "shields", "martial-weapons"} <= proficiency.held(bo)
    assert proficiency.item_ok(bo, "plate-armor")


def test_a_wizard_then_fighter_gains_light_medium_armour_and_shields_only() -> None:
    g = party(("Mira", "wizard", 3))
    apply(g, None, it.Dm("level_up", 1, text="fighter"), random.Random(0))
    mira = g.entities[1]
    assert mira.levels == {"wizard": 3, "fighter": 1}
    assert proficiency.held(mira) == frozenset(content.classes()["wizard"]["proficiencies"]) | {
        "light-armor", "medium-armor", "shields", "simple-weapons", "martial-weapons"}
    assert proficiency.item_ok(mira, "scale-mail") and proficiency.item_ok(mira, "shield")
    assert not proficiency.item_ok(mira, "chain-mail")  # heavy: a first-level fighter only


def test_race_training_counts_a_dwarf_wizard_wields_a_battleaxe() -> None:
    rng = random.Random(1)
    g = Game.new(Dungeon.from_dict(ARENA))
    dwarf = made(g, "Dain", "wizard", (8, 13, 14, 15, 12, 10), rng, race="hill-dwarf")
    human = made(g, "Hal", "wizard", (8, 13, 14, 15, 12, 10), rng)
    assert proficiency.item_ok(g.entities[dwarf], "battleaxe")
    assert not proficiency.item_ok(g.entities[human], "battleaxe")
    assert not proficiency.item_ok(g.entities[dwarf], "longsword")


def test_monsters_are_unaffected() -> None:
    g = party(("Bo", "fighter", 3))
    ogre = g.entities[fight(g, "ogre")[0]]
    ogre.armor, ogre.shield = "plate-armor", True
    assert proficiency.hampering(ogre) == "" and resolver.check_adv(ogre, "dex", save=True) == 0


@pytest.mark.parametrize("cls", pregen.CLASSES)
def test_pregenerated_and_kit_characters_are_proficient_with_their_own_gear(cls: str) -> None:
    kits = [pregen.BUILDS[cls], creation.kit(cls, "b")]
    for level in (1, 5, 20):
        for kit in kits:
            e = pregen.character("P", cls, level, kit=kit)
            assert not proficiency.hampering(e), (cls, level, e.armor)
            assert all(proficiency.weapon_ok(e, w) for w in e.weapons), (cls, level)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(pregen.CLASSES), st.sampled_from(pregen.CLASSES),
       st.integers(1, 10), st.integers(1, 10))
def test_a_later_class_never_takes_a_proficiency_away(first: str, then: str, n: int,
                                                       m: int) -> None:
    e = pregen.character("P", first, n)
    before = proficiency.held(e)
    e.levels = {first: n} if then == first else {first: n, then: m}
    after = proficiency.held(e)
    assert before <= after
    share = set(content.classes()[then]["multiclass_proficiencies"])
    if then != first:  # a later class adds only its multiclass share (and its features')
        assert after - before <= share | {"heavy-armor"}
        assert share & set(content.proficiencies()) <= after


def test_every_proficiency_a_feature_names_is_known() -> None:
    from rules import classfeatures

    named = [p for f in classfeatures.table()["passive"].values()
             for p in f.get("proficiencies", ())]
    assert named and set(named) <= set(content.proficiencies())
