"""Identity and hostile input: key pinning, restart resume, and fuzzed text never changes the game."""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.channels.text import TextChannel
from node.pipeline import Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, LoopbackTransport, Packet
from node.wiring import build_node


async def test_a_different_key_from_a_pinned_radio_is_refused(app):
    t = app.transport
    t.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"say hi", id=1, public_key=b"K" * 32))
    await asyncio.sleep(0.02)
    assert app.store.public_key("!000000a1") == b"K" * 32
    t.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Evil fighter", id=2, public_key=b"X" * 32))
    await asyncio.sleep(0.02)
    assert app.metrics.get("dungeon_key_mismatch_total") == 1
    assert not app.pipeline.joins  # the impostor's join never reached the DM
    t.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=3, public_key=b"K" * 32))
    await asyncio.sleep(0.02)
    assert [j.name for j in app.pipeline.joins.values()] == ["Thorin"]


async def test_session_resumes_after_restart(config):
    a = build_node(config, LoopbackTransport())
    await a.start()
    req = None
    a.transport.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=1))
    await asyncio.sleep(0.02)
    req = next(iter(a.pipeline.joins))
    await a.pipeline.approve_join(req)
    sid, digest, seq = a.pipeline.session.id, a.game.digest(), a.store.max_seq()
    await a.stop()
    b = build_node(config, LoopbackTransport())
    await b.start()
    try:
        assert (b.pipeline.session.id, b.game.digest(), b.store.max_seq()) == (sid, digest, seq)
        assert b.pipeline.eids_of("!000000a1")
    finally:
        await b.stop()


class Recorder:
    def __init__(self):
        self.texts = []

    def submit_text(self, to, text, *, priority, channel=0):
        self.texts.append((to, text))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.one_of(st.binary(max_size=260), st.text(max_size=120).map(str.encode)))
async def test_fuzzed_text_never_changes_state_unless_valid(pipeline: Pipeline, payload: bytes):
    pipeline.auto_approve = False
    pipeline.rate_burst = 10**6  # let every example reach the parser and the rules
    rec = Recorder()
    tc = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics, coalesce_s=60)
    before = (pipeline.store.count_events(), pipeline.game.digest())
    # an unjoined radio: whatever it sends, nothing but a join request or a reply may come of it
    out = await tc.handle(Packet(0xC3, BROADCAST, TEXT_PORT, payload, id=0))
    assert (pipeline.store.count_events(), pipeline.game.digest()) == before
    for to, text in rec.texts:
        assert to == 0xC3 and "\n" not in text and len(text.encode()) <= 200
    assert out is None or not out.ok or out.private


def test_a_link_code_outlives_a_restart_and_still_works_once(store):
    from node.clock import Clock
    from node.identity import LinkCodes

    class Wall(Clock):
        def __init__(self) -> None:
            self.t = 1_700_000_000.0

        def now(self) -> float:
            return self.t

        def monotonic(self) -> float:
            return 0.0  # a restarted process: its monotonic clock starts again

    clock = Wall()
    first = LinkCodes(clock, store, ttl_s=600)
    code, stale = first.issue(7).code, first.issue(8).code
    clock.t += 300
    again = LinkCodes(clock, store, ttl_s=600)  # the node came back up
    assert again.redeem(code.lower()) == 7
    assert LinkCodes(clock, store).redeem(code) is None  # used up, for good
    clock.t += 301
    assert LinkCodes(clock, store).redeem(stale) is None  # ten minutes are over
