"""The control socket: 0600, request/response round trips, pushes, malformed input, DM actions."""

from __future__ import annotations

import asyncio
import json
import stat

import pytest

from node.control_client import ControlClient, ControlError
from node.radio.base import BROADCAST, TEXT_PORT, Packet


async def test_socket_is_private_and_hello_works(app):
    mode = stat.S_IMODE(app.config.control_path.stat().st_mode)
    assert mode == 0o600
    async with ControlClient(app.config.control_path) as c:
        hello = await c.request("hello")
        assert hello["node_id"] == app.config.node_id
        assert hello["session"] == app.pipeline.session.id
        state = await c.request("state")
        assert state["session"]["status"] == "running"
        assert state["seq"] == app.store.max_seq()


async def test_malformed_lines_get_an_error_and_the_connection_stays(app):
    reader, writer = await asyncio.open_unix_connection(str(app.config.control_path))
    writer.write(b"this is not json\n")
    writer.write(b'{"id": 3, "op": "no.such.op"}\n')
    writer.write(b'{"id": 4, "op": "hello"}\n')
    await writer.drain()
    replies = [json.loads(await reader.readline()) for _ in range(3)]
    writer.close()
    assert replies[0]["id"] is None and not replies[0]["ok"]
    assert replies[1] == {"id": 3, "ok": False, "error": "unknown op 'no.such.op'"}
    assert replies[2]["ok"] and replies[2]["result"]["node_id"]


async def test_join_approval_and_pushes(app):
    transport = app.transport
    async with ControlClient(app.config.control_path) as dm, \
            ControlClient(app.config.control_path) as watcher:
        pushes = watcher.subscribe()
        first = await anext(pushes)
        assert first["push"] == "state"
        transport.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"join Thorin fighter", id=1))
        for _ in range(50):
            joins = (await dm.request("state"))["joins"]
            if joins:
                break
            await asyncio.sleep(0.01)
        assert joins[0]["name"] == "Thorin" and joins[0]["sender"] == "!000000a1"
        res = await dm.request("join.approve", id=joins[0]["id"])
        assert isinstance(res["eid"], int)
        events_push = None
        for _ in range(10):
            msg = await asyncio.wait_for(anext(pushes), 2)
            if msg["push"] == "events":
                events_push = msg
                break
        assert events_push["seq"] == res["seq"]
        assert any(e["type"] == "Joined" for e in events_push["events"])
        state = await dm.request("state")
        assert [p["name"] for p in state["party"]] == ["Thorin"]
        assert state["party"][0]["sender"] == "!000000a1"
        with pytest.raises(ControlError, match="no join request"):
            await dm.request("join.approve", id=999)


async def test_dm_command_narrate_and_errors(app):
    async with ControlClient(app.config.control_path) as c:
        res = await c.request("narrate", text="Water drips somewhere.")
        assert res["bytes"] == len(b"Water drips somewhere.")
        res = await c.request("command", intent={"type": "Dm", "op": "narrate", "text": "Cold."})
        assert res["seq"] == app.store.max_seq()
        with pytest.raises(ControlError, match="unknown message type"):
            await c.request("command", intent={"type": "Fireball9000"})
        with pytest.raises(ControlError):
            await c.request("sheet.get", eid=12345)
        assert (await c.request("ai.pause"))["ai_paused"] is True
        assert (await c.request("ai.resume"))["ai_paused"] is False


async def test_session_pause_blocks_players_not_the_dm(app):
    async with ControlClient(app.config.control_path) as c:
        assert (await c.request("session.pause"))["status"] == "paused"
        app.transport.inject(Packet(0xA1, BROADCAST, TEXT_PORT, b"look", id=5))
        await asyncio.sleep(0.05)
        assert (await c.request("narrate", text="Paused."))["bytes"] == 7
        assert (await c.request("session.resume"))["status"] == "running"
        audit = await c.request("audit")
        assert any("paused" in row["reason"] for row in audit)


async def test_link_code_binds_a_discord_user(app):
    async with ControlClient(app.config.control_path) as c:
        await c.request("command", intent={"type": "Join", "name": "Mira", "cls": "cleric"})
        eid = (await c.request("state"))["party"][0]["eid"]
        code = (await c.request("link.code", eid=eid))["code"]
    out = await app.pipeline.link("discord:42", code, key="discord:42:link")
    assert out.ok and app.pipeline.eids_of("discord:42") == [eid]
    again = await app.pipeline.link("discord:42", code, key="discord:42:link")
    assert again.duplicate
    bad = await app.pipeline.link("discord:43", code)
    assert not bad.ok and "expired" in bad.error


async def test_new_session_resets_the_party_and_replays(app):
    from node.replay import verify

    async with ControlClient(app.config.control_path) as c:
        await c.request("command", intent={"type": "Join", "name": "Mira", "cls": "cleric"})
        old = (await c.request("hello"))["session"]
        res = await c.request("session.start", dungeon="crypt", seed=99)
        assert res["session"] != old
        state = await c.request("state")
        assert state["session"]["id"] == res["session"] and state["party"] == []
        await c.request("command", intent={"type": "Join", "name": "Bram", "cls": "rogue"})
        with pytest.raises(ControlError):
            await c.request("session.start", dungeon="no-such-dungeon")
    rep = verify(app.config.db_path)
    assert rep.ok and rep.digest == app.game.digest()


