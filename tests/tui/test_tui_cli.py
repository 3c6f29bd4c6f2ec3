"""`dungeon tui`: its arguments, the embedded node's guard, and the real command in a tmux terminal."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.cli import build_parser
from tui.embedded import _node_answers


def test_parser_has_the_tui_options():
    args = build_parser("tui").parse_args(["tui", "--data-dir", "/x", "--embedded"])
    assert args.data_dir == "/x" and args.embedded and args.radio == "sim"


async def test_embedded_refuses_a_data_dir_with_a_live_node(node, data_dir):
    assert await _node_answers(node.config.control_path)
    assert not await _node_answers(data_dir / "elsewhere.sock")


def _capture(session: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True,
                          text=True, check=False).stdout


@pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux")
@pytest.mark.parametrize("stderr", ["", "2>{dir}/tui.err"], ids=["plain", "stderr-redirected"])
def test_dungeon_tui_attaches_in_a_real_terminal(data_dir, stderr):
    """The acceptance check, shortened: a `dungeon node`, then `dungeon tui` in tmux at 120x40."""
    bindir = Path(sys.executable).parent
    node = subprocess.Popen([str(bindir / "dungeon"), "node", "--radio", "sim", "--data-dir",
                             str(data_dir), "--log-level", "WARNING"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    session = f"dd-tui-{os.getpid()}"
    try:
        for _ in range(100):
            if (data_dir / "control.sock").exists():
                break
            time.sleep(0.05)
        subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "120", "-y", "40",
                        f"{bindir / 'dungeon'} tui --data-dir {data_dir} {stderr.format(dir=data_dir)}; "
                        "sleep 30"], check=True)
        screen = ""
        for _ in range(150):
            screen = _capture(session)
            if " LIVE " in screen and "Mossy Stair" in screen:
                break
            time.sleep(0.1)
        assert " LIVE " in screen and "NOT LIVE" not in screen
        assert "Traceback" not in screen
        assert len("".join(screen.split())) >= 400
        node.send_signal(signal.SIGTERM)
        node.wait(10)
        for _ in range(100):
            screen = _capture(session)
            if "NOT LIVE" in screen:
                break
            time.sleep(0.1)
        assert "NOT LIVE" in screen and "Traceback" not in screen
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], check=False,
                       capture_output=True)
        if node.poll() is None:
            node.kill()
            node.wait(5)
