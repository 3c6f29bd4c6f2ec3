"""When the node goes away the console says so, marks the state not live, and reconnects when it is back."""

from __future__ import annotations

from tuihelpers import console, node_config, until

from node.app import NodeApp
from node.radio.base import LoopbackTransport
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
        again = NodeApp(node_config(data_dir), LoopbackTransport())
        await again.start()
        try:
            await until(pilot, lambda: app.live, timeout=5, what="the reconnect")
            assert not app.query_one("#body").has_class("-offline")
            assert str(app.query_one(StatusBar).render()).startswith(" LIVE ")
            assert [p["name"] for p in app.state["party"]] == ["Thorin", "Mira"]
        finally:
            await again.stop()


async def test_console_without_a_node_waits_and_says_so(data_dir):
    from tui.app import DungeonConsole

    app = DungeonConsole(data_dir / "control.sock", tick=False, backoff=(0.05,))
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.link_status is not None and app.link_status.attempt >= 2)
        status = str(app.query_one(StatusBar).render())
        assert "NOT LIVE" in status and "no node socket" in status
        assert app.state is None
