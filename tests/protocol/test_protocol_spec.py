"""SPEC.md's hex test vectors, parsed out of the spec and checked against the code."""

import re
from pathlib import Path

import pytest

import protocol
from protocol import codec, frames
from protocol.frames import Frame, Kind
from rules import events, intents

SPEC = Path(protocol.__file__).with_name("SPEC.md").read_text(encoding="utf-8")
BLOCK = re.search(r"```vectors\n(.*?)```", SPEC, re.S).group(1)
VECTORS = [tuple(part.strip() for part in line.split(" | ")) for line in BLOCK.splitlines()
           if line.strip()]
NAMESPACE = {**vars(intents), **vars(events), "Frame": Frame, "Kind": Kind}
KEYS = {"signed": frames.client_key(b"secret", 2, bytes.fromhex("00000001")),
        "broadcast": frames.table_key(b"secret"), "frame": None}


def test_spec_has_vectors_of_every_kind():
    assert {v[0] for v in VECTORS} == {"intent", "events", "frame", "signed", "broadcast"}
    assert len(VECTORS) >= 25


@pytest.mark.parametrize(("kind", "expr", "hexes"), VECTORS, ids=[v[1][:50] for v in VECTORS])
def test_vector(kind, expr, hexes):
    value = eval(expr, NAMESPACE)  # the spec is ours; its expressions are plain constructors
    raw = bytes.fromhex(hexes)
    if kind == "intent":
        assert codec.encode_intent(value) == raw
        assert codec.decode_intent(raw) == value
    elif kind == "events":
        value = value if isinstance(value, list) else [value]
        assert codec.encode_events(value) == raw
        assert codec.decode_events(raw) == value
    else:
        key = KEYS[kind]
        assert frames.encode_frame(value, key) == raw
        back = frames.decode_frame(raw, key)
        assert (back.kind, back.sender_seq, back.ack, back.sack_bitmap, back.flags,
                back.payload) == (value.kind, value.sender_seq, value.ack, value.sack_bitmap,
                                  value.flags, value.payload)


def test_the_keys_the_spec_names():
    assert KEYS["signed"].hex() in SPEC and KEYS["broadcast"].hex() in SPEC


def test_hello_and_welcome_payloads_are_laid_out_as_the_spec_says():
    hello = frames.hello_payload("Mira", b"\x01\x02\x03\x04")
    assert hello[4:] == b"\x01\x02\x03\x04Mira"
    w = frames.Welcome(hello[:4], b"\x01\x02\x03\x04", b"k" * 16, b"t" * 16, 12)
    assert frames.welcome_payload(w) == hello[:4] + b"\x01\x02\x03\x04" + b"k" * 16 + b"t" * 16 + b"\x18"
