"""Identity and hostile input: keys pinned at approval, rebinding, text_auth, fuzzed text."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from nodehelpers import ALICE, join, text_channel

from node import state_view
from node.channels.text import DM_HINT, TextChannel, sender_id
from node.config import ConfigError, load_config
from node.identity import TEXT_AUTH_RULE, fingerprint, text_auth
from node.obs.metrics import Metrics
from node.pipeline import Command, Pipeline
from node.radio.base import BROADCAST, TEXT_PORT, LoopbackTransport, Packet
from node.sim.mesh import NODE_NUM
from node.wiring import build_node
from protocol import jsonform
from rules import events as ev
from rules import intents as it

MIRA = 0xA1
K_MIRA, K_EVIL = b"M" * 32, b"E" * 32


def dm(num: int, text: str, key: bytes | None, pid: int) -> Packet:
    """A direct message to the node; `key` set as the radio sets it for a PKI DM it decrypted."""
    return Packet(num, NODE_NUM, TEXT_PORT, text.encode(), 0, id=pid, public_key=key)


def said(pipeline: Pipeline) -> list[str]:
    return [e.text for row in pipeline.store.events_after(0) if row.type == "command"
            for e in map(jsonform.load, row.payload["events"]) if isinstance(e, ev.Said)]


async def test_a_key_is_pinned_when_the_dm_approves_not_on_first_use(pipeline: Pipeline):
    pipeline.auto_approve = False
    tc, _rec = text_channel(pipeline)
    await tc.handle(dm(MIRA, "help", K_EVIL, 1))
    await tc.handle(dm(MIRA, "join Mira cleric", K_MIRA, 2))
    assert pipeline.store.public_key("!000000a1") is None  # asked, not approved: nothing pinned
    (req,) = pipeline.pending_joins()
    await pipeline.approve_join(req.id)
    assert pipeline.store.public_key("!000000a1") == K_MIRA


async def test_a_squatters_key_sent_first_does_not_lock_out_the_real_player(pipeline: Pipeline):
    pipeline.auto_approve = False
    tc, _rec = text_channel(pipeline)
    await tc.handle(dm(MIRA, "join Evil fighter", K_EVIL, 1))  # the attacker, first
    await tc.handle(dm(MIRA, "join Mira cleric", K_MIRA, 2))  # the real Mira, same number
    joins = {j.name: j for j in pipeline.pending_joins()}
    assert set(joins) == {"Evil", "Mira"}  # before: "your join request is waiting"
    # the DM approves the request whose fingerprint Mira reads out from her app
    assert joins["Mira"].fingerprint == fingerprint(K_MIRA) != joins["Evil"].fingerprint
    await pipeline.approve_join(joins["Mira"].id)
    await tc.handle(dm(MIRA, "say I am Mira", K_EVIL, 3))
    await tc.handle(dm(MIRA, "say it is me", K_MIRA, 4))
    assert said(pipeline) == ["it is me"]
    assert pipeline.metrics.get("dungeon_key_mismatch_total") == 1
    assert pipeline.metrics.get("dungeon_text_dropped_total", reason="key") == 1


async def test_a_new_node_number_with_the_pinned_key_is_the_same_player(pipeline: Pipeline):
    tc, rec = text_channel(pipeline)  # auto-approve: the key is pinned at that approval
    await tc.handle(dm(MIRA, "join Mira cleric", K_MIRA, 1))
    (eid,) = pipeline.eids_of("!000000a1")
    renumbered = 0x5EED0001  # firmware 2.8 derives the number from the key
    out = await tc.handle(dm(renumbered, "say new radio, same me", K_MIRA, 2))
    assert out is not None and out.ok and out.actor == eid
    assert pipeline.senders_of(eid) == [sender_id(renumbered)]
    assert pipeline.store.bindings() == {sender_id(renumbered): [eid]}  # kept over a restart
    assert pipeline.store.public_key(sender_id(renumbered)) == K_MIRA
    assert pipeline.store.public_key("!000000a1") is None
    await asyncio.sleep(0.05)
    assert {to for to, _, _ in rec.texts if to != BROADCAST} <= {MIRA, renumbered}
    assert any(to == renumbered for to, _, _ in rec.texts)  # her answers follow her


async def test_text_on_another_channel_index_is_ignored_and_counted(pipeline: Pipeline):
    await join(pipeline, ALICE, "Thorin")
    tc, rec = text_channel(pipeline)
    out = await tc.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"say psst", channel=3, id=9))
    assert out is None and said(pipeline) == [] and rec.texts == []
    assert pipeline.metrics.get("dungeon_text_dropped_total", reason="channel") == 1
    # a game on channel 2: its channel text plays, and so does a PKI DM, which the firmware
    # always sends on index 0
    other = TextChannel(pipeline, rec, clock=pipeline.clock, metrics=pipeline.metrics,
                        channel=2, coalesce_s=0.01)
    await other.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"say on two", channel=2, id=10))
    await other.handle(Packet(0xA1, BROADCAST, TEXT_PORT, b"say on zero", channel=0, id=11))
    await pipeline.submit(Command("dm", "dm", it.Dm("narrate", text="...")))
    await other.handle(dm(0xA1, "say by dm", b"T" * 32, 12))
    assert said(pipeline) == ["on two", "by dm"]


async def test_a_dm_table_acts_only_on_authenticated_text(pipeline: Pipeline):
    tc, rec = text_channel(pipeline)
    await tc.handle(dm(MIRA, "join Mira cleric", K_MIRA, 1))
    await pipeline.submit(Command("dm", "dm", it.Dm("house_rule", None, 1, TEXT_AUTH_RULE)))
    assert text_auth(pipeline.game) == "dm"
    forged = Packet(MIRA, BROADCAST, TEXT_PORT, b"say forged", id=2)  # anyone can type that
    assert await tc.handle(forged) is None
    assert [t for to, t, _ in rec.texts if to == MIRA][-1] == DM_HINT
    signed = Packet(MIRA, BROADCAST, TEXT_PORT, b"say signed", id=3, signed=True)
    await tc.handle(signed)  # firmware 2.8 checked the signature: authenticated
    await tc.handle(dm(MIRA, "say by dm", K_MIRA, 4))
    assert said(pipeline) == ["signed", "by dm"]
    await pipeline.submit(Command("dm", "dm", it.Dm("house_rule", None, 0, TEXT_AUTH_RULE)))
    await tc.handle(Packet(MIRA, BROADCAST, TEXT_PORT, b"say channel again", id=5))
    assert said(pipeline)[-1] == "channel again"  # "channel": today's behaviour


async def test_text_auth_is_game_state_and_replays(pipeline: Pipeline):
    await pipeline.submit(Command("dm", "dm", it.Dm("house_rule", None, 1, TEXT_AUTH_RULE)))
    again = Pipeline(pipeline.store, node_id="test", clock=pipeline.clock, metrics=Metrics())
    assert text_auth(again.game) == "dm" and again.game.digest() == pipeline.game.digest()


async def test_dungeon_node_text_auth_sets_a_new_sessions_mode(tmp_path):
    cfg = load_config(env={"DUNGEON_TEXT_AUTH": "dm"}, data_dir=tmp_path / "n")
    a = build_node(cfg, LoopbackTransport())
    await a.start()
    try:
        assert text_auth(a.game) == "dm"
        assert state_view.build(a)["settings"]["text_auth"] == "dm"
    finally:
        await a.stop()
    with pytest.raises(ConfigError):
        load_config(env={}, data_dir=tmp_path / "m", text_auth="keys")


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

    def submit_text(self, to, text, *, priority, channel=0, **_kw):
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


async def test_the_dm_changes_table_settings_over_the_control_socket(app):
    from node.control_client import ControlClient, ControlError

    async with ControlClient(app.config.control_path) as c:
        got = await c.request("settings", text_auth="dm", party_max=3)
        assert got == {"text_auth": "dm", "party_max": 3, "auto_approve": False}
        assert text_auth(app.game) == "dm" and app.pipeline.party_max == 3
        state = await c.request("state")
        assert state["settings"]["text_auth"] == "dm"
        for bad in ({"text_auth": "keys"}, {"party_max": 0}, {"auto_approve": "yes"}):
            with pytest.raises(ControlError) as err:
                await c.request("settings", **bad)
            assert "\n" not in str(err.value)
        assert (await c.request("settings"))["text_auth"] == "dm"  # nothing half-changed
    rows = [r for r in app.store.events_after(0) if r.type == "command"]
    assert rows[-1].payload["intent"]["op"] == "house_rule"  # logged, so replay sees it


async def test_the_dms_table_settings_survive_a_restart_until_the_config_changes(config):
    from dataclasses import replace

    from node.control_client import ControlClient

    first = build_node(config, LoopbackTransport())
    await first.start()
    async with ControlClient(config.control_path) as c:
        await c.request("settings", party_max=3, auto_approve=True)
    await first.stop()

    again = build_node(config, LoopbackTransport())
    await again.start()
    assert (again.pipeline.party_max, again.pipeline.auto_approve) == (3, True)
    await again.stop()

    # the DM edited the config file since: the file is the newer decision
    edited = replace(config, party_max=5)
    later = build_node(edited, LoopbackTransport())
    await later.start()
    assert (later.pipeline.party_max, later.pipeline.auto_approve) == (5, True)
    await later.stop()
