"""Class features as effect data: slot recovery, font of magic, turn undead, forgiving names."""

from __future__ import annotations

import random

import pytest
from rules_helpers import ARENA

from protocol.errors import ProtocolError
from protocol.text import parse
from rules import intents as it
from rules.dungeon import Dungeon
from rules.errors import RulesError
from rules.game import Game, apply


def _game(*members: tuple[str, str, int]) -> Game:
    g = Game.new(Dungeon.from_dict(ARENA))
    for name, cls, level in members:
        apply(g, None, it.Join(name, cls, level), random.Random(0))
    return g


def test_arcane_recovery_brings_back_half_the_wizard_level_in_slots() -> None:
    g = _game(("W", "wizard", 6))
    w = g.entities[1]
    w.slots = [0, 0, 0] + [0] * 6
    apply(g, 1, it.Use("arcane recovery"), random.Random(1))
    assert sum((k + 1) * n for k, n in enumerate(w.slots)) == 3  # (6 + 1) // 2 levels
    assert w.res["arcane_recovery"] == 0
    with pytest.raises(RulesError, match="used up"):
        apply(g, 1, it.Use("arcane recovery"), random.Random(1))


def test_font_of_magic_trades_slots_and_points_both_ways() -> None:
    g = _game(("S", "sorcerer", 5))
    s = g.entities[1]
    s.res["sorcery_points"] = 1
    s.slots[0] = 2
    apply(g, 1, it.Use("convert spell slot"), random.Random(1))
    assert s.slots[0] == 1 and s.res["sorcery_points"] == 2
    s.slots[2] = 0
    s.res["sorcery_points"] = 5
    apply(g, 1, it.Use("create spell slot"), random.Random(1))
    assert s.slots[2] == 1 and s.res["sorcery_points"] == 0


def test_turn_undead_spares_the_living_and_spends_channel_divinity() -> None:
    g = _game(("C", "cleric", 5))
    apply(g, None, it.Dm("spawn", text="ogre", value=1), random.Random(0))
    out = apply(g, 1, it.Use("turn undead"), random.Random(2))
    assert g.entities[1].res["channel_divinity"] == 0
    assert any("no foe here" in getattr(e, "text", "") for e in out)


def test_the_monk_save_dc_uses_wisdom() -> None:
    g = _game(("M", "monk", 5))
    m = g.entities[1]
    assert m.spell_dc() == 8 + m.prof + m.mod("wis")


@pytest.mark.parametrize(("line", "item", "target"), [
    ("second wind", "second wind", None), ("rage", "rage", None),
    ("smite gob1", "smite", "gob1"), ("turn undead", "turn undead", None),
])
def test_a_feature_by_its_own_name_is_a_use(line: str, item: str, target: str | None) -> None:
    assert parse(line) == it.Use(item=item, target=target)


def test_a_misspelled_command_gets_did_you_mean() -> None:
    with pytest.raises(ProtocolError, match="did you mean atk"):
        parse("atak gob1")
    with pytest.raises(ProtocolError, match="second wind"):
        parse("secnd wind")


def test_uses_come_back_on_initiative_and_short_rests() -> None:
    g = _game(("B", "bard", 20), ("M", "monk", 15), ("S", "sorcerer", 20))
    b, m, s = g.entities[1], g.entities[2], g.entities[3]
    b.res["inspiration"], m.res["ki"], s.res["sorcery_points"] = 0, 0, 10
    apply(g, None, it.Dm("spawn", text="goblin", value=1), random.Random(0))
    apply(g, None, it.Dm("start_combat"), random.Random(0))
    assert b.res["inspiration"] == 1 and m.res["ki"] == 4  # Superior Inspiration, Perfect Self
    apply(g, None, it.Dm("end_combat"), random.Random(0))
    g.entities = {k: e for k, e in g.entities.items() if e.kind == "pc"}
    apply(g, 3, it.Rest("short"), random.Random(0))
    assert s.res["sorcery_points"] == 14  # Sorcerous Restoration


def test_song_of_rest_adds_a_die_to_hit_dice_healing() -> None:
    def healed(with_bard: bool) -> int:
        members = [("F", "fighter", 5)] + ([("B", "bard", 5)] if with_bard else [])
        g = _game(*members)
        f = g.entities[1]
        f.hp = 5
        apply(g, 1, it.Rest("short"), random.Random(3))
        return f.hp

    assert healed(True) > healed(False)


def test_feral_instinct_rolls_initiative_with_advantage() -> None:
    from rules import levels
    from rules.pregen import character

    assert levels.initiative_advantage(character("B", "barbarian", 7)) == 1
    assert levels.initiative_advantage(character("B", "barbarian", 6)) == 0


def test_uncanny_dodge_halves_a_hit_once_a_round() -> None:
    from rules import resolver

    g = _game(("R", "rogue", 5), ("F", "fighter", 5))
    r, f = g.entities[1], g.entities[2]
    spec = {"name": "club", "bonus": 30, "kind": "melee", "range": [5, 0],
            "damage": [["10", "bludgeoning"]]}
    out: list = []
    resolver.attack(g, f, r, spec, random.Random(1), out)
    assert r.hp == r.max_hp - 5 and not r.reaction
    resolver.attack(g, f, r, spec, random.Random(1), out)
    assert r.hp == r.max_hp - 15  # the reaction is spent


def test_evasion_and_danger_sense_stand_through_a_long_rest() -> None:
    from rules import resolver

    g = _game(("M", "monk", 7), ("B", "barbarian", 2))
    m, b = g.entities[1], g.entities[2]
    apply(g, 1, it.Rest("long"), random.Random(0))
    assert any(x.has("evasion") for x in m.effects)
    assert resolver.check_adv(b, "dex", save=True) == 1


def test_evasion_takes_nothing_on_a_passed_save_and_half_on_a_failed_one() -> None:
    from rules.effects import engine
    from rules.effects import nodes as n

    for dc, lost in ((1, 0), (40, 10)):
        g = _game(("R", "rogue", 7), ("W", "wizard", 7))
        r = g.entities[1]
        node = n.parse_tree([{**{"type": "save", "ability": "dex", "dc": dc, "half": True},
                              "fail": [{"type": "damage", "parts": [{"dice": "20",
                                                                      "type": "fire"}]}]}],
                            "t")
        ctx = engine.context(g, g.entities[2], "feature:t", random.Random(0), [], [r])
        ctx.target = r
        engine.run(node, ctx)
        assert r.max_hp - r.hp == lost, dc


def test_brutal_critical_adds_weapon_dice_on_a_crit() -> None:
    from rules import resolver
    from rules.combat import weapon_spec

    g = _game(("B", "barbarian", 17), ("F", "fighter", 20))
    b, f = g.entities[1], g.entities[2]
    spec = weapon_spec(b, b.weapons[0])
    assert spec["crit_dice"] == 3 and spec["damage"][0][0] == "1d12"
    f.hp = f.max_hp = 999
    out: list = []
    dealt = []
    for seed in range(40):
        f.hp = 999
        out.clear()
        resolver.attack(g, b, f, {**spec, "crit": 2, "bonus": 99}, random.Random(seed), out)
        if 999 - f.hp:  # a natural 1 misses whatever the bonus
            dealt.append(999 - f.hp)
    # a crit doubles 1d12 (2-24) and Brutal Critical adds 3d12 (3-36), plus STR
    assert min(dealt) >= 2 + 3 + b.mod("str") and max(dealt) > 24 + b.mod("str")
