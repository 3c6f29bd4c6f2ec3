"""The text channel: a re-sent command is answered from its stored result, never applied twice."""

from __future__ import annotations

from nodehelpers import ALICE, join

from node.pipeline import Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, Packet
from node.text_channel import TextChannel


class Recorder:
    """Stands in for the outbox: records what the node would transmit."""

    def __init__(self):
        self.texts = []

    def submit_text(self, to, text, *, priority, channel=0):
        self.texts.append((to, text, int(priority)))


def _channel(pipeline: Pipeline) -> tuple[TextChannel, Recorder]:
    rec = Recorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=0.01)
    return tc, rec


async def test_a_retyped_command_is_answered_privately_not_applied_again(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = _channel(pipeline)
    first = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=501))
    seq = pipeline.store.max_seq()
    # the same command again under a new packet id, spelled differently: the player's retry
    again = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"LOOK", id=502))
    assert first is not None and first.ok and not first.duplicate
    assert again is not None and again.duplicate
    assert pipeline.store.max_seq() == seq
    assert tc.repeats == 1
    private = [t for to, t, _ in rec.texts if to == 0xA1]
    assert private and private[-1] in first.lines


async def test_a_different_command_in_between_ends_the_repeat(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, _rec = _channel(pipeline)
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=601))
    await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"hp", id=602))
    seq = pipeline.store.max_seq()
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=603))
    assert out is not None and out.ok and not out.duplicate
    assert pipeline.store.max_seq() == seq + 1
    assert tc.repeats == 0
