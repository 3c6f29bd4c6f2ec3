"""Bard, druid, monk, rogue, sorcerer, warlock and wizard features the level-20 scripts cannot
pin down: each runs with the feature and without it on the same seed, and must differ."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import character_io, classfeatures, creation, dice, metamagic, pregen, resolver
from rules import events as ev
from rules import intents as it
from rules.creature import Entity
from rules.dice import LoadedD20
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _game(cls: str, level: int, monster: str = "ogre", n: int = 1) -> tuple[Game, list[int]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Hero", cls, level), random.Random(0))
    foes = fight(g, monster, n)
    turn_of(g, 1)
    for f in foes:
        g.entities[f].hp = g.entities[f].max_hp = 500
    return g, foes


def _drop(e: Entity, tag: str) -> None:
    e.effects[:] = [x for x in e.effects if not x.has(tag)]


def _damage_to(out: list[Any], eid: int) -> int:
    return sum(x.amount for x in out if isinstance(x, ev.Damaged) and x.target == eid)


def _cast_twice(cls: str, level: int, tag: str, intent: Any, seed: int,
                setup: Any = None) -> tuple[int, int, Entity]:
    """Damage to the first foe from the same cast and seed, with the feature and without."""
    got = []
    for keep in (True, False):
        g, foes = _game(cls, level)
        if setup:
            setup(g, foes)
        hero = g.entities[1]
        if not keep:
            _drop(hero, tag)
        out = apply(g, 1, intent(foes[0]), random.Random(seed))
        got.append(_damage_to(out, foes[0]))
    return got[0], got[1], hero


@pytest.mark.parametrize("seed", range(6))
def test_elemental_affinity_adds_cha_to_the_ancestry_type_only(seed: int) -> None:
    fire, plain, hero = _cast_twice("sorcerer", 6, "elemental_affinity",
                                    lambda f: it.Cast("fire bolt", f), seed)
    assert fire == (plain + hero.mod("cha") if plain else 0)
    cold, cold_plain, _ = _cast_twice("sorcerer", 6, "elemental_affinity",
                                      lambda f: it.Cast("ray of frost", f), seed)
    assert cold == cold_plain  # Dragon Ancestor (red): fire, not cold


@pytest.mark.parametrize("seed", range(6))
def test_empowered_evocation_adds_int_once_a_cast(seed: int) -> None:
    with_, without, hero = _cast_twice("wizard", 10, "empowered_evocation",
                                       lambda f: it.Cast("magic missile", f), seed)
    assert with_ == without + hero.mod("int")  # three darts, one bonus


@pytest.mark.parametrize("seed", range(6))
def test_agonizing_blast_adds_cha_to_each_beam(seed: int) -> None:
    g, foes = _game("warlock", 11)
    out = apply(g, 1, it.Cast("eldritch blast", foes[0]), random.Random(seed))
    hits = [x for x in out if isinstance(x, ev.Attacked) and x.hit]
    with_ = _damage_to(out, foes[0])
    _, without, hero = _cast_twice("warlock", 11, "agonizing_blast",
                                   lambda f: it.Cast("eldritch blast", f), seed)
    assert with_ == without + len(hits) * hero.mod("cha")


def test_potent_cantrip_halves_instead_of_nothing() -> None:
    def strong(g: Game, foes: list[int]) -> None:
        g.entities[foes[0]].save_bonus = {"dex": 60}  # it always saves

    with_, without, _ = _cast_twice("wizard", 6, "potent_cantrip",
                                    lambda f: it.Cast("acid splash", f), 3, strong)
    assert without == 0 and with_ > 0


def test_dark_ones_blessing_gives_temp_hp_on_a_kill() -> None:
    g, foes = _game("warlock", 5)
    g.entities[foes[0]].hp = 1
    hero = g.entities[1]
    apply(g, 1, it.Cast("eldritch blast", foes[0]), LoadedD20(random.Random(1), [19, 19]))
    assert g.entities[foes[0]].hp == 0
    assert hero.temp_hp == hero.mod("cha") + 5


def test_cutting_words_spends_a_reaction_and_a_die_only_when_it_can_turn_the_hit() -> None:
    g, foes = _game("bard", 5)
    apply(g, None, it.Join("Brom", "fighter", 5), random.Random(0))
    bard, brom, ogre = g.entities[1], g.party()[-1], g.entities[foes[0]]
    spec = {"name": "club", "bonus": brom.current_ac() - 10, "kind": "melee", "range": (5, 0)}
    hit, _, _ = resolver.roll_attack(g, ogre, brom, spec, LoadedD20(random.Random(0), 10), [])
    assert not hit and not bard.reaction and bard.res["inspiration"] == bard.res_max[
        "inspiration"] - 1
    bard.reaction = True
    spec["bonus"] += 8  # a d8 cannot turn a hit by 8: the reaction is kept
    hit, _, _ = resolver.roll_attack(g, ogre, brom, spec, LoadedD20(random.Random(0), 10), [])
    assert hit and bard.reaction
    _drop(bard, "cutting_words")
    spec["bonus"] -= 8
    hit, _, _ = resolver.roll_attack(g, ogre, brom, spec, LoadedD20(random.Random(0), 10), [])
    assert hit


def test_elusive_cancels_advantage_and_blindsense_finds_the_hidden_close() -> None:
    g, foes = _game("rogue", 18)
    rogue, ogre = g.entities[1], g.entities[foes[0]]
    rogue.engaged.append(ogre.eid)
    ogre.engaged.append(rogue.eid)
    ogre.conditions["invisible"] = resolver.Cond()
    assert resolver.attack_adv(g, ogre, rogue, "melee", (5, 0))[0] == 0  # elusive
    _drop(rogue, "elusive")
    assert resolver.attack_adv(g, ogre, rogue, "melee", (5, 0))[0] == 1
    del ogre.conditions["invisible"]
    ogre.effects.append(resolver.Effect("hidden", ogre.eid, tags=("hidden",)))
    assert resolver.attack_adv(g, ogre, rogue, "melee", (5, 0))[0] == 0  # blindsense
    _drop(rogue, "blindsense")
    assert resolver.attack_adv(g, ogre, rogue, "melee", (5, 0))[0] == 1


def test_sculpt_spells_leaves_an_engaged_ally_out_of_the_blast() -> None:
    def saves(sculpt: bool) -> set[int]:
        g, foes = _game("wizard", 5, n=2)
        if not sculpt:
            _drop(g.entities[1], "sculpt_spells")
        apply(g, None, it.Join("Brom", "fighter", 5), random.Random(0))
        brom = g.party()[-1]
        brom.engaged.append(foes[0])
        g.entities[foes[0]].engaged.append(brom.eid)
        g.house["friendly_fire"] = True
        out = apply(g, 1, it.Cast("fireball", foes[0]), random.Random(3))
        return {x.eid for x in out if isinstance(x, ev.Rolled) and "save" in x.what}

    assert saves(False) == {2, 3, 4}  # Brom, locked in melee with an ogre, is in the blast
    assert saves(True) == {2, 3}


def test_peerless_skill_adds_a_die_to_one_check_only() -> None:
    g, _ = _game("bard", 14)
    bard = g.entities[1]
    apply(g, 1, it.Use("peerless skill"), random.Random(0))
    first = apply(g, 1, it.Roll("arcana"), LoadedD20(random.Random(0), 10))[-1]
    second = apply(g, 1, it.Roll("arcana"), LoadedD20(random.Random(0), 10))[-1]
    assert 1 <= first.total - second.total <= 10  # a d10 at bard level 14
    assert not any(x.has("one_check") for x in bard.effects)


def test_reliable_talent_and_supreme_sneak_shape_the_d20() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Vex", "rogue", 11), random.Random(0))
    vex = g.entities[1]
    assert resolver.skill_d20(vex, "stealth", LoadedD20(random.Random(0), [1, 1])) == 10
    assert resolver.skill_d20(vex, "history", LoadedD20(random.Random(0), [1, 1])) == 1
    assert resolver.skill_d20(vex, "stealth", LoadedD20(random.Random(0), [1, 7])) == 10
    apply(g, None, it.Join("Kit", "rogue", 13), random.Random(0))
    kit = g.party()[-1]
    assert resolver.skill_d20(kit, "stealth", LoadedD20(random.Random(0), [1, 17])) == 17


def test_fast_hands_drinks_a_potion_with_the_bonus_action() -> None:
    for level, action_left in ((3, 1), (2, 0)):
        g, _ = _game("rogue", level)
        rogue = g.entities[1]
        rogue.hp -= 5
        apply(g, 1, it.Use("potion of healing"), random.Random(0))
        assert rogue.turn["action"] == action_left


def test_metamagic_refuses_what_it_cannot_do() -> None:
    g, foes = _game("sorcerer", 20, n=2)
    sorc = g.entities[1]
    with pytest.raises(RulesError, match="twinned needs two targets"):
        apply(g, 1, it.Cast("fire bolt", foes[0], meta=("twinned",)), random.Random(0))
    with pytest.raises(RulesError, match="cannot be twinned"):
        apply(g, 1, it.Cast("fireball", foes[0], meta=("twinned",), twin=foes[1]),
              random.Random(0))
    with pytest.raises(RulesError, match="one metamagic option"):
        apply(g, 1, it.Cast("fire bolt", foes[0], meta=("quickened", "heightened")),
              random.Random(0))
    with pytest.raises(RulesError, match="one metamagic option"):
        apply(g, 1, it.Cast("fireball", foes[0], meta=("quickened", "heightened",
                                                         "empowered")), random.Random(0))
    with pytest.raises(RulesError, match="heightened: a spell with a save"):
        apply(g, 1, it.Cast("fire bolt", foes[0], meta=("heightened",)), random.Random(0))
    sorc.res["sorcery_points"] = 1
    with pytest.raises(RulesError, match="needs 2 sorcery points"):
        apply(g, 1, it.Cast("fire bolt", foes[0], meta=("quickened",)), random.Random(0))
    assert sorc.res["sorcery_points"] == 1 and sorc.turn["action"] == 1


def test_empowered_spell_rerolls_the_lowest_dice() -> None:
    class Faces(random.Random):
        def __init__(self, faces: list[int]) -> None:
            super().__init__(0)
            self.faces = faces

        def randint(self, a: int, b: int) -> int:
            return self.faces.pop(0)

    assert metamagic.empowered_total("3d6+2", Faces([1, 6, 2, 5, 4]), False, 2) == 2 + 6 + 5 + 4
    assert metamagic.empowered_total("2d6", Faces([6, 5]), False, 3) == 11  # none below average
    assert dice.maximum("8d6+4") == 52


def test_empowered_metamagic_changes_a_cast_and_costs_a_point() -> None:
    g, foes = _game("sorcerer", 17)
    sorc = g.entities[1]
    before = sorc.res["sorcery_points"]
    apply(g, 1, it.Cast("fireball", foes[0], meta=("empowered",)), random.Random(0))
    assert sorc.res["sorcery_points"] == before - 1


def test_mystic_arcanum_is_known_and_cast_once_without_a_slot() -> None:
    g, foes = _game("warlock", 17)
    lock = g.entities[1]
    assert {"circle-of-death", "finger-of-death", "power-word-stun",
            "power-word-kill"} <= set(lock.spells)
    slots = list(lock.slots)
    apply(g, 1, it.Cast("finger of death", foes[0]), random.Random(0))
    assert lock.slots == slots and lock.res["arcanum7"] == 0
    turn_of(g, 1)
    with pytest.raises(RulesError, match="no level 7 slots"):
        apply(g, 1, it.Cast("finger of death", foes[0]), random.Random(0))
    young, _ = _game("warlock", 16)
    assert "power-word-kill" not in young.entities[1].spells  # Mystic Arcanum 9th at 17


def test_an_imported_character_gets_its_features_standing_effects_back() -> None:
    rogue = pregen.character("Vex", "rogue", 20)
    back = character_io.load(character_io.export(rogue))
    assert {x.name for x in back.effects} == {x.name for x in rogue.effects}
    assert any(x.has("elusive") for x in back.effects)



def _made(picks: str, level: int = 20, n: int = 1) -> tuple[Game, list[int]]:
    """A sorcerer made step by step over the text grammar's intents, then a fight."""
    g = Game.new(Dungeon.from_dict(ARENA))
    steps = [("class", "sorcerer"), ("race", "human"), ("stats", "8 14 13 10 12 15"),
             ("skills", "arcana deception")] + ([("pick", picks)] if picks else [])
    for step, value in steps:
        apply(g, None, it.Make("Sol", step, value), random.Random(0))
    apply(g, None, it.Join("Sol", "sorcerer", level), random.Random(0))
    foes = fight(g, "ogre", n)
    turn_of(g, 1)
    for f in foes:
        g.entities[f].hp = g.entities[f].max_hp = 500
    return g, foes


