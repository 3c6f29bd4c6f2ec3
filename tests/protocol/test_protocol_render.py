"""Renderer: one packet per round where possible, byte limits, safe truncation."""

from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import events

from protocol.render import announced, fit, fold_announcements, render
from rules import events as ev


class FakeView:
    """Stands in for rules.view.GameView: names and one-line room descriptions."""

    names = {1: "Thorin", 2: "Mira", 3: "Gob1", 4: "Gob2", 5: "Gob3", 6: "Wolf", 7: "Ana",
             8: "Brom"}

    def name_of(self, eid):
        return self.names[eid]

    def describe_room(self, room, viewer):
        return f"Crypt {room}: dim. Exits n s. You see Gob1, Gob2."


def test_attack_damage_down_next_coalesce():
    lines = render([ev.Attacked(1, 3, 15, 17, 15, True, False, "longsword"),
                    ev.Damaged(3, 7, "slashing", 0), ev.Downed(3), ev.TurnStarted(1, 2)],
                   FakeView())
    assert lines == ["Thorin hits Gob1 (17 vs AC15) 7 slash. Gob1 is down. Next: Mira."]


def test_a_spell_names_who_its_lasting_effect_landed_on():
    cast, on = ev.SpellCast(2, "bless", 1), ev.Affected("bless", (1, 2, 7))
    assert render([cast, on], FakeView()) == ["Mira casts Bless L1 on Thorin, Mira, Ana."]
    # apart from its cast (another event between) it is a sentence of its own
    assert render([cast, ev.Healed(1, 3, 9), on], FakeView())[0].endswith(
        "Bless on Thorin, Mira, Ana.")


def test_a_smite_says_it_waits_for_the_next_hit_in_the_same_sentence():
    armed = ev.Info(7, ev.NEXT_HIT)
    assert render([ev.ActionTaken(7, "divine smite"), armed], FakeView()) == [
        "Ana: Divine Smite, on the next hit."]
    assert render([ev.SpellCast(7, "branding-smite", 2), armed], FakeView()) == [
        "Ana casts Branding Smite L2, on the next hit."]


def test_an_info_that_names_its_creature_is_not_prefixed_with_the_name_again():
    assert render([ev.Info(2, "Mira becomes a wolf")], FakeView()) == ["Mira becomes a wolf."]
    assert render([ev.Info(2, "the door is locked")], FakeView()) == [
        "Mira: the door is locked."]


def test_full_round_of_eight_fits_one_packet_by_abbreviating():
    round_ = []
    for a in range(1, 9):
        t = a % 8 + 1
        round_ += [ev.Attacked(a, t, 12, 18, 14, True, False, "scimitar"),
                   ev.Damaged(t, 5, "piercing", 3)]
    round_.append(ev.TurnStarted(2, 1))
    lines = render(round_, FakeView())
    assert len(lines) == 1 and len(lines[0].encode()) <= 200
    assert lines[0].endswith("Next: Thorin.")


def test_misses_crits_conditions_heals():
    (line,) = render([ev.Attacked(3, 1, 1, 4, 18, False, False, "bite"),
                      ev.Attacked(1, 3, 20, 25, 15, True, True, "axe"),
                      ev.Damaged(3, 14, "slashing", 0), ev.Died(3),
                      ev.ConditionChanged(2, "prone", True), ev.Healed(2, 5, 9)], FakeView())
    assert "Gob1 misses Thorin (4 vs AC18)" in line
    assert "Thorin crits Gob1 (25 vs AC15) 14 slash." in line
    assert "Mira is prone." in line and "Mira heals 5 (hp 9)." in line


def test_room_descriptions_come_from_the_view():
    assert render([ev.RoomView(4, 1)], FakeView()) == [FakeView().describe_room(4, 1)]
    assert render([], FakeView()) == []
    assert render([ev.Digest(5)], FakeView()) == []


def test_unknown_ids_render_without_failing():
    assert render([ev.Downed(99)], FakeView()) == ["#99 is down."]


def test_fit_never_splits_a_character():
    s = fit("é" * 150, 200)
    assert len(s.encode()) <= 200 and s.endswith("…")
    assert fit("short", 200) == "short"
    assert fit("🐉" * 60, 13) == "🐉🐉…"


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=30), st.integers(20, 200))
def test_every_line_fits_the_limit(evs, limit):
    class AnyView(FakeView):
        def name_of(self, eid):
            return "Ñame" + str(eid)

    for line in render(evs, AnyView(), limit=limit):
        assert 0 < len(line.encode()) <= limit


