"""Binary codec: round trips for every intent and event type, compactness, hostile bytes."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from protocol_strategies import events, for_class, intents

from protocol import codec, tables
from protocol.errors import ProtocolError
from rules import events as ev
from rules import intents as it
from rules.events import ALL_EVENTS
from rules.intents import ALL_INTENTS


@pytest.mark.parametrize("cls", ALL_INTENTS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_intent_type_round_trips(cls, data):
    intent = data.draw(for_class(cls))
    assert codec.decode_intent(codec.encode_intent(intent)) == intent


@pytest.mark.parametrize("cls", ALL_EVENTS, ids=lambda c: c.__name__)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_every_event_type_round_trips(cls, data):
    event = data.draw(for_class(cls))
    assert codec.decode_events(codec.encode_events([event])) == [event]


@settings(max_examples=200, deadline=None)
@given(st.lists(events, max_size=6))
def test_event_lists_round_trip(evs):
    assert codec.decode_events(codec.encode_events(evs)) == evs


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_decode_or_raise_protocol_error(data):
    try:
        intent = codec.decode_intent(data)
    except ProtocolError as err:
        assert "\n" not in str(err)
    else:  # whatever decodes is a real intent that survives its own round trip
        assert codec.decode_intent(codec.encode_intent(intent)) == intent
    try:
        events = codec.decode_events(data)
    except ProtocolError as err:
        assert "\n" not in str(err)
    else:
        assert codec.decode_events(codec.encode_events(events)) == events


@settings(max_examples=300, deadline=None)
@given(intents, st.integers(0, 63), st.integers(0, 255))
def test_mutated_intents_never_crash(intent, pos, byte):
    raw = bytearray(codec.encode_intent(intent))
    raw[pos % len(raw)] = byte
    try:
        codec.decode_intent(bytes(raw))
    except ProtocolError:
        pass


def test_empty_tuples_round_trip():
    for e in (ev.CombatEnded(0, ()), ev.CombatStarted(()), ev.Rested("long", ())):
        assert codec.decode_events(codec.encode_events([e])) == [e]


def test_no_surrogate_text_is_accepted():
    with pytest.raises(ProtocolError):
        codec.encode_intent(it.Say("\udc80"))


def test_typical_intents_are_small():
    for intent in (it.Attack(target=3), it.Cast(spell="fire", target=4), it.Look(),
                   it.Move("n"), it.EndTurn(), it.Roll("stealth"), it.Dodge()):
        assert len(codec.encode_intent(intent)) <= 8, intent


def test_typical_result_events_are_small():
    for event in (ev.Damaged(3, 7, "slashing", 4), ev.TurnStarted(2, 5), ev.Downed(3),
                  ev.ConditionChanged(3, "prone", True), ev.Healed(2, 6, 11),
                  ev.Rolled(1, "stealth", 12, 15, 13, True), ev.Attacked(1, 3, 15, 17, 15, True,
                                                                        False, "bite")):
        assert len(codec.encode_events([event])) <= 12, event


def test_table_strings_cost_one_or_two_bytes():
    assert len(codec.encode_events([ev.Damaged(1, 1, "necrotic", 1)])) == 5
    literal = codec.encode_events([ev.Damaged(1, 1, "custard", 1)])
    assert len(literal) == 5 - 1 + 1 + len("custard")
    assert codec.decode_events(literal) == [ev.Damaged(1, 1, "custard", 1)]


def test_defaults_cost_nothing():
    bare = codec.encode_events([ev.Rolled(1, "stealth", 12, 15)])
    with_dc = codec.encode_events([ev.Rolled(1, "stealth", 12, 15, dc=13, ok=True)])
    assert len(with_dc) == len(bare) + 1


def test_ref_arms_keep_their_type():
    assert codec.decode_intent(codec.encode_intent(it.Attack(target=3))).target == 3
    assert codec.decode_intent(codec.encode_intent(it.Attack(target="3"))).target == "3"


def test_wrong_field_types_are_refused():
    with pytest.raises(ProtocolError):
        codec.encode_intent(it.Attack(target=1.5))
    with pytest.raises(ProtocolError):
        codec.encode_intent(it.Say(3))
    with pytest.raises(ProtocolError):
        codec.encode_intent(ev.Downed(1))
    with pytest.raises(ProtocolError):
        codec.encode_intent(it.Attack(target=2**70))


@pytest.mark.parametrize("data", [b"", b"\x7f", b"\x03", b"\x03\x02", b"\x03\x02\x06\x00",
                                  b"\xff" * 12, b"\x12\x01\xff\xff"])
def test_malformed_intents_are_protocol_errors(data):
    with pytest.raises(ProtocolError):
        codec.decode_intent(data)


def test_stray_flag_bits_are_rejected():
    raw = bytearray(codec.encode_intent(it.Attack(target=3)))
    raw[1] |= 0x80
    with pytest.raises(ProtocolError, match="stray"):
        codec.decode_intent(bytes(raw))


def test_type_codes_are_the_explicit_table():
    for n, name in enumerate(codec.INTENT_CODES):
        assert codec.intent_code(getattr(it, name)) == n
    for n, name in enumerate(codec.EVENT_CODES):
        assert codec.event_code(getattr(ev, name)) == n


def test_tables_are_sorted_and_digest_is_four_bytes():
    # content-derived tables are sorted; small fixed vocabularies keep their written order
    for name in ("damage", "condition", "skill", "spell", "monster", "weapon", "using"):
        t = tables.tables()[name]
        assert list(t) == sorted(t) and len(set(t)) == len(t)
    assert len(tables.digest()) == 4


@settings(max_examples=100, deadline=None)
@given(st.lists(events, max_size=20), st.integers(60, 200))
def test_pack_events_splits_between_events(evs, room):
    try:
        payloads = codec.pack_events(evs, room)
    except ProtocolError:
        assert any(len(codec.encode_events([e])) > room for e in evs)
        return
    assert all(0 < len(p) <= room for p in payloads)
    assert [e for p in payloads for e in codec.decode_events(p)] == evs