def test_a_made_sorcerer_picks_its_dragon_and_metamagic() -> None:
    blue = _made("blue careful subtle")[0].entities[1]
    assert classfeatures.ancestry(blue) == "lightning"
    assert classfeatures.ancestry(_made("")[0].entities[1]) == "fire"  # red by default
    assert metamagic.known(blue) == {"careful", "subtle", "quickened", "twinned"}
    young = _made("careful subtle extended", 3)[0].entities[1]
    assert metamagic.known(young) == {"careful", "subtle"}  # two at 3rd: the first picked
    assert creation.levelled(blue, 20).origin["picks"] == ["blue", "careful", "subtle"]
    for bad, why in (("purple", "sorcerer picks"), ("red blue", "one dragon ancestor")):
        with pytest.raises(RulesError, match=why):
            creation.step(creation.start("Bo", "sorcerer"), "pick", bad.split())
    with pytest.raises(RulesError, match="no feature choices"):
        creation.step(creation.start("Bo", "fighter"), "pick", ["careful"])


@pytest.mark.parametrize("seed", range(4))
def test_the_picked_dragon_decides_what_elemental_affinity_adds_to(seed: int) -> None:
    def bolt(picks: str) -> tuple[int, Entity]:
        g, foes = _made(picks)
        out = apply(g, 1, it.Cast("chain lightning", foes[0]), random.Random(seed))
        return _damage_to(out, foes[0]), g.entities[1]

    (blue, sol), (red, _) = bolt("blue"), bolt("")
    assert blue == red + sol.mod("cha")


