"""Monster shapes, triggered traits and actions of no attack kind: each fails if its rule goes."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import content, resolver, tactics, turns
from rules import events as ev
from rules import intents as it
from rules.dice import LoadedD20
from rules.dungeon import Dungeon
from rules.effects import engine, monsters, rejuvenation, shapes
from rules.errors import RulesError
from rules.game import Game, apply


class Sixes(random.Random):
    """Every die but a d20 shows its highest face (a berserk d6 of 6, a 60-foot fling)."""

    def randint(self, a: int, b: int) -> int:
        return b if (a, b) != (1, 20) else super().randint(a, b)


def _game(monster: str, n: int = 1, cls: str = "fighter") -> tuple[Game, list[Any]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", cls, 5), random.Random(0))
    return g, [g.entities[e] for e in fight(g, monster, n)]


def _tough(g: Game) -> Any:
    thorin = g.entities[1]
    thorin.hp = thorin.max_hp = 500
    return thorin


def _engage(a: Any, b: Any) -> None:
    a.engaged.append(b.eid)
    b.engaged.append(a.eid)


def _idx(m: Any, name: str) -> int:
    return next(k for k, a in enumerate(m.actions) if a["name"] == name)


def _labels(g: Game, m: Any) -> list[str]:
    return [o.label for o in tactics.legal_actions(g, m.eid)]


def _row(monster: str, kind: str, name: str) -> dict[str, Any]:
    return next(a for a in monsters.abilities(content.monsters()[monster])
                if a["kind"] == kind and a["name"] == name)


def test_a_dragon_in_humanoid_guise_has_no_breath_until_it_changes_back() -> None:
    g, (dragon,) = _game("ancient-gold-dragon")
    thorin = _tough(g)
    _engage(dragon, thorin)
    turn_of(g, dragon.eid)
    assert any(x.startswith("Fire Breath") for x in _labels(g, dragon))
    apply(g, dragon.eid, it.Attack(1, _idx(dragon, "Change Shape")), random.Random(1))
    assert shapes.current(dragon) is not None
    turn_of(g, dragon.eid)
    labels = _labels(g, dragon)
    assert not any(x.startswith(("Fire Breath", "Bite", "Multiattack")) for x in labels)
    with pytest.raises(RulesError):
        apply(g, dragon.eid, it.Attack(1, _idx(dragon, "Fire Breath")), random.Random(1))
    assert tactics.legendary_pick(g, dragon) is None  # no wing or tail either
    assert tactics.choose(g, dragon.eid, random.Random(1)).label.startswith("Change Shape")
    apply(g, dragon.eid, it.Attack(1, _idx(dragon, "Change Shape")), random.Random(1))
    assert shapes.current(dragon) is None
    turn_of(g, dragon.eid)
    assert any(x.startswith("Fire Breath") for x in _labels(g, dragon))
    assert _row("ancient-gold-dragon", "action", "Change Shape")["state"] == "mechanised"


def test_a_shaped_night_hag_keeps_its_statistics_but_not_its_claws_and_reverts_on_death(
        ) -> None:
    g, (hag,) = _game("night-hag")
    thorin = _tough(g)
    _engage(hag, thorin)
    turn_of(g, hag.eid)
    ac, hp = hag.ac, hag.hp
    apply(g, hag.eid, it.Attack(1, _idx(hag, "Change Shape")), random.Random(1))
    assert (hag.ac, hag.hp) == (ac, hp) and shapes.current(hag) is not None
    turn_of(g, hag.eid)
    assert not any(x.startswith("Claws") for x in _labels(g, hag))
    resolver.deal(g, hag, 500, "force", [], rng=random.Random(1))
    assert hag.dead and shapes.current(hag) is None


def test_an_imp_takes_the_speed_of_its_shape_and_the_ai_keeps_its_true_form() -> None:
    g, (imp,) = _game("imp")
    _tough(g)
    turn_of(g, imp.eid)
    names = [a["name"] for a in imp.actions]
    assert "Change Shape (raven)" in names and "Change Shape (true form)" in names
    assert not any(x.startswith("Change Shape (true form)") for x in _labels(g, imp))
    assert not tactics.choose(g, imp.eid, random.Random(1)).label.startswith("Change Shape")
    apply(g, imp.eid, it.Attack(1, _idx(imp, "Change Shape (raven)")), random.Random(1))
    assert imp.speed == 60
    turn_of(g, imp.eid)
    apply(g, imp.eid, it.Attack(1, _idx(imp, "Change Shape (spider)")), random.Random(1))
    assert imp.speed == 20 and shapes.current(imp).name == "spider form"
    turn_of(g, imp.eid)
    apply(g, imp.eid, it.Attack(1, _idx(imp, "Change Shape (true form)")), random.Random(1))
    assert imp.speed == 40 and shapes.current(imp) is None


def test_a_succubus_as_a_humanoid_has_no_wings_and_no_claws() -> None:
    g, (fiend,) = _game("succubus-incubus")
    thorin = _tough(g)
    _engage(fiend, thorin)
    turn_of(g, fiend.eid)
    apply(g, fiend.eid, it.Attack(1, _idx(fiend, "Change Shape (humanoid)")), random.Random(1))
    assert fiend.speed == 30
    turn_of(g, fiend.eid)
    assert not any(x.startswith("Claw") for x in _labels(g, fiend))


def test_a_mimic_as_an_object_sticks_to_what_strikes_it_and_to_what_it_strikes() -> None:
    g, (mimic,) = _game("mimic")
    thorin = _tough(g)
    _engage(mimic, thorin)
    assert shapes.current(mimic).name == "object form"
    turn_of(g, 1)
    g.next_d20 = 19
    apply(g, 1, it.Attack(mimic.eid, None), random.Random(1))
    held = thorin.conditions.get("grappled")
    assert held is not None and held.src == mimic.eid and held.dc == 13
    resolver.remove_condition(g, thorin, "grappled", [])
    turn_of(g, mimic.eid)
    g.next_d20 = 19
    apply(g, mimic.eid, it.Attack(1, _idx(mimic, "Pseudopod")), random.Random(1))
    assert "grappled" in thorin.conditions
    resolver.remove_condition(g, thorin, "grappled", [])
    turn_of(g, mimic.eid)
    apply(g, mimic.eid, it.Attack(1, _idx(mimic, "Change Shape (true form)")), random.Random(1))
    turn_of(g, mimic.eid)
    g.next_d20 = 19
    apply(g, mimic.eid, it.Attack(1, _idx(mimic, "Pseudopod")), random.Random(1))
    assert "grappled" not in thorin.conditions  # not adhesive in its true form
    assert _row("mimic", "trait", "Adhesive (Object Form Only)")["state"] == "mechanised"


def test_a_vampires_legendary_bite_is_only_for_its_vampire_form() -> None:
    g, (mist,) = _game("vampire-mist")
    thorin = _tough(g)
    _engage(mist, thorin)
    assert tactics.legendary_pick(g, mist) is None
    assert _row("vampire-mist", "legendary", "Bite")["state"] == "mechanised"
    assert _row("vampire-bat", "legendary", "Unarmed Strike")["state"] == "mechanised"
    turn_of(g, mist.eid)
    k = _idx(mist, "Change Shape (Vampire, Vampire Form)")
    apply(g, mist.eid, it.Attack(1, k), random.Random(1))
    pick = tactics.legendary_pick(g, mist)
    assert pick is not None and pick[0]["name"] in ("Bite", "Unarmed Strike")


def test_damage_transfer_splits_a_blow_with_the_creature_the_rug_smothers() -> None:
    g, (rug,) = _game("rug-of-smothering")
    thorin = _tough(g)
    _engage(rug, thorin)
    hp = rug.hp
    resolver.deal(g, rug, 20, "slashing", [], rng=random.Random(1), magical=True)
    assert rug.hp == hp - 20 and thorin.hp == 500
    turn_of(g, rug.eid)
    g.next_d20 = 19
    apply(g, rug.eid, it.Attack(1, _idx(rug, "Smother")), random.Random(1))
    assert thorin.conditions["grappled"].src == rug.eid
    thorin_hp, hp = thorin.hp, rug.hp
    resolver.deal(g, rug, 21, "slashing", [], rng=random.Random(1), magical=True)
    assert rug.hp == hp - 10 and thorin.hp == thorin_hp - 11


def test_a_cloakers_bite_attaches_it() -> None:
    g, (cloaker,) = _game("cloaker")
    thorin = _tough(g)
    _engage(cloaker, thorin)
    turn_of(g, cloaker.eid)
    g.next_d20 = [19, 20]
    apply(g, cloaker.eid, it.Attack(1, _idx(cloaker, "Bite")), random.Random(1))
    assert thorin.conditions["grappled"].src == cloaker.eid


def _rock(g: Game, thrower: Any, target: Any, faces: list[int]) -> list[Any]:
    out: list[Any] = []
    engine.use(g, thrower, monsters.key_for(thrower.monster, "Rock"), [target],
               LoadedD20(random.Random(1), faces), out)
    return out


def _arena(*kinds: str) -> tuple[Game, list[Any]]:
    """Thorin and one of each monster kind, in combat."""
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 5), random.Random(0))
    return g, [g.entities[fight(g, k)[0]] for k in kinds]


def test_rock_catching_takes_a_reaction_and_a_dex_save() -> None:
    g, (stone, hill) = _arena("stone-giant", "hill-giant")
    hp = stone.hp
    out = _rock(g, hill, stone, [19, 20])  # hits; the catch succeeds
    assert stone.hp == hp and not stone.reaction
    assert any(isinstance(x, ev.Info) and "catches" in x.text for x in out)
    _rock(g, hill, stone, [19])  # no reaction left: it takes the blow
    assert stone.hp < hp
    assert _row("stone-giant", "reaction", "Rock Catching")["state"] == "mechanised"


def _swing(g: Game, atk: Any, tgt: Any, face: int) -> bool:
    """One melee attack roll whose total is exactly the target's AC on `face`."""
    spec = {"name": "sword", "bonus": tgt.current_ac() - face, "kind": "melee",
            "range": (5, 0)}
    return resolver.roll_attack(g, atk, tgt, spec, LoadedD20(random.Random(1), face), [])[0]


