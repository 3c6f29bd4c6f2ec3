"""Hypothesis fuzzes the control API over the real unix socket of a real `dungeon node` process.

Whatever a client sends, every request gets one JSON reply (an error is one line), the node
stays up, and afterwards it restarts and its log replays to the same digests: the DM's socket
cannot brick the node.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node.channels.control_schema import OPS
from node.replay import verify
from node.session import resume
from node.store import Store
from rules.intents import ALL_INTENTS

pytestmark = pytest.mark.timeout(600)

SCALARS = (st.none() | st.booleans() | st.integers(-(2**70), 2**70)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=24)
           | st.sampled_from(["crypt", "goblin:2", "monster", "spell", "flanking", "ac", "name"]))
JSON = st.recursive(SCALARS, lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=8)
INTENT_TYPES = [cls.__name__ for cls in ALL_INTENTS]
FIELDS = ["target", "value", "text", "op", "name", "cls", "spell", "what", "weapon", "level",
          "actor", "direction", "item", "kind"]
INTENTS = st.fixed_dictionaries({"type": st.sampled_from(INTENT_TYPES)},
                                optional={f: SCALARS for f in FIELDS})
SAFE_OPS = sorted(set(OPS) - {"subscribe", "encounter.estimate"})  # estimate runs 100 fights


@st.composite
def requests(draw):
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(min_size=1, max_size=40).filter(
            lambda b: b"\n" not in b and b.strip()))  # not even JSON (blank lines are skipped)
    op = draw(st.sampled_from(SAFE_OPS)) if draw(st.integers(0, 9)) else draw(st.text(max_size=12))
    # mostly the op's own argument names, each with any JSON value, sometimes a stray one
    args = {k: draw(JSON) for k in OPS.get(op, {}) if draw(st.booleans())}
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.text(max_size=6))] = draw(JSON)
    if op == "command" and draw(st.booleans()):
        args["intent"] = draw(INTENTS)
    shape = draw(st.integers(0, 9))
    return {"op": op, "args": args if shape < 8 else None if shape == 8 else [1]}


class Node:
    """`dungeon node` on the loopback radio, and a blocking JSON-lines client on its socket."""

    def __init__(self, data: Path) -> None:
        self.data, self.sock_path = data, data / "control.sock"
        self.proc: subprocess.Popen | None = None
        self.conn: socket.socket | None = None
        self.buf = b""
        self.ids = 0

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir",
             str(self.data), "--node-id", "fuzz"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 30
        while True:
            assert self.proc.poll() is None, f"node exited: {self.proc.stderr.read()[-400:]}"
            assert time.monotonic() < deadline, "node did not open its socket"
            try:
                self.conn = socket.socket(socket.AF_UNIX)
                self.conn.settimeout(20)
                self.conn.connect(str(self.sock_path))
                break
            except OSError:
                time.sleep(0.05)
        assert self.ask({"op": "hello"})["ok"]

    def stop(self) -> int:
        if self.conn is not None:
            self.conn.close()
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=30)
        return self.proc.returncode

    def _line(self) -> dict:
        assert self.conn is not None
        while b"\n" not in self.buf:
            chunk = self.conn.recv(65536)
            assert chunk, "the node closed the socket"
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\n")
        return json.loads(line)

    def ask(self, req) -> dict:
        """Send one request (dict or raw bytes); the reply addressed to it (pushes skipped)."""
        assert self.conn is not None
        if isinstance(req, bytes):
            self.conn.sendall(req + b"\n")
            reply = self._line()
            assert reply["id"] is None
            return reply
        self.ids += 1
        self.conn.sendall(json.dumps({**req, "id": self.ids}).encode() + b"\n")
        while True:
            reply = self._line()
            if "push" not in reply and reply.get("id") == self.ids:
                return reply


@pytest.fixture(scope="module")
def node(tmp_path_factory):
    n = Node(tmp_path_factory.mktemp("fuzz") / "node")
    n.start()
    yield n
    if n.proc is not None and n.proc.poll() is None:
        n.stop()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(batch=st.lists(requests(), min_size=1, max_size=6))
def test_any_request_gets_one_line_and_the_node_stays_up(node, batch):
    for req in batch:
        reply = node.ask(req)
        assert isinstance(reply.get("ok"), bool)
        if not reply["ok"]:
            assert isinstance(reply["error"], str) and reply["error"]
            assert "\n" not in reply["error"] and len(reply["error"]) <= 200
            assert not reply["error"].startswith("internal error"), (req, reply)
        assert node.proc.poll() is None
    # what a restart would load, checked now: only the last session loads, so a bad one
    # must be caught before a later good one hides it
    store = Store(node.data / "dungeon.db")
    try:
        resume(store)
    finally:
        store.close()
    rep = verify(node.data / "dungeon.db")
    assert rep.ok, rep.reason


def test_after_the_fuzz_the_node_restarts_and_its_log_replays(node):
    # ordered after the fuzz in this module: whatever it stored must load and replay
    assert node.stop() == 0
    node.start()
    assert node.ask({"op": "state"})["ok"]
    assert node.stop() == 0
    rep = subprocess.run([sys.executable, "-m", "node.cli", "replay", str(node.data / "dungeon.db"),
                          "--verify"], capture_output=True, text=True, timeout=120)
    assert rep.returncode == 0, rep.stderr
