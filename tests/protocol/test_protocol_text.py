"""Text grammar: every command form, aliases, multi-word names, and helpful errors."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import text
from protocol.errors import ProtocolError
from rules import intents as i

SPELLS = ("Fire Bolt", "Cure Wounds", "Magic Missile", "Hold Person", "Fireball", "Light")


@pytest.mark.parametrize(("line", "intent"), [
    ("look", i.Look()), ("L", i.Look()), ("n", i.Move("n")), ("North", i.Move("n")),
    ("go door", i.Move("door")), ("go w", i.Move("w")),
    ("atk gob1", i.Attack("gob1")), ("A gob1 longbow", i.Attack("gob1", "longbow")),
    ("attack #3", i.Attack(3)), ("attack gob1 with dagger", i.Attack("gob1", "dagger")),
    ("dodge", i.Dodge()), ("dash", i.Dash()), ("dis", i.Disengage()),
    ("disengage", i.Disengage()), ("hide", i.Hide()), ("search", i.Search()),
    ("help mira", i.HelpAlly("mira")), ("help", i.Query("help")),
    ("help cast", i.Query("help cast")),
    ("roll stealth", i.Roll("stealth")), ("roll DEX save", i.Roll("dex save")),
    ("roll 2d6+1", i.Roll("2d6+1")),
    ("hp", i.Query("hp")), ("sheet", i.Query("sheet")), ("inv", i.Query("inv")),
    ("spells", i.Query("spells")), ("spells 3", i.Query("spells 3")),
    ("rest short", i.Rest("short")), ("rest LONG", i.Rest("long")),
    ("end", i.EndTurn()), ("say hello  there", i.Say("hello there")),
    ("grapple gob2", i.Grapple("gob2")), ("shove gob 2", i.Shove("gob 2")),
    ("join Thorin fighter", i.Join("Thorin", "fighter")),
    ("join Mira Swift rogue 3", i.Join("Mira Swift", "rogue", 3)),
    ("use second wind", i.Use("second wind")),
    ("use potion of healing mira", i.Use("potion of healing", "mira")),
])
def test_commands(line, intent):
    assert text.parse(line) == intent


@pytest.mark.parametrize(("words", "expected"), [
    ("fire bolt gob1", ("fire bolt", "gob1")),
    ("fb gob1", ("fb", "gob1")),
    ("cure wounds mira", ("cure wounds", "mira")),
    ("cure wounds", ("cure wounds", None)),
    ("mm goblin 2", ("mm", "goblin 2")),
    ("fireball", ("fireball", None)),
    ("fire", ("fire", None)),
    ("light", ("light", None)),
])
def test_spell_names_split_on_the_longest_known_prefix(words, expected):
    assert text.split_name(words.split(), SPELLS) == expected


def test_cast_keeps_words_and_level(monkeypatch):
    monkeypatch.setattr(text, "_content_names", lambda kind: SPELLS)
    assert text.parse("cast cure wounds mira @2") == i.Cast("cure wounds", "mira", 2)
    assert text.parse("c fb gob1") == i.Cast("fb", "gob1")
    assert text.parse("cast light") == i.Cast("light")


@pytest.mark.parametrize(("line", "hint"), [
    ("xyz", "unknown command 'xyz'; try: atk <target>, cast <spell> [target], look, help"),
    ("atk", "usage: atk <target>"), ("cast", "usage: cast <spell>"),
    ("rest", "rest short | rest long"), ("join Thorin", "usage: join"),
    ("look around", "usage: look"), ("", "empty command"),
])
def test_errors_say_what_would_work(line, hint):
    with pytest.raises(ProtocolError) as err:
        text.parse(line)
    assert hint in str(err.value) and "\n" not in str(err.value)


def test_oversized_and_control_input_is_refused():
    with pytest.raises(ProtocolError, match="too long"):
        text.parse("say " + "é" * 100)  # 204 bytes, 104 characters
    with pytest.raises(ProtocolError, match="control"):
        text.parse("look\x00")
    with pytest.raises(ProtocolError, match="control"):
        text.parse("say hi\nthere")


def test_help_fits_one_packet():
    for topic in [None, *text.HELP_LINES, "a", "c", "dodge", "nonsense"]:
        assert 0 < len(text.help_text(topic).encode()) <= 200


@settings(max_examples=500, deadline=None)
@given(st.text(max_size=220))
def test_any_text_parses_or_raises_protocol_error(line):
    for parse in (text.parse, text.parse_chain):
        try:
            parse(line)
        except ProtocolError as err:
            assert "\n" not in str(err)


@pytest.mark.parametrize(("line", "intents"), [
    ("atk gob1; end", [i.Attack("gob1"), i.EndTurn()]),
    ("atk gob1;end;", [i.Attack("gob1"), i.EndTurn()]),
    ("look", [i.Look()]),
    ("end; say left; or right", [i.EndTurn(), i.Say("left; or right")]),
])
def test_a_message_may_chain_commands(line, intents):
    assert text.parse_chain(line) == intents


@pytest.mark.parametrize(("line", "hint"), [
    ("look; hp; inv; end", "at most 3 commands"),
    ("atk gob1;; end", "command 2: empty command"),
    ("atk gob1; fly", "command 2: unknown command"),
])
def test_a_bad_chain_says_which_part(line, hint):
    with pytest.raises(ProtocolError, match=hint):
        text.parse_chain(line)