def test_a_shield_guardian_turns_a_hit_on_the_ally_beside_it() -> None:
    g, (goblin, guard) = _arena("goblin", "shield-guardian")
    thorin = g.entities[1]
    _engage(thorin, goblin)
    assert not _swing(g, thorin, goblin, 10) and not guard.reaction  # +2 AC: a miss
    assert _swing(g, thorin, goblin, 10)  # its reaction is spent
    assert _row("shield-guardian", "reaction", "Shield")["state"] == "mechanised"


def test_a_hasted_clay_golem_has_more_ac_and_slams_as_a_bonus_action() -> None:
    g, (golem,) = _game("clay-golem")
    thorin = _tough(g)
    _engage(golem, thorin)
    golem.recharge["Haste"] = True
    turn_of(g, golem.eid)
    ac = golem.current_ac()
    apply(g, golem.eid, it.Attack(1, _idx(golem, "Haste")), random.Random(1))
    assert golem.current_ac() == ac + 2 and golem.turn["action"] == 0
    labels = _labels(g, golem)
    assert any(x.startswith("Slam") for x in labels)
    assert not any(x.startswith("Multiattack") for x in labels)
    apply(g, golem.eid, it.Attack(1, _idx(golem, "Slam")), random.Random(1))
    assert golem.turn["bonus"] == 0
    with pytest.raises(RulesError):
        apply(g, golem.eid, it.Attack(1, _idx(golem, "Slam")), random.Random(1))
    turns.end_turn_effects(g, golem, random.Random(1))
    assert golem.current_ac() == ac + 2  # until the end of its next turn
    turns.end_turn_effects(g, golem, random.Random(1))
    assert golem.current_ac() == ac


