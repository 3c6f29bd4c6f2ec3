"""Direction-override characters are refused in typed lines (say, join names) and in names."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ProtocolError
from protocol.text import parse, parse_chain
from rules import intents as it
from rules.dungeon import load_bundled
from rules.errors import RulesError
from rules.game import Game, apply

BIDI = [chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))]


@given(line=st.sampled_from(["say hello there", "join Mira cleric", "atk gob1; say go"]),
       ch=st.sampled_from(BIDI), at=st.integers(min_value=0, max_value=40))
def test_a_bidi_control_anywhere_in_a_line_is_refused_in_one_line(line: str, ch: str, at: int):
    at = min(at, len(line))
    with pytest.raises(ProtocolError) as err:
        parse_chain(line[:at] + ch + line[at:])
    assert "\n" not in str(err.value) and "direction" in str(err.value)


def test_plain_unicode_text_still_parses():
    assert parse("say Æsir café ðæt") == it.Say("Æsir café ðæt")


@pytest.mark.parametrize("ch", BIDI)
def test_rules_refuse_a_name_with_a_bidi_control(ch: str):
    game = Game.new(load_bundled("crypt"))
    with pytest.raises(RulesError):
        apply(game, None, it.Join(f"Mira{ch}lrtm", "cleric"), random.Random(1))
    eid = apply(game, None, it.Join("Mira", "cleric"), random.Random(1))[0].eid
    with pytest.raises(RulesError):
        apply(game, None, it.Dm("edit_sheet", eid, 0, f"name=Ev{ch}il"), random.Random(2))
    assert game.name_of(eid) == "Mira"