def test_subtle_casts_in_silence_and_careful_allies_succeed_on_their_saves() -> None:
    g, foes = _made("careful subtle", n=2)
    sol = g.entities[1]
    sol.effects.append(resolver.Effect("silence", 0, tags=("silenced",)))
    with pytest.raises(RulesError, match="silence"):
        apply(g, 1, it.Cast("fireball", foes[0]), random.Random(0))
    apply(g, 1, it.Cast("fireball", foes[0], meta=("subtle",)), random.Random(0))
    assert sol.slots[2] == sol.max_slots[2] - 1

    def brom_saves(meta: tuple[str, ...]) -> list[Any]:
        g, foes = _made("careful subtle", n=2)
        apply(g, None, it.Join("Brom", "fighter", 5), random.Random(0))
        brom = g.party()[-1]
        brom.engaged.append(foes[0])
        g.entities[foes[0]].engaged.append(brom.eid)
        g.house["friendly_fire"] = True
        out = apply(g, 1, it.Cast("fireball", foes[0], meta=meta), random.Random(3))
        return [x for x in out if x.__class__.__name__ in ("Rolled", "Damaged")
                and getattr(x, "eid", getattr(x, "target", 0)) == brom.eid]

    plain, careful = brom_saves(()), brom_saves(("careful",))
    assert [x.__class__.__name__ for x in careful] == ["Damaged"]  # no save: it succeeds
    full = next(x.amount for x in plain if x.__class__.__name__ == "Damaged")
    assert careful[0].amount == full // 2  # a fireball's success: half


