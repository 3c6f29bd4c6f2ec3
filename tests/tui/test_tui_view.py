"""The console's pure helpers: bars, slots, radio figures, the map layout, edit and roster parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tui import roommap, view
from tui.encounter import parse_roster
from tui.sheet import parse_edit
from tui.spawner import cr_text

CRYPT = [
    {"id": 1, "exits": [{"dir": "d", "to": 2}]},
    {"id": 2, "exits": [{"dir": "u", "to": 1}, {"dir": "n", "to": 3}, {"dir": "e", "to": 4}]},
    {"id": 3, "exits": [{"dir": "s", "to": 2}, {"dir": "n", "to": 5}]},
    {"id": 4, "exits": [{"dir": "w", "to": 2}, {"dir": "n", "to": 6}]},
    {"id": 5, "exits": [{"dir": "s", "to": 3}, {"dir": "e", "to": 6}]},
    {"id": 6, "exits": [{"dir": "s", "to": 4}, {"dir": "w", "to": 5}, {"dir": "d", "to": 7}]},
    {"id": 7, "exits": [{"dir": "u", "to": 6}, {"dir": "e", "to": 8}]},
    {"id": 8, "exits": [{"dir": "w", "to": 7}]},
]


@given(st.integers(-5, 200), st.integers(1, 200), st.integers(0, 30), st.integers(2, 12))
def test_hp_bar_width_is_fixed_and_full_only_at_full_hp(hp, hp_max, temp, width):
    bar = view.hp_bar(hp, hp_max, temp, width).plain
    cells = bar[:width]
    assert set(cells) <= {"█", "░"} and len(cells) == width
    assert (cells == "█" * width) == (hp >= hp_max)
    assert (cells == "░" * width) == (hp <= 0)


def test_slots_and_death_saves():
    assert view.slots_text({"1": [1, 3], "2": [0, 2]}).plain == "1●●○ 2●●"
    assert view.death_saves_text([2, 1], 0).plain == "✓✓✗···"
    assert view.death_saves_text([0, 0], 5).plain == ""


def test_radio_figures_read_flat_and_nested_shapes():
    flat = {"link": "up", "channel_util": 0.1, "airtime_used_s": 3.0, "duty_budget_s": 360.0,
            "queue": 2, "last_packets": [{"to": 1, "port": 256, "bytes": 40}]}
    nested = {"link": "up", "channel_util": 0.1, "outbox": {"airtime_used_s": 3.0, "queue": 2,
                                                          "duty_budget_s": 360.0,
                                                          "last_packets": flat["last_packets"]}}
    a, b = view.radio_figures(flat), view.radio_figures(nested)
    assert a == b and a["queue"] == 2 and a["duty_budget_s"] == 360.0
    assert view.radio_figures(None)["link"] == "down"


def test_map_layout_gives_every_room_its_own_cell():
    pos = roommap.layout(CRYPT)
    assert set(pos) == {r["id"] for r in CRYPT}
    assert len(set(pos.values())) == len(pos)
    assert pos[3] == (pos[2][0], pos[2][1] - 1)  # 3 is north of 2
    assert pos[4] == (pos[2][0] + 1, pos[2][1])  # 4 is east of 2
    drawn = roommap.draw(CRYPT, 2, {2}, {6}).plain
    assert "[ 2]──[ 4]" in drawn and drawn.count("[") == 8
    # exits the grid cannot draw as neighbours are listed, each once
    notes = roommap.unlinked(CRYPT)
    assert len(notes) == len(set(notes)) and "6d7" in notes and "2e4" not in notes


def test_parse_edit_accepts_the_rules_fields_and_rejects_the_rest():
    assert parse_edit("ac=16") == ("ac", 16)
    assert parse_edit(" Name = Thorin ") == ("name", "Thorin")
    for bad, why in (("ac", "field=value"), ("str=18", "cannot be edited"),
                     ("hp=-3", "0 to 999"), ("ac=99", "1 to 30"), ("xp=lots", "whole number"),
                     ("max_hp=100000", "1 to 999"),
                     ("name=", "empty"), ("name=" + "x" * 17, "16")):
        with pytest.raises(ValueError, match=why):
            parse_edit(bad)


def test_parse_roster_and_cr():
    assert parse_roster("goblin:4, orc") == "goblin:4,orc:1"
    with pytest.raises(ValueError):
        parse_roster(" , ")
    with pytest.raises(ValueError, match="1 to 40"):
        parse_roster("goblin:0")
    assert [cr_text(c) for c in (0.125, 0.25, 0.5, 3, None)] == ["1/8", "1/4", "1/2", "3", "?"]


@given(st.lists(st.sampled_from(["Attacked", "Narrated", "Joined", "Digest", "Said"]), max_size=5),
       st.sampled_from(["dm", "text", "ai"]))
def test_every_entry_has_a_filter_it_shows_under(types, source):
    kinds = view.categories(types, source)
    assert kinds and kinds <= set(view.LOG_FILTERS)


@given(st.lists(st.integers(1, 20), min_size=1, max_size=6))
def test_party_thresholds_match_the_rules_engine(levels):
    from rules.encounter import difficulty
    from tui.encounter import thresholds

    assert thresholds(levels) == difficulty(levels, ["goblin"])["thresholds"]


def test_turn_timer_counts_down_from_the_pushed_deadline_and_stops_when_frozen():
    import time

    from tui.panels import InitiativePanel

    panel = InitiativePanel()
    panel.state = {"session": {"turn_deadline_s": 30.0}}
    panel.received_at = time.monotonic() - 12.0
    assert 17.5 < panel.remaining_s() <= 18.0
    panel.received_at = time.monotonic() - 99.0
    assert panel.remaining_s() == 0.0
    panel.ticking = False  # not live: the last figure stays as it was pushed
    assert panel.remaining_s() == 30.0
    panel.state = {"session": {"turn_deadline_s": None}}
    assert panel.remaining_s() is None


def test_the_sheet_names_each_class_of_a_multiclass_character():
    from rich.console import Console

    from tui.sheet import sheet_table

    def text(sheet: dict) -> str:
        console = Console(width=120, record=True)
        console.print(sheet_table(sheet))
        return console.export_text()

    assert "fighter 5 / wizard 2" in text({"name": "Mira", "cls": "fighter", "level": 7,
                                           "levels": {"fighter": 5, "wizard": 2}})
    assert "rogue 3" in text({"name": "Vex", "cls": "rogue", "level": 3})


def test_the_sheet_marks_armour_and_weapons_the_character_is_not_proficient_with():
    from rich.console import Console

    from tui.sheet import sheet_table

    console = Console(width=140, record=True)
    console.print(sheet_table(
        {"name": "Zed", "cls": "wizard", "level": 1,
         "weapons": [{"name": "Quarterstaff"}, {"name": "Longsword"}]},
        {"armor": "chain mail", "shield": False, "unskilled": ["chain mail", "Longsword"]}))
    text = console.export_text()
    assert "chain mail (unskilled)" in text and "Longsword (unskilled)" in text
    assert "Quarterstaff (unskilled)" not in text and "Quarterstaff" in text
