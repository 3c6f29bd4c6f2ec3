"""The DM's console on an installed node: control.sock opens to control_group's members."""

from __future__ import annotations

import grp
import os
import signal
import stat
import subprocess
import sys
import time


def test_control_socket_is_0660_in_the_control_group(tmp_path):
    data = tmp_path / "node"
    group = grp.getgrgid(os.getgid()).gr_name
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DUNGEON_")},
           "DUNGEON_CONTROL_GROUP": group}
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                             "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, text=True)
    try:
        sock = data / "control.sock"
        deadline = time.monotonic() + 30
        while not sock.exists():
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.02)
        time.sleep(0.2)  # the mode is set right after the bind
        st = sock.stat()
        assert stat.S_IMODE(st.st_mode) == 0o660 and st.st_gid == os.getgid()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert proc.returncode == 0