def test_extended_doubles_a_minute_and_distant_doubles_the_range() -> None:
    def held(meta: tuple[str, ...]) -> int:
        g, foes = _made("extended distant")
        g.entities[1].spells.append("hold-monster")  # a sorcerer spell the build lacks
        apply(g, 1, it.Cast("hold monster", foes[0], meta=meta), LoadedD20(random.Random(0), 1))
        return g.entities[foes[0]].conditions["paralyzed"].rounds

    assert (held(()), held(("extended",))) == (10, 20)
    g, foes = _made("extended distant")
    g.entities[1].spells.append("blindness-deafness")  # 30 ft
    g.entities[foes[0]].band = "far"  # 60 ft away
    with pytest.raises(RulesError, match="out of range"):
        apply(g, 1, it.Cast("blindness deafness", foes[0]), random.Random(0))
    apply(g, 1, it.Cast("blindness deafness", foes[0], meta=("distant",)),
          LoadedD20(random.Random(0), 1))
    assert "blinded" in g.entities[foes[0]].conditions
    with pytest.raises(RulesError, match="extended: a spell lasting a minute"):
        turn_of(g, 1)
        apply(g, 1, it.Cast("fire bolt", foes[0], meta=("extended",)), random.Random(0))


PIT = {"name": "p", "start": 1, "rooms": [
    {"id": 1, "name": "Ledge", "exits": [{"to": 2, "dir": "d"}]},
    {"id": 2, "name": "Pit", "exits": [{"to": 1, "dir": "u"}],
     "trap": {"detect_dc": 30, "save": "dex", "dc": 40, "damage": "4d6",
              "type": "bludgeoning", "fall": True}},
]}


