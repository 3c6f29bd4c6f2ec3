"""Binary play over two relay hops at 20% loss: every command acknowledged, missed frames recovered."""

from __future__ import annotations

import json
import re

import pytest
from e2ehelpers import Device, Node, Proc, dungeon, short_dir

pytestmark = [pytest.mark.timeout(480), pytest.mark.slow]

WORDS = ("amber", "basalt", "cinder", "dusk", "ember", "flint")


async def test_binary_play_over_two_lossy_hops_gets_every_command_through():
    device = Device("--nodes", "2", "--hops", "2", "--loss", "0.2", "--seed", "11")
    data = short_dir("dd-e2e-loss-")
    node = Node(device.radio("node"), data)
    play = None
    try:
        await (await node.control()).close()
        play = Proc("play", "--radio", device.radio("player1"), "--name", "Vex",
                    "--class", "rogue", stdin=True)
        joined = await play.wait_for(r"\bVex\b.*\bjoins\b", timeout=240)
        for word in WORDS:
            play.send(f"say {word}")
        play.close_stdin()
        assert play.finish(timeout=150) == 0, play.stderr()[-800:]
        assert re.search(rf"all {len(WORDS)} commands acknowledged", play.stderr())
        # Each result was broadcast once; a frame lost on the way came again on request.
        for word in WORDS:
            await play.wait_for(rf"\b{word}\b", after=joined, timeout=5)
        status = json.loads(dungeon("status", "--data-dir", str(data), "--json").stdout)
        assert status["binary"]["intents"] >= len(WORDS) + 1  # the join, then each say
    finally:
        if play is not None:
            play.stop()
        assert node.stop() == 0, node.stderr()[-800:]
        device.stop()
    print("binary:", status["binary"])
