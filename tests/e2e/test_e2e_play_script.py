"""`dungeon play` from a pipe: a script's commands either all acknowledged (exit 0) or named (exit 1)."""

from __future__ import annotations

import signal

import pytest
from e2ehelpers import Device, Node, Proc, dungeon, short_dir

pytestmark = pytest.mark.timeout(150)


async def test_commands_the_node_never_acknowledges_are_named_and_play_exits_1():
    device = Device("--nodes", "2", "--seed", "8")
    node = Node(device.radio("node"), short_dir("dd-e2e-script-"))
    play = None
    try:
        await (await node.control()).close()
        play = Proc("play", "--radio", device.radio("player1"), "--name", "Ilse",
                    "--class", "wizard", "--wait", "3", stdin=True)
        await play.wait_for(r"\bIlse\b.*\bjoins\b")
        assert node.stop(signal.SIGTERM) == 0  # the node goes away mid-game
        play.send("help")  # answered by the client itself: nothing to acknowledge
        play.send("look")
        play.send("say is anyone there")
        play.close_stdin()
        assert play.finish() == 1
        assert "never acknowledged: look; say is anyone there" in play.stderr()
        assert "Traceback" not in play.stderr()
    finally:
        if play is not None:
            play.stop()
        node.stop()
        device.stop()


def test_a_negative_wait_is_one_line_and_exit_2():
    run = dungeon("play", "--radio", "tcp:127.0.0.1:9", "--wait", "-1")
    assert run.returncode == 2
    assert run.stderr.strip() == "dungeon play: --wait -1 must be 0 seconds or more"
