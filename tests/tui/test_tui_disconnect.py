"""When the node goes away the console says so, marks the state not live, and reconnects when it is back."""

from __future__ import annotations

import asyncio
import json

from tuihelpers import console, node_config, until

from node.radio.base import LoopbackTransport
from node.wiring import build_node
from tui.app import DungeonConsole
from tui.combatlog import CombatLog
from tui.creatures import CreatureTable
from tui.panels import StatusBar


async def test_node_stop_shows_not_live_then_reconnects(node, data_dir):
    async with console(node) as (app, pilot):
        assert "LIVE" in str(app.query_one(StatusBar).render())
        assert app.query_one(CreatureTable).row_count == 2
        await node.stop()
        await until(pilot, lambda: not app.live, what="the console to notice")
        await until(pilot, lambda: app.link_status.attempt >= 2, what="a retry")
        status = str(app.query_one(StatusBar).render())
        assert status.startswith(" NOT LIVE ") and "retry in" in status
        assert app.query_one("#body").has_class("-offline")
        assert app.query_one("#creatures").border_subtitle == "NOT LIVE"
        assert any("node lost" in e.lines[0] for e in app.query_one(CombatLog).entries)
        # the node comes back (same data dir, same game): the console re-subscribes on its own
        again = build_node(node_config(data_dir), LoopbackTransport())
        await again.start()
        try:
            await until(pilot, lambda: app.live, timeout=5, what="the reconnect")
            assert not app.query_one("#body").has_class("-offline")
            assert str(app.query_one(StatusBar).render()).startswith(" LIVE ")
            assert [p["name"] for p in app.state["party"]] == ["Thorin", "Mira"]
        finally:
            await again.stop()


async def test_console_without_a_node_waits_and_says_so(data_dir):
    app = DungeonConsole(data_dir / "control.sock", tick=False, backoff=(0.05,))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.link_status is not None and app.link_status.attempt >= 2)
        status = str(app.query_one(StatusBar).render())
        assert "NOT LIVE" in status and "no node socket" in status
        assert app.state is None


async def test_a_hung_node_is_shown_not_live(data_dir):
    """A node that keeps its socket open but stops answering is caught by the heartbeat."""
    state = {"node_id": "hung", "live": True, "session": None, "party": [], "monsters": [],
             "seq": 1}
    answers = 0

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal answers
        while line := await reader.readline():
            req = json.loads(line)
            if answers >= 3:
                continue  # hung: reads requests, never answers
            answers += 1
            result = ({"subscribed": True} if req["op"] == "subscribe" else [] if req["op"] == "log"
                      else {"node_id": "hung", "version": "0", "session": None, "seq": 1})
            writer.write(json.dumps({"id": req["id"], "ok": True, "result": result}).encode() + b"\n")
            if req["op"] == "subscribe":
                writer.write(json.dumps({"push": "state", "state": state}).encode() + b"\n")
            await writer.drain()

    server = await asyncio.start_unix_server(serve, path=str(data_dir / "control.sock"))
    app = DungeonConsole(data_dir / "control.sock", tick=False, backoff=(0.05,),
                         heartbeat_s=0.1, heartbeat_timeout_s=0.3)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await until(pilot, lambda: app.live, what="live at first")
            await until(pilot, lambda: not app.live, what="the heartbeat to notice")
            status = str(app.query_one(StatusBar).render())
            assert "NOT LIVE" in status and "stopped answering" in status
    finally:
        server.close()
