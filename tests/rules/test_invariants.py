"""Properties of apply: a rejected intent leaves the digest unchanged; state round-trips."""

from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rules import intents as it
from rules import tactics
from rules.dungeon import load_bundled
from rules.errors import RulesError
from rules.game import Game, apply

refs = st.one_of(st.integers(-1, 12), st.sampled_from(["gob", "Goblin1", "Thorin", "x", ""]))
words = st.sampled_from(["n", "s", "e", "w", "u", "d", "back", "far", "stair", "zz", "flee"])
spells = st.sampled_from(["fire bolt", "fireball", "cure wounds", "bless", "sleep", "mm", "zz"])
intents = st.one_of(
    st.builds(it.Join, st.sampled_from(["Ann", "Bo", "", "Ann"]),
              st.sampled_from(["fighter", "wizard", "cleric", "nope"]), st.integers(0, 6)),
    st.builds(it.Move, words), st.builds(it.Attack, refs, st.none() | refs),
    st.builds(it.Cast, spells, st.none() | refs, st.none() | st.integers(0, 10)),
    st.builds(it.Use, st.sampled_from(["second wind", "potion", "rage", "smite", "x"]),
              st.none() | refs),
    st.builds(it.Roll, st.sampled_from(["stealth", "dex save", "2d6", "((", "death save"])),
    st.just(it.Dodge()), st.just(it.Dash()), st.just(it.Disengage()), st.just(it.Hide()),
    st.just(it.Search()), st.builds(it.HelpAlly, refs), st.builds(it.Grapple, refs),
    st.builds(it.Shove, refs), st.builds(it.Approach, refs), st.just(it.EndTurn()),
    st.builds(it.Query, st.sampled_from(["hp", "sheet", "x"])),
    st.builds(it.Rest, st.sampled_from(["short", "long", "nap"])),
    st.builds(it.Dm, st.sampled_from(["damage", "heal", "condition", "spawn", "next_turn",
                                      "start_combat", "end_combat", "cover", "bogus"]),
              st.none() | refs, st.integers(-3, 30),
              st.sampled_from(["", "fire", "prone", "goblin", "zzz"])),
)


def _base() -> Game:
    g = Game.new(load_bundled())
    r = random.Random(0)
    apply(g, None, it.Join("Thorin", "fighter", 3), r)
    apply(g, None, it.Join("Mira", "wizard", 3), r)
    return g


BASE = _base().to_dict()


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from([None, 1, 2, 3, 99]), intents), max_size=25),
       st.integers(0, 1000))
def test_rejected_intents_leave_state_untouched(steps: list, seed: int) -> None:
    g = Game.from_dict(BASE)
    rng = random.Random(seed)
    for actor, intent in steps:
        before = g.digest()
        try:
            apply(g, actor, intent, rng)
        except RulesError as err:
            assert "\n" not in str(err)
            assert g.digest() == before, f"{intent} changed state before failing"
        for e in g.entities.values():
            assert e.hp >= 0 and 0 <= e.death_s <= 3 and 0 <= e.death_f <= 3


def test_queries_are_read_only() -> None:
    g = Game.from_dict(BASE)
    before = g.digest()
    for what in ("hp", "sheet", "inv", "status", "help"):
        assert apply(g, 1, it.Query(what), random.Random(0)) == []
        assert g.describe(1, what)
    assert g.digest() == before


def test_round_trip_keeps_digest_through_play() -> None:
    g = Game.from_dict(BASE)
    rng = random.Random(3)
    apply(g, 1, it.Move("d"), rng)
    for _ in range(30):
        if g.combat is None:
            break
        copy = Game.from_dict(g.to_dict())
        assert copy.digest() == g.digest() and copy.to_dict() == g.to_dict()
        eid = g.current_turn()
        apply(g, eid, tactics.choose(g, eid, rng).intent, rng)
    assert 0 <= g.digest() < 2**32


def test_every_legal_option_applies() -> None:
    for seed in range(6):
        g = Game.from_dict(BASE)
        rng = random.Random(seed)
        apply(g, 1, it.Move("d"), rng)
        for _ in range(80):
            if g.combat is None:
                break
            eid = g.current_turn()
            options = tactics.legal_actions(g, eid)
            assert options, f"no legal action for #{eid}"
            for opt in options:
                trial = Game.from_dict(g.to_dict())
                apply(trial, eid, opt.intent, random.Random(seed))  # must not raise
            apply(g, eid, tactics.choose(g, eid, rng).intent, rng)


def test_views_are_compact_lines() -> None:
    g = Game.from_dict(BASE)
    apply(g, 1, it.Move("d"), random.Random(1))
    assert len(g.describe(1, "help").encode()) <= 200
    for eid in g.party_eids() + g.monster_eids():
        for what in ("hp", "sheet", "inv", "status", "spells", "spells 1"):
            assert "\n" not in g.describe(eid, what)
        assert g.controller(eid) == ("player" if eid in g.party_eids() else "monster")
    line = g.describe_room(g.room, 1)
    assert "\n" not in line and "Goblin1" in line and "e(locked)" in line
