"""The node's data directory and database are owner-only, whatever umask the node starts with."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

from node.store import Store


def _mode(p: Path) -> int:
    return stat.S_IMODE(p.stat().st_mode)


def test_a_new_store_is_owner_only_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0o002)
    try:
        s = Store(tmp_path / "data" / "dungeon.db")
        s.put("probe", 1)  # a write: the WAL and shared-memory files exist now
        files = [Path(f"{s.path}{x}") for x in ("", "-wal", "-shm")]
        assert all(f.exists() for f in files)
        assert _mode(tmp_path / "data") == 0o700
        assert [_mode(f) for f in files] == [0o600] * 3
        s.close()
    finally:
        os.umask(old)


def test_an_existing_world_readable_database_is_tightened(tmp_path: Path) -> None:
    db = tmp_path / "dungeon.db"
    Store(db).close()
    os.chmod(db, 0o644)
    Store(db).close()
    assert _mode(db) == 0o600


def test_dungeon_node_creates_its_data_dir_owner_only(tmp_path: Path) -> None:
    data = tmp_path / "fresh" / "node"
    db = data / "dungeon.db"
    # a node started from a shell with the usual umask, as root or a user alike
    code = "import os, sys; os.umask(0o022); from node.cli import main; sys.exit(main())"
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "node", "--radio", "loopback", "--data-dir", str(data)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not (data / "control.sock").exists():
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
            assert time.monotonic() < deadline, "the node never opened its socket"
            time.sleep(0.02)
        modes = {p.name: _mode(p) for p in (data, db, Path(f"{db}-wal"), Path(f"{db}-shm"))}
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=15)
    assert modes == {"node": 0o700, "dungeon.db": 0o600, "dungeon.db-wal": 0o600,
                     "dungeon.db-shm": 0o600}
