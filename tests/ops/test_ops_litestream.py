"""Litestream with the real binary: replicate while writing, kill -9 everything, restore.

What "acknowledged" means here: the writer prints a seq only after its commit
returned (synchronous=FULL, so it is on the Pi's disk). Litestream ships the WAL
asynchronously: it notices new frames within its 1 s monitor interval and uploads
them on the replica's sync-interval (1 s in our config). So the promise a backup
can keep is "every event acknowledged at least LAG seconds before the crash is in
the replica"; events acknowledged in the last moments may be missing, and that is
the documented window, not a failure. The tests wait LAG = 4 s (twice the sum of
both intervals) between their cut-off and the kill. One test writes through
node.store.Store directly (fat rows, so SQLite checkpoints mid-run); the other
drives the real `dungeon node` process through its control socket, so the restore
is also checked by replaying the game log.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from node.backup import find_litestream, litestream_config, verify_db
from node.cli import main
from node.control_client import ControlClient, ControlError
from node.store import Store, Write

LAG_S = 4.0
WRITER = r"""
import sys, time
from node.store import Store, Write
s = Store(sys.argv[1])
seq = s.max_seq()
pad = "x" * 3000  # fat rows so the WAL crosses SQLite's auto-checkpoint while we write
while True:
    seq += 1
    s.commit("node-a", Write(seq=seq, ts=time.time(), type="Test", payload={"n": seq, "pad": pad}))
    print(seq, flush=True)
    time.sleep(0.002)