def test_an_enlarged_duergar_rolls_its_weapon_dice_twice() -> None:
    def blows() -> int:
        g.next_d20 = 19
        turn_of(g, duergar.eid)
        out = apply(g, duergar.eid, it.Attack(1, _idx(duergar, "War Pick")), random.Random(1))
        return len([x for x in out if isinstance(x, ev.Damaged) and x.target == 1])

    g, (duergar,) = _game("duergar")
    thorin = _tough(g)
    _engage(duergar, thorin)
    assert blows() == 1
    turn_of(g, duergar.eid)
    apply(g, duergar.eid, it.Attack(1, _idx(duergar, "Enlarge")), random.Random(1))
    assert blows() == 2
    assert resolver.check_adv(duergar, "str", save=True) > 0


def test_a_kraken_flings_only_what_it_holds() -> None:
    g, (kraken,) = _game("kraken")
    thorin = _tough(g)
    _engage(kraken, thorin)
    turn_of(g, kraken.eid)
    assert not any(x.startswith("Fling") for x in _labels(g, kraken))
    with pytest.raises(RulesError):
        apply(g, kraken.eid, it.Attack(1, _idx(kraken, "Fling")), random.Random(1))
    g.next_d20 = 19
    apply(g, kraken.eid, it.Attack(1, _idx(kraken, "Tentacle")), random.Random(1))
    assert thorin.conditions["grappled"].src == kraken.eid
    turn_of(g, kraken.eid)
    hp = thorin.hp
    apply(g, kraken.eid, it.Attack(1, _idx(kraken, "Fling")), Sixes(1))
    assert "grappled" not in thorin.conditions and "restrained" not in thorin.conditions
    assert "prone" in thorin.conditions and thorin.band == "far" and not thorin.engaged
    assert hp - thorin.hp == 36  # 60 feet: six d6 showing 6


