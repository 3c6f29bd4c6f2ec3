"""A stored value that cannot load stops `dungeon node` with one line naming the way out and
the exit code systemd does not restart on; `--fresh` then starts a new game, keeping the log."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from node.clock import Clock
from node.obs.metrics import Metrics
from node.pipeline import Pipeline
from node.session import SESSION_ROW, StoredStateError, resume
from node.store import Store

SYSTEMD = Path(__file__).resolve().parents[2] / "systemd" / "dungeon-node.service"


async def _store_a_bad_seed(db: Path, seed) -> int:
    """What the old control op let through: the pipeline logs whatever seed it is given."""
    store = Store(db)
    clock = Clock.for_loop(asyncio.get_running_loop(), epoch=1_700_000_000.0)
    p = Pipeline(store, node_id="t", clock=clock, metrics=Metrics())
    await p.start_session("crypt", seed=7)
    s = await p.start_session("crypt", seed=seed)
    store.close()
    return s.started_seq


def _node(data: Path, *extra: str, timeout: float = 30) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                           "--data-dir", str(data), *extra],
                          capture_output=True, text=True, timeout=timeout)


def _serves(data: Path, *extra: str) -> str:
    """Start `dungeon node`, wait until its socket answers, check it is still up, stop it;
    its stderr."""
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                             "--data-dir", str(data), *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 20
        while True:
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "the node never answered"
            try:
                with socket.socket(socket.AF_UNIX) as conn:
                    conn.settimeout(10)
                    conn.connect(str(data / "control.sock"))
                    conn.sendall(b'{"id": 1, "op": "hello"}\n')
                    if json.loads(conn.makefile().readline())["ok"]:
                        break
            except OSError:
                time.sleep(0.05)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=20)
    return err


@pytest.mark.parametrize("seed", ["abc", 1.5, True])
async def test_resume_names_the_row_and_the_way_out(tmp_path, seed):
    seq = await _store_a_bad_seed(tmp_path / "d.db", seed)
    store = Store(tmp_path / "d.db")
    with pytest.raises(StoredStateError) as info:
        resume(store)
    store.close()
    msg = str(info.value)
    assert f"seq {seq}" in msg and "--fresh" in msg and "dungeon backup restore" in msg
    assert "\n" not in msg


async def test_node_exits_78_in_one_line_then_fresh_starts_a_new_game(tmp_path):
    data = tmp_path / "node"
    data.mkdir()
    bad_seq = await _store_a_bad_seed(data / "dungeon.db", "abc")
    first = _node(data)
    assert first.returncode == 78
    lines = [x for x in first.stderr.splitlines() if x.strip()]
    assert lines[-1].startswith("dungeon node: the stored game cannot load (session at seq")
    assert "Traceback" not in first.stderr and "--fresh" in lines[-1]
    again = _node(data)  # what systemd would do, if it restarted: the same, never a loop
    assert again.returncode == 78
    replay = subprocess.run([sys.executable, "-m", "node.cli", "replay", str(data / "dungeon.db"),
                             "--verify"], capture_output=True, text=True, timeout=60)
    assert replay.returncode == 1 and "Traceback" not in replay.stderr
    assert replay.stderr.strip() == f"dungeon replay: mismatch: {lines[-1][len('dungeon node: '):]}"
    err = _serves(data, "--fresh")
    assert f"the game begun at seq {bad_seq} stays in the log" in err
    store = Store(data / "dungeon.db")
    session = resume(store)
    assert session is not None and session.started_seq > bad_seq  # a new game, old rows kept
    assert store.last_event_of_type(SESSION_ROW).seq == session.started_seq
    assert store.events_after(bad_seq - 1, 1)[0].payload["seed"] == "abc"
    store.close()
    # and a later plain start (no --fresh) resumes the new game
    _serves(data)


async def test_fresh_leaves_a_game_that_loads_alone(tmp_path):
    data = tmp_path / "node"
    data.mkdir()
    store = Store(data / "dungeon.db")
    clock = Clock.for_loop(asyncio.get_running_loop(), epoch=1_700_000_000.0)
    p = Pipeline(store, node_id="t", clock=clock, metrics=Metrics())
    good = (await p.start_session("crypt", seed=7)).id
    store.close()
    from node.cli.node_cmd import _set_aside_unloadable
    from node.config import load_config

    _set_aside_unloadable(load_config(env={}, data_dir=data))
    store = Store(data / "dungeon.db")
    assert resume(store).id == good
    store.close()


def test_the_unit_does_not_restart_on_the_exit_codes_that_need_the_dm():
    directives = {}
    for line in SYSTEMD.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            k, _, v = line.partition("=")
            directives[k.strip()] = v.split()
    assert directives["RestartPreventExitStatus"] == ["78"]
    assert directives["Restart"] == ["on-failure"]  # everything else, e.g. no radio yet, retries
    from node.cli.node_cmd import EXIT_NEEDS_DM

    assert str(EXIT_NEEDS_DM) in directives["RestartPreventExitStatus"]
