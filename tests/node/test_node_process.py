"""`dungeon node` as a process: lean imports, status over the socket, clean SIGTERM, status from the DB."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time


def test_node_process_lifecycle_and_status(tmp_path):
    data = tmp_path / "node"
    sock = data / "control.sock"
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, text=True)
    try:
        deadline = time.monotonic() + 15
        while not sock.exists() and time.monotonic() < deadline:
            assert proc.poll() is None
            time.sleep(0.02)
        live = subprocess.run([sys.executable, "-m", "node.cli", "status", "--data-dir", str(data),
                               "--json"], capture_output=True, text=True, timeout=30)
        assert live.returncode == 0, live.stderr
        st = json.loads(live.stdout)
        assert st["running"] is True and st["session"]["dungeon"] == "crypt"
        assert st["database"]["integrity"] == "ok" and st["database"]["seq"] >= 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=15)
    assert proc.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in err.splitlines()
                if line.startswith("import time:")}
    assert imported & {"textual", "discord", "google", "meshtastic"} == set()
    assert not sock.exists()
    dead = subprocess.run([sys.executable, "-m", "node.cli", "status", "--data-dir", str(data)],
                          capture_output=True, text=True, timeout=30)
    assert dead.returncode == 0 and "node not running" in dead.stdout
    assert "integrity ok" in dead.stdout
    assert "uplink:   no relay configured" in dead.stdout
    # With the uplink's cached cursor, a stopped node still reports its sync backlog.
    seq = json.loads(subprocess.run(
        [sys.executable, "-m", "node.cli", "status", "--data-dir", str(data), "--json"],
        capture_output=True, text=True, timeout=30).stdout)["database"]["seq"]
    (data / "uplink.json").write_text(json.dumps({"acked": 0}))
    cached = subprocess.run([sys.executable, "-m", "node.cli", "status", "--data-dir", str(data)],
                            capture_output=True, text=True, timeout=30)
    assert f"uplink:   offline, relay has seq 0, backlog {seq} events" in cached.stdout
