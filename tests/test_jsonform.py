"""JSON form of intents and events: round trips, and bad input is a ProtocolError."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.errors import ProtocolError
from protocol.jsonform import dump, load
from rules import events as ev
from rules import intents as it


@pytest.mark.parametrize(
    "obj",
    [
        it.Attack(target="gob1", weapon=None),
        it.Cast(spell=3, target=7, level=2),
        it.Dm(op="damage", target=4, value=7, text="fire"),
        ev.CombatStarted(order=(3, 1, 2)),
        ev.Attacked(eid=1, target=2, nat=20, total=25, ac=15, hit=True, crit=True, using="Longsword"),
        ev.Rolled(eid=1, what="stealth", nat=12, total=15, dc=0, ok=None),
    ],
)
def test_round_trip(obj):
    assert load(dump(obj)) == obj


def test_wrong_types_are_rejected():
    with pytest.raises(ProtocolError, match="whole number"):
        load({"type": "Damaged", "target": "x", "amount": 1, "dtype": "fire", "hp": 3})
    with pytest.raises(ProtocolError, match="unknown message type"):
        load({"type": "__class__"})
    with pytest.raises(ProtocolError, match="lacks"):
        load({"type": "Attack"})


@given(st.recursive(st.none() | st.booleans() | st.integers() | st.text(),
                    lambda c: st.lists(c) | st.dictionaries(st.text(), c), max_leaves=20))
def test_any_json_loads_or_raises_protocol_error(doc):
    try:
        obj = load(doc)
    except ProtocolError as err:
        assert "\n" not in str(err)
    else:
        assert isinstance(obj, it.ALL_INTENTS + ev.ALL_EVENTS)
        assert load(dump(obj)) == obj