def test_wall_of_ice_recharges_on_a_six_and_freezes_the_foes_it_springs_among() -> None:
    wall = next(a for a in content.monsters()["ice-devil"]["actions"]
                if a["name"] == "Wall of Ice")
    assert wall["recharge"] == [6]
    g, (devil,) = _game("ice-devil")
    thorin = _tough(g)
    turn_of(g, devil.eid)
    g.next_d20 = 1
    apply(g, devil.eid, it.Attack(1, _idx(devil, "Wall of Ice")), random.Random(1))
    assert 10 <= 500 - thorin.hp <= 60 and not devil.recharge["Wall of Ice"]
    turn_of(g, devil.eid)
    assert not any(x.startswith("Wall of Ice") for x in _labels(g, devil))


def test_a_wraith_raises_a_specter_only_from_a_fresh_humanoid_corpse() -> None:
    g, (wraith,) = _game("wraith")
    apply(g, None, it.Join("Mira", "wizard", 1), random.Random(0))
    thorin = _tough(g)
    mira = next(e for e in g.entities.values() if e.name == "Mira")
    mira.room = thorin.room
    turn_of(g, wraith.eid)
    assert not any(x.startswith("Create Specter") for x in _labels(g, wraith))
    with pytest.raises(RulesError):
        apply(g, wraith.eid, it.Attack(1, _idx(wraith, "Create Specter")), random.Random(1))
    resolver.deal(g, mira, 500, "necrotic", [], rng=random.Random(1))
    assert mira.dead
    assert tactics.choose(g, wraith.eid, random.Random(1)).label.startswith("Create Specter")
    apply(g, wraith.eid, it.Attack(1, _idx(wraith, "Create Specter")), random.Random(1))
    specters = [e for e in g.entities.values() if e.monster == "specter"]
    assert len(specters) == 1 and specters[0].side == wraith.side
    assert specters[0].eid in g.combat["order"]
    turn_of(g, wraith.eid)
    assert not any(x.startswith("Create Specter") for x in _labels(g, wraith))


def test_a_treant_animates_two_trees_that_can_only_slam() -> None:
    g, (treant,) = _game("treant")
    _tough(g)
    turn_of(g, treant.eid)
    apply(g, treant.eid, it.Attack(1, _idx(treant, "Animate Trees")), random.Random(1))
    trees = [e for e in g.entities.values() if e.monster == "treant" and e.eid != treant.eid]
    assert len(trees) == 2 and all(t.side == treant.side for t in trees)
    assert all([a["name"] for a in t.actions] == ["Slam"] for t in trees)
    assert treant.per_day["Animate Trees"] == 0


