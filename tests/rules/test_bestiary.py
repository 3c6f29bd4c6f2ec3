"""Monster names resolve explicitly, custom stat blocks are checked, dungeon files are checked."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules import content, custom, dungeon
from rules import intents as it
from rules.errors import RulesError
from rules.game import Game, apply

LURKER = {
    "name": "Bog Lurker", "armor_class": 13, "hit_points": 30, "challenge_rating": 1,
    "xp": 200, "abilities": {"str": 15, "dex": 12, "con": 14, "int": 3, "wis": 10, "cha": 5},
    "speed": {"walk": 20, "swim": 40},
    "actions": [{"name": "Bite", "kind": "melee", "attack_bonus": 4,
                 "damage": [{"dice": "2d6+2", "type": "piercing"}]}],
}


def one_line(text: str) -> bool:
    return "\n" not in text and len(text.encode()) <= 200


# -- names ---------------------------------------------------------------------------------
def test_a_word_in_many_names_is_ambiguous_and_lists_them() -> None:
    with pytest.raises(content.AmbiguousName) as err:
        content.resolve_monster("dragon")
    names = err.value.candidates
    assert "Ancient Red Dragon" in names and "Dragon Turtle" in names and len(names) >= 40
    assert one_line(str(err.value)) and "did you mean" in str(err.value)
    with pytest.raises(content.AmbiguousName):
        content.monster("dragon")  # the plain lookup refuses too: no quiet Dragon Turtle


@pytest.mark.parametrize("query,name", [("goblin", "Goblin"), ("Giant Rat", "Giant Rat"),
                                        ("giant-rat", "Giant Rat"), ("skeleton", "Skeleton"),
                                        ("Dragon Turtle", "Dragon Turtle")])
def test_an_exact_name_or_index_wins_without_a_note(query: str, name: str) -> None:
    found = content.resolve_monster(query)
    assert found.record["name"] == name and found.why == "" and found.note(query) == ""


def test_words_that_fit_one_name_pick_it_and_say_why() -> None:
    found = content.resolve_monster("young red")
    assert found.record["index"] == "young-red-dragon"
    assert "Young Red Dragon" in found.note("young red") and found.why


def test_a_typo_takes_the_closest_name_and_says_so() -> None:
    found = content.resolve_monster("gobln")
    assert found.record["name"] == "Goblin" and "closest" in found.why


@settings(max_examples=150, deadline=None)
@given(st.text(max_size=40))
def test_any_name_resolves_or_fails_in_one_line(query: str) -> None:
    try:
        content.resolve_monster(query)
    except RulesError as err:
        assert one_line(str(err))


def _game() -> Game:
    g = Game.new(dungeon.load_bundled("crypt"), monsters=[LURKER])
    apply(g, None, it.Join("Ana", "fighter", 3), random.Random(1))
    return g


def test_dm_spawn_refuses_an_ambiguous_name_and_changes_nothing() -> None:
    g = _game()
    before = g.digest()
    with pytest.raises(content.AmbiguousName):
        apply(g, None, it.Dm("spawn", text="dragon", value=1), random.Random(2))
    assert g.digest() == before


def test_dm_spawn_says_which_monster_a_partial_name_meant() -> None:
    g = _game()
    out = apply(g, None, it.Dm("spawn", text="young red", value=1), random.Random(2))
    assert "Young Red Dragon" in out[0].text
    assert any(getattr(e, "monster", "") == "young-red-dragon" for e in out)


# -- custom monsters -----------------------------------------------------------------------
def test_a_custom_monster_spawns_and_the_game_round_trips_without_files() -> None:
    g = _game()
    out = apply(g, None, it.Dm("spawn", text="bog lurker", value=2), random.Random(3))
    spawned = [e for e in out if type(e).__name__ == "Spawned"]
    assert len(spawned) == 2 and spawned[0].monster.startswith("bog-lurker-")
    lurker = g.entities[spawned[0].eid]
    assert (lurker.ac, lurker.max_hp) == (13, 30)
    back = Game.from_dict(g.to_dict())
    assert back.digest() == g.digest() and back.bestiary == g.bestiary


def test_a_game_without_custom_monsters_keeps_its_old_state_shape() -> None:
    assert "bestiary" not in Game.new(dungeon.load_bundled("crypt")).to_dict()


def test_the_index_is_the_same_for_the_same_block_and_differs_for_another() -> None:
    a, b = custom.validate_monster(LURKER), custom.validate_monster(dict(LURKER))
    c = custom.validate_monster({**LURKER, "hit_points": 31})
    assert a == b and a["index"] != c["index"]
    assert custom.validate_monster(a) == a  # a checked block checks to itself (replays)


@pytest.mark.parametrize("change,field", [
    ({"armor_class": None}, "armor_class"),
    ({"armor_class": "high"}, "armor_class"),
    ({"abilities": {"str": 10}}, "abilities: missing dex"),
    ({"actions": []}, "actions"),
    ({"actions": [{"name": "Bite", "kind": "melee", "attack_bonus": 4,
                   "damage": [{"dice": "2d6", "type": "laser"}]}]}, "actions[0].damage[0].type"),
    ({"actions": [{"name": "Bite", "kind": "melee", "attack_bonus": 4,
                   "damage": [{"dice": "2dx", "type": "acid"}]}]}, "actions[0].damage[0].dice"),
    ({"actions": [{"name": "Both", "kind": "multiattack",
                   "multiattack": [{"action": "Claw", "count": 2}]}]}, "multiattack"),
    ({"name": "Goblin"}, "SRD monster"),
    ({"wings": 2}, "unknown field 'wings'"),
    ({"effects": {"Claw": {"hit": []}}}, "effects: no action named 'Claw'"),
    ({"spellcasting": {"dc": 13, "spells": ["firebal"]}},
     "spellcasting.spells[0].index: no SRD spell 'firebal'; did you mean fireball"),
    ({"spellcasting": {"dc": 13, "spells": [{"index": "fireball", "per_day": 0}]}},
     "spellcasting.spells[0].per_day"),
    ({"spellcasting": {"dc": 13, "slots": [2, 9], "spells": ["fireball"]}},
     "spellcasting.slots[1]"),
    ({"spellcasting": {"dc": 13, "spells": []}}, "spellcasting.spells: at least one"),
    ({"effects": {"Bite": {"hit": [{"type": "summon", "name": "imp"}]}}},
     "effects.Bite.hit[0].type"),
    ({"effects": {"Bite": {"hit": [{"type": "condition", "name": "prone", "rounds": "x"}]}}},
     "effects.Bite.hit[0].rounds"),
])
def test_a_bad_field_is_named_in_one_line(change: dict, field: str) -> None:
    doc = {**LURKER, **change}
    doc = {k: v for k, v in doc.items() if v is not None}
    with pytest.raises(RulesError) as err:
        custom.validate_monster(doc)
    assert field in str(err.value) and one_line(str(err.value))


_json = st.recursive(st.none() | st.booleans() | st.integers(-50, 2000) | st.floats()
                     | st.text(max_size=12),
                     lambda inner: st.lists(inner, max_size=4)
                     | st.dictionaries(st.text(max_size=10), inner, max_size=5), max_leaves=20)


# A good block with a few fields garbled: reaches the checks deep inside, not just the first.
_garbled = st.dictionaries(st.sampled_from([*sorted(LURKER), "saves", "senses", "effects", "x"]),
                           _json,
                           max_size=4).map(lambda d: {**LURKER, **d})


@settings(max_examples=300, deadline=None)
@given(st.one_of(_json, _garbled))
def test_garbled_documents_give_a_monster_or_one_line(doc: object) -> None:
    try:
        rec = custom.validate_monster(doc)
    except RulesError as err:
        assert one_line(str(err))
        return
    _every_option_plays(rec)


def _every_option_plays(rec: dict) -> None:
    """Spawn the monster by a fighter and let it take each legal option on its turn."""
    from rules import tactics

    for k in range(len(tactics.legal_actions(_fight(rec)[0], _fight(rec)[1]))):
        g, eid = _fight(rec)
        option = tactics.legal_actions(g, eid)[k]
        try:
            apply(g, eid, option.intent, random.Random(k))
        except RulesError:
            pass  # a refused option is a one-line answer, not a crash


def _fight(rec: dict) -> tuple[Game, int]:
    g = Game.new(dungeon.load_bundled("crypt"), monsters=[rec])
    apply(g, None, it.Join("Ana", "fighter", 3), random.Random(0))
    out = apply(g, None, it.Dm("spawn", text=rec["index"], value=1), random.Random(0))
    eid = next(e.eid for e in out if type(e).__name__ == "Spawned")
    apply(g, None, it.Dm("start_combat"), random.Random(0))
    apply(g, None, it.Dm("set_turn", target=eid), random.Random(0))
    return g, eid


GRABBER = {**LURKER, "name": "Mire Grabber", "special_abilities": ["Pack Tactics"],
           "actions": [{"name": "Tendril", "kind": "melee", "attack_bonus": 5,
                        "damage": [{"dice": "1d6+3", "type": "bludgeoning"}],
                        "save": {"ability": "str", "dc": 13}},
                       {"name": "Spray", "kind": "save", "save": {"ability": "dex", "dc": 12,
                                                                  "half": True},
                        "damage": [{"dice": "2d6", "type": "acid"}], "recharge": [5, 6],
                        "area_shape": {"type": "cone", "size": 15}},
                       {"name": "Both", "kind": "multiattack",
                        "multiattack": [{"action": "Tendril", "count": 2}]}],
           "effects": {"Tendril": {"fail": [{"type": "condition", "name": "restrained",
                                             "end_save": True}]},
                       "Spray": {"fail": [{"type": "move", "how": "far"}], "area": ["line", 30]}}}


def test_every_option_of_a_full_custom_monster_plays() -> None:
    rec = custom.validate_monster(GRABBER)
    assert set(rec["effects"]) == {"Tendril", "Spray"}
    from rules import tactics

    g, eid = _fight(rec)
    labels = [o.label for o in tactics.legal_actions(g, eid)]
    assert {"Tendril Ana", "Spray Ana", "Both Ana"} <= set(labels)
    _every_option_plays(rec)


HEXER = {**LURKER, "name": "Bog Hexer",
         "spellcasting": {"ability": "cha", "dc": 13, "attack": 5, "slots": [2, 1],
                          "spells": ["fire-bolt", "hold-person",
                                     {"index": "misty-step", "per_day": 1}]}}


def test_a_custom_monster_casts_its_spells_with_its_slots_and_uses() -> None:
    from rules import tactics

    rec = custom.validate_monster(HEXER)
    assert rec["spellcasting"]["slots"] == [2, 1, 0, 0, 0, 0, 0, 0, 0]
    g, eid = _fight(rec)
    labels = {o.label for o in tactics.legal_actions(g, eid)}
    assert {"Fire Bolt Ana", "Hold Person Ana"} <= labels, labels
    ana = next(e.eid for e in g.entities.values() if e.name == "Ana")
    out = apply(g, eid, it.Cast("hold-person", target=ana), random.Random(1))
    assert any(type(e).__name__ == "SpellCast" and e.spell == "hold-person" for e in out)
    assert g.entities[eid].slots[1] == 0  # its one second-level slot is spent
    save = next(e for e in out if type(e).__name__ == "Rolled" and getattr(e, "dc", None))
    assert save.dc == 13  # its own DC, not a default
    apply(g, None, it.Dm("set_turn", target=eid), random.Random(0))
    apply(g, eid, it.Cast("misty-step"), random.Random(2))
    apply(g, None, it.Dm("set_turn", target=eid), random.Random(0))
    with pytest.raises(RulesError):  # once a day
        apply(g, eid, it.Cast("misty-step"), random.Random(3))
    _every_option_plays(rec)


# -- dungeon files -------------------------------------------------------------------------
ROOMS = '[[rooms]]\nid = 1\nname = "a"\nexits = [{ to = 2, dir = "n" }]\n' \
        '[[rooms]]\nid = 2\nname = "b"\nexits = [{ to = 1, dir = "s" }]\n'


def test_a_good_file_loads_and_the_bundled_sample_is_listed() -> None:
    assert len(dungeon.parse_toml(ROOMS, "t.toml").rooms) == 2
    assert {"crypt", "mill"} <= set(dungeon.bundled_names())
    assert dungeon.load_bundled("mill").name == "The Drowned Mill"


@pytest.mark.parametrize("text,says", [
    (ROOMS.replace("to = 2", "to = 9"), "missing room 9"),
    (ROOMS.replace('dir = "n"', 'dir = "north-ish"'), "exit dir"),
    (ROOMS.replace('name = "a"', 'name = "a"\nsmell = "bad"'), "unknown key 'smell'"),
    (ROOMS.replace("id = 2", "id = 1"), "defined twice"),
    (ROOMS + 'encounter = { monsters = [["dragon", 1]] }\n', "'dragon' matches"),
    (ROOMS + 'encounter = { monsters = [["zzzqqq", 1]] }\n', "no monster like"),
    ("rooms = [", "not TOML"),
])
def test_a_bad_file_is_one_line_naming_the_problem(text: str, says: str) -> None:
    with pytest.raises(RulesError) as err:
        dungeon.parse_toml(text, "t.toml")
    assert says in str(err.value) and str(err.value).startswith("dungeon t.toml: ")
    assert one_line(str(err.value))


def test_an_unknown_bundled_name_lists_the_dungeons() -> None:
    with pytest.raises(RulesError, match="crypt, mill"):
        dungeon.load_bundled("nowhere")


def test_a_block_without_xp_is_worth_the_srd_s_xp_for_its_rating() -> None:
    bare = {k: v for k, v in LURKER.items() if k != "xp"}
    assert custom.validate_monster(bare)["xp"] == 200  # the SRD's CR 1, as a goblin boss
    assert custom.validate_monster({**bare, "xp": 75})["xp"] == 75
    assert custom.validate_monster({**bare, "challenge_rating": 0.25})["xp"] == 50
    assert custom.validate_monster({**bare, "challenge_rating": 18})["xp"] == 0  # none in SRD


def test_an_encounter_of_custom_monsters_is_rated_and_fought() -> None:
    from rules import encounter

    rec = custom.validate_monster(LURKER)
    got = encounter.simulate([("fighter", 3)], [(LURKER["name"], 2)], 3, 1,
                             bestiary={rec["index"]: rec})
    assert got["xp"] == 400 and got["trials"] == 3 and got["refused_options"] == 0
    assert 0.0 <= got["party_win_rate"] <= 1.0


def test_a_line_break_in_a_documents_key_stays_out_of_the_one_line_answer() -> None:
    # found by the hypothesis test above: the key is part of the path the answer names
    with pytest.raises(RulesError) as err:
        custom.validate_monster({**LURKER, "speed": {"walk\n": -1}})
    assert one_line(str(err.value)) and "speed" in str(err.value)
