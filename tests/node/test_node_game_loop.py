"""The turn driver: monster turns via the tactician (with fallback), absent players time out."""

from __future__ import annotations

import asyncio

import pytest

from node.app import NodeApp
from node.config import load_config
from node.pipeline import Command
from node.radio.base import BROADCAST, TEXT_PORT, LoopbackTransport, Packet
from node.wiring import build_node
from rules import intents as it


class Picky:
    """A tactician standing in for the relay's: picks the last legal option, or misbehaves."""

    def __init__(self, mode: str = "ok"):
        self.mode = mode
        self.calls = 0

    async def choose(self, game, eid, options, rng):
        self.calls += 1
        if self.mode == "raise":
            raise RuntimeError("model unavailable")
        if self.mode == "slow":
            await asyncio.sleep(10)
        if self.mode == "bogus":
            return type("Fake", (), {"id": "no-such-option"})()
        return options[-1]


async def _app(tmp_path, tactician=None, **kw) -> NodeApp:
    cfg = load_config(env={}, data_dir=tmp_path / "n", auto_approve=True, coalesce_s=0.01,
                      game_seed=11, ai_delay_s=0.0, ai_budget_s=0.1, **kw)
    app = build_node(cfg, LoopbackTransport(), tactician=tactician)
    await app.start()
    return app


async def _fight(app: NodeApp) -> None:
    app.transport.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=1))
    await asyncio.sleep(0.05)
    assert app.pipeline.eids_of("!000000a1")
    for intent in (it.Dm("spawn", text="goblin", value=2), it.Dm("start_combat")):
        out = await app.pipeline.submit(Command("dm", "dm", intent))
        assert out.ok, out.error


def _rows(app: NodeApp, source: str) -> list[dict]:
    return [r.payload for r in app.store.iter_events()
            if r.type == "command" and r.payload["source"] == source]


async def _until(cond, timeout: float = 5.0) -> None:
    for _ in range(int(timeout / 0.02)):
        if cond():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not reached")


@pytest.mark.parametrize("mode", ["ok", "raise", "slow", "bogus"])
async def test_monster_turns_use_the_tactician_or_fall_back(tmp_path, mode):
    tac = Picky(mode)
    app = await _app(tmp_path, tac, turn_timeout_s=0.2)
    try:
        await _fight(app)
        await _until(lambda: len([r for r in _rows(app, "ai") if r["intent"]["type"] == "EndTurn"]) >= 2)
        assert tac.calls >= 2
        who = "tactician" if mode == "ok" else "fallback"
        assert app.loop.ai_choices[who] >= 2
        ai_actors = {r["actor"] for r in _rows(app, "ai")}
        assert ai_actors <= set(app.game.monster_eids())
    finally:
        await app.stop()


async def test_absent_player_dodges_then_ends_turn(tmp_path):
    app = await _app(tmp_path, None, turn_timeout_s=0.15)
    try:
        await _fight(app)
        thorin = app.pipeline.eids_of("!000000a1")[0]
        await _until(lambda: any(r["intent"]["type"] == "EndTurn" and r["actor"] == thorin
                                 for r in _rows(app, "system")))
        system = [(r["intent"]["type"], r["actor"]) for r in _rows(app, "system")]
        assert system[:2] == [("Dodge", thorin), ("EndTurn", thorin)]
        prompts = [p for p in app.transport.sent if p.to == 0xA1 and b"Your turn" in p.payload]
        assert prompts or app.outbox.stats()["queue"] > 0
        assert app.metrics.get("dungeon_turn_timeouts_total") >= 1
    finally:
        await app.stop()


async def test_paused_ai_waits_for_the_dm(tmp_path):
    app = await _app(tmp_path, None, turn_timeout_s=0.05)
    try:
        app.loop.pause_ai(True)
        await _fight(app)
        await asyncio.sleep(0.4)
        assert app.game.controller(app.game.current_turn()) == "monster"
        assert not _rows(app, "ai")
        app.loop.pause_ai(False)
        await _until(lambda: bool(_rows(app, "ai")))
    finally:
        await app.stop()


async def test_an_absent_player_is_warned_once_before_the_turn_times_out(tmp_path):
    app = await _app(tmp_path, None, turn_timeout_s=0.3)
    sent: list[tuple[int, str, float]] = []
    submit = app.outbox.submit_text

    def spy(to, text, **kw):
        sent.append((to, text, app.clock.monotonic()))
        submit(to, text, **kw)

    app.outbox.submit_text = spy
    try:
        await _fight(app)
        thorin = app.pipeline.eids_of("!000000a1")[0]
        await _until(lambda: any(r["intent"]["type"] == "EndTurn" and r["actor"] == thorin
                                 for r in _rows(app, "system")))
        warnings = [t for to, t, _ in sent if to == 0xA1 and "left in your turn" in t]
        assert len(warnings) == 1 and warnings[0].startswith("Thorin, ")
        assert app.metrics.get("dungeon_turn_warnings_total", outcome="queued") == 1
    finally:
        await app.stop()


async def test_no_turn_warning_when_the_airtime_budget_is_nearly_spent(tmp_path):
    app = await _app(tmp_path, None, turn_timeout_s=0.3)
    try:
        budget = app.outbox.duty_budget_s
        now = app.clock.monotonic()
        app.outbox._history.append((now, budget * 0.9))  # an hour of heavy traffic
        app.text.warn_turn(1, "Thorin, 20 s left in your turn. Then you dodge and it ends.")
        assert app.metrics.get("dungeon_turn_warnings_total", outcome="skipped") == 1
        assert app.metrics.get("dungeon_turn_warnings_total", outcome="queued") == 0
    finally:
        await app.stop()