def test_a_berserk_golem_attacks_the_nearest_creature_friend_or_foe() -> None:
    g, (golem, goblin) = _arena("flesh-golem", "goblin")
    thorin = _tough(g)
    thorin.band, goblin.band, golem.band = "far", "near", "near"
    turns._ticks(g, golem, Sixes(1), [])
    assert not any(x.has("berserk") for x in golem.effects)  # not hurt enough yet
    golem.hp = 40
    turns._ticks(g, golem, Sixes(1), [])
    assert any(x.has("berserk") for x in golem.effects)
    turn_of(g, golem.eid)
    targets = {o.intent.target for o in tactics.legal_actions(g, golem.eid)
               if isinstance(o.intent, it.Attack)}
    assert targets == {goblin.eid}
    g.next_d20 = 19
    out = apply(g, golem.eid, it.Attack(goblin.eid, _idx(golem, "Slam")), random.Random(1))
    assert any(isinstance(x, ev.Damaged) and x.target == goblin.eid for x in out)
    golem.hp = golem.max_hp
    turns._ticks(g, golem, Sixes(1), [])
    assert not any(x.has("berserk") for x in golem.effects)


def test_a_manticore_runs_out_of_tail_spikes_and_regrows_them_on_a_long_rest() -> None:
    g, (manticore,) = _game("manticore")
    _tough(g)
    manticore.band = "far"
    turn_of(g, manticore.eid)
    assert manticore.res["tail_spikes"] == 24
    apply(g, manticore.eid, it.Attack(1, _idx(manticore, "Tail Spike")), random.Random(1))
    assert manticore.res["tail_spikes"] == 23
    manticore.res["tail_spikes"] = 0
    turn_of(g, manticore.eid)
    assert not any(x.startswith("Tail Spike") for x in _labels(g, manticore))
    with pytest.raises(RulesError):
        apply(g, manticore.eid, it.Attack(1, _idx(manticore, "Tail Spike")), random.Random(1))
    g.combat = None
    manticore.room = 2  # it rests in its lair while the party rests in the hall
    apply(g, 1, it.Rest("long"), random.Random(1))
    assert manticore.res["tail_spikes"] == 24


def test_a_destroyed_lich_reforms_after_its_days_of_long_rests() -> None:
    g, (lich, goblin) = _arena("lich", "goblin")
    resolver.deal(g, goblin, 500, "force", [], rng=random.Random(1))
    resolver.deal(g, lich, 500, "force", [], rng=random.Random(1))
    assert lich.dead and goblin.dead
    (eid, days), = g.state[rejuvenation.KEY]
    assert eid == lich.eid and 1 <= days <= 10
    g.combat = None
    for _ in range(days - 1):
        apply(g, 1, it.Rest("long"), random.Random(1))
    assert lich.dead
    out = apply(g, 1, it.Rest("long"), random.Random(1))
    assert any(isinstance(x, ev.Info) and "re-forms" in x.text for x in out)
    assert not lich.dead and lich.hp == lich.max_hp and goblin.dead
    assert lich.res["legendary_resistance"] == 3 and g.state[rejuvenation.KEY] == []


def test_a_metal_weapon_that_hits_a_rust_monster_corrodes_until_it_crumbles() -> None:
    g, (rusty,) = _game("rust-monster")
    thorin = _tough(g)
    _engage(rusty, thorin)
    rusty.hp = rusty.max_hp = 500
    for k in range(1, 5):
        turn_of(g, 1)
        g.next_d20 = 19
        apply(g, 1, it.Attack(rusty.eid, "longsword"), random.Random(1))
        sword = next(w for w in thorin.weapons if w["name"] == "longsword")
        assert sword["dmg"] == -k
    turn_of(g, 1)
    g.next_d20 = 19
    apply(g, 1, it.Attack(rusty.eid, "longsword"), random.Random(1))
    assert "longsword" not in [w["name"] for w in thorin.weapons]
    g2, (ooze,) = _game("gray-ooze")
    knight = _tough(g2)
    _engage(ooze, knight)
    knight.weapons[0]["magical"] = True  # magic does not corrode
    turn_of(g2, 1)
    g2.next_d20 = 19
    apply(g2, 1, it.Attack(ooze.eid, "longsword"), random.Random(1))
    assert not knight.weapons[0].get("dmg")