def test_fight_start_folds_initiative_and_spawns():
    (line,) = render([ev.Spawned(3, "goblin", "Gob1"), ev.Spawned(4, "goblin", "Gob2"),
                      ev.CombatStarted((2, 3, 1, 4)), ev.Rolled(1, "initiative", 9, 11),
                      ev.Rolled(2, "initiative", 17, 19), ev.Rolled(3, "initiative", 12, 14),
                      ev.Rolled(4, "initiative", 3, 5), ev.TurnStarted(1, 2)], FakeView())
    assert line == ("Gob1, Gob2 appear. Fight! Initiative: Mira 19, Gob1 14, Thorin 11, "
                    "Gob2 5. Next: Mira.")


def test_spell_indexes_read_as_names_and_weapon_actions_fold_into_attacks():
    (line,) = render([ev.SpellCast(2, "cure-wounds", 1), ev.Healed(1, 6, 20),
                      ev.ActionTaken(3, "scimitar", 1),
                      ev.Attacked(3, 1, 2, 6, 18, False, False, "Scimitar")], FakeView())
    assert line == "Mira casts Cure Wounds L1. Thorin heals 6 (hp 20). Gob1 misses Thorin (6 vs AC18)."


def test_announced_reads_every_turn_a_part_starts_including_skipped_ones():
    # A downed player's turn is skipped: its "Next:" runs straight into the next one.
    lines = render([ev.Attacked(3, 1, 4, 9, 18, False, False, "scimitar"), ev.TurnStarted(1, 7),
                    ev.TurnStarted(1, 1)], FakeView())
    assert announced(lines[0]) == ["Ana", "Thorin"]
    assert announced("Next: Vex. Vex death save 5: 2ok 1fail. Next: Goblin15") == [
        "Vex", "Goblin15"]
    # a turn merged with its action (fold_announcements) is played, not announced
    assert announced("Next: Gob1 hits Thorin (9 vs AC18) 4 slash. Next: Mira.") == ["Mira"]
    assert announced("Thorin misses Gob1 (8 vs AC15).") == []
    # chat cannot announce a turn mid-sentence
    assert announced("Mira says Next: Mira") == []


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(sorted(FakeView.names)), min_size=1, max_size=5))
def test_announced_names_the_rendered_turns_in_order(eids):
    lines = render([ev.TurnStarted(1, e) for e in eids], FakeView())
    assert [n for line in lines for n in announced(line)] == [FakeView.names[e] for e in eids]


def test_lines_that_ran_together_now_read_as_sentences():
    view = FakeView()
    (line,) = render([ev.TurnStarted(1, 2), ev.DeathSave(2, 7, 0, 1), ev.TurnStarted(1, 1)], view)
    assert line == "Next: Mira. Mira rolls a death save: 7 (0 saved, 1 failed). Next: Thorin."
    assert announced(line) == ["Mira", "Thorin"]
    # the room description already names who is there: spawns are not listed twice
    (line,) = render([ev.Entered(4, (1,)), ev.Spawned(3, "goblin", "Gob1"),
                      ev.Spawned(4, "goblin", "Gob2"),
                      ev.Rolled(1, "trap dex save", 4, 6, 13, False)], view)
    assert line == (view.describe_room(4, 1)
                    + " Thorin rolls trap dex save: 6 (d20 4) vs DC13, failure.")
    assert line.count("Gob1") == 1


def test_combat_end_says_who_won_fled_or_fell():
    view = FakeView()
    assert render([ev.CombatEnded(100, ("5 gp",))], view) == [
        "Victory! The party wins, 100 XP. Loot: 5 gp."]
    assert render([ev.ActionTaken(1, "flee"), ev.CombatEnded(0, (), "fled")], view) == [
        "Thorin flees. The party got away; the fight is over."]
    (fell,) = render([ev.Downed(1), ev.CombatEnded(0, (), "fell")], view)
    assert "Victory" not in fell and "fallen" in fell
    (ended,) = render([ev.CombatEnded(0, (), "ended")], view)
    assert "Victory" not in ended