async def test_live_log_and_json_logs(app, capsys):
    import io
    import logging

    from node.live_log import LiveLog
    from node.obs.logging_setup import JsonFormatter

    buf = io.StringIO()
    live = LiveLog(app.pipeline, stream=buf)
    async with ControlClient(app.config.control_path) as c:
        await c.request("narrate", text="The torches gutter.")
    live.close()
    assert "The torches gutter." in buf.getvalue() and buf.getvalue().startswith("#")
    rec = logging.LogRecord("node", logging.INFO, "x", 1, "seq %d", (5,), None)
    rec.session = "s1"
    assert json.loads(JsonFormatter().format(rec)) | {"ts": 0} == {
        "ts": 0, "level": "info", "logger": "node", "msg": "seq 5", "session": "s1"}


async def test_sheet_get_names_gear_worn_without_proficiency(app):
    async with ControlClient(app.config.control_path) as c:
        for name, cls in (("Zed", "wizard"), ("Bo", "fighter")):
            await c.request("command", intent={"type": "Join", "name": name, "cls": cls})
        party = {p["name"]: p["eid"] for p in (await c.request("state"))["party"]}
        for eid in party.values():  # the same chain mail on both
            await c.request("command", intent={"type": "Dm", "op": "give_item", "target": eid,
                                               "text": "chain mail"})
            await c.request("command", intent={"type": "Use", "item": "chain mail"},
                            actor=eid)
        zed = await c.request("sheet.get", eid=party["Zed"])
        bo = await c.request("sheet.get", eid=party["Bo"])
    assert zed["gear"] == {"armor": "chain mail", "shield": False, "unskilled": ["chain mail"]}
    assert bo["gear"]["unskilled"] == [] and bo["gear"]["armor"] == "chain mail"


async def test_sheet_edit_history_and_revert(app):
    async with ControlClient(app.config.control_path) as c:
        await c.request("command", intent={"type": "Join", "name": "Mira", "cls": "cleric"})
        eid = (await c.request("state"))["party"][0]["eid"]
        sheet = await c.request("sheet.get", eid=eid)
        assert sheet["version"] == 1
        ac = sheet["sheet"]["ac"]
        assert (await c.request("sheet.edit", eid=eid, field="ac", value=ac + 2))["version"] == 2
        assert (await c.request("sheet.get", eid=eid))["sheet"]["ac"] == ac + 2
        res = await c.request("sheet.revert", eid=eid, version=1)
        assert res["version"] == 3 and res["edits"] == [f"ac={ac}"]
        assert (await c.request("sheet.get", eid=eid))["sheet"]["ac"] == ac
        history = await c.request("sheet.history", eid=eid)
        assert [h["version"] for h in history] == [1, 2, 3]
        assert history[1]["change"]["intent"]["text"] == f"ac={ac + 2}"
        hits = await c.request("srd.search", kind="monster", query="goblin")
        assert hits[0]["name"] == "Goblin" and hits[0]["cr"] == 0.25


async def test_a_request_after_the_node_went_away_fails_fast(config):
    from node.radio.base import LoopbackTransport
    from node.wiring import build_node

    a = build_node(config, LoopbackTransport())
    await a.start()
    c = await ControlClient(a.config.control_path).connect()
    assert (await c.request("hello"))["node_id"] == config.node_id
    await a.stop()
    await asyncio.sleep(0.05)  # let the client's reader see the socket close
    with pytest.raises(ConnectionError):
        await asyncio.wait_for(c.request("state"), 2)
    await c.close()


async def test_log_returns_recent_results_like_pushes(app):
    async with ControlClient(app.config.control_path) as c:
        first = await c.request("narrate", text="Rain on the stones.")
        assert first["bytes"] > 0
        await c.request("narrate", text="Thunder.")
        rows = await c.request("log", limit=1)
        assert len(rows) == 1 and any("Thunder." in line for line in rows[0]["lines"])
        everything = await c.request("log")
        assert any("Rain on the stones." in line for r in everything for line in r["lines"])
        latest = everything[-1]["seq"]
        assert await c.request("log", after=latest) == []


HOUND = {"name": "Marsh Hound", "armor_class": 12, "hit_points": 16, "challenge_rating": 0.5,
         "abilities": {"str": 13, "dex": 14, "con": 12, "int": 3, "wis": 12, "cha": 6},
         "actions": [{"name": "Bite", "kind": "melee", "attack_bonus": 3,
                      "damage": [{"dice": "1d8+1", "type": "piercing"}]}]}


async def test_the_encounter_builder_estimates_the_node_s_custom_monsters(tmp_path):
    from node.config import load_config
    from node.radio.base import LoopbackTransport
    from node.wiring import build_node

    (tmp_path / "hound.json").write_text(json.dumps([HOUND]))
    config = load_config(env={}, data_dir=tmp_path / "node", auto_approve=False,
                         coalesce_s=0.05, game_seed=7, monsters_path=str(tmp_path / "hound.json"))
    app = build_node(config, LoopbackTransport())
    await app.start()
    try:
        async with ControlClient(app.config.control_path) as c:
            await c.request("command", intent={"type": "Join", "name": "Bo", "cls": "fighter"})
            res = await c.request("encounter.estimate", monsters="marsh hound:4")
    finally:
        await app.stop()
    assert res["xp"] == 400  # four CR 1/2 hounds, 100 XP each (no xp given: the SRD's)
    assert res["difficulty"] == "deadly" and 0.0 <= res["party_win_rate"] <= 1.0