def test_antennae_and_a_gray_oozes_touch_eat_metal_armour() -> None:
    g, (rusty,) = _game("rust-monster")
    thorin = _tough(g)
    ac = thorin.current_ac()
    turn_of(g, rusty.eid)
    assert not any(x.startswith("Antennae") for x in _labels(g, rusty))  # none beside it
    _engage(rusty, thorin)
    for k in range(1, 6):
        turn_of(g, rusty.eid)
        g.next_d20 = 1  # the Dex save fails
        apply(g, rusty.eid, it.Attack(1, _idx(rusty, "Antennae")), random.Random(1))
        assert thorin.current_ac() == ac - k
    turn_of(g, rusty.eid)
    g.next_d20 = 1
    apply(g, rusty.eid, it.Attack(1, _idx(rusty, "Antennae")), random.Random(1))
    assert thorin.armor == "" and thorin.current_ac() == 10 + thorin.mod("dex") + 2
    g2, (ooze,) = _game("gray-ooze")
    knight = _tough(g2)
    _engage(ooze, knight)
    ac = knight.current_ac()
    turn_of(g2, ooze.eid)
    g2.next_d20 = 19
    apply(g2, ooze.eid, it.Attack(1, _idx(ooze, "Pseudopod")), random.Random(1))
    assert knight.current_ac() == ac - 1


def test_a_hydra_loses_heads_to_heavy_blows_and_regrows_two_unless_burned() -> None:
    g, (hydra,) = _game("hydra")
    hydra.hp = 100
    assert hydra.res["heads"] == 5
    resolver.deal(g, hydra, 25, "slashing", [], rng=random.Random(1))
    resolver.deal(g, hydra, 30, "slashing", [], rng=random.Random(1))  # one head a turn
    assert hydra.res["heads"] == 4 and hydra.hp == 45
    turns.end_turn_effects(g, hydra, random.Random(1))
    assert hydra.res["heads"] == 6 and hydra.hp == 65
    g.combat["round"] += 1
    resolver.deal(g, hydra, 20, "fire", [], rng=random.Random(1))
    resolver.deal(g, hydra, 10, "slashing", [], rng=random.Random(1))
    turns.end_turn_effects(g, hydra, random.Random(1))
    assert hydra.res["heads"] == 5 and hydra.hp == 35  # burned: nothing regrows
    hydra.res["heads"] = 1
    g.combat["round"] += 1
    resolver.deal(g, hydra, 26, "slashing", [], rng=random.Random(1))
    assert hydra.dead  # its last head gone


def test_a_hydra_bites_once_per_head_and_its_spare_heads_make_opportunity_attacks() -> None:
    from rules import combat

    g, (hydra,) = _game("hydra")
    thorin = _tough(g)
    _engage(hydra, thorin)
    hydra.res["heads"] = 2
    turn_of(g, hydra.eid)
    out = apply(g, hydra.eid, it.Attack(1, _idx(hydra, "Multiattack")), random.Random(1))
    assert len([x for x in out if isinstance(x, ev.Attacked)]) == 2
    hydra.reaction = False
    out = combat._leave_engagement(g, thorin, random.Random(1))
    assert [x for x in out if isinstance(x, ev.ActionTaken) and x.action == "opportunity attack"]
    _engage(hydra, thorin)
    out = combat._leave_engagement(g, thorin, random.Random(1))  # its one spare head is spent
    assert not [x for x in out if isinstance(x, ev.ActionTaken)]
    assert _row("hydra", "trait", "Reactive Heads")["state"] == "mechanised"


