"""Frames: header round trips, versioning, HMAC tags, sequence windows, fragments."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol import frames
from protocol.errors import ProtocolError
from protocol.frames import Frame, Kind

KEY = frames.client_key(b"node-secret", 3, b"\x00\x00\x00\x07")

frame_st = st.builds(
    Frame,
    version=st.just(frames.VERSION),
    kind=st.sampled_from(list(Kind)),
    sender_seq=st.integers(0, frames.MAX_SEQ),
    ack=st.none() | st.integers(0, frames.MAX_SEQ),
    sack_bitmap=st.just(0),
    flags=st.integers(0, 15),
    payload=st.binary(max_size=150),
)


@settings(max_examples=300, deadline=None)
@given(frame_st, st.integers(0, 2**32 - 1), st.booleans())
def test_frames_round_trip(frame, sack, signed):
    if frame.ack is not None:
        frame = Frame(frame.version, frame.kind, frame.sender_seq, frame.ack, sack, frame.flags,
                      frame.payload)
    key = KEY if signed else None
    raw = frames.encode_frame(frame, key)
    back = frames.decode_frame(raw, key)
    assert (back.kind, back.sender_seq, back.ack, back.sack_bitmap, back.flags, back.payload) == (
        frame.kind, frame.sender_seq, frame.ack, frame.sack_bitmap, frame.flags, frame.payload)
    assert len(back.tag) == (4 if signed else 0)


@settings(max_examples=1000, deadline=None)
@given(st.binary(max_size=240))
def test_arbitrary_bytes_decode_or_raise_protocol_error(data):
    for key in (None, KEY):
        try:
            frame = frames.decode_frame(data, key)
        except ProtocolError as err:
            assert "\n" not in str(err)
        else:
            assert len(data) <= 200 and frame.version == frames.VERSION


def test_minimal_frame_is_three_bytes():
    assert frames.encode_frame(Frame(kind=Kind.ACK, sender_seq=5)) == bytes([0x14, 0x00, 0x05])


def test_unknown_version_is_refused():
    raw = bytearray(frames.encode_frame(Frame(sender_seq=1, payload=b"\x01")))
    raw[0] = (2 << 4) | (raw[0] & 0x0F)
    with pytest.raises(ProtocolError, match="unknown protocol version 2"):
        frames.decode_frame(bytes(raw))
    with pytest.raises(ProtocolError):
        frames.encode_frame(Frame(version=2))


def test_frames_never_exceed_200_bytes():
    frames.encode_frame(Frame(payload=b"x" * 197))
    with pytest.raises(ProtocolError, match="200"):
        frames.encode_frame(Frame(payload=b"x" * 198))
    with pytest.raises(ProtocolError):
        frames.decode_frame(b"\x10\x00\x00" + b"x" * 198)


def test_tag_detects_tampering_and_wrong_keys():
    raw = frames.encode_frame(Frame(sender_seq=9, payload=b"\x03\x02\x06"), KEY)
    assert frames.decode_frame(raw, KEY).payload == b"\x03\x02\x06"
    bad = bytearray(raw)
    bad[4] ^= 1
    with pytest.raises(ProtocolError, match="signature"):
        frames.decode_frame(bytes(bad), KEY)
    other = frames.client_key(b"node-secret", 4, b"\x00\x00\x00\x07")
    with pytest.raises(ProtocolError, match="signature"):
        frames.decode_frame(raw, other)
    unsigned = frames.encode_frame(Frame(sender_seq=9, payload=b"\x03"))
    with pytest.raises(ProtocolError, match="not signed"):
        frames.decode_frame(unsigned, KEY)


def test_seq_window_rejects_replays_and_stale():
    w = frames.SeqWindow(size=32)
    assert [w.accept(s) for s in (5, 6, 5, 4, 6, 40)] == [True, True, False, True, False, True]
    assert not w.accept(8)  # 32 behind the newest: outside the window
    assert w.accept(9) and not w.accept(9)
    assert not w.accept(-1)


def test_ack_state_round_trips_through_acked():
    w = frames.SeqWindow()
    got = {10, 11, 13, 20}
    for s in got:
        w.accept(s)
    ack, sack = w.ack_state()
    assert ack == 20 and frames.acked(ack, sack) == got
    assert frames.SeqWindow().ack_state() == (None, 0)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 200), max_size=60))
def test_seq_window_accepts_each_seq_at_most_once(seqs):
    w = frames.SeqWindow()
    accepted = [s for s in seqs if w.accept(s)]
    assert len(accepted) == len(set(accepted))


def test_digest_payload():
    d = frames.state_digest(b'{"round":1}')
    assert 0 <= d < 2**32
    assert frames.parse_digest_payload(frames.digest_payload(d)) == d
    with pytest.raises(ProtocolError):
        frames.parse_digest_payload(b"\x00")


def test_fragments_reassemble_in_any_order():
    data = bytes(range(256)) * 3
    parts = frames.Fragmenter(chunk=100).split(7, data)
    assert len(parts) == 8
    r = frames.Reassembler()
    out = None
    for p in reversed(parts):
        wire = frames.encode_fragment(p)
        out = r.add(frames.decode_fragment(wire), now=1.0)
    assert out == data and len(r) == 0


def test_missing_fragments_are_re_requested_after_idle():
    parts = frames.Fragmenter(chunk=10).split(3, b"a" * 45)
    r = frames.Reassembler(timeout=60, retry=5)
    for p in parts:
        if p.index not in (1, 3):
            r.add(p, now=0.0)
    assert r.missing(3) == [1, 3]
    assert r.rerequests(now=2.0) == []
    assert r.rerequests(now=5.0) == [(3, [1, 3])]
    assert r.rerequests(now=6.0) == []  # asked already; wait another retry period
    req = frames.encode_rerequest(3, [1, 3])
    assert frames.decode_rerequest(req) == (3, [1, 3])
    assert r.add(parts[1], now=7.0) is None
    assert r.add(parts[3], now=7.5) == b"a" * 45


def test_partials_expire():
    r = frames.Reassembler(timeout=30)
    r.add(frames.Fragment(1, 0, 2, b"x"), now=0.0)
    assert r.expire(now=10.0) == []
    assert r.expire(now=31.0) == [1] and len(r) == 0


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=40))
def test_fragment_parsers_only_raise_protocol_error(data):
    for parse in (frames.decode_fragment, frames.decode_rerequest):
        try:
            parse(data)
        except ProtocolError:
            pass


def test_unknown_kinds_cannot_be_sent_and_reset_forgets():
    with pytest.raises(ProtocolError):
        frames.encode_frame(Frame(kind=12))
    w = frames.SeqWindow()
    assert w.accept(100) and not w.accept(1)
    w.reset()
    assert w.accept(1)


@given(st.lists(st.binary(min_size=3, max_size=60).filter(lambda b: b[0] & 0x0F != Kind.BUNDLE),
                max_size=5))
def test_bundles_round_trip(parts):
    assert frames.parse_bundle(frames.bundle_payload(parts)) == parts


def test_a_bundle_inside_a_bundle_or_a_cut_one_is_refused():
    inner = frames.encode_frame(Frame(kind=Kind.BUNDLE, sender_seq=1,
                                      payload=frames.bundle_payload([b"\x14\x00\x05"])))
    with pytest.raises(ProtocolError):
        frames.parse_bundle(frames.bundle_payload([inner]))
    with pytest.raises(ProtocolError):
        frames.parse_bundle(frames.bundle_payload([b"\x14\x00\x05"])[:-1])
    assert frames.unbundle(b"\x09\x14") == []


@given(st.lists(st.integers(3, 150), max_size=8), st.booleans())
def test_pack_keeps_order_and_fits_every_packet(sizes, signed):
    key = b"k" * 16 if signed else None
    parts = [frames.encode_frame(Frame(kind=Kind.INTENT, sender_seq=i + 1,
                                       payload=bytes([i % 7]) * max(0, n - 8)), key)
             for i, n in enumerate(sizes)]
    packed = frames.pack(parts, len(parts))
    assert [p for _, group in packed for p in group] == parts
    for data, group in packed:
        assert len(data) <= frames.MAX_FRAME
        if len(group) == 1:
            assert data == group[0]  # a lone frame goes as itself, no bundle around it
        else:
            outer = frames.decode_frame(data)  # a bundle has no tag: its frames carry theirs
            assert outer.kind == Kind.BUNDLE and frames.parse_bundle(outer.payload) == group
            assert frames.received(data, key) == [frames.decode_frame(p, key) for p in group]
    # a packet is only cut where the next frame would not fit in it too
    for (_, ga), (_, gb) in zip(packed, packed[1:], strict=False):
        with pytest.raises(ProtocolError):
            frames.encode_frame(Frame(kind=Kind.BUNDLE, sender_seq=len(parts),
                                      payload=frames.bundle_payload(ga + gb[:1])))


def test_received_opens_a_packet_into_its_frames():
    one = frames.encode_frame(Frame(kind=Kind.INTENT, sender_seq=1, payload=b"\x17"))
    two = frames.encode_frame(Frame(kind=Kind.INTENT, sender_seq=2, payload=b"\x16"))
    ((bundle, _),) = frames.pack([one, two], 2)
    assert [f.sender_seq for f in frames.received(one)] == [1]
    assert [f.sender_seq for f in frames.received(bundle)] == [1, 2]
    assert frames.received(b"\xff\x00") == []
    # a garbled frame inside a bundle is skipped, the rest still arrive
    outer = frames.encode_frame(Frame(kind=Kind.BUNDLE, sender_seq=2,
                                      payload=frames.bundle_payload([b"\xf0\x00\x01", two])))
    assert [f.sender_seq for f in frames.received(outer)] == [2]


def test_snapshot_blob_round_trips_and_garbage_is_a_protocol_error():
    blob = frames.snapshot_blob(42, b'{"room": 3}')
    assert blob[:4] == (42).to_bytes(4, "big")
    assert frames.parse_snapshot_blob(blob) == (42, b'{"room": 3}')
    for bad in (b"\x00\x01", b"\x00\x00\x00\x01not deflated"):
        with pytest.raises(ProtocolError):
            frames.parse_snapshot_blob(bad)


def test_client_keys_differ_by_client_and_by_nonce_and_verify_only_their_frames():
    keys = {frames.client_key(b"s", c, n) for c in (1, 2) for n in (b"\0\0\0\1", b"\0\0\0\2")}
    assert len(keys) == 4 and all(len(k) == 16 for k in keys)
    assert frames.table_key(b"s") not in keys and frames.table_key(b"s") != frames.table_key(b"t")
    raw = frames.encode_frame(Frame(sender_seq=1, payload=b"\x01"), KEY)
    assert frames.verify(raw, KEY)
    assert not any(frames.verify(raw, k) for k in keys)
    assert not frames.verify(frames.encode_frame(Frame(sender_seq=1, payload=b"\x01")), KEY)
    with pytest.raises(ProtocolError):
        frames.client_key(b"s", 1, b"\0")


def test_a_forged_frame_inside_a_bundle_is_skipped_the_rest_verify():
    good = frames.encode_frame(Frame(kind=Kind.INTENT, sender_seq=1, payload=b"\x01"), KEY)
    forged = frames.encode_frame(Frame(kind=Kind.INTENT, sender_seq=2, payload=b"\x01"), b"x" * 16)
    ((data, _),) = frames.pack([forged, good], 2)
    assert [f.sender_seq for f in frames.received(data, KEY)] == [1]


@given(st.text(max_size=30), st.binary(min_size=4, max_size=4), st.integers(-5, 10**6))
def test_hello_and_welcome_round_trip(name, nonce, eid):
    hello = frames.parse_hello(frames.hello_payload(name, nonce))
    assert (hello.nonce, hello.name) == (nonce, name)
    w = frames.Welcome(hello.table, nonce, b"k" * 16, b"t" * 16, eid)
    assert frames.parse_welcome(frames.welcome_payload(w)) == w
    with pytest.raises(ProtocolError):
        frames.parse_welcome(frames.welcome_payload(w) + b"\x00")


@given(st.lists(st.integers(3, 60), min_size=1, max_size=3), st.integers(0, 210))
def test_padding_grows_a_bundle_to_the_size_asked_and_a_receiver_reads_only_its_frames(sizes, size):
    key = frames.table_key(b"secret")
    parts = [frames.encode_frame(Frame(kind=Kind.EVENTS, sender_seq=i + 1, payload=bytes(n)), key)
             for i, n in enumerate(sizes)]
    padded = frames.pad(parts, len(parts), size, key)
    plain = frames.bundle(parts, len(parts))
    if plain is None:  # the frames alone are over one packet: nothing to grow
        assert padded is None
        return
    if padded is None:  # only when that size cannot be one packet
        assert size > frames.MAX_FRAME - 2
        return
    assert len(padded) >= size and len(padded) <= frames.MAX_FRAME
    if len(plain) >= size:
        assert padded == plain  # long enough already: nothing added
    got = frames.received(padded, key)
    assert [f.payload for f in got if f.kind == Kind.EVENTS] == [bytes(n) for n in sizes]
    assert all(f.kind == Kind.EVENTS for f in got[:len(sizes)])
    assert all(f.kind == Kind.ACK and not any(f.payload) for f in got[len(sizes):])
