"""README "play by hand": dungeon device, dungeon node, dungeon play (scripted) and the DM console."""

from __future__ import annotations

import asyncio
import re

import pytest
from e2ehelpers import Device, Node, Proc, short_dir

pytestmark = [pytest.mark.timeout(240), pytest.mark.slow]


async def test_a_player_joins_looks_fights_two_rounds_and_sees_the_results():
    from tui.app import DungeonConsole

    device = Device("--nodes", "3", "--seed", "4")
    data = short_dir("dd-e2e-hand-")
    # A fixed game seed: with a random one a zombie crit could kill Mira before her first turn.
    node = Node(device.radio("node"), data, env={"DUNGEON_GAME_SEED": "3"})
    play = None
    try:
        dm = await node.control()
        play = Proc("play", "--radio", device.radio("player1"), "--name", "Mira",
                    "--class", "cleric", stdin=True)
        joined = await play.wait_for(r"\bMira\b.*\bjoins\b")
        play.send("look")
        await play.wait_for(r"[Ee]xits", after=joined)

        # The DM, on the node's control socket as the console is, sets up the fight.
        for intent in ({"type": "Dm", "op": "spawn", "text": "zombie", "value": 1},
                       {"type": "Dm", "op": "start_combat"}):
            assert (await dm.request("command", intent=intent))["seq"]  # refused would raise
        state = await dm.request("state")
        foe = next(m["name"] for m in state["monsters"])
        at = joined
        for _round in range(2):
            at = await play.wait_for(r"Next:? Mira\b", after=at + 1, timeout=90)
            play.send(f"atk {foe}; end")
        # Mira's attacks were resolved and shown to her, rendered by her own client.
        seen = await play.wait_for(rf"Mira\b.*\b{foe}\b|\b{foe}\b.*\bMira\b", after=joined)
        assert seen > joined
        play.close_stdin()
        assert play.finish() == 0, play.stderr()[-800:]
        assert re.search(r"all \d+ commands acknowledged", play.stderr())

        # The DM's console, attached to the same socket, shows the player.
        console = DungeonConsole(data / "control.sock", tick=False)
        async with console.run_test(size=(120, 40)) as pilot:
            for _ in range(500):
                if console.live and (console.state or {}).get("party"):
                    break
                await pilot.pause(0.02)
            assert [p["name"] for p in console.state["party"]] == ["Mira"]
        await dm.close()
    finally:
        if play is not None:
            play.stop()
        assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
    rounds = [line for line in node.lines if re.search(r"\bbinary\b.*\bMira\b", line)]
    assert rounds  # the node's live log shows her commands came on the binary channel
    await asyncio.sleep(0)
