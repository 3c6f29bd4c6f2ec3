"""`dungeon sync status|push` and `dungeon relay` as a user runs them."""

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
from synchelpers import SECRET, fill

from node.cli import main
from node.store import Store


def seed_node(tmp_path, n=40):
    data = tmp_path / "node"
    s = Store(data / "dungeon.db", synchronous="OFF")
    fill(s, n)
    s.close()
    return data


def test_status_without_a_relay_reports_the_whole_log_as_backlog(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("DUNGEON_RELAY_URL", raising=False)
    data = seed_node(tmp_path)
    assert main(["sync", "status", "--data-dir", str(data), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["online"] is False and out["backlog"] == 40 and out["acked"] is None
    assert "relay" in out["error"]


async def test_push_then_status_reads_the_relays_cursor(tmp_path, monkeypatch, capsys, relay_factory):
    data = seed_node(tmp_path)
    r = await relay_factory()
    monkeypatch.setenv("DUNGEON_NODE_ID", "node-1")
    monkeypatch.setenv("DUNGEON_RELAY_URL", r.url)
    monkeypatch.setenv("DUNGEON_RELAY_SECRET", SECRET)
    assert await asyncio.to_thread(main, ["sync", "push", "--data-dir", str(data), "--json"]) == 0
    pushed = json.loads(capsys.readouterr().out)
    assert pushed["pushed"] == 40 and pushed["backlog"] == 0 and pushed["online"]
    assert await r.relay.storage.acked("node-1") == 40
    assert await asyncio.to_thread(main, ["sync", "status", "--data-dir", str(data)]) == 0
    text = capsys.readouterr().out
    assert "cursor  40 (from relay)" in text and "backlog 0 events" in text
    assert json.loads((data / "uplink.json").read_text())["acked"] == 40


def test_relay_command_serves_health_and_stops_on_sigterm(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DUNGEON_RELAY_SECRETS": f"node-1={SECRET}"}
    env.pop("GEMINI_API_KEY", None)
    env.pop("DISCORD_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "relay", "--port", str(port),
                             "--db", str(tmp_path / "r.db")], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(100):
            try:
                resp = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        assert resp.json()["ok"] is True
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    first = json.loads(err.splitlines()[0])  # JSON logs
    assert first["msg"] == "relay listening" and first["storage"] == "sqlite"


def test_relay_refuses_to_start_without_secrets(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DUNGEON_RELAY_SECRETS"}
    proc = subprocess.run([sys.executable, "-m", "node.cli", "relay", "--db", str(tmp_path / "r.db")],
                          env=env, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 2 and "DUNGEON_RELAY_SECRETS" in proc.stderr


async def test_status_exits_non_zero_when_the_relay_refuses_the_secret(tmp_path, monkeypatch,
                                                                       capsys, relay_factory):
    data = seed_node(tmp_path)
    r = await relay_factory()
    monkeypatch.setenv("DUNGEON_NODE_ID", "node-1")
    monkeypatch.setenv("DUNGEON_RELAY_URL", r.url)
    monkeypatch.setenv("DUNGEON_RELAY_SECRET", "not-" + SECRET)
    assert await asyncio.to_thread(main, ["sync", "status", "--data-dir", str(data)]) == 1
    captured = capsys.readouterr()
    assert "offline (relay answered 401)" in captured.out
    err = captured.err.strip()
    assert err.startswith("dungeon sync: the relay at") and "refused node 'node-1'" in err
    assert len(err.splitlines()) == 1


def test_relay_whose_database_cannot_open_says_so_in_one_line(tmp_path):
    env = {**os.environ, "DUNGEON_RELAY_SECRETS": f"node-1={SECRET}"}
    env.pop("GEMINI_API_KEY", None)
    env.pop("DISCORD_TOKEN", None)
    proc = subprocess.run([sys.executable, "-m", "node.cli", "relay", "--port", "0",
                           "--db", str(tmp_path / "no-such-dir" / "r.db")],
                          env=env, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1  # not 2: the database may come back, so systemd retries
    assert proc.stderr.strip().splitlines()[-1] == \
        "dungeon relay: could not start: unable to open database file"
    assert "Traceback" not in proc.stderr