def test_slow_fall_takes_five_times_the_level_off_a_fall() -> None:
    def fell(cls: str, level: int, fall: bool) -> int:
        rooms = dict(PIT, rooms=[PIT["rooms"][0], {**PIT["rooms"][1], "trap": {
            **PIT["rooms"][1]["trap"], "fall": fall}}])
        g = Game.new(Dungeon.from_dict(rooms))
        apply(g, None, it.Join("Kai", cls, level), random.Random(0))
        out = apply(g, 1, it.Move("d"), random.Random(1))
        return _damage_to(out, 1)

    assert fell("fighter", 4, True) >= 4  # no slow fall: 4d6
    assert fell("monk", 4, True) == max(0, fell("fighter", 4, True) - 20)
    assert fell("monk", 4, False) == fell("fighter", 4, True)  # not a fall: darts, say


def test_lands_stride_saves_against_entangle_with_advantage() -> None:
    from rules.effects import engine

    def restrained(level: int) -> bool:
        g, foes = _game("druid", level)
        druid, foe = g.entities[1], g.entities[foes[0]]
        engine.use(g, foe, "spell:entangle", [druid], LoadedD20(random.Random(0), [1, 19]), [],
                   level=1)
        return "restrained" in druid.conditions

    assert restrained(5) and not restrained(6)  # Land's Stride at 6th level


def test_the_tactician_offers_a_mystic_arcanum_spell_while_its_use_lasts() -> None:
    from rules import tactics

    g, foes = _game("warlock", 17)
    lock = g.entities[1]

    def offered() -> bool:
        return any(isinstance(o.intent, it.Cast) and o.intent.spell == "power-word-kill"
                   for o in tactics.legal_actions(g, lock.eid))

    assert offered()
    lock.res["arcanum9"] = 0
    assert not offered()


def _made_warlock(picks: str, level: int) -> tuple[Game, list[int]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    for step, value in (("class", "warlock"), ("race", "human"),
                        ("stats", "8 14 13 10 12 15"), ("skills", "arcana history"),
                        ("pick", picks)):
        apply(g, None, it.Make("Hex", step, value), random.Random(0))
    apply(g, None, it.Join("Hex", "warlock", level), random.Random(0))
    foes = fight(g, "ogre", 1)
    turn_of(g, 1)
    return g, foes


def test_picked_invocations_are_the_ones_played() -> None:
    def tags(level: int) -> set[str]:
        hex_ = _made_warlock("repelling-blast", level)[0].entities[1]
        return {t for x in hex_.effects for t in x.tags} & {
            "agonizing_blast", "devils_sight", "repelling_blast"}

    assert tags(2) == {"repelling_blast", "agonizing_blast"}  # two known at 2nd level
    assert tags(5) == {"repelling_blast", "agonizing_blast", "devils_sight"}
    with pytest.raises(RulesError, match="warlock picks"):
        creation.step(creation.start("Hex", "warlock"), "pick", ["thirsting-blade"])


def test_repelling_blast_pushes_a_hit_foe_out_of_melee() -> None:
    for picks, pushed in (("repelling-blast", True), ("agonizing-blast devils-sight", False)):
        g, foes = _made_warlock(picks, 2)
        hex_, ogre = g.entities[1], g.entities[foes[0]]
        ogre.hp = ogre.max_hp = 500
        hex_.engaged.append(ogre.eid)
        ogre.engaged.append(hex_.eid)
        apply(g, 1, it.Cast("eldritch blast", ogre.eid), LoadedD20(random.Random(0), 19))
        assert (ogre.eid not in hex_.engaged) == pushed
