"""`dungeon device` as a subprocess: radios on ephemeral ports, reachable by the real library."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
from typing import Any

from meshtastic.tcp_interface import TCPInterface
from pubsub import pub


def test_dungeon_device_serves_radios_until_interrupted() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "device", "--nodes", "3", "--port-base", "0",
         "--preset", "SHORT_FAST", "--seed", "5", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        doc = json.loads(proc.stdout.readline())
        names = [r["name"] for r in doc["radios"]]
        assert names == ["node", "player1", "player2"]
        node_r, player_r = doc["radios"][0], doc["radios"][1]
        got: list[dict[str, Any]] = []
        seen = threading.Event()
        node_if = TCPInterface("127.0.0.1", portNumber=node_r["port"], timeout=10)
        player_if = TCPInterface("127.0.0.1", portNumber=player_r["port"], timeout=10)

        def on_text(packet: dict[str, Any], interface: Any) -> None:
            if interface is node_if:
                got.append(packet)
                seen.set()

        pub.subscribe(on_text, "meshtastic.receive.text")
        try:
            assert node_if.myInfo.my_node_num == node_r["num"]
            player_if.sendText("join", destinationId=node_r["num"])
            assert seen.wait(10)
            assert got[0]["decoded"]["text"] == "join" and got[0]["from"] == player_r["num"]
        finally:
            pub.unsubscribe(on_text, "meshtastic.receive.text")
            player_if.close()
            node_if.close()
    finally:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)  # generous: CI machines are slow and shared
    assert proc.returncode == 0, err
