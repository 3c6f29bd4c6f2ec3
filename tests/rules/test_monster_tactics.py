"""The monster AI and the new options: breath weapons by the creatures they catch,
Legendary Resistance kept for the saves that matter, legal options only."""

from __future__ import annotations

import random

from rules_helpers import ARENA, fight, turn_of

from rules import intents as it
from rules import tactics
from rules.dungeon import Dungeon
from rules.effects import engine
from rules.effects import nodes as n
from rules.game import Game, apply


def _party(n_heroes: int) -> Game:
    g = Game.new(Dungeon.from_dict(ARENA))
    for k in range(n_heroes):
        apply(g, None, it.Join(f"Hero{k}", "fighter", 5), random.Random(k))
    return g


def _breath_score(n_heroes: int) -> float:
    g = _party(n_heroes)
    dragon = g.entities[fight(g, "young-red-dragon")[0]]
    turn_of(g, dragon.eid)
    opt = next(o for o in tactics.legal_actions(g, dragon.eid)
               if o.label.startswith("Fire Breath"))
    return tactics._score(g, dragon, opt, dragon.profile)


def test_a_breath_weapon_is_worth_more_the_more_creatures_its_cone_catches() -> None:
    # a 30-foot cone holds 3: the target and two more, each after the first at 3/4
    assert abs(_breath_score(4) / _breath_score(1) - 2.5) < 1e-6
    assert abs(_breath_score(2) / _breath_score(1) - 1.75) < 1e-6


def test_the_ai_only_ever_picks_a_legal_option() -> None:
    for monster in ("young-red-dragon", "werewolf-human", "imp", "blink-dog", "lich"):
        g = _party(3)
        foe = g.entities[fight(g, monster)[0]]
        turn_of(g, foe.eid)
        opts = tactics.legal_actions(g, foe.eid)
        pick = tactics.choose(g, foe.eid, random.Random(7))
        assert pick in opts
        apply(g, foe.eid, pick.intent, random.Random(7))  # accepted by the rules


def test_legendary_resistance_is_kept_for_saves_that_matter() -> None:
    g = _party(1)
    dragon = g.entities[fight(g, "adult-red-dragon")[0]]
    ctx = engine.context(g, g.entities[1], "spell:fireball", random.Random(1), [], [dragon],
                         level=3)
    fire = (n.Damage((n.Part(),)),)
    assert not tactics.worth_legendary_resistance(dragon, fire, ctx)  # immune to fire
    assert tactics.worth_legendary_resistance(dragon, (n.Condition("blinded", 10),), ctx)
    cold = (n.Damage((n.Part("8d6", "cold"),)),)
    assert not tactics.worth_legendary_resistance(dragon, cold, ctx)  # 28 of 256 HP
    dragon.hp = 60
    assert tactics.worth_legendary_resistance(dragon, cold, ctx)


def test_a_monster_killed_fleeing_on_its_own_turn_still_ends_it() -> None:
    g = _party(1)
    boar = g.entities[fight(g, "boar")[0]]
    hero = g.entities[1]
    boar.engaged, hero.engaged = [hero.eid], [boar.eid]
    turn_of(g, boar.eid)
    boar.hp, boar.effects = 1, []  # no Relentless left
    g.next_d20 = 20  # the opportunity attack hits
    apply(g, boar.eid, it.Move("flee"), random.Random(1))
    assert boar.dead and g.current_turn() == boar.eid
    apply(g, boar.eid, it.EndTurn(), random.Random(1))
    assert g.combat is None or g.current_turn() != boar.eid
