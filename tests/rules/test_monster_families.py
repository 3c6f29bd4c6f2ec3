"""Monster trait families fed by the stat block's numbers: each fails if its rule is dropped."""

from __future__ import annotations

import random
from typing import Any

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules import resolver
from rules.creature import best_speed
from rules.dice import LoadedD20
from rules.dungeon import Dungeon
from rules.effects import engine, monsters
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.game import Game, apply


def _game(monster: str, n: int = 1, cls: str = "fighter") -> tuple[Game, list[int]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", cls, 3), random.Random(0))
    return g, fight(g, monster, n)


def _hits_on(out: list[Any], eid: int) -> list[ev.Damaged]:
    return [x for x in out if isinstance(x, ev.Damaged) and x.target == eid]


def _struck(monster: str, hp: int, amount: int, dtype: str, magical: bool = False
            ) -> Any:
    """A fresh monster at `hp` that takes one blow."""
    g, foes = _game(monster)
    e = g.entities[foes[0]]
    e.hp = hp
    resolver.deal(g, e, amount, dtype, [], rng=random.Random(1), magical=magical)
    return e


def _locked(monster: str) -> tuple[Game, Any, Any]:
    """A fresh monster in melee with a sturdy Thorin, on its own turn."""
    g, foes = _game(monster)
    m, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    m.engaged, thorin.engaged = [1], [m.eid]
    turn_of(g, m.eid)
    return g, m, thorin


def _ability(m: str, name: str) -> dict[str, Any]:
    from rules import content

    rows = monsters.abilities(content.monsters()[m])
    return next(a for a in rows if a["name"] == name)


def test_movement_traits_are_in_play_only_with_the_speed_they_describe() -> None:
    from rules import content

    aboleth = content.monsters()["aboleth"]  # walk 10, swim 40: it fights at 40
    assert _ability("aboleth", "Amphibious")["state"] == "mechanised"
    assert best_speed(aboleth["speed"]) == aboleth["speed"]["swim"] == 40
    assert _ability("giant-spider", "Spider Climb")["state"] == "mechanised"
    # a vampire has no climb speed in its stat block: its Spider Climb is the DM's
    assert _ability("vampire-spawn", "Spider Climb")["state"] == "adjudicated"


def test_charge_adds_its_dice_and_a_prone_save_only_after_closing_in() -> None:
    g, foes = _game("boar")  # Charge: +1d6 slashing and a DC 11 Str save or prone
    boar, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    turn_of(g, boar.eid)
    g.next_d20 = [19, 1]  # the tusk hits, Thorin fails the Strength save
    out = apply(g, boar.eid, it.Attack(1, None), random.Random(3))
    assert len(_hits_on(out, 1)) == 2 and "prone" in thorin.conditions
    del thorin.conditions["prone"]
    turn_of(g, boar.eid)  # engaged already: no charge this time
    g.next_d20 = [19, 1]
    out = apply(g, boar.eid, it.Attack(1, None), random.Random(3))
    assert len(_hits_on(out, 1)) == 1 and "prone" not in thorin.conditions


def test_sneak_attack_needs_advantage_or_an_ally_beside_the_target() -> None:
    g, foes = _game("spy", 2)  # Sneak Attack 2d6 once a turn
    spy, other, thorin = g.entities[foes[0]], g.entities[foes[1]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    thorin.band = other.band = spy.band = "near"
    spy.engaged, thorin.engaged = [1], [spy.eid]
    turn_of(g, spy.eid)
    out: list[Any] = []
    engine.use(g, spy, monsters.key_for("spy", "Shortsword"), [thorin],
               LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 1  # alone with the target, no advantage: no sneak
    other.engaged = [1]
    thorin.engaged.append(other.eid)
    out = []
    engine.use(g, spy, monsters.key_for("spy", "Shortsword"), [thorin],
               LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 2 and spy.turn["sneak"]


def test_relentless_holds_off_only_damage_up_to_its_limit() -> None:
    boar = _struck("boar", 3, 7, "slashing")  # Relentless: 7 damage or less
    assert boar.hp == 1 and not boar.dead
    assert _struck("boar", 3, 8, "slashing").dead


def test_death_burst_catches_the_foes_engaged_with_the_dying_mephit() -> None:
    g, foes = _game("magma-mephit")  # Death Burst: DC 11 Dex, 2d6 fire, half on a save
    meph, thorin = g.entities[foes[0]], g.entities[1]
    meph.engaged, thorin.engaged = [1], [meph.eid]
    out: list[Any] = []
    resolver.deal(g, meph, 100, "cold", out, rng=random.Random(4))
    assert meph.dead
    burns = [x for x in _hits_on(out, 1) if x.dtype == "fire"]
    assert burns and burns[0].amount > 0


def test_heated_body_burns_a_melee_attacker() -> None:
    g, foes = _game("azer")  # Heated Body: 1d10 fire to whoever hits it in melee
    azer, thorin = g.entities[foes[0]], g.entities[1]
    azer.hp = azer.max_hp = 500
    azer.engaged, thorin.engaged = [1], [azer.eid]
    spec = {"name": "sword", "bonus": 30, "kind": "melee", "damage": [("1d8", "slashing")]}
    out: list[Any] = []
    resolver.attack(g, thorin, azer, spec, random.Random(5), out)
    assert [x for x in _hits_on(out, 1) if x.dtype == "fire"]


def test_stench_poisons_foes_engaged_at_the_start_of_its_turn() -> None:
    from rules.turns import begin_turn

    g, foes = _game("ghast")  # Stench: DC 10 Con or poisoned
    ghast, thorin = g.entities[foes[0]], g.entities[1]
    ghast.engaged, thorin.engaged = [1], [ghast.eid]

    g.combat["idx"] = g.combat["order"].index(thorin.eid)  # Thorin starts his turn by it
    begin_turn(g, LoadedD20(random.Random(1), 1))
    assert "poisoned" in thorin.conditions


def test_brave_gives_advantage_only_against_fear() -> None:
    g, foes = _game("knight")
    knight = g.entities[foes[0]]
    from rules.effects import nodes as n

    fear = engine._adv_against(knight, (n.Condition("frightened", 10),))
    assert fear is not None and fear.has("adv_saves")
    assert engine._adv_against(knight, (n.Condition("prone", -1),)) is None


def test_lightning_absorption_heals_a_flesh_golem() -> None:
    assert _struck("flesh-golem", 50, 12, "lightning").hp == 62


def test_undead_regeneration_heals_a_vampire_spawn() -> None:
    g, foes = _game("vampire-spawn")
    spawn = g.entities[foes[0]]
    spawn.hp = 50
    regen = next(x for x in spawn.effects if x.tick)
    engine.tick(g, spawn, regen, random.Random(1), [])
    assert spawn.hp == 60


def test_false_appearance_swarm_devils_sight_flyby_and_light() -> None:
    g, foes = _game("gargoyle")
    garg, thorin = g.entities[foes[0]], g.entities[1]
    assert resolver.attack_adv(g, garg, thorin, "melee", (5, 0))[0] == 1  # unseen
    g2, swarm = _game("swarm-of-rats")
    rats = g2.entities[swarm[0]]
    rats.hp = 5
    out: list[Any] = []
    resolver.heal(g2, rats, 5, out)
    assert rats.hp == 5
    g3, devils = _game("imp")
    imp, hero = g3.entities[devils[0]], g3.entities[1]
    imp.effects.append(Effect("darkness", hero.eid, tags=("dis_against", "dis_attacks")))
    hero.effects.append(Effect("darkness", hero.eid, tags=("dis_against", "dis_attacks")))
    imp.conditions.clear()
    assert resolver.attack_adv(g3, imp, hero, "melee", (5, 0))[0] >= 0
    g4, owls = _game("giant-owl")
    owl, hero4 = g4.entities[owls[0]], g4.entities[1]
    owl.engaged, hero4.engaged = [1], [owl.eid]
    from rules.combat import _leave_engagement

    assert not [x for x in _leave_engagement(g4, owl, random.Random(1))
                if isinstance(x, ev.ActionTaken)]
    g5, beetles = _game("giant-fire-beetle")
    from rules.resolver import _lit

    assert _lit(g5, g5.entities[beetles[0]].room)


def test_detect_spots_a_hidden_foe_as_a_legendary_action() -> None:
    from rules.tactics import legendary_pick

    g, foes = _game("adult-red-dragon")
    dragon, thorin = g.entities[foes[0]], g.entities[1]
    assert legendary_pick(g, dragon) is None or legendary_pick(g, dragon)[0]["name"] != "Detect"
    thorin.effects.append(Effect("hidden", 1, tags=("hidden",)))
    act, target = legendary_pick(g, dragon)
    assert act["name"] == "Detect" and target is thorin
    out: list[Any] = []
    engine.use(g, dragon, monsters.key_for(dragon.monster, "Detect"), [thorin],
               LoadedD20(random.Random(1), 20), out)
    assert not any(x.has("hidden") for x in thorin.effects)


def test_teleport_takes_a_hurt_blink_dog_out_of_melee_without_opportunity_attacks() -> None:
    from rules import tactics

    g, foes = _game("blink-dog")
    dog, thorin = g.entities[foes[0]], g.entities[1]
    dog.engaged, thorin.engaged = [1], [dog.eid]
    turn_of(g, dog.eid)
    dog.hp = 2
    opt = tactics.choose(g, dog.eid, random.Random(1))
    assert opt.label.startswith("Teleport")
    out = apply(g, dog.eid, opt.intent, random.Random(1))
    assert dog.band == "far" and not dog.engaged and not thorin.engaged
    assert not [x for x in out if isinstance(x, ev.ActionTaken) and x.action ==
                "opportunity attack"]


def test_invisibility_lasts_until_the_imp_attacks() -> None:
    from rules import tactics

    g, foes = _game("imp")
    imp, thorin = g.entities[foes[0]], g.entities[1]
    turn_of(g, imp.eid)
    opt = tactics.choose(g, imp.eid, random.Random(1))
    assert opt.label.startswith("Invisibility")
    apply(g, imp.eid, opt.intent, random.Random(1))
    assert resolver.attack_adv(g, thorin, imp, "melee", (5, 0))[0] == -1
    assert resolver.attack_adv(g, imp, thorin, "melee", (5, 0))[0] == 1
    turn_of(g, imp.eid)
    apply(g, imp.eid, it.Attack(1, "Sting"), random.Random(1))
    assert not any(x.has("hidden") for x in imp.effects)


def test_web_walkers_walk_webs_and_golems_keep_their_form() -> None:
    g, foes = _game("giant-spider", 2)
    spider, other = g.entities[foes[0]], g.entities[foes[1]]
    ctx = engine.context(g, other, monsters.key_for("giant-spider", "Web"), random.Random(1),
                         [], [spider])
    from rules.effects import nodes as n

    ctx.target = spider
    engine.run((n.Condition("restrained", -1),), ctx)
    assert "restrained" not in spider.conditions
    g2, golems = _game("clay-golem")
    golem = g2.entities[golems[0]]
    ctx2 = engine.context(g2, g2.entities[1], "spell:polymorph", random.Random(1), [], [golem])
    from rules.effects import specials

    specials.polymorph(ctx2, {})
    assert not golem.fled


def test_martial_advantage_needs_an_ally_beside_the_target() -> None:
    g, foes = _game("hobgoblin", 2)
    hob, other, thorin = g.entities[foes[0]], g.entities[foes[1]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    hob.engaged, thorin.engaged = [1], [hob.eid]
    turn_of(g, hob.eid)
    key = monsters.key_for("hobgoblin", "Longsword")
    out: list[Any] = []
    engine.use(g, hob, key, [thorin], LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 1
    other.engaged = [1]
    thorin.engaged.append(other.eid)
    out = []
    engine.use(g, hob, key, [thorin], LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 2


def test_brute_is_in_the_bugbears_numbers() -> None:
    from rules import content

    star = next(a for a in content.monsters()["bugbear"]["actions"]
                if a["name"] == "Morningstar")
    assert star["damage"][0]["dice"] == "2d8+2"  # a d8 weapon with Brute's extra die
    assert _ability("bugbear", "Brute")["state"] == "mechanised"


def test_a_werewolf_takes_its_hybrid_form_and_fights_with_its_claws() -> None:
    from rules import tactics

    g, foes = _game("werewolf-human")
    wolf = g.entities[foes[0]]
    turn_of(g, wolf.eid)
    k = next(k for k, a in enumerate(wolf.actions)
             if a["name"] == "Change Shape (Werewolf, Hybrid Form)")
    hp = wolf.hp
    apply(g, wolf.eid, it.Attack(1, k), random.Random(1))
    assert wolf.monster == "werewolf-hybrid" and wolf.hp == hp and wolf.ac == 12
    assert {"Bite", "Claws"} <= {a["name"] for a in wolf.actions}
    assert any(a["name"].startswith("Change Shape (Werewolf, Human") for a in wolf.actions)
    g2, mists = _game("vampire-mist")  # no attacks as mist: the AI takes a fighting form
    mist = g2.entities[mists[0]]
    turn_of(g2, mist.eid)
    opt = tactics.choose(g2, mist.eid, random.Random(1))
    assert opt.label.startswith("Change Shape (Vampire, Vampire Form")


def test_healing_touch_heals_the_most_wounded_ally() -> None:
    from rules import tactics

    g, foes = _game("deva", 2)
    deva, friend = g.entities[foes[0]], g.entities[foes[1]]
    turn_of(g, deva.eid)
    assert not tactics.choose(g, deva.eid, random.Random(1)).label.startswith("Healing")
    friend.hp = 20
    opt = tactics.choose(g, deva.eid, random.Random(1))
    assert opt.label.startswith("Healing Touch")
    apply(g, deva.eid, opt.intent, random.Random(1))
    assert friend.hp > 10 and deva.per_day["Healing Touch"] == 2


def test_children_of_the_night_brings_bats_and_etherealness_leaves() -> None:
    g, foes = _game("vampire-vampire")
    vamp = g.entities[foes[0]]
    assert vamp.monster == "vampire-vampire"
    turn_of(g, vamp.eid)
    k = next(k for k, a in enumerate(vamp.actions) if a["name"] == "Children of the Night")
    apply(g, vamp.eid, it.Attack(1, k), random.Random(1))
    assert sum(e.monster == "swarm-of-bats" for e in g.entities.values()) == 5
    g2, ghosts = _game("ghost")
    ghost = g2.entities[ghosts[0]]
    turn_of(g2, ghost.eid)
    k = next(k for k, a in enumerate(ghost.actions) if a["name"] == "Etherealness")
    apply(g2, ghost.eid, it.Attack(1, k), random.Random(1))
    assert ghost.fled


def test_evasion_gnome_cunning_and_limited_magic_immunity() -> None:
    from rules.effects import nodes as n

    g, foes = _game("assassin")  # Evasion
    sin = g.entities[foes[0]]
    sin.hp = sin.max_hp = 500
    ctx = engine.context(g, g.entities[1], "spell:fireball", LoadedD20(random.Random(1), 20),
                         [], [sin], level=3)
    ctx.target = sin
    engine.run((n.Save("dex", 10, True, (n.Damage((n.Part("8d6", "fire"),)),)),), ctx)
    assert sin.hp == 500  # a success: no damage at all
    g2, gnomes = _game("deep-gnome-svirfneblin")
    gnome = g2.entities[gnomes[0]]
    assert engine._adv_against(gnome, (), "wis", True) is not None
    assert engine._adv_against(gnome, (), "wis", False) is None
    assert engine._adv_against(gnome, (), "dex", True) is None
    g3, raks = _game("rakshasa")
    rak = g3.entities[raks[0]]
    ctx3 = engine.context(g3, g3.entities[1], "spell:fireball", random.Random(1), [], [rak],
                          level=3)
    assert engine._affected(ctx3, (), (), "") == []
    ctx3 = engine.context(g3, g3.entities[1], "spell:fireball", random.Random(1), [], [rak],
                          level=7)
    assert engine._affected(ctx3, (), (), "") == [rak]


def test_death_throes_reach_every_foe_not_far_off_and_dispel_drops_animated_armor() -> None:
    g, foes = _game("balor")
    balor, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    thorin.band = balor.band = "near"
    out: list[Any] = []
    resolver.deal(g, balor, 10_000, "radiant", out, rng=random.Random(2))
    assert balor.dead and [x for x in _hits_on(out, 1) if x.dtype == "fire"]
    g2, arms = _game("animated-armor")
    armor = g2.entities[arms[0]]
    ctx = engine.context(g2, g2.entities[1], "spell:dispel-magic",
                         LoadedD20(random.Random(1), 1), [], [armor], level=3)
    from rules.effects import specials

    specials.dispel(ctx, {})
    assert "unconscious" in armor.conditions


def test_a_legendary_attack_strikes_with_the_action_it_names() -> None:
    from rules.tactics import legendary_pick

    g, foes = _game("mummy-lord")
    lord, thorin = g.entities[foes[0]], g.entities[1]
    lord.engaged, thorin.engaged = [1], [lord.eid]
    lord.res["legendary"] = 1
    act, target = legendary_pick(g, lord)
    assert act["name"] in ("Attack", "Blinding Dust") and target is thorin
    attack = next(a for a in lord.legendary_actions if a["name"] == "Attack")
    out: list[Any] = []
    from rules.combat import run_action

    run_action(g, lord, attack, thorin, LoadedD20(random.Random(1), 19), out)
    assert any(isinstance(x, ev.Attacked) and x.hit for x in out)
    assert [x for x in _hits_on(out, 1) if x.dtype == "necrotic"]  # the rotting fist's


def test_a_hurt_unicorn_heals_itself_and_a_cornered_mummy_lord_whirls_away() -> None:
    from rules.tactics import legendary_pick

    g, foes = _game("unicorn")
    uni, thorin = g.entities[foes[0]], g.entities[1]
    uni.res["legendary"] = 3
    uni.hp = 20
    act, _ = legendary_pick(g, uni)
    assert act["name"] == "Heal Self"
    out: list[Any] = []
    from rules.combat import run_action

    run_action(g, uni, act, thorin, random.Random(1), out)
    assert uni.hp > 20
    g2, lords = _game("mummy-lord")
    lord, hero = g2.entities[lords[0]], g2.entities[1]
    lord.engaged, hero.engaged = [1], [lord.eid]
    lord.res["legendary"], lord.hp = 3, 10
    act, _ = legendary_pick(g2, lord)
    assert act["name"] == "Whirlwind of Sand"
    run_action(g2, lord, act, hero, random.Random(1), [])
    assert lord.band == "far" and not lord.engaged


def test_a_vampire_dropped_to_0_escapes_as_mist_unless_radiant() -> None:
    vamp = _struck("vampire-vampire", 5, 50, "slashing", magical=True)
    assert vamp.fled and not vamp.dead
    assert _struck("vampire-vampire", 5, 50, "radiant").dead


def test_surprise_attack_hits_harder_against_a_foe_that_has_not_acted() -> None:
    g, foes = _game("bugbear")  # Surprise Attack: +2d6 in the first round
    bug, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    bug.engaged, thorin.engaged = [1], [bug.eid]
    order = g.combat["order"]
    order.remove(bug.eid)
    order.insert(0, bug.eid)  # the bugbear acts before Thorin
    g.combat["idx"], g.combat["round"] = 0, 1
    key = monsters.key_for("bugbear", "Morningstar")
    out: list[Any] = []
    engine.use(g, bug, key, [thorin], LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 2
    g.combat["round"] = 2
    out = []
    engine.use(g, bug, key, [thorin], LoadedD20(random.Random(2), 19), out)
    assert len(_hits_on(out, 1)) == 1


def test_light_sensitivity_steadfast_freedom_aversion_freeze() -> None:
    g, foes = _game("cloaker")  # Light Sensitivity; the arena's hall is bright
    cloak, thorin = g.entities[foes[0]], g.entities[1]
    cloak.effects = [x for x in cloak.effects if not x.has("hidden")]
    assert resolver.attack_adv(g, cloak, thorin, "melee", (5, 0))[0] == -1
    g2, devils = _game("bearded-devil", 2)  # Steadfast
    devil = g2.entities[devils[0]]
    ctx = engine.context(g2, g2.entities[1], "spell:fear", random.Random(1), [], [devil])
    from rules.effects import nodes as n

    ctx.target = devil
    engine.run((n.Condition("frightened", 10),), ctx)
    assert "frightened" not in devil.conditions
    g2.entities[devils[1]].hp = 0
    engine.run((n.Condition("frightened", 10),), ctx)
    assert "frightened" in devil.conditions
    g3, krakens = _game("kraken")  # Freedom of Movement
    kraken = g3.entities[krakens[0]]
    ctx3 = engine.context(g3, g3.entities[1], "spell:web", random.Random(1), [], [kraken])
    ctx3.target = kraken
    engine.run((n.Condition("restrained", -1),), ctx3)
    assert "restrained" not in kraken.conditions
    g4, golems = _game("flesh-golem")  # Aversion of Fire
    golem = g4.entities[golems[0]]
    resolver.deal(g4, golem, 5, "fire", [], rng=random.Random(1))
    assert resolver.attack_adv(g4, golem, g4.entities[1], "melee", (5, 0))[0] == -1
    g5, waters = _game("water-elemental")  # Freeze
    water = g5.entities[waters[0]]
    speed = water.effective_speed()
    resolver.deal(g5, water, 5, "cold", [], rng=random.Random(1))
    assert water.effective_speed() == speed - 20


def test_a_gnoll_that_drops_a_foe_rampages_on_to_bite_another() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 3), random.Random(0))
    apply(g, None, it.Join("Mira", "wizard", 3), random.Random(0))
    gnoll = g.entities[fight(g, "gnoll")[0]]
    thorin, mira = g.entities[1], g.entities[2]
    mira.hp = mira.max_hp = 500
    gnoll.engaged, thorin.engaged = [1], [gnoll.eid]
    thorin.hp = 1
    turn_of(g, gnoll.eid)
    out: list[Any] = []
    engine.use(g, gnoll, monsters.key_for("gnoll", "Spear"), [thorin],
               LoadedD20(random.Random(2), [19, 19]), out)
    assert thorin.hp <= 0 and gnoll.turn["bonus"] == 0
    assert mira.eid in gnoll.engaged and any(isinstance(x, ev.Attacked) and x.target == 2
                                             for x in out)


def _sunlit(monster: str) -> tuple[Game, list[int]]:
    rooms = [{**r, "light": "sunlight"} for r in ARENA["rooms"]]
    g = Game.new(Dungeon.from_dict({**ARENA, "rooms": rooms}))
    apply(g, None, it.Join("Thorin", "fighter", 3), random.Random(0))
    return g, fight(g, monster)


def test_sunlight_sensitivity_bites_only_in_a_sunlit_room() -> None:
    g, foes = _game("drow")  # a bright hall is not sunlight
    assert resolver.attack_adv(g, g.entities[foes[0]], g.entities[1], "melee", (5, 0))[0] == 0
    g, foes = _sunlit("drow")
    assert resolver.attack_adv(g, g.entities[foes[0]], g.entities[1], "melee", (5, 0))[0] == -1
    g, foes = _sunlit("shadow")  # Sunlight Weakness
    assert resolver.attack_adv(g, g.entities[foes[0]], g.entities[1], "melee", (5, 0))[0] == -1


def test_a_vampire_burns_in_sunlight_and_not_in_the_dark() -> None:
    from rules import turns

    g, foes = _sunlit("vampire-spawn")
    v = g.entities[foes[0]]
    v.hp = 50
    turns._ticks(g, v, random.Random(1), [])
    assert v.hp == 30  # burnt 20, and the radiant damage stops its regeneration
    assert resolver.attack_adv(g, v, g.entities[1], "melee", (5, 0))[0] == -1
    g, foes = _game("vampire-spawn")
    v = g.entities[foes[0]]
    v.hp = 50
    turns._ticks(g, v, random.Random(1), [])
    assert v.hp == 60  # no sun: only its regeneration


def test_a_giant_toad_swallows_the_foe_it_holds_and_spits_it_out_when_slain() -> None:
    from rules import tactics, turns

    g, toad, thorin = _locked("giant-toad")
    names = [o.label for o in tactics.legal_actions(g, toad.eid)]
    assert not any("Swallow" in x for x in names)  # nothing in its grip yet
    swallow = monsters.key_for("giant-toad", "Swallow")
    engine.use(g, toad, swallow, [thorin], LoadedD20(random.Random(2), 19), [])
    assert "blinded" not in thorin.conditions
    engine.use(g, toad, monsters.key_for("giant-toad", "Bite"), [thorin],
               LoadedD20(random.Random(2), 19), [])
    assert "grappled" in thorin.conditions
    assert any("Swallow" in o.label for o in tactics.legal_actions(g, toad.eid))
    engine.use(g, toad, swallow, [thorin], LoadedD20(random.Random(2), 19), [])
    assert {"blinded", "restrained"} <= set(thorin.conditions)
    assert "grappled" not in thorin.conditions
    hp = thorin.hp
    turns._ticks(g, thorin, random.Random(1), [])
    assert 3 <= hp - thorin.hp <= 18  # 3d6 acid
    resolver.deal(g, toad, 999, "slashing", [], rng=random.Random(1))
    assert not {"blinded", "restrained"} & set(thorin.conditions)
    assert not any(x.has("swallowed") for x in thorin.effects)


def test_a_shambling_mound_engulfs_a_foe_both_slams_hit() -> None:
    from rules import turns

    g, mound, thorin = _locked("shambling-mound")
    slam = monsters.key_for("shambling-mound", "Slam")
    engine.use(g, mound, slam, [thorin], LoadedD20(random.Random(2), 19), [])
    assert "grappled" not in thorin.conditions  # one slam is not enough
    engine.use(g, mound, slam, [thorin], LoadedD20(random.Random(2), 19), [])
    assert "grappled" in thorin.conditions
    engine.use(g, mound, monsters.key_for("shambling-mound", "Engulf"), [thorin],
               random.Random(1), [])
    assert {"blinded", "restrained"} <= set(thorin.conditions)
    hp = thorin.hp
    turns._ticks(g, thorin, LoadedD20(random.Random(1), 1), [])  # fails the Con save
    assert 6 <= hp - thorin.hp <= 20


def _use(g: Game, m: Any, action: str, targets: list[Any], rng: Any = None) -> list[Any]:
    out: list[Any] = []
    engine.use(g, m, monsters.key_for(m.monster, action), targets,
               rng or random.Random(1), out)
    return out


def test_a_knights_leadership_adds_a_d4_to_its_allies_rolls() -> None:
    g, foes = _game("knight", 2)
    k1, k2 = g.entities[foes[0]], g.entities[foes[1]]
    _use(g, k1, "Leadership", [g.entities[1]])
    assert any(x.atk == "1d4" and x.save == "1d4" and x.rounds == 10 for x in k2.effects)
    assert not any(x.atk for x in k1.effects) and not any(x.atk for x in g.entities[1].effects)


def test_whirlwind_and_deadly_leap_save_for_half_or_go_prone() -> None:
    for monster, action, ability in (("air-elemental", "Whirlwind", "str"),
                                     ("bulette", "Deadly Leap", "dex")):
        g, foes = _game(monster)
        m, thorin = g.entities[foes[0]], g.entities[1]
        thorin.hp = thorin.max_hp = 500
        _use(g, m, action, [thorin], LoadedD20(random.Random(1), 1))  # a failed save
        assert "prone" in thorin.conditions and thorin.hp < 500
        g, foes = _game(monster)
        m, thorin = g.entities[foes[0]], g.entities[1]
        thorin.hp = thorin.max_hp = 500
        out = _use(g, m, action, [thorin], LoadedD20(random.Random(1), 20))
        assert "prone" not in thorin.conditions and thorin.hp < 500  # half damage still lands
        assert any(isinstance(x, ev.Rolled) and ability in x.what for x in out)


def test_self_actions_shield_hide_and_leave_the_fight() -> None:
    g, foes = _game("unicorn")
    uni = g.entities[foes[0]]
    ac = uni.current_ac()
    _use(g, uni, "Shimmering Shield", [g.entities[1]])
    assert uni.current_ac() == ac + 2
    g, foes = _game("cloaker")
    cloak = g.entities[foes[0]]
    cloak.effects = []
    _use(g, cloak, "Phantasms", [g.entities[1]])
    assert resolver.attack_adv(g, g.entities[1], cloak, "melee", (5, 0))[0] == -1
    g, foes = _game("green-hag")
    hag = g.entities[foes[0]]
    _use(g, hag, "Invisible Passage", [g.entities[1]])
    assert resolver.attack_adv(g, hag, g.entities[1], "melee", (5, 0))[0] == 1
    g, foes = _game("nightmare")
    mare = g.entities[foes[0]]
    _use(g, mare, "Ethereal Stride", [g.entities[1]])
    assert mare not in g.here(mare.room) or mare.fled


def test_channel_negative_energy_stops_healing() -> None:
    g, foes = _game("mummy-lord")
    lord, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = 5
    _use(g, lord, "Channel Negative Energy", [thorin])
    assert resolver.heal(g, thorin, 10, []) == 0 and thorin.hp == 5


def test_horrific_appearance_and_aberrant_ground_reach_engaged_foes() -> None:
    from rules import turns

    g, foes = _game("sea-hag")
    hag, thorin = g.entities[foes[0]], g.entities[1]
    hag.engaged, thorin.engaged = [1], [hag.eid]
    turns._ticks(g, thorin, LoadedD20(random.Random(1), 1), [])
    assert "frightened" in thorin.conditions
    g, foes = _game("gibbering-mouther")
    mouth, thorin = g.entities[foes[0]], g.entities[1]
    mouth.engaged, thorin.engaged = [1], [mouth.eid]
    turns._ticks(g, thorin, LoadedD20(random.Random(1), 1), [])
    assert thorin.effective_speed() == 0


def test_grappler_and_ambusher_give_advantage_when_their_rule_holds() -> None:
    g, foes = _game("mimic")
    mimic, thorin = g.entities[foes[0]], g.entities[1]
    mimic.effects = [x for x in mimic.effects if not x.has("hidden")]
    assert resolver.attack_adv(g, mimic, thorin, "melee", (5, 0))[0] == 0
    resolver.add_condition(g, thorin, "grappled", [], src=mimic.eid)
    assert resolver.attack_adv(g, mimic, thorin, "melee", (5, 0))[0] == 1
    for monster in ("doppelganger", "assassin"):
        g, foes = _game(monster)
        m, thorin = g.entities[foes[0]], g.entities[1]
        order = g.combat["order"]
        order.remove(m.eid)
        order.insert(0, m.eid)
        g.combat["idx"], g.combat["round"] = 0, 1
        assert resolver.attack_adv(g, m, thorin, "melee", (5, 0))[0] == 1
        g.combat["round"] = 2
        assert resolver.attack_adv(g, m, thorin, "melee", (5, 0))[0] == 0


def test_a_shadow_hides_as_a_bonus_action_only_out_of_bright_light() -> None:
    from rules import combat

    g, foes = _game("shadow")
    shadow = g.entities[foes[0]]
    assert combat._simple_slot(shadow, "hide", dim=False) == "action"
    # the bonus action first, keeping the action for an attack from hiding
    assert combat._simple_slot(shadow, "hide", dim=True) == "bonus"
    shadow.turn["action"] = 0
    g, foes = _game("ghoul")
    ghoul = g.entities[foes[0]]
    ghoul.turn["action"] = 0
    shadow.turn["bonus"] = 1
    assert combat._simple_slot(shadow, "hide", dim=True) == "bonus"
    for who in (ghoul, shadow):  # no trait, or bright light: no action left to hide with
        with pytest.raises(RulesError):
            combat._simple_slot(who, "hide", dim=who is ghoul)


def test_an_orc_out_of_melee_gets_a_second_move_and_a_marilith_reacts_every_turn() -> None:
    from rules import turns

    g, foes = _game("orc")
    orc = g.entities[foes[0]]
    orc.engaged = []
    g.combat["idx"] = g.combat["order"].index(orc.eid)
    turns.begin_turn(g, random.Random(1))
    assert orc.turn["move"] == 2 * orc.effective_speed() and orc.turn["bonus"] == 0
    g, foes = _game("marilith")
    mar = g.entities[foes[0]]
    mar.reaction = False
    g.combat["idx"] = g.combat["order"].index(1)
    turns.begin_turn(g, random.Random(1))
    assert mar.reaction


def test_a_roper_reels_in_the_foe_its_tendril_holds() -> None:
    g, foes = _game("roper")
    roper, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    roper.engaged, thorin.engaged = [], []
    _use(g, roper, "Reel", [thorin])
    assert thorin.eid not in roper.engaged  # nothing held: nothing reeled
    _use(g, roper, "Tendril", [thorin], LoadedD20(random.Random(2), 19))
    assert "grappled" in thorin.conditions
    _use(g, roper, "Reel", [thorin])
    assert thorin.eid in roper.engaged and roper.eid in thorin.engaged


def test_legendary_shield_and_negative_energy_are_picked_when_they_matter() -> None:
    from rules import tactics

    g, foes = _game("unicorn")
    uni, thorin = g.entities[foes[0]], g.entities[1]
    uni.res["legendary"] = 3
    uni.engaged, thorin.engaged = [1], [uni.eid]
    uni.hp = int(uni.max_hp * 0.6)
    pick = tactics.legendary_pick(g, uni)
    assert pick is not None and pick[0]["name"] == "Shimmering Shield"
    g, foes = _game("mummy-lord")
    lord, thorin = g.entities[foes[0]], g.entities[1]
    lord.res["legendary"] = 3
    lord.engaged, thorin.engaged = [], []
    assert tactics.legendary_pick(g, lord) is None or \
        tactics.legendary_pick(g, lord)[0]["name"] != "Channel Negative Energy"
    thorin.hp = 1
    pick = tactics.legendary_pick(g, lord)
    assert pick is not None and pick[0]["name"] == "Channel Negative Energy"


def test_a_black_pudding_splits_on_slashing_but_not_on_fire() -> None:
    g, foes = _game("black-pudding")
    pud = g.entities[foes[0]]
    before = len(g.entities)
    resolver.deal(g, pud, 5, "fire", [], rng=random.Random(1))
    assert len(g.entities) == before
    hp = pud.hp
    resolver.deal(g, pud, 5, "slashing", [], rng=random.Random(1))  # immune, yet it splits
    twins = [e for e in g.entities.values() if e.monster == "black-pudding"]
    assert len(twins) == 2 and sum(e.hp for e in twins) == hp
    assert all(e.res["splits"] == 1 for e in twins) and twins[1].eid in g.combat["order"]
    resolver.deal(g, pud, 1, "slashing", [], rng=random.Random(1))  # reaction spent
    assert len([e for e in g.entities.values() if e.monster == "black-pudding"]) == 2
    assert _ability("black-pudding", "Split")["state"] == "mechanised"


def test_unnerving_mask_spends_the_devils_reaction() -> None:
    from rules import turns

    g, foes = _game("chain-devil")
    devil, thorin = g.entities[foes[0]], g.entities[1]
    devil.engaged, thorin.engaged = [1], [devil.eid]
    turns._ticks(g, thorin, LoadedD20(random.Random(1), 1), [])
    assert "frightened" in thorin.conditions and not devil.reaction
    resolver.remove_condition(g, thorin, "frightened", [])
    turns._ticks(g, thorin, LoadedD20(random.Random(1), 1), [])
    assert "frightened" not in thorin.conditions  # no reaction left this round


def test_barbed_hide_pricks_its_grappler() -> None:
    from rules import turns

    g, foes = _game("barbed-devil")
    devil, thorin = g.entities[foes[0]], g.entities[1]
    hp = thorin.hp
    turns._ticks(g, devil, random.Random(1), [])
    assert thorin.hp == hp
    resolver.add_condition(g, devil, "grappled", [], src=thorin.eid)
    turns._ticks(g, devil, random.Random(1), [])
    assert 1 <= hp - thorin.hp <= 10


def test_a_will_o_wisp_consumes_a_dying_foe_on_its_turn() -> None:
    g, foes = _game("will-o-wisp")
    wisp, thorin = g.entities[foes[0]], g.entities[1]
    wisp.engaged, thorin.engaged = [1], [wisp.eid]
    wisp.hp = 5
    thorin.hp = 1
    turn_of(g, wisp.eid)
    _use(g, wisp, "Shock", [thorin], LoadedD20(random.Random(2), [19, 1]))
    assert thorin.dead and wisp.hp > 5 and wisp.turn["bonus"] == 0


def test_a_lich_casts_ray_of_frost_as_a_legendary_cantrip() -> None:
    from rules import tactics

    g, foes = _game("lich")
    lich, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    speed = thorin.effective_speed()
    out = _use(g, lich, "Cantrip", [thorin], LoadedD20(random.Random(2), 19))
    assert any(isinstance(x, ev.SpellCast) and x.spell == "ray-of-frost" for x in out)
    assert thorin.hp < 500 and thorin.effective_speed() == speed - 10
    lich.res["legendary"] = 1  # only the Cantrip is affordable, and no foe is engaged
    lich.engaged, thorin.engaged = [], []
    pick = tactics.legendary_pick(g, lich)
    assert pick is not None and pick[0]["name"] == "Cantrip"


def test_an_aboleth_drains_only_a_foe_it_has_charmed() -> None:
    g, foes = _game("aboleth")
    abo, thorin = g.entities[foes[0]], g.entities[1]
    abo.hp = 50
    _use(g, abo, "Psychic Drain", [thorin])
    assert abo.hp == 50
    resolver.add_condition(g, thorin, "charmed", [], src=abo.eid)
    hp = thorin.hp
    _use(g, abo, "Psychic Drain", [thorin])
    assert abo.hp - 50 == hp - thorin.hp > 0


def test_a_sphinx_casts_a_spell_with_a_slot_until_the_slots_run_out() -> None:
    g, foes = _game("androsphinx")
    sph, thorin = g.entities[foes[0]], g.entities[1]
    thorin.hp = thorin.max_hp = 500
    slots = sph.slots[4]
    assert slots > 0
    for _ in range(slots):
        out = _use(g, sph, "Cast a Spell", [thorin], LoadedD20(random.Random(2), 1))
        assert any(isinstance(x, ev.SpellCast) and x.spell == "flame-strike" for x in out)
    assert sph.slots[4] == 0 and thorin.hp < 500
    hp = thorin.hp
    out = _use(g, sph, "Cast a Spell", [thorin], LoadedD20(random.Random(2), 1))
    assert thorin.hp == hp and not any(isinstance(x, ev.SpellCast) for x in out)


def test_a_sphinx_spends_legendary_actions_on_a_spell_only_with_a_slot() -> None:
    from rules import tactics

    g, foes = _game("androsphinx")
    sph, thorin = g.entities[foes[0]], g.entities[1]
    sph.res["legendary"] = 3
    sph.engaged, thorin.engaged = [1], [sph.eid]
    pick = tactics.legendary_pick(g, sph)
    assert pick is not None and pick[0]["name"] == "Cast a Spell"
    sph.slots[4] = 0
    pick = tactics.legendary_pick(g, sph)
    assert pick is None or pick[0]["name"] != "Cast a Spell"


def test_an_androsphinx_roars_three_times_each_worse() -> None:
    g, foes = _game("androsphinx")
    apply(g, None, it.Join("Mira", "wizard", 3), random.Random(0))
    sph, thorin = g.entities[foes[0]], g.entities[1]
    mira = next(e for e in g.entities.values() if e.name == "Mira")
    mira.room = thorin.room
    for e in (thorin, mira):
        e.hp = e.max_hp = 500
    def fail() -> LoadedD20:
        return LoadedD20(random.Random(1), [1, 1])

    sph.per_day["Roar"] = 2  # the first roar of the day, just spent
    _use(g, sph, "Roar", [thorin], fail())
    for e in (thorin, mira):
        assert "frightened" in e.conditions and "paralyzed" not in e.conditions
    sph.per_day["Roar"] = 1
    _use(g, sph, "Roar", [thorin], fail())
    assert {"deafened", "paralyzed"} <= set(thorin.conditions)
    sph.per_day["Roar"] = 0
    _use(g, sph, "Roar", [thorin], fail())
    assert thorin.hp < 500 and "prone" in thorin.conditions


def test_a_priests_divine_eminence_spends_a_slot_for_radiant_dice() -> None:
    g, priest, thorin = _locked("priest")
    slots = priest.slots[0]
    out = _use(g, priest, "Mace", [thorin], LoadedD20(random.Random(2), 19))
    assert any(x.dtype == "radiant" for x in _hits_on(out, 1))
    assert priest.slots[0] == slots - 1 and priest.turn["bonus"] == 0
    out = _use(g, priest, "Mace", [thorin], LoadedD20(random.Random(2), 19))
    assert any(x.dtype == "radiant" for x in _hits_on(out, 1))  # until the turn ends
    assert priest.slots[0] == slots - 1


def test_a_darkmantles_darkness_blinds_its_foes_but_not_a_devil() -> None:
    g, mantle, thorin = _locked("darkmantle")
    mantle.effects = [x for x in mantle.effects if not x.has("hidden")]
    assert resolver.attack_adv(g, mantle, thorin, "melee", (5, 0))[0] == 0
    _use(g, mantle, "Darkness Aura", [thorin])
    assert resolver.attack_adv(g, thorin, mantle, "melee", (5, 0))[0] == -1
    assert resolver.attack_adv(g, mantle, thorin, "melee", (5, 0))[0] == 1
    thorin.effects.append(Effect("sight", 1, tags=("devils_sight",)))
    assert resolver.attack_adv(g, thorin, mantle, "melee", (5, 0))[0] == 0
