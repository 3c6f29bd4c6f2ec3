"""The effect engine's own rules: typed parts, areas, records, riders, parsing."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st
from rules_helpers import ARENA, fight, turn_of

from rules import content, resolver
from rules import events as ev
from rules import intents as it
from rules.creature import from_monster
from rules.dungeon import Dungeon
from rules.effects import nodes as n
from rules.effects import specials
from rules.effects.area import targets_in_area
from rules.effects.records import TAGS, Cond, Effect
from rules.errors import RulesError
from rules.game import Game, apply


class MaxDice(random.Random):
    """Every damage die shows its highest face; the d20 shows 19 (a hit, not a crit)."""

    def randint(self, a: int, b: int) -> int:
        return 19 if (a, b) == (1, 20) else b


def _paladin_vs(monster: str, slot_level: int) -> tuple[Game, list[ev.Damaged]]:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Pal", "paladin", 5), random.Random(0))
    foes = fight(g, monster, 1)
    pal = g.entities[1]
    pal.slots = [0] * 9
    pal.slots[slot_level - 1] = 1
    turn_of(g, 1)
    apply(g, 1, it.Use("smite"), random.Random(0))
    out = apply(g, 1, it.Attack(foes[0]), MaxDice())
    return g, [e for e in out if isinstance(e, ev.Damaged) and e.target == foes[0]]


def test_divine_smite_is_radiant_and_reaches_6d8_against_undead() -> None:
    g, dmg = _paladin_vs("mummy", 4)  # 2d8 + 3d8 for a 4th-level slot, capped at 5d8, +1d8
    radiant = [d for d in dmg if d.dtype == "radiant"]
    assert radiant and radiant[0].amount == 6 * 8
    assert g.entities[1].slots[3] == 0
    assert not any(x.name == "divine smite" for x in g.entities[1].effects)


def test_divine_smite_caps_at_5d8_against_the_living() -> None:
    _g, dmg = _paladin_vs("ogre", 5)
    assert [d.amount for d in dmg if d.dtype == "radiant"] == [5 * 8]


@pytest.mark.parametrize(("shape", "size", "count"), [
    ("cone", 15, 2), ("cone", 60, 6), ("sphere", 20, 4), ("cube", 10, 2), ("line", 100, 4),
    ("line", 30, 1), ("cylinder", 5, 1), ("sphere", 0, 1)])
def test_targets_in_area_round_up(shape: str, size: int, count: int) -> None:
    assert targets_in_area(shape, size) == count


@given(st.sampled_from(["cone", "cube", "sphere", "line", "cylinder"]), st.integers(1, 500))
def test_area_holds_at_least_one_and_grows_with_size(shape: str, size: int) -> None:
    assert 1 <= targets_in_area(shape, size) <= targets_in_area(shape, size + 5)


@given(st.builds(Effect, st.text(min_size=1, max_size=8), st.integers(0, 99),
                 rounds=st.integers(0, 100), conc=st.booleans(), ac=st.integers(-5, 5),
                 resist=st.lists(st.sampled_from(["fire", "cold"]), max_size=2).map(tuple),
                 tags=st.lists(st.sampled_from(sorted(TAGS)), max_size=3).map(tuple),
                 die=st.sampled_from(["", "1d6"])))
def test_effect_records_round_trip(e: Effect) -> None:
    assert Effect.from_dict(e.to_dict()) == e


def test_unknown_tag_or_node_field_is_a_one_line_error() -> None:
    with pytest.raises(RulesError, match="unknown tag"):
        Effect("x", tags=("flying-pig",))
    with pytest.raises(RulesError) as err:
        n.parse_tree([{"type": "save", "ablity": "dex"}], "test")
    assert "no field 'ablity'" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(RulesError, match="unknown effect type"):
        n.parse_tree([{"type": "teleport-home"}], "test")


def test_magical_damage_passes_nonmagical_resistance_per_part() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    mummy = from_monster(1, "Mummy", content.monster("mummy"), "brute")
    mummy.hp = mummy.max_hp = 500
    g.entities[1] = mummy
    out: list = []
    resolver.deal(g, mummy, 10, "slashing", out)
    resolver.deal(g, mummy, 10, "slashing", out, magical=True)
    resolver.deal(g, mummy, 10, "necrotic", out, magical=True)  # immune whatever the source
    assert [e.amount for e in out] == [5, 10, 0]


def test_sleep_pool_skips_undead_and_charm_immune() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Mira", "wizard", 1), random.Random(0))
    for k, m in enumerate(("zombie", "lemure", "goblin"), start=2):
        e = from_monster(k, m, content.monster(m), "brute")
        e.hp = 1
        g.entities[k] = e
    from rules.effects.engine import context

    ctx = context(g, g.entities[1], "spell:sleep", random.Random(1), [],
                  [g.entities[2], g.entities[3], g.entities[4]], level=1)
    specials.sleep(ctx, {"skip_types": ("undead",), "skip_immune": "charmed"})
    asleep = [e.name for e in g.entities.values() if "unconscious" in e.conditions]
    assert asleep == ["goblin"]


def test_monster_effect_data_names_real_actions_and_parses() -> None:
    from rules.effects import monsters

    def acts(m: dict) -> list[dict]:
        return m["actions"] + m.get("legendary_actions", [])

    for monster, actions in monsters.riders().items():
        holders = list(content.monsters()) if monster == monsters.ANY else [monster]
        for action, data in actions.items():
            if {"trait", "moves", "family", "numbers", "rejuvenate", "in_shape"} & set(data):
                assert any(action in content.monsters()[h]["special_abilities"]
                           + content.monsters()[h].get("reactions", [])
                           for h in holders), f"{monster}/{action}"
                continue
            found = [(h, a) for h in holders for a in acts(content.monsters()[h])
                     if a["name"] == action and (a["kind"] != "multiattack"
                                                 or {"count", "extra", "pick"} & set(data))]
            assert found, f"{monster}/{action}"
            for h, a in found:
                if a["kind"] == "multiattack":  # an extra part must name a real action
                    extra = data.get("extra", {}).get("action", a["multiattack"][0]["action"])
                    names = [x["name"] for x in acts(content.monsters()[h])]
                    assert extra in names
                    # so are the blows it picks among, each one of its own parts or picks
                    assert set(data.get("pick", ())) <= set(names), f"{h}/{action}"
                    assert set(data.get("at_most", {})) <= set(data.get("pick", ()))
                    continue
                tree = monsters.action_tree(h, a)
                if data.get("fail") or data.get("hit"):  # `fail = []` silences a rider
                    assert any(isinstance(x, n.Condition | n.Ongoing | n.Move | n.Special)
                               for x in n.walk(tree)), f"{h}/{action}"
                elif not {"effects", "max_grip", "targets_if"} & set(data):  # authored, or a gate
                    assert not any(isinstance(x, n.Condition) for x in n.walk(tree))


def test_a_rules_version_1_snapshot_still_loads_its_effects() -> None:
    from rules.creature import Entity

    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 3), random.Random(0))
    d = g.to_dict()
    d["entities"][0]["effects"] = [
        {"name": "dodge", "src": 1, "dodge": True, "until_turn": 1},
        {"name": "inspiration", "src": 2, "inspired": "1d6"},
        {"name": "hunters-mark", "src": 2, "mark": "1d6", "conc": True, "rounds": 600}]
    thorin = Entity.from_dict(d["entities"][0])
    dodge, insp, mark = thorin.effects
    assert dodge.has("dodge") and dodge.until_turn == 1
    assert insp.die == "1d6" and mark.has("mark") and mark.die == "1d6" and mark.conc


@given(st.builds(Cond, st.integers(-1, 100), st.sampled_from(["", "con", "wis"]),
                 st.integers(0, 30), st.integers(0, 50), st.booleans()))
def test_condition_records_round_trip(c: Cond) -> None:
    assert Cond.from_dict(c.to_dict()) == c


def test_digest_without_copies_equals_the_copied_state() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    apply(g, None, it.Join("Thorin", "fighter", 3), random.Random(0))
    foes = fight(g, "goblin", 1)
    g.entities[1].effects.append(Effect("bless", 1, atk="1d4", conc=True, rounds=10))
    g.entities[foes[0]].conditions["prone"] = Cond(src=1)
    import hashlib
    import json

    copied = json.dumps(g.to_dict(), sort_keys=True, separators=(",", ":")).encode()
    assert g.canonical() == copied
    assert g.digest() == int.from_bytes(hashlib.blake2b(copied, digest_size=4).digest(), "big")


def test_breath_rolls_once_for_its_cone_and_halves_on_a_save() -> None:
    g = Game.new(Dungeon.from_dict(ARENA))
    for k, name in enumerate(("A", "B", "C", "D")):
        apply(g, None, it.Join(name, "fighter", 5), random.Random(k))
        g.entities[k + 1].hp = g.entities[k + 1].max_hp = 500
    foes = fight(g, "young-red-dragon", 1)
    turn_of(g, foes[0])
    g.next_d20 = [1, 1, 20]
    out = apply(g, foes[0], it.Attack(1, "fire breath"), random.Random(3))
    dmg = [e.amount for e in out if isinstance(e, ev.Damaged)]
    assert len(dmg) == 3  # a 30-foot cone holds 3
    assert dmg[0] == dmg[1] and dmg[2] == dmg[0] // 2
