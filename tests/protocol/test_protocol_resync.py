"""Client-side gap tracking: what is missing, and the RESYNC that asks for it."""

from hypothesis import given
from hypothesis import strategies as st

from protocol import frames
from protocol.resync import (
    BACKOFF_S,
    FAR_BEHIND,
    FIRST_WAIT_S,
    JITTER_S,
    MAX_BACKOFF_S,
    TURN_S,
    BroadcastGaps,
    wait_s,
)


def test_gaps_between_floor_and_latest_are_requested_by_offset():
    g = BroadcastGaps()
    g.start_at(10)  # joined when the node was at broadcast 10
    for seq in (11, 12, 15):
        assert g.add(seq)
    assert not g.add(12)  # a duplicate
    assert g.missing() == [13, 14]
    payload, whole = g.request()
    assert not whole and frames.decode_rerequest(payload) == (13, [0, 1])


def test_far_behind_asks_for_a_snapshot_and_a_snapshot_covers_the_gap():
    g = BroadcastGaps()
    g.saw(FAR_BEHIND + 5)
    payload, whole = g.request()
    assert whole and frames.decode_rerequest(payload)[0] == 0
    g.cover(FAR_BEHIND + 5)
    assert g.missing() == [] and g.request() is None


def test_start_at_only_applies_before_anything_arrived():
    g = BroadcastGaps()
    g.add(3)
    g.start_at(9)
    assert g.floor == 0 and g.missing() == [1, 2]


@given(st.sets(st.integers(1, 200), max_size=60), st.integers(0, 200), st.integers(0, 250))
def test_missing_is_exactly_the_unreceived_seqs_above_the_floor(got, floor, seen):
    g = BroadcastGaps()
    g.start_at(floor)
    for seq in sorted(got):
        g.add(seq)
    g.saw(seen)
    top = max([seen, *got])
    assert g.missing() == [s for s in range(floor + 1, top + 1) if s not in got]


def test_clients_take_turns_to_ask_so_one_answer_serves_all():
    firsts = [wait_s(0, slot, 0.5) for slot in (1, 2, 3, 4)]
    assert firsts == sorted(firsts)
    # each turn leaves the node time to answer before the next client would ask
    assert all(b - a >= TURN_S - JITTER_S for a, b in zip(firsts, firsts[1:], strict=False))
    assert wait_s(0, 1, 0.0) == FIRST_WAIT_S and wait_s(0, None, 0.0) == FIRST_WAIT_S


@given(st.integers(1, 20), st.integers(1, 15), st.floats(0, 0.999))
def test_asking_again_backs_off_but_never_past_the_cap(attempt, slot, draw):
    w = wait_s(attempt, slot, draw)
    assert BACKOFF_S <= w <= MAX_BACKOFF_S * 1.5
    assert w <= wait_s(attempt + 1, slot, draw) or w >= MAX_BACKOFF_S


@given(st.integers(1, 20), st.integers(1, 15), st.floats(0, 0.999))
def test_a_request_is_not_repeated_while_the_node_may_still_hold_its_answer(attempt, slot, draw):
    # The node keeps an asked-for frame for its next broadcast up to RESEND_HOLD_S; a repeat
    # sooner only repeats the request, and meets the node's packets at the relay.
    from protocol.session.node import RESEND_HOLD_S

    assert wait_s(attempt, slot, draw) > RESEND_HOLD_S
