"""The text grammar of levelling choices and trade: level, shop, buy, sell."""

from __future__ import annotations

import pytest

from protocol.errors import ProtocolError
from protocol.text import help_text, parse
from rules import intents as i


@pytest.mark.parametrize(("line", "want"), [
    ("level wizard", i.Advance("wizard")),
    ("LEVEL Fighter", i.Advance("fighter")),
    ("level asi str dex", i.Advance(improve="str dex")),
    ("level feat grappler", i.Advance(improve="grappler")),
    ("level grappler", i.Advance(improve="grappler")),
    ("shop", i.Query("shop")),
    ("shop 3", i.Query("shop 3")),
    ("buy potion of healing", i.Trade("buy", "potion of healing")),
    ("sell light crossbow", i.Trade("sell", "light crossbow")),
])
def test_lines_become_intents(line: str, want: object) -> None:
    assert parse(line) == want


@pytest.mark.parametrize("line", ["level", "level fighter wizard", "buy", "sell",
                                  "shop two", "shop 0"])
def test_bad_lines_get_one_line_usage(line: str) -> None:
    with pytest.raises(ProtocolError) as err:
        parse(line)
    assert "usage" in str(err.value) and "\n" not in str(err.value)


def test_help_names_the_new_commands_in_one_packet() -> None:
    assert "level" in help_text() and "shop" in help_text()
    assert "level asi" in help_text("level")
    for topic in ("shop", "buy", "sell"):
        assert "buy <item>, sell <item>" in help_text(topic)
    for topic in (None, "level", "shop"):
        assert len(help_text(topic).encode()) <= 200
