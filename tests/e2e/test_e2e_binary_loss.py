"""Binary play over two relay hops at 20% loss: every command acknowledged, missed frames recovered."""

from __future__ import annotations

import json
import re

import pytest
from e2ehelpers import Device, Node, Proc, dungeon, short_dir

pytestmark = [pytest.mark.timeout(600), pytest.mark.slow]

WORDS = ("amber", "basalt", "cinder")


async def test_binary_play_over_two_lossy_hops_gets_every_command_through():
    device = Device("--nodes", "2", "--hops", "2", "--loss", "0.2", "--seed", "11")
    data = short_dir("dd-e2e-loss-")
    node = Node(device.radio("node"), data)
    play = None
    try:
        await (await node.control()).close()
        # The whole script at once: play joins first, then sends each line as it reads it.
        # Two lossy hops can take a command a minute or more: a wider wait than the default.
        play = Proc("play", "--radio", device.radio("player1"), "--name", "Vex",
                    "--class", "rogue", "--wait", "180", stdin=True)
        for word in WORDS:
            play.send(f"say {word}")
        play.close_stdin()
        assert play.finish(timeout=500) == 0, play.stderr()[-800:]
        assert re.search(rf"all {len(WORDS)} commands acknowledged", play.stderr())
        # Each result was broadcast once; a frame lost on the way came again on request.
        for word in WORDS:
            await play.wait_for(rf"\b{word}\b", timeout=5)
        status = json.loads(dungeon("status", "--data-dir", str(data), "--json").stdout)
        assert [p["name"] for p in status["players"]] == ["Vex"]
    finally:
        if play is not None:
            play.stop()
        assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
