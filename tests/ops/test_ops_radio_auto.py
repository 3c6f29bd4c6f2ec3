"""`dungeon node` with no --radio: the one USB radio, or plainly none."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from node.radio.base import TransportError
from node.radio.factory import resolve_radio, usb_radios


def test_auto_takes_the_one_usb_radio_or_says_there_is_none():
    assert resolve_radio("auto", lambda: ["/dev/ttyUSB0"]) == (
        "serial:/dev/ttyUSB0", "using the USB radio at /dev/ttyUSB0 (--radio serial:PATH to choose)")
    spec, note = resolve_radio("auto", lambda: [])
    assert spec == "loopback" and note.startswith("no radio found: running with no radio")
    with pytest.raises(TransportError, match="found 2 USB radios"):
        resolve_radio("auto", lambda: ["/dev/ttyUSB0", "/dev/ttyACM0"])
    assert resolve_radio("tcp:10.0.0.2", lambda: []) == ("tcp:10.0.0.2", "")


@pytest.mark.skipif(bool(usb_radios()), reason="a USB radio is plugged into this machine")
def test_node_without_a_radio_says_so_on_stderr(tmp_path):
    data = tmp_path / "node"
    env = {k: v for k, v in os.environ.items() if not k.startswith("DUNGEON_")}
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--data-dir", str(data)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 30
        while not (data / "control.sock").exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    first = err.splitlines()[0]
    assert first.startswith("dungeon node: no radio found: running with no radio (loopback); "
                            "plug a Meshtastic radio in over USB")
