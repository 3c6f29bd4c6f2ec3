"""`dungeon text` plays as the stock app would: a node and a player over `dungeon device`."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

import pytest


@pytest.fixture
def table(tmp_path):
    """Simulated radios on free ports and a node on the first; yields (node id, player spec)."""
    device = subprocess.Popen([sys.executable, "-m", "node.cli", "device", "--nodes", "2",
                               "--port-base", "0", "--preset", "SHORT_FAST", "--json"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    node = None
    try:
        assert device.stdout is not None
        radios = json.loads(device.stdout.readline())["radios"]
        data = tmp_path / "node"
        node = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio",
                                 f"tcp:127.0.0.1:{radios[0]['port']}", "--auto-approve",
                                 "--data-dir", str(data)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                env={**_env(), "DUNGEON_PRESET": "SHORT_FAST"})
        deadline = time.monotonic() + 30
        while not (data / "control.sock").exists():
            assert node.poll() is None and time.monotonic() < deadline, "node did not start"
            time.sleep(0.05)
        yield radios[0]["id"], f"tcp:127.0.0.1:{radios[1]['port']}"
    finally:
        for proc in (node, device):
            if proc is not None:
                proc.send_signal(signal.SIGINT)
                proc.communicate(timeout=30)


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("DUNGEON_")}


def text(spec: str, lines: str, *argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", "text", "--radio", spec,
                           "--linger", "8", *argv], input=lines, capture_output=True,
                          text=True, timeout=120, env=_env())


def test_channel_texts_and_dms_reach_the_node_and_answers_are_printed(table):
    node_id, player = table
    joined = text(player, "join Thorin fighter\nlook\n")
    assert joined.returncode == 0, joined.stderr
    lines = joined.stdout.splitlines()
    assert lines[0].startswith("connected as !") and "channel 0" in lines[0]
    assert any(line.startswith(f"[ch0] {node_id}: Thorin") for line in lines)  # the join
    assert any(line.startswith(f"[ch0] {node_id}: ") and "exits" in line for line in lines)
    # /dm with the node's id: the next line is a direct message, answered directly
    dm = text(player, f"/dm {node_id}\nhp\n")
    assert dm.returncode == 0, dm.stderr
    assert f"sending DMs to {node_id}" in dm.stdout
    assert any(line.startswith(f"[dm] {node_id}: Thorin") and "HP" in line
               for line in dm.stdout.splitlines()), dm.stdout


def test_text_needs_a_real_radio():
    proc = subprocess.run([sys.executable, "-m", "node.cli", "text", "--radio", "loopback"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("dungeon text: a text player needs a radio: "
                                   "--radio serial[:PATH] or tcp:HOST[:PORT]")