def test_actions_conjugate_and_info_names_its_actor():
    (line,) = render([ev.ActionTaken(1, "dash"), ev.ActionTaken(2, "search"),
                      ev.Info(1, "the door holds"), ev.Info(0, "the way n is open")], FakeView())
    assert line == "Thorin dashes. Mira searches. Thorin: the door holds. The way n is open."


@settings(max_examples=300, deadline=None)
@given(st.lists(events, max_size=30))
def test_every_sentence_of_every_reply_ends_and_fits_one_packet(evs):
    """Replies read as sentences: each event's text ends in . ! ? or …, so none runs into
    the next one packed after it; and each line still fits one 200-byte packet."""
    class AnyView(FakeView):
        def name_of(self, eid):
            return "Ñame" + str(eid)

    for e in evs:
        for line in render([e], AnyView(), limit=10_000):
            assert line.endswith((".", "!", "?", "…")), line
    for line in render(evs, AnyView()):
        assert 0 < len(line.encode()) <= 200
        assert line.endswith((".", "!", "?", "…")), line


def test_an_announcement_merges_into_the_turn_played_after_it() -> None:
    view = FakeView()
    parts = render([ev.Attacked(1, 3, 15, 17, 15, True, False, "longsword"),
                    ev.Damaged(3, 7, "slashing", 5), ev.TurnStarted(1, 3)], view)
    parts += render([ev.Attacked(3, 1, 4, 9, 18, False, False, "scimitar"),
                     ev.TurnStarted(1, 2)], view)
    assert parts == ["Thorin hits Gob1 (17 vs AC15) 7 slash. Next: Gob1.",
                     "Gob1 misses Thorin (9 vs AC18). Next: Mira."]
    folded = fold_announcements(parts, {"Gob1", "Gob2"})
    assert folded == ["Thorin hits Gob1 (17 vs AC15) 7 slash. "
                      "Next: Gob1 misses Thorin (9 vs AC18). Next: Mira."]
    assert [n for p in folded for n in announced(p)] == ["Mira"]
    # not when the next part opens with someone else, nor past the byte limit
    assert fold_announcements(["Next: Gob1.", "Mira casts Shield L1."], {"Gob1"}) == [
        "Next: Gob1.", "Mira casts Shield L1."]
    assert fold_announcements(["Next: Gob1.", "Gob1 " + "x" * 190 + "."], {"Gob1"}) == [
        "Next: Gob1.", "Gob1 " + "x" * 190 + "."]
    # never a player's turn: the prompt would be lost in what happens to them
    assert fold_announcements(["Next: Mira.", "Mira heals 8 (hp 8)."], {"Gob1"}) == [
        "Next: Mira.", "Mira heals 8 (hp 8)."]


def test_a_reaction_does_not_leave_the_attack_said_twice() -> None:
    (line,) = render([ev.Moved(3, "engaged", 1), ev.ActionTaken(3, "scimitar", 1),
                      ev.SpellCast(1, "shield", 1),
                      ev.Attacked(3, 1, 8, 13, 23, False, False, "scimitar"),
                      ev.Attacked(3, 2, 15, 20, 12, True, False, "scimitar"),
                      ev.Damaged(2, 6, "slashing", 0), ev.Downed(2),
                      ev.ConditionChanged(2, "unconscious", True)], FakeView())
    assert line == ("Thorin casts Shield L1. Gob1 misses Thorin (13 vs AC23). "
                    "Gob1 hits Mira (20 vs AC12) 6 slash. Mira is down.")


def test_waking_up_is_said_by_the_heal() -> None:
    (line,) = render([ev.Healed(2, 8, 8), ev.ConditionChanged(2, "unconscious", False),
                      ev.ConditionChanged(2, "prone", False)], FakeView())
    assert line == "Mira heals 8 (hp 8). Mira no longer prone."


def test_one_resting_character_takes_a_rest_and_several_take_one():
    assert render([ev.Rested("long", (1,))], FakeView()) == ["Thorin takes a long rest."]
    assert render([ev.Rested("short", (1, 2))], FakeView()) == ["Thorin, Mira take a short rest."]


def test_a_spell_reads_as_the_srd_writes_its_name() -> None:
    from protocol.render import pretty

    assert pretty("hunters-mark") == "Hunter's Mark"
    assert pretty("wall-of-fire") == "Wall of Fire"
    assert pretty("second-wind") == "Second Wind"  # not a spell: title case
    assert pretty("Thorin") == "Thorin"  # a name passes through
