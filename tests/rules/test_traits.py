"""Monster traits as effect data: pack tactics, magic resistance, undead fortitude, nimble escape."""

from __future__ import annotations

import random

from rules_helpers import ARENA, fight, turn_of

from rules import intents as it
from rules import resolver
from rules.dungeon import Dungeon
from rules.game import Game, apply


def _game(monster: str, n: int = 1) -> tuple[Game, list[int]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 3), random.Random(0))
    return g, fight(g, monster, n)


def test_pack_tactics_needs_an_ally_engaged_with_the_target() -> None:
    g, wolves = _game("wolf", 2)
    thorin, w1, w2 = g.entities[1], g.entities[wolves[0]], g.entities[wolves[1]]
    w1.engaged, thorin.engaged = [1], [w1.eid]
    assert resolver.attack_adv(g, w1, thorin, "melee", (5, 0))[0] == 0
    w2.engaged = [1]
    thorin.engaged.append(w2.eid)
    net, sources = resolver.attack_adv(g, w1, thorin, "melee", (5, 0))
    assert net == 1 and "pack tactics" in sources


def test_magic_resistance_gives_advantage_on_saves_against_spells_only() -> None:
    g, foes = _game("imp")  # an imp has magic resistance
    imp = g.entities[foes[0]]

    class Faces(random.Random):
        def __init__(self) -> None:
            super().__init__(0)
            self.faces = [2, 19]

        def randint(self, a: int, b: int) -> int:
            return self.faces.pop(0) if (a, b) == (1, 20) and self.faces else b

    out: list = []
    assert resolver.saving_throw(g, imp, "wis", 15, Faces(), out, magic=True)
    assert not resolver.saving_throw(g, imp, "wis", 15, Faces(), out)


def test_undead_fortitude_keeps_a_zombie_at_1_hp_unless_radiant() -> None:
    g, foes = _game("zombie")
    z = g.entities[foes[0]]
    z.hp = 5
    g.next_d20 = 20  # the Con save: 20 + 3 against DC 5 + 5
    apply(g, None, it.Dm("damage", z.eid, 5, "slashing"), random.Random(1))
    assert z.hp == 1 and not z.dead
    apply(g, None, it.Dm("damage", z.eid, 5, "radiant"), random.Random(1))
    assert z.dead


def test_nimble_escape_disengages_as_a_bonus_action() -> None:
    g, foes = _game("goblin")
    gob = g.entities[foes[0]]
    turn_of(g, gob.eid)
    apply(g, gob.eid, it.Disengage(), random.Random(1))
    assert gob.turn["action"] == 0 or gob.turn["bonus"] == 0
    gob.turn["action"] = 0
    gob.turn["bonus"] = 1
    apply(g, gob.eid, it.Hide(), random.Random(1))
    assert gob.turn["bonus"] == 0


def test_keen_senses_raise_passive_perception_by_5() -> None:
    g, foes = _game("wolf")  # Keen Hearing and Smell
    wolf = g.entities[foes[0]]
    assert wolf.passive() == 10 + wolf.skill_mod("perception", "wis") + 5


def test_blood_frenzy_needs_a_wounded_target() -> None:
    g, foes = _game("hunter-shark")
    shark, thorin = g.entities[foes[0]], g.entities[1]
    assert resolver.attack_adv(g, shark, thorin, "melee", (5, 0))[0] == 0
    thorin.hp -= 1
    assert resolver.attack_adv(g, shark, thorin, "melee", (5, 0))[0] == 1


def test_magic_weapons_make_a_monsters_attacks_magical() -> None:
    from rules.effects import engine, monsters

    g, foes = _game("flesh-golem")  # Magic Weapons
    golem = g.entities[foes[0]]
    key = monsters.key_for("flesh-golem", "Slam")
    assert engine.context(g, golem, key, random.Random(1), [], [g.entities[1]]).magical
    g2, others = _game("ogre")
    ogre = g2.entities[others[0]]
    key = monsters.key_for("ogre", "Greatclub")
    assert not engine.context(g2, ogre, key, random.Random(1), [], [g2.entities[1]]).magical
