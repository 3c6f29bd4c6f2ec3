"""The codec and renderer on real traffic from the rules engine playing scripted fights."""

import pytest

from protocol import codec, frames, render

pytest.importorskip("rules.tactics")
pytest.importorskip("rules.game")
from node.cli.bench_protocol import build_corpus, frames_needed  # noqa: E402


@pytest.fixture(scope="module")
def corpus():
    return build_corpus(seeds=1)


def test_every_real_message_round_trips(corpus):
    assert len(corpus.batches) > 50
    for intent in corpus.intents:
        assert codec.decode_intent(codec.encode_intent(intent)) == intent
    for batch in corpus.batches:
        assert codec.decode_events(codec.encode_events(batch)) == batch


def test_real_rounds_fit_two_signed_frames(corpus):
    key = frames.client_key(b"s", 0, bytes(4))
    for seq, round_events in enumerate(corpus.rounds):
        count, largest = frames_needed(round_events)
        assert count <= 2 and largest <= frames.MAX_FRAME
        got = []
        for payload in codec.pack_events(round_events, 180):
            raw = frames.encode_frame(frames.Frame(kind=frames.Kind.EVENTS, sender_seq=seq,
                                                   payload=payload), key)
            got += codec.decode_events(frames.decode_frame(raw, key).payload)
        assert got == round_events


def test_real_batches_render_within_one_packet_each(corpus):
    for batch, view in zip(corpus.batches, corpus.views, strict=True):
        lines = render.render(batch, view)
        assert all(0 < len(line.encode()) <= 200 for line in lines)
        assert not any("#" in line for line in lines), lines  # every id had a name
        assert len(lines) <= 2
