"""Barbarian, cleric, fighter, paladin and ranger features as data (issue 16): auras,
weapon-hit riders, Steel Will, Divine Intervention's roll and wait, Primeval Awareness."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA, fight, party, turn_of

from rules import classfeatures, combat, resolver
from rules import events as ev
from rules import intents as it
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def test_aura_of_protection_reaches_allies_in_radius_while_the_paladin_stands() -> None:
    g = party(("P", "paladin", 6), ("W", "wizard", 6))
    p, w = g.entities[1], g.entities[2]
    out: list = []
    resolver.saving_throw(g, w, "con", 1, random.Random(5), out)
    with_aura = out[-1].total
    w.band = "far"  # beyond 10 ft of the paladin
    out = []
    resolver.saving_throw(g, w, "con", 1, random.Random(5), out)
    assert with_aura - out[-1].total == max(1, p.mod("cha"))
    w.band = "near"
    p.hp = 0  # an unconscious paladin has no aura
    out = []
    resolver.saving_throw(g, w, "con", 1, random.Random(5), out)
    assert with_aura - out[-1].total == max(1, p.mod("cha"))


def test_aura_improvements_widen_the_auras_to_30_ft() -> None:
    g = party(("P", "paladin", 17))
    assert {x.radius for x in g.entities[1].effects if x.radius} == {10}
    g = party(("P", "paladin", 18))
    assert {x.radius for x in g.entities[1].effects if x.radius} == {30}


def test_steel_will_gives_advantage_against_fear() -> None:
    g = party(("R", "ranger", 7))
    r = g.entities[1]
    (ogre,) = fight(g, "ogre")
    turn_of(g, ogre)
    from rules.effects import engine
    from rules.effects import nodes as n

    # d20s 1 then 20: with advantage the 20 stands, without it the 1
    tree = n.parse_tree([{"type": "save", "ability": "wis", "dc": 15,
                          "fail": [{"type": "condition", "name": "frightened"}]}], "t")
    ctx = engine.context(g, g.entities[ogre], "feature:x", _Loaded([1, 20]), [], [r])
    engine.run(tree, ctx)
    assert "frightened" not in r.conditions
    r.effects[:] = [x for x in r.effects if x.name != "defensive-tactics"]
    ctx = engine.context(g, g.entities[ogre], "feature:x", _Loaded([1, 20]), [], [r])
    engine.run(tree, ctx)
    assert "frightened" in r.conditions


class _Loaded(random.Random):
    """d20s that show the given faces in turn."""

    def __init__(self, faces: list[int]) -> None:
        super().__init__(0)
        self.faces = list(faces)

    def randint(self, a: int, b: int) -> int:
        return self.faces.pop(0) if (a, b) == (1, 20) and self.faces else super().randint(a, b)


def test_divine_intervention_below_20_rolls_d100_and_a_failure_waits_one_rest() -> None:
    g = party(("C", "cleric", 10), ("F", "fighter", 10))
    c, f = g.entities[1], g.entities[2]
    f.hp = 1
    seen = {True: 0, False: 0}
    for seed in range(40):
        c.res["divine_intervention"] = 1
        c.res.pop("divine_intervention_wait", None)
        f.hp = 1
        out = apply(g, 1, it.Use("divine intervention"), random.Random(seed))
        roll = next(e for e in out if isinstance(e, ev.Rolled))
        seen[roll.ok] += 1
        assert (f.hp == f.max_hp) == roll.ok
        assert (c.res.get("divine_intervention_wait") == 7) == roll.ok
        assert c.res["divine_intervention"] == 0
    assert seen[True] and seen[False]
    c.res.pop("divine_intervention_wait", None)
    apply(g, 1, it.Rest("long"), random.Random(0))
    assert c.res["divine_intervention"] == 1  # a failure waits one long rest
    c.res["divine_intervention_wait"] = 7
    c.res["divine_intervention"] = 0
    for left in range(6, 0, -1):
        apply(g, 1, it.Rest("long"), random.Random(0))
        assert c.res["divine_intervention"] == 0 and c.res["divine_intervention_wait"] == left
    apply(g, 1, it.Rest("long"), random.Random(0))
    assert c.res["divine_intervention"] == 1 and "divine_intervention_wait" not in c.res


def test_primeval_awareness_names_kinds_anywhere_in_the_dungeon_for_a_slot() -> None:
    g = party(("R", "ranger", 5))
    r = g.entities[1]
    from rules.explore import spawn

    spawn(g, "zombie", 1)
    g.entities[max(g.entities)].room = 2  # another room
    slots = list(r.slots)
    out = apply(g, 1, it.Use("primeval awareness"), random.Random(0))
    assert any(isinstance(e, ev.Info) and e.text == "senses undead" for e in out)
    assert sum(r.slots) == sum(slots) - 1


def test_foe_slayer_uses_the_chosen_favored_enemies() -> None:
    g = party(("R", "ranger", 20))
    r = g.entities[1]
    assert classfeatures.favored(r) == ("undead", "fiend", "monstrosity")
    r.origin = {"favored": ["dragon"]}
    assert classfeatures.favored(r) == ("dragon",)


def test_make_favored_sets_the_types_foe_slayer_strikes() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    r = random.Random(0)
    for step, value in (("class", "ranger"), ("race", "human"),
                        ("stats", "15 14 13 12 10 8"), ("skills", "survival nature stealth"),
                        ("favored", "dragons giant")):
        out = apply(g, None, it.Make("Rin", step, value), r)
        assert len(out[0].text.encode()) <= 200
    with pytest.raises(RulesError, match="favored: aberration"):
        apply(g, None, it.Make("Rin", "favored", "robots"), r)
    apply(g, None, it.Join("Rin", "ranger", 20), r)
    rin = g.entities[1]
    assert classfeatures.favored(rin) == ("dragon", "giant")
    foes = fight(g, "ogre", 1) + fight(g, "zombie", 1)
    ogre, zombie = (g.entities[x] for x in foes)
    for who, foe, want in ((ogre, ogre, 2), (zombie, zombie, 1)):  # giant: weapon + WIS
        turn_of(g, rin.eid)
        rin.engaged = []
        out = []
        spec = combat.weapon_spec(rin, rin.weapons[0])
        resolver.attack(g, rin, foe, {**spec, "bonus": 99}, _Loaded([10]), out)
        assert sum(isinstance(e, ev.Damaged) for e in out) == want, who.name


def test_only_a_ranger_has_favored_enemies() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    r = random.Random(0)
    apply(g, None, it.Make("Bo", "class", "fighter"), r)
    with pytest.raises(RulesError, match="only a ranger"):
        apply(g, None, it.Make("Bo", "favored", "undead"), r)


def test_lands_stride_gives_advantage_against_entangle() -> None:
    from rules.effects import engine, spellbook

    g = party(("R", "ranger", 8), ("D", "druid", 8))
    r, d = g.entities[1], g.entities[2]
    spellbook.spell_def("entangle")  # registers the spell's tree
    d.side = "monsters"  # a hostile druid
    engine.use(g, d, "spell:entangle", [r], _Loaded([1, 20]), [], level=1)
    assert "restrained" not in r.conditions
    r.effects[:] = [x for x in r.effects if x.name != "ranger-lands-stride"]
    engine.use(g, d, "spell:entangle", [r], _Loaded([1, 20]), [], level=1)
    assert "restrained" in r.conditions


def test_purity_of_spirit_wards_off_charm_from_fiends_not_from_giants() -> None:
    g = party(("P", "paladin", 15))
    p = g.entities[1]
    p.effects[:] = [x for x in p.effects if not x.radius]  # no auras: the ward alone
    imp, ogre = fight(g, "imp") + fight(g, "ogre")
    assert not resolver.add_condition(g, p, "charmed", [], src=imp)
    assert resolver.add_condition(g, p, "charmed", [], src=ogre)


def test_relentless_rage_dc_climbs_and_a_short_rest_resets_it() -> None:
    g = party(("B", "barbarian", 11))
    b = g.entities[1]
    apply(g, 1, it.Use("rage"), random.Random(0))
    out: list = []
    resolver.deal(g, b, b.hp, "force", out, rng=_Loaded([20]))
    resolver.deal(g, b, b.hp, "force", out, rng=_Loaded([20]))
    dcs = [e.dc for e in out if isinstance(e, ev.Rolled)]
    assert dcs == [10, 15] and b.hp == 1
    apply(g, 1, it.Rest("short"), random.Random(0))
    assert "relentless" not in b.res