"""


def _kill(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


@pytest.fixture
def litestream() -> str:
    exe = find_litestream()
    out = subprocess.run([exe, "version"], capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stdout.strip().startswith(("0.", "v0."))
    return exe


def test_kill_9_then_restore_keeps_every_acknowledged_event(tmp_path: Path, litestream: str):
    db = tmp_path / "data" / "dungeon.db"
    Store(db).close()  # the schema exists before Litestream first looks
    replica = tmp_path / "replica"
    config = tmp_path / "litestream.yml"
    config.write_text(litestream_config(db, f"file://{replica}", sync_interval_s=1))
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    acks: list[int] = []
    with open(tmp_path / "litestream.log", "w") as log:
        repl = subprocess.Popen([litestream, "replicate", "-config", str(config)],
                                stdout=log, stderr=subprocess.STDOUT)
        writer = subprocess.Popen([sys.executable, "-c", WRITER, str(db)],
                                  stdout=subprocess.PIPE, text=True, env=env)
        reader = threading.Thread(target=lambda: acks.extend(int(x) for x in writer.stdout),
                                  daemon=True)
        reader.start()
        try:
            time.sleep(2.5)
            assert writer.poll() is None and repl.poll() is None, "a process died early"
            cutoff = acks[-1] if acks else 0
            time.sleep(LAG_S)
        finally:
            _kill(writer)
            _kill(repl)
    reader.join(timeout=5)
    assert cutoff > 50, f"the writer acknowledged only {cutoff} events"
    last_ack = acks[-1]

    # The node's own disk kept everything it acknowledged (FULL sync, WAL).
    local = verify_db(db, replay=False)
    assert local.integrity == "ok" and local.gapless and local.max_seq >= last_ack

    restored = tmp_path / "restored" / "dungeon.db"
    rc = main(["backup", "restore", "--replica", f"file://{replica}", "--to", str(restored),
               "--no-replay", "--json"])
    assert rc == 0, (tmp_path / "litestream.log").read_text()[-2000:]
    r = verify_db(restored, replay=False)
    assert r.integrity == "ok"
    assert r.gapless, f"{r.events} events but max seq {r.max_seq}"
    assert r.max_seq >= cutoff, f"acknowledged seq {cutoff} missing: replica ends at {r.max_seq}"
    # Not an assertion on speed: print the lag so a reader can see the window.
    print(f"acked at cutoff {cutoff}, at kill {last_ack}, restored up to {r.max_seq}")


def test_restore_refuses_to_overwrite(tmp_path: Path, capsys, litestream: str):
    target = tmp_path / "exists.db"
    target.write_bytes(b"precious")
    rc = main(["backup", "restore", "--replica", f"file://{tmp_path}/r", "--to", str(target)])
    assert rc == 1
    assert "exists" in capsys.readouterr().err
    assert target.read_bytes() == b"precious"


def test_restore_from_an_empty_replica_fails_cleanly(tmp_path: Path, capsys, litestream: str):
    rc = main(["backup", "restore", "--replica", f"file://{tmp_path}/nothing",
               "--to", str(tmp_path / "out.db")])
    assert rc == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("backup restore: litestream restore failed") and "\n" not in err


def test_restore_via_config_file(tmp_path: Path, capsys, litestream: str):
    db = tmp_path / "dungeon.db"
    store = Store(db)
    for seq in range(1, 6):
        store.commit("n", Write(seq=seq, ts=0.0, type="Test", payload={"n": seq}))
    config = tmp_path / "ls.yml"
    assert main(["backup", "config", "--db", str(db), "--replica", f"file://{tmp_path}/rep",
                 "--out", str(config)]) == 0
    once = subprocess.run([litestream, "replicate", "-config", str(config), "-once"],
                          capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    capsys.readouterr()
    rc = main(["backup", "restore", "--config", str(config), "--to", str(tmp_path / "r.db"),
               "--no-replay", "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert rc == 0
    assert doc["ok"] and doc["events"] == 5 and doc["integrity"] == "ok"


async def _connect_node(sock: Path, proc: subprocess.Popen) -> ControlClient:
    for _ in range(1000):
        if proc.poll() is not None:
            raise AssertionError(f"node exited: {proc.stderr.read().decode()[-500:]}")
        if sock.exists():
            try:
                client = await ControlClient(sock).connect()
                await client.request("hello")
                return client
            except (OSError, ConnectionError):
                pass
        await asyncio.sleep(0.01)
    raise AssertionError("node did not become ready")


@pytest.mark.timeout(120)
async def test_node_session_survives_kill_9_via_litestream(tmp_path: Path, litestream: str, capsys):
    """The real node process, driven through its control socket, backed up by Litestream."""
    data = tmp_path / "node"
    node = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir", str(data),
         "--auto-approve", "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    repl = None
    acked: list[int] = []
    try:
        client = await _connect_node(data / "control.sock", node)
        config = tmp_path / "litestream.yml"
        config.write_text(litestream_config(data / "dungeon.db", f"file://{tmp_path}/replica"))
        repl = subprocess.Popen([litestream, "replicate", "-config", str(config)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        loop = asyncio.get_running_loop()
        start = loop.time()
        cutoff = 0
        n = 0
        try:
            while loop.time() - start < 2.5 + LAG_S:
                n += 1
                res = await client.request(
                    "command", key=f"ls-{n}",
                    intent={"type": "Dm", "op": "narrate", "text": f"The torch flickers ({n})."})
                acked.append(res["seq"])  # the node answered: committed with a full fsync
                if not cutoff and loop.time() - start >= 2.5:
                    cutoff = acked[-1]
        except (ConnectionError, ControlError, OSError) as err:
            raise AssertionError(f"node stopped answering: {err}") from err
        await client.close()
    finally:
        for proc in (node, repl):
            if proc is not None:
                _kill(proc)
    assert cutoff > 10, f"only {cutoff} commands acknowledged before the cut-off"
    restored = tmp_path / "restored.db"
    capsys.readouterr()
    rc = main(["backup", "restore", "--replica", f"file://{tmp_path}/replica",
               "--to", str(restored), "--json"])
    doc = json.loads(capsys.readouterr().out)
    assert doc["integrity"] == "ok" and doc["gapless"]
    assert doc["replay_ok"] is True, doc["replay_error"]
    assert doc["max_seq"] >= cutoff, f"acknowledged seq {cutoff} missing (replica ends at {doc['max_seq']})"
    assert rc == 0
    conn = sqlite3.connect(restored)
    seqs = {r[0] for r in conn.execute("SELECT seq FROM events")}
    conn.close()
    assert {s for s in acked if s <= cutoff} <= seqs
    print(f"node: acked {len(acked)} (cutoff seq {cutoff}, last {acked[-1]}), "
          f"restored up to {doc['max_seq']}")


def test_restore_draws_a_progress_bar_on_a_terminal(tmp_path: Path, litestream: str):
    import pty

    db = tmp_path / "dungeon.db"
    store = Store(db)
    store.commit("n", Write(seq=1, ts=0.0, type="Test", payload={}))
    store.close()
    once = subprocess.run([litestream, "replicate", "-once", str(db), f"file://{tmp_path}/rep"],
                          capture_output=True, text=True, timeout=60)
    assert once.returncode == 0, once.stderr
    master, slave = pty.openpty()
    proc = subprocess.run(
        [sys.executable, "-m", "node.cli", "backup", "restore", "--replica",
         f"file://{tmp_path}/rep", "--to", str(tmp_path / "r.db"), "--no-replay"],
        stdout=subprocess.PIPE, stderr=slave, text=True, timeout=60,
    )
    os.close(slave)
    drawn = os.read(master, 4096).decode()
    os.close(master)
    assert proc.returncode == 0
    assert "restore: verifying [" in drawn and "100.0%" in drawn
    assert "[" not in proc.stdout  # the bar never pollutes stdout
