"""Under systemd: journald priorities on every log line, and the relay's READY/WATCHDOG."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

from node.obs.logging_setup import on_journal


def _wait_for(path, proc, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert proc.poll() is None, "process exited early"
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


def test_node_logs_carry_journald_priorities_when_stderr_is_the_journal(tmp_path):
    data = tmp_path / "node"
    log_path = tmp_path / "journal"
    with log_path.open("w") as log_file:
        st = os.fstat(log_file.fileno())
        # What systemd sets when a unit's stderr is the journal: the stream's device and inode.
        env = dict(os.environ, JOURNAL_STREAM=f"{st.st_dev}:{st.st_ino}", DUNGEON_REGION="US")
        proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                                 "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                                stderr=log_file, env=env)
        try:
            _wait_for(data / "control.sock", proc)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=15)
    lines = log_path.read_text().splitlines()
    assert proc.returncode == 0, lines
    by_priority = {}
    for line in lines:
        assert line[:1] == "<" and line[2:3] == ">", line
        record = json.loads(line[3:])
        by_priority.setdefault(line[1], []).append(record)
    # The loopback radio reports EU_868 while the config says US: a warning, priority 4.
    assert any("region is EU_868 but the config says US" in r["msg"] for r in by_priority["4"])
    assert all(r["level"] == "info" for r in by_priority["6"])


def test_no_prefix_when_stderr_is_not_the_journal(tmp_path):
    with (tmp_path / "other").open("w") as f:
        st = os.fstat(f.fileno())
        assert on_journal(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        assert not on_journal(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not on_journal(f, {})


def test_relay_tells_systemd_it_is_ready_and_alive(tmp_path):
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(20)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items()
           if k not in ("GEMINI_API_KEY", "DISCORD_TOKEN", "WATCHDOG_PID")}
    env.update(DUNGEON_RELAY_SECRETS="node-1=" + "s" * 32, NOTIFY_SOCKET=str(notify),
               WATCHDOG_USEC="200000")
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "relay", "--port", str(port),
                             "--db", str(tmp_path / "relay.db")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        ready = listener.recv(256).decode()
        assert ready.startswith("READY=1\nSTATUS=listening on http://127.0.0.1:")
        assert listener.recv(256) == b"WATCHDOG=1"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
        listener.close()
    assert proc.returncode == 0
