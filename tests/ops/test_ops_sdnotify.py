"""sd_notify over a real unix datagram socket, path and abstract."""

from __future__ import annotations

import asyncio
import os
import socket

import pytest

from node.obs.sdnotify import Notifier, watchdog_interval_s, watchdog_loop


def _listener(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(2)
    return sock


def test_ready_and_watchdog_reach_a_path_socket(tmp_path, monkeypatch):
    path = str(tmp_path / "notify.sock")
    sock = _listener(path)
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    n = Notifier()
    assert n.enabled
    assert n.ready("serving 3 players")
    assert sock.recv(256) == b"READY=1\nSTATUS=serving 3 players"
    assert n.watchdog()
    assert sock.recv(256) == b"WATCHDOG=1"
    n.close()
    sock.close()


def test_abstract_socket_address():
    name = f"dungeon-test-{os.getpid()}"
    sock = _listener("\0" + name)
    n = Notifier("@" + name)
    assert n.stopping()
    assert sock.recv(256) == b"STOPPING=1"
    n.close()
    sock.close()


def test_no_socket_is_a_silent_no_op(monkeypatch):
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    n = Notifier()
    assert not n.enabled
    assert n.ready() is False


def test_vanished_socket_is_logged_not_raised(tmp_path, caplog):
    n = Notifier(str(tmp_path / "gone.sock"))
    assert n.watchdog() is False
    assert "sd_notify failed" in caplog.text


@pytest.mark.parametrize(
    ("usec", "pid", "expected"),
    [("30000000", None, 15.0), ("30000000", "self", 15.0), ("30000000", "1", None),
     (None, None, None), ("0", None, None), ("junk", None, None)],
)
def test_watchdog_interval(monkeypatch, usec, pid, expected):
    for key, val in (("WATCHDOG_USEC", usec), ("WATCHDOG_PID", pid)):
        if val is None:
            monkeypatch.delenv(key, raising=False)
        else:
            monkeypatch.setenv(key, str(os.getpid()) if val == "self" else val)
    assert watchdog_interval_s() == expected


async def test_watchdog_loop_pings_only_while_healthy(tmp_path):
    path = str(tmp_path / "wd.sock")
    sock = _listener(path)
    sock.setblocking(False)
    healthy = {"ok": True}
    task = asyncio.create_task(watchdog_loop(Notifier(path), 0.01, lambda: healthy["ok"]))
    await asyncio.sleep(0.1)
    healthy["ok"] = False
    await asyncio.sleep(0.03)  # let any in-flight ping land before draining
    pings = _drain(sock)
    await asyncio.sleep(0.1)
    task.cancel()
    assert pings >= 3
    assert _drain(sock) == 0
    sock.close()


def _drain(sock: socket.socket) -> int:
    n = 0
    while True:
        try:
            assert sock.recv(64) == b"WATCHDOG=1"
        except BlockingIOError:
            return n
        n += 1


@pytest.mark.timeout(60)
def test_real_node_notifies_ready_and_pings_the_watchdog(tmp_path):
    """What Type=notify + WatchdogSec in dungeon-node.service rely on."""
    import signal
    import subprocess
    import sys

    sock = _listener(str(tmp_path / "notify.sock"))
    sock.settimeout(20)
    env = dict(os.environ, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="200000")
    env.pop("WATCHDOG_PID", None)
    node = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir",
         str(tmp_path / "data"), "--log-level", "WARNING"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        first = sock.recv(256).decode()
        assert first.startswith("READY=1"), first
        assert sock.recv(256) == b"WATCHDOG=1"
        assert sock.recv(256) == b"WATCHDOG=1"
    finally:
        node.send_signal(signal.SIGTERM)
        rc = node.wait(15)
    msgs = []
    sock.settimeout(0.5)
    try:
        while True:
            msgs.append(sock.recv(256))
    except TimeoutError:
        pass
    sock.close()
    assert rc == 0
    assert b"STOPPING=1" in msgs