def test_a_harpys_song_charms_and_draws_a_humanoid_to_it_until_a_save() -> None:
    g, (harpy,) = _game("harpy")
    thorin = _tough(g)
    thorin.band = "far"
    turn_of(g, harpy.eid)
    assert tactics.choose(g, harpy.eid, random.Random(1)).label.startswith("Luring Song")
    g.next_d20 = 1
    apply(g, harpy.eid, it.Attack(1, _idx(harpy, "Luring Song")), random.Random(1))
    assert thorin.conditions["charmed"].src == harpy.eid and thorin.incapacitated
    turns._ticks(g, thorin, random.Random(1), [])
    assert harpy.eid in thorin.engaged  # it walked to the harpy
    turns.end_turn_effects(g, thorin, LoadedD20(random.Random(1), 20))  # saves
    assert "charmed" not in thorin.conditions
    turns._ticks(g, thorin, random.Random(1), [])
    assert not thorin.incapacitated and not any(x.name == "Luring Song" for x in thorin.effects)


def test_a_chain_devils_animated_chains_add_four_attacks_to_its_multiattack() -> None:
    def swings() -> int:
        turn_of(g, devil.eid)
        out = apply(g, devil.eid, it.Attack(1, _idx(devil, "Multiattack")), random.Random(1))
        return len([x for x in out if isinstance(x, ev.Attacked)])

    g, (devil,) = _game("chain-devil")
    thorin = _tough(g)
    _engage(devil, thorin)
    assert swings() == 2
    turn_of(g, devil.eid)
    assert tactics.choose(g, devil.eid, random.Random(1)).label.startswith("Animate Chains")
    apply(g, devil.eid, it.Attack(1, _idx(devil, "Animate Chains")), random.Random(1))
    assert swings() == 6


def test_a_shield_guardian_takes_half_the_damage_its_master_takes() -> None:
    g, (goblin, guard, mage) = _arena("goblin", "shield-guardian", "mage")
    assert _row("shield-guardian", "trait", "Bound")["state"] == "mechanised"
    hp, ghp, gob = mage.hp, guard.hp, goblin.hp
    resolver.deal(g, mage, 9, "fire", [], rng=random.Random(1))
    assert mage.hp == hp - 4 and guard.hp == ghp - 5  # the mage (CR 6) wears the amulet
    resolver.deal(g, goblin, 4, "fire", [], rng=random.Random(1))
    assert goblin.hp == gob - 4 and guard.hp == ghp - 5


class Ones(random.Random):
    """Every die but a d20 shows 1 (a reflective carapace's d6 of 1)."""

    def randint(self, a: int, b: int) -> int:
        return a if (a, b) != (1, 20) else super().randint(a, b)


def test_a_tarrasques_carapace_turns_ranged_spells_back_on_a_six() -> None:
    g, (tarrasque,) = _game("tarrasque", cls="wizard")
    mira = g.entities[1]
    mira.hp = mira.max_hp = 500
    spell = next(s for s in ("fire-bolt", "ray-of-frost") if s in mira.spells)
    hp = tarrasque.hp
    turn_of(g, 1)
    g.next_d20 = 20
    out = apply(g, 1, it.Cast(spell, tarrasque.eid), Ones(1))
    assert tarrasque.hp == hp and mira.hp == 500
    assert any(isinstance(x, ev.Info) and "shrugs off" in x.text for x in out)
    turn_of(g, 1)
    g.next_d20 = 20
    out = apply(g, 1, it.Cast(spell, tarrasque.eid), Sixes(1))
    assert tarrasque.hp == hp and mira.hp < 500  # it struck its caster
    assert _row("tarrasque", "trait", "Reflective Carapace")["state"] == "mechanised"


