"""The text grammar's cast options: metamagic words anywhere after the spell, and twin targets."""

from __future__ import annotations

import pytest

from protocol import codec
from protocol.errors import ProtocolError
from protocol.text import parse
from rules import intents as i


def test_options_are_pulled_out_of_the_cast_line() -> None:
    assert parse("cast fireball quickened gob1") == i.Cast("fireball", "gob1",
                                                           meta=("quickened",))
    assert parse("c hold person twinned gob1 gob2") == i.Cast("hold person", "gob1",
                                                              meta=("twinned",), twin="gob2")
    assert parse("cast cone of cold gob1 overchannel") == i.Cast("cone of cold", "gob1",
                                                                 meta=("overchannel",))
    assert parse("cast fireball Empowered Heightened gob1 @4") == i.Cast(
        "fireball", "gob1", 4, meta=("empowered", "heightened"))
    assert parse("cast fire bolt gob1") == i.Cast("fire bolt", "gob1")


def test_an_option_alone_is_not_a_spell() -> None:
    with pytest.raises(ProtocolError):
        parse("cast quickened")


def test_a_twinned_cast_fits_one_small_binary_intent() -> None:
    intent = parse("cast hold person twinned gob1 gob2")
    raw = codec.encode_intent(intent)
    assert codec.decode_intent(raw) == intent and len(raw) < 40
