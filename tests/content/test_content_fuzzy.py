"""Forgiving name matching: the tier order, entity names and its invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rules.fuzzy import best_match, normalize, suggest

SPELLS = ["Fire Bolt", "Fireball", "Fire Shield", "Magic Missile", "Magic Mouth", "Cure Wounds",
          "Mage Hand", "Shield", "Hold Person"]
TARGETS = ["Gob1", "Gob2", "Goblin Boss", "Orc1", "Aria", "Brannoc"]


def test_exact_beats_everything():
    assert best_match("shield", SPELLS) == "Shield"
    assert best_match("SHIELD", SPELLS) == "Shield"


def test_slug_and_punctuation_are_ignored():
    assert best_match("fire-bolt", SPELLS) == "Fire Bolt"
    assert best_match("  fire   bolt! ", SPELLS) == "Fire Bolt"
    assert best_match("magic_missile", SPELLS) == "Magic Missile"


def test_prefix_prefers_the_closest_length_then_caller_order():
    assert best_match("fireb", SPELLS) == "Fire Bolt"  # ties with Fireball; listed first
    assert best_match("fireb", list(reversed(SPELLS))) == "Fireball"
    assert best_match("hold", SPELLS) == "Hold Person"
    assert best_match("mag", ["Magic Missile", "Mage Hand"]) == "Mage Hand"


def test_initials():
    assert best_match("fb", SPELLS) == "Fire Bolt"
    assert best_match("mm", SPELLS) == "Magic Missile"  # listed before Magic Mouth
    assert best_match("cw", SPELLS) == "Cure Wounds"
    assert best_match("hp", SPELLS) == "Hold Person"


def test_trailing_number_entity_names():
    assert best_match("gob1", TARGETS) == "Gob1"
    assert best_match("goblin 1", TARGETS) == "Gob1"
    assert best_match("goblin2", TARGETS) == "Gob2"
    assert best_match("goblin 1", ["Goblin 1", "Goblin 2", "Gob1"]) == "Goblin 1"
    assert best_match("gob 2", ["Goblin 1", "Goblin 2"]) == "Goblin 2"
    assert best_match("goblin 3", TARGETS) is None


def test_a_number_never_picks_another_entity():
    assert best_match("gob1", ["Gob10", "Gob11"]) is None
    assert best_match("gob1", ["Gob2"]) is None
    assert best_match("gob1", ["Gob10", "Gob1"]) == "Gob1"
    assert best_match("gob", ["Gob10", "Gob2"]) == "Gob2"  # no number typed: closest length
    assert suggest("gob3", ["Orc1", "Gob1", "Gob2"]) == ["Gob1", "Gob2", "Orc1"]


def test_substring_and_typos():
    assert best_match("missile", SPELLS) == "Magic Missile"
    assert best_match("firebal", SPELLS) == "Fireball"
    assert best_match("fierball", SPELLS) == "Fireball"
    assert best_match("cure wuonds", SPELLS) == "Cure Wounds"
    assert best_match("brannok", TARGETS) == "Brannoc"


def test_no_match():
    assert best_match("xyzzy", SPELLS) is None
    assert best_match("", SPELLS) is None
    assert best_match("!!", SPELLS) is None
    assert best_match("fire", []) is None


def test_suggest_is_looser_and_ranked():
    assert suggest("firebolt", SPELLS, n=2) == ["Fire Bolt", "Fireball"]
    assert suggest("sheeld", SPELLS)[0] == "Shield"
    assert len(suggest("fire", SPELLS, n=2)) == 2
    assert suggest("qqqqqqqq", SPELLS) == []


def test_a_shared_stem_is_a_hint_but_never_a_match():
    monsters = ["Goblin", "Gnoll", "Hobgoblin", "Orc"]
    assert best_match("gobbo", monsters) is None
    assert suggest("gobbo", monsters) == ["Goblin"]


names = st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=8, unique=True)


@given(names, st.text(max_size=12))
def test_best_match_is_always_a_candidate_and_the_top_suggestion(cands, query):
    hit = best_match(query, cands)
    assert hit is None or hit in cands
    if hit is not None:
        assert suggest(query, cands, n=1) == [hit]


@given(names, st.data())
def test_every_candidate_finds_itself_or_an_equal_spelling(cands, data):
    name = data.draw(st.sampled_from(cands))
    if normalize(name):
        hit = best_match(name, cands)
        assert hit is not None and normalize(hit) == normalize(name)