def test_gibbering_takes_a_foes_turn_by_a_d8() -> None:
    g, (mouther,) = _game("gibbering-mouther")
    thorin = _tough(g)
    _engage(mouther, thorin)
    turn_of(g, 1)
    turns._ticks(g, thorin, LoadedD20(Ones(1), [20, 1]), [])  # Str save made, Wis failed
    assert thorin.turn["action"] == 0 and thorin.turn["move"] == 0 and not thorin.reaction
    turn_of(g, 1)
    thorin.reaction = True
    hp = mouther.hp
    turns._ticks(g, thorin, LoadedD20(Sixes(1), [20, 1, 20]), [])  # 8: it strikes out
    assert mouther.hp < hp and thorin.turn["action"] == 0
    turn_of(g, 1)
    turns._ticks(g, thorin, LoadedD20(Ones(1), [20, 20]), [])  # both saves made
    assert thorin.turn["action"] == 1
    assert _row("gibbering-mouther", "trait", "Gibbering")["state"] == "mechanised"


def test_a_roper_with_six_creatures_held_has_no_tendril_left() -> None:
    g, (roper,) = _game("roper")
    for k in range(5):
        apply(g, None, it.Join(f"Hero{k}", "fighter", 1), random.Random(0))
    heroes = [e for e in g.entities.values() if e.kind == "pc"]
    for h in heroes:
        h.room, h.hp, h.max_hp = roper.room, 500, 500
        _engage(roper, h)
    for h in heroes[:5]:
        resolver.add_condition(g, h, "grappled", [], src=roper.eid)
    turn_of(g, roper.eid)
    assert any(x.startswith("Tendril") for x in _labels(g, roper))
    resolver.add_condition(g, heroes[5], "grappled", [], src=roper.eid)
    assert not any(x.startswith("Tendril") for x in _labels(g, roper))
    with pytest.raises(RulesError):
        apply(g, roper.eid, it.Attack(heroes[0].eid, _idx(roper, "Tendril")), random.Random(1))
    out = apply(g, roper.eid, it.Attack(heroes[0].eid, _idx(roper, "Multiattack")),
                random.Random(1))
    assert len([x for x in out if isinstance(x, ev.Attacked)]) == 1  # the bite alone


def test_an_ice_devil_out_of_reach_raises_its_wall_among_its_foes() -> None:
    g, (devil,) = _game("ice-devil")
    _tough(g)
    turn_of(g, devil.eid)
    devil.turn["move"] = 0  # nobody within reach of its claws this turn
    assert tactics.choose(g, devil.eid, random.Random(1)).label.startswith("Wall of Ice")


def test_a_dragon_out_of_reach_does_not_take_a_guise_in_a_fight() -> None:
    g, (dragon,) = _game("ancient-gold-dragon")
    _tough(g)
    turn_of(g, dragon.eid)
    dragon.turn["move"] = 0
    dragon.recharge = {k: False for k in dragon.recharge}
    assert not tactics.choose(g, dragon.eid, random.Random(1)).label.startswith("Change Shape")


def test_a_solars_flying_sword_strikes_as_a_bonus_action_from_afar() -> None:
    g, (solar,) = _game("solar")
    thorin = _tough(g)
    thorin.band = "near"
    turn_of(g, solar.eid)
    solar.turn["move"] = 0  # it stays where it is
    assert not any(x.startswith("Greatsword") for x in _labels(g, solar))  # out of reach
    apply(g, solar.eid, it.Attack(1, _idx(solar, "Flying Sword")), random.Random(1))
    assert solar.turn["action"] == 0
    labels = _labels(g, solar)
    assert any(x.startswith("Greatsword") for x in labels)
    g.next_d20 = 19
    out = apply(g, solar.eid, it.Attack(1, _idx(solar, "Greatsword")), random.Random(1))
    assert any(isinstance(x, ev.Damaged) and x.target == 1 for x in out)
    assert solar.turn["bonus"] == 0 and not solar.engaged  # it did not move
    turn_of(g, solar.eid)
    assert not any(x.startswith("Multiattack") for x in _labels(g, solar))
    apply(g, solar.eid, it.Attack(1, _idx(solar, "Flying Sword")), random.Random(1))
    assert solar.turn["bonus"] == 0 and solar.turn["action"] == 1  # called back: a bonus
    _engage(solar, thorin)
    assert any(x.startswith("Multiattack") for x in _labels(g, solar))
