"""Creatures: SRD stat values, damage types, temp HP, dropping to 0 and death saves."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st
from rules_helpers import ARENA

from rules import content, resolver
from rules import events as ev
from rules.creature import from_monster
from rules.dungeon import Dungeon
from rules.effects import engine, monsters
from rules.effects import nodes as n
from rules.game import Game
from rules.pregen import character


def _game() -> Game:
    return Game.new(Dungeon.from_dict(ARENA))


def test_goblin_stat_block_from_srd() -> None:
    gob = from_monster(1, "Goblin", content.monster("goblin"), "brute")
    assert (gob.ac, gob.hp, gob.cr, gob.xp) == (15, 7, 0.25, 50)
    atk = monsters.action_tree("goblin", gob.actions[0])[0]
    assert gob.actions[0]["name"] == "Scimitar" and atk.bonus == 4
    assert atk.hit[0].parts == (n.Part("1d6+2", "slashing"),)
    assert gob.mod("dex") == 2 and gob.passive() == 9


def test_modifiers_saves_and_skills() -> None:
    f = character("T", "fighter", 1)
    assert f.abilities["str"] == 15 and f.mod("str") == 2
    assert f.save_mod("str") == 2 + 2 and f.save_mod("wis") == 1  # proficient vs not
    assert f.skills["athletics"] == 4 and f.passive() == 10 + f.skills["perception"]


@given(st.integers(0, 200))
def test_resistance_halves_rounding_down(amount: int) -> None:
    g = _game()
    e = character("T", "fighter", 5, eid=1)
    e.max_hp = e.hp = 1000
    e.resist = ["fire"]
    g.entities[1] = e
    out: list = []
    resolver.deal(g, e, amount, "fire", out)
    assert e.hp == 1000 - amount // 2


def test_immunity_and_vulnerability() -> None:
    g = _game()
    skel = from_monster(1, "Skel", content.monster("skeleton"), "brute")
    g.entities[1] = skel
    assert "bludgeoning" in " ".join(skel.vuln) and "poison" in " ".join(skel.immune)
    hp = skel.hp
    resolver.deal(g, skel, 5, "poison", [])
    assert skel.hp == hp
    resolver.deal(g, skel, 3, "bludgeoning", [])
    assert skel.hp == hp - 6


def test_temp_hp_absorbs_first() -> None:
    g = _game()
    e = character("T", "fighter", 1, eid=1)
    g.entities[1] = e
    e.temp_hp = 5
    resolver.deal(g, e, 7, "slashing", [])
    assert e.temp_hp == 0 and e.hp == e.max_hp - 2


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 40), st.booleans()), max_size=15),
       st.integers(0, 2**32))
def test_hp_never_negative_and_death_saves_bounded(hits: list, seed: int) -> None:
    g = _game()
    e = character("T", "wizard", 1, eid=1)
    g.entities[1] = e
    rng = random.Random(seed)
    for amount, crit in hits:
        if e.dead:
            break
        resolver.deal(g, e, amount, "slashing", [], crit=crit, rng=rng)
        if e.dying:
            resolver.death_save(g, e, rng, [])
        assert e.hp >= 0
        assert 0 <= e.death_s <= 3 and 0 <= e.death_f <= 3


def _downed() -> tuple[Game, object]:
    g = _game()
    e = character("T", "wizard", 1, eid=1)
    g.entities[1] = e
    out: list = []
    resolver.deal(g, e, e.hp, "slashing", out)
    assert e.hp == 0 and not e.dead and e.has("unconscious")
    assert any(isinstance(x, ev.Downed) for x in out)
    return g, e


class Fixed(random.Random):
    def __init__(self, value: int) -> None:
        super().__init__(0)
        self.value = value

    def randint(self, a: int, b: int) -> int:
        return self.value


def test_death_save_nat20_regains_one_hp() -> None:
    g, e = _downed()
    resolver.death_save(g, e, Fixed(20), [])
    assert e.hp == 1 and not e.has("unconscious")


def test_death_save_nat1_is_two_failures_and_three_kill() -> None:
    g, e = _downed()
    resolver.death_save(g, e, Fixed(1), [])
    assert e.death_f == 2 and not e.dead
    resolver.death_save(g, e, Fixed(5), [])
    assert e.dead and e.death_f == 3


def test_three_successes_stabilise() -> None:
    g, e = _downed()
    for _ in range(3):
        resolver.death_save(g, e, Fixed(12), [])
    assert e.stable and not e.dying and e.hp == 0


def test_damage_at_zero_is_a_failure_and_crit_two() -> None:
    g, e = _downed()
    resolver.deal(g, e, 1, "slashing", [])
    assert e.death_f == 1
    resolver.deal(g, e, 1, "slashing", [], crit=True)
    assert e.death_f == 3 and e.dead


def test_massive_damage_kills_outright() -> None:
    g = _game()
    e = character("T", "wizard", 1, eid=1)
    g.entities[1] = e
    resolver.deal(g, e, e.hp + e.max_hp, "fire", [])
    assert e.dead


def test_monsters_die_at_zero() -> None:
    g = _game()
    gob = from_monster(1, "Goblin", content.monster("goblin"), "brute")
    g.entities[1] = gob
    out: list = []
    resolver.deal(g, gob, 9, "fire", out)
    assert gob.dead and any(isinstance(x, ev.Died) for x in out)


def test_attack_path_hit_and_crit_rates_match_exact_odds() -> None:
    g = _game()
    gob = from_monster(1, "Goblin", content.monster("goblin"), "brute")
    pc = character("T", "fighter", 1, eid=2)
    g.entities = {1: gob, 2: pc}
    gob.engaged, pc.engaged = [2], [1]
    pc.ac = 15  # scimitar +4 against AC 15 hits on 11+: exactly one half
    key = monsters.key_for("goblin", gob.actions[0]["name"])
    rng = random.Random(2024)
    count, hits, crits = 20000, 0, 0
    for _ in range(count):
        pc.hp = pc.max_hp = 10_000
        out: list = []
        engine.use(g, gob, key, [pc], rng, out)
        hits += out[0].hit
        crits += out[0].crit
    assert abs(hits / count - resolver.hit_chance(4, 15)) < 0.015
    assert abs(crits / count - 0.05) < 0.007
