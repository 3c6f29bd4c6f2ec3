"""Combat flow through apply: initiative, turns, action economy, bands, reactions, end."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, fight, turn_of

from rules import events as ev
from rules import intents as it
from rules.dungeon import Dungeon
from rules.effects.records import Cond
from rules.errors import RulesError
from rules.game import Game, apply


def test_entering_encounter_room_spawns_and_starts_combat(game: Game, rng: random.Random
                                                          ) -> None:
    out = apply(game, 1, it.Move("n"), rng)
    kinds = [type(e).__name__ for e in out]
    assert kinds[0] == "Entered" and kinds.count("Spawned") == 2
    assert "CombatStarted" in kinds and kinds[-1] == "TurnStarted"
    assert sum(1 for e in out if isinstance(e, ev.Rolled) and e.what == "initiative") == 4
    order = next(e for e in out if isinstance(e, ev.CombatStarted)).order
    assert sorted(order) == sorted(game.entities)


def test_initiative_is_sorted_by_total(game: Game) -> None:
    out = apply(game, 1, it.Move("n"), random.Random(5))
    totals = {e.eid: e.total for e in out if isinstance(e, ev.Rolled)}
    order = game.combat["order"]
    assert [totals[x] for x in order] == sorted(totals.values(), reverse=True)


def test_not_your_turn(game: Game, rng: random.Random) -> None:
    foes = fight(game)
    turn_of(game, foes[0])
    with pytest.raises(RulesError, match="not your turn"):
        apply(game, 1, it.Attack(foes[0]), rng)


def test_melee_attack_closes_then_uses_action(game: Game, rng: random.Random) -> None:
    foes = fight(game)
    turn_of(game, 1)
    out = apply(game, 1, it.Attack(foes[0]), rng)
    assert isinstance(out[0], ev.Moved) and out[0].band == "engaged"
    assert any(isinstance(e, ev.Attacked) for e in out)
    thorin = game.entities[1]
    assert thorin.turn["action"] == 0 and thorin.turn["move"] == 20
    if not game.entities[foes[0]].dead:
        with pytest.raises(RulesError, match="no attacks left"):
            apply(game, 1, it.Attack(foes[0]), rng)


def test_extra_attack_at_level_five(rng: random.Random) -> None:
    from rules_helpers import ARENA

    from rules.dungeon import Dungeon

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Big", "fighter", 5), rng)
    foes = fight(g, "ogre")
    turn_of(g, 1)
    apply(g, 1, it.Attack(foes[0]), rng)
    apply(g, 1, it.Attack(foes[0]), rng)
    with pytest.raises(RulesError):
        apply(g, 1, it.Attack(foes[0]), rng)


def test_action_surge_gives_another_action(game: Game, rng: random.Random) -> None:
    foes = fight(game, "ogre")
    turn_of(game, 1)
    apply(game, 1, it.Attack(foes[0]), rng)
    apply(game, 1, it.Use("action surge"), rng)
    out = apply(game, 1, it.Attack(foes[0]), rng)
    assert any(isinstance(e, ev.Attacked) for e in out)
    with pytest.raises(RulesError, match="used up"):
        apply(game, 1, it.Use("action surge"), rng)


def test_second_wind_heals_with_bonus_action(game: Game, rng: random.Random) -> None:
    fight(game)
    turn_of(game, 1)
    t = game.entities[1]
    t.hp = 5
    out = apply(game, 1, it.Use("second wind"), rng)
    healed = next(e for e in out if isinstance(e, ev.Healed))
    assert 1 + 3 <= healed.amount <= 10 + 3 and t.turn["bonus"] == 0


def test_opportunity_attack_and_disengage(game: Game, rng: random.Random) -> None:
    foes = fight(game)
    turn_of(game, 1)
    apply(game, 1, it.Approach(foes[0]), rng)
    out = apply(game, 1, it.Move("back"), rng)
    assert any(isinstance(e, ev.ActionTaken) and e.action == "opportunity attack" for e in out)
    assert game.entities[foes[0]].reaction is False
    turn_of(game, 1)
    game.entities[foes[0]].reaction = True
    apply(game, 1, it.Approach(foes[0]), rng)
    apply(game, 1, it.Disengage(), rng)
    out = apply(game, 1, it.Move("back"), rng)
    assert not any(isinstance(e, ev.Attacked) for e in out)
    assert game.entities[1].engaged == []


def test_ranged_attack_while_engaged_has_disadvantage(game: Game) -> None:
    from rules import resolver

    foes = fight(game)
    thorin, gob = game.entities[1], game.entities[foes[0]]
    assert resolver.attack_adv(game, thorin, gob, "ranged", (80, 320))[0] == 0
    thorin.engaged.append(gob.eid)
    gob.engaged.append(thorin.eid)
    net, sources = resolver.attack_adv(game, thorin, gob, "ranged", (80, 320))
    assert net == -1 and "-engaged" in sources
    gob.conditions["restrained"] = Cond()
    assert resolver.attack_adv(game, thorin, gob, "ranged", (80, 320))[0] == 0  # cancel


def test_long_range_disadvantage(game: Game) -> None:
    from rules import resolver

    foes = fight(game)
    mira, gob = game.entities[2], game.entities[foes[0]]
    gob.band = "far"
    net, sources = resolver.attack_adv(game, mira, gob, "ranged", (20, 60))
    assert net == -1 and "-long range" in sources


def test_dodge_gives_attackers_disadvantage(game: Game, rng: random.Random) -> None:
    from rules import resolver

    foes = fight(game)
    turn_of(game, 1)
    apply(game, 1, it.Dodge(), rng)
    gob = game.entities[foes[0]]
    assert resolver.attack_adv(game, gob, game.entities[1], "melee", (5, 0))[0] == -1


def test_cover_raises_ac(game: Game, rng: random.Random) -> None:
    ac = game.entities[2].current_ac()
    apply(game, None, it.Dm("cover", 2, 5), rng)
    assert game.entities[2].current_ac() == ac + 5


def test_grapple_and_shove_are_contests(game: Game) -> None:
    foes = fight(game)
    results = set()
    for seed in range(30):
        g = Game.from_dict(game.to_dict())
        turn_of(g, 1)
        apply(g, 1, it.Grapple(foes[0]), random.Random(seed))
        results.add(g.entities[foes[0]].has("grappled"))
    assert results == {True, False}
    turn_of(game, 1)
    game.entities[foes[0]].conditions["unconscious"] = Cond()
    apply(game, 1, it.Shove(foes[0]), random.Random(1))
    assert game.entities[foes[0]].has("prone")


def test_combat_ends_with_xp_and_loot(game: Game, rng: random.Random) -> None:
    apply(game, 1, it.Move("n"), rng)
    foes = [e.eid for e in game.entities.values() if e.side == "monsters"]
    out: list = []
    for f in foes:
        out += apply(game, None, it.Dm("damage", f, 50, "force"), rng)
    end = next(e for e in out if isinstance(e, ev.CombatEnded))
    assert end.xp == 100 and "5 gp" in end.loot and game.combat is None
    assert game.entities[1].xp == 900 + 50


def test_dying_pc_rolls_death_save_at_turn_start(game: Game, rng: random.Random) -> None:
    foes = fight(game)
    apply(game, None, it.Dm("damage", 2, game.entities[2].hp, "fire"), rng)
    assert foes
    game.combat["idx"] = (game.combat["order"].index(2) - 1) % len(game.combat["order"])
    prev = game.current_turn()
    out = apply(game, prev, it.EndTurn(), rng)
    assert any(isinstance(e, ev.DeathSave) and e.target == 2 for e in out)


def test_rogue_sneak_attack_with_ally_adjacent(rng: random.Random) -> None:
    from rules_helpers import ARENA

    from rules.dungeon import Dungeon

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Rin", "rogue", 5), rng)
    apply(g, None, it.Join("Tor", "fighter", 1), rng)
    foes = fight(g, "ogre")
    ogre = g.entities[foes[0]]
    ogre.engaged.append(2)
    g.entities[2].engaged.append(ogre.eid)
    damages = []
    for seed in range(40):
        h = Game.from_dict(g.to_dict())
        turn_of(h, 1)
        out = apply(h, 1, it.Attack(foes[0], "rapier"), random.Random(seed))
        hit = next(e for e in out if isinstance(e, ev.Attacked))
        if hit.hit and not hit.crit:
            damages.append(next(e for e in out if isinstance(e, ev.Damaged)).amount)
    # rapier 1d8+3 alone is at most 11; with 3d6 sneak attack it reaches beyond that
    assert damages and min(damages) >= 1 + 3 + 3 and max(damages) > 11


def test_rage_resists_and_adds_damage(rng: random.Random) -> None:
    from rules_helpers import ARENA

    from rules import resolver
    from rules.dungeon import Dungeon

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Grog", "barbarian", 2), rng)
    fight(g)
    turn_of(g, 1)
    apply(g, 1, it.Use("rage"), rng)
    grog = g.entities[1]
    hp = grog.hp
    resolver.deal(g, grog, 9, "slashing", [])
    assert grog.hp == hp - 4
    apply(g, 1, it.Use("reckless"), rng)
    assert resolver.attack_adv(g, grog, g.entities[2], "melee", (5, 0))[0] == 1


def test_same_seed_same_digest() -> None:
    from rules.dungeon import load_bundled

    def play(seed: int) -> int:
        from rules import tactics

        g = Game.new(load_bundled())
        r = random.Random(seed)
        for n, c in (("A", "fighter"), ("B", "cleric"), ("C", "wizard")):
            apply(g, None, it.Join(n, c, 2), r)
        apply(g, 1, it.Move("d"), r)
        for _ in range(60):
            if g.combat is None:
                break
            eid = g.current_turn()
            apply(g, eid, tactics.choose(g, eid, r).intent, r)
        return g.digest()

    assert play(11) == play(11)
    assert play(11) != play(12)


def test_legendary_actions_at_end_of_other_turns(game: Game, rng: random.Random) -> None:
    foes = fight(game, "adult-red-dragon")
    dragon = game.entities[foes[0]]
    assert dragon.legendary == 3 and dragon.legendary_actions
    dragon.engaged.append(1)
    game.entities[1].engaged.append(dragon.eid)
    turn_of(game, 1)
    game.entities[1].hp = game.entities[1].max_hp = 500
    out = apply(game, 1, it.EndTurn(), rng)
    taken = [e for e in out if isinstance(e, ev.ActionTaken) and e.action.startswith("legendary")]
    assert taken and taken[0].target == 1
    # spent now, regained when the dragon's own turn starts
    assert dragon.res["legendary"] < 3 or game.current_turn() == dragon.eid


def test_dm_force_action_applies_a_legal_option(game: Game, rng: random.Random) -> None:
    from rules import tactics

    foes = fight(game)
    turn_of(game, foes[0])
    opt = next(o for o in tactics.legal_actions(game, foes[0]) if o.id.startswith("a0:"))
    out = apply(game, None, it.Dm("force_action", foes[0], text=opt.id), rng)
    assert any(isinstance(e, ev.Attacked) and e.eid == foes[0] for e in out)
    with pytest.raises(RulesError, match="no legal option"):
        apply(game, None, it.Dm("force_action", foes[0], text="a0:999"), rng)


def test_escape_a_grapple_and_release_when_grappler_falls(game: Game) -> None:
    from rules import resolver

    foes = fight(game)
    gob = game.entities[foes[0]]
    resolver.add_condition(game, game.entities[1], "grappled", [], src=gob.eid)
    outcomes = set()
    for seed in range(30):
        g = Game.from_dict(game.to_dict())
        turn_of(g, 1)
        out = apply(g, 1, it.Grapple(gob.eid), random.Random(seed))
        assert any(isinstance(e, ev.ActionTaken) and e.action == "escape" for e in out)
        outcomes.add(g.entities[1].has("grappled"))
    assert outcomes == {True, False}
    resolver.deal(game, gob, 50, "fire", [])
    assert not game.entities[1].has("grappled")


def _lone_hero(rng: random.Random) -> tuple[Game, int]:
    from rules_helpers import ARENA

    from rules.dungeon import Dungeon

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 1), rng)
    (gob,) = fight(g, "goblin", 1, rng)
    return g, gob


def test_a_lone_downed_hero_rolls_death_saves_until_the_fight_is_decided() -> None:
    from rules import tactics

    outcomes = set()
    for seed in range(12):
        rng = random.Random(seed)
        g, _gob = _lone_hero(rng)
        out = apply(g, None, it.Dm("damage", 1, g.entities[1].hp, "slashing"), rng)
        assert g.combat is not None and not any(isinstance(e, ev.CombatEnded) for e in out)
        saves = 0
        for _ in range(40):
            if g.combat is None or g.entities[1].hp > 0:
                break
            eid = g.current_turn()
            out = apply(g, eid, tactics.choose(g, eid, rng).intent, rng)
            saves += sum(isinstance(e, ev.DeathSave) and e.target == 1 for e in out)
        hero = g.entities[1]
        assert saves >= 1
        if g.combat is None:  # dead or stable: the goblin won, and nobody says Victory
            end = next(e for e in out if isinstance(e, ev.CombatEnded))
            assert end.outcome == "fell" and end.xp == 0 and (hero.dead or hero.stable)
            outcomes.add("fell")
        else:  # a natural 20 brought the hero back up: the fight goes on
            assert hero.hp == 1
            outcomes.add("up")
    assert "fell" in outcomes


def test_fleeing_ends_the_fight_as_fled_not_won(rng: random.Random) -> None:
    g, _gob = _lone_hero(rng)
    turn_of(g, 1)
    out = apply(g, 1, it.Move("n"), rng)
    assert g.entities[1].hp > 0  # not engaged yet: no opportunity attack
    assert any(isinstance(e, ev.ActionTaken) and (e.eid, e.action) == (1, "flee")
               for e in out)
    end = next(e for e in out if isinstance(e, ev.CombatEnded))
    assert end.outcome == "fled" and g.combat is None and g.room == 2


def test_a_fight_with_no_party_is_not_a_victory(rng: random.Random) -> None:
    from rules_helpers import ARENA

    from rules.dungeon import Dungeon
    from rules.game import spawn, start_combat

    g = Game.new(Dungeon.from_dict(ARENA))
    spawn(g, "goblin", 2)
    with pytest.raises(RulesError, match="party"):
        apply(g, None, it.Dm("start_combat"), rng)
    out = start_combat(g, rng)
    end = next(e for e in out if isinstance(e, ev.CombatEnded))
    assert end.outcome == "ended" and end.xp == 0 and g.combat is None


def test_dm_ending_combat_is_not_a_victory(game: Game, rng: random.Random) -> None:
    fight(game)
    (end,) = apply(game, None, it.Dm("end_combat"), rng)
    assert isinstance(end, ev.CombatEnded) and end.outcome == "ended"


def test_a_monster_spawned_mid_fight_rolls_initiative_and_waits_its_place(
        game: Game, rng: random.Random) -> None:
    fight(game, "goblin", 1, rng)
    current = game.current_turn()
    out = apply(game, None, it.Dm("spawn", text="orc", value=2), rng)
    orcs = [e.eid for e in out if isinstance(e, ev.Spawned)]
    rolled = {e.eid: e.total for e in out if isinstance(e, ev.Rolled) and e.what == "initiative"}
    assert set(rolled) == set(orcs)
    init = game.combat["init"]
    assert all(init[str(o)] == rolled[o] for o in orcs)
    totals = [init[str(x)] for x in game.combat["order"]]
    assert totals == sorted(totals, reverse=True)  # everyone in initiative order
    assert game.current_turn() == current  # whoever was acting still is


def test_status_hp_and_inv_answers_read_as_sentences(game: Game, rng: random.Random) -> None:
    assert game.describe(1, "status") == f"Thorin: HP {game.entities[1].hp}/" \
        f"{game.entities[1].max_hp}."  # out of a fight, where one stands does not matter
    foes = fight(game)
    turn_of(game, 1)
    game.entities[1].engaged.append(foes[0])
    status = game.describe(1, "status")
    assert status.startswith("Thorin: HP ") and ", engaged with Goblin" in status
    assert status.endswith(".") and "this turn: action 1" in status
    assert game.describe(1, "hp").endswith(f", AC {game.entities[1].current_ac()}.")
    assert game.describe(1, "inv").startswith("Thorin has ")


def test_spells_lists_the_slots_left_and_the_spells_by_level() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Mira", "wizard", 5), random.Random(0))
    mira = g.entities[1]
    mira.slots[2] = 1  # a 3rd-level slot spent
    got = g.describe(1, "spells")  # more than a packet: counts, and how to ask for a level
    assert got == ("Mira: slots L1 4/4 L2 3/3 L3 1/2. Spells L0 3, L1 5, L2 3, L3 3; "
                   "send spells 1 (a level) for their names.")
    assert g.describe(1, "spells 3") == (
        "Mira: slots L1 4/4 L2 3/3 L3 1/2. L3 Fireball, Counterspell, Lightning Bolt.")
    assert "3 spells" not in g.describe(1, "sheet") and "spells (send spells)" in g.describe(
        1, "sheet")
    apply(g, None, it.Join("Bo", "fighter", 1), random.Random(0))
    assert g.describe(2, "spells") == "Bo knows no spells."
    apply(g, None, it.Join("Cy", "cleric", 3), random.Random(0))
    assert g.describe(3, "spells").startswith(
        "Cy: slots L1 4/4 L2 2/2. L0 Sacred Flame; L1 Guiding Bolt, Cure Wounds")


def _spider_fight() -> tuple[Game, int, int]:
    from rules_helpers import party

    g = party(("Ana", "fighter", 3))
    (spider,) = fight(g, "giant-spider")
    ana = g.find("Ana").eid
    turn_of(g, ana)
    return g, ana, spider


@pytest.mark.parametrize("typed", ["giant spider", "Giant Spider", "giant spidr"])
def test_a_target_of_two_words_is_not_read_as_a_weapon(typed: str) -> None:
    from protocol.text import parse

    g, ana, spider = _spider_fight()
    intent = parse(f"atk {typed}")  # the parser reads "giant" and a weapon "spidr"
    out = apply(g, ana, intent, random.Random(1))
    assert any(isinstance(x, ev.Attacked) and x.target == spider for x in out)


def test_a_two_word_target_may_still_name_its_weapon() -> None:
    from protocol.text import parse

    g, ana, spider = _spider_fight()
    weapon = g.entities[ana].weapons[-1]["name"]
    out = apply(g, ana, parse(f"atk giant spider with {weapon}"), random.Random(1))
    hit = next(x for x in out if isinstance(x, ev.Attacked))
    assert hit.target == spider and hit.using == weapon


def test_a_weapon_the_attacker_lacks_is_still_refused_by_name() -> None:
    from protocol.text import parse

    g, ana, spider = _spider_fight()
    g.entities[spider].name = "Spid"  # "spid" names a creature: "flail" is a weapon asked for
    with pytest.raises(RulesError, match="no weapon like 'flail'"):
        apply(g, ana, parse("atk spid flail"), random.Random(1))
