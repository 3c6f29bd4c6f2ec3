"""Helpers for end-to-end tests: `dungeon` commands as real processes, read line by line."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from node.control_client import ControlClient

# Fast radios keep each recipe to seconds; the game logic and the protocol are the same.
PRESET = "SHORT_TURBO"


class Proc:
    """A `dungeon ...` subprocess whose stdout lines are collected as they arrive."""

    def __init__(self, *args: str, stdin: bool = False, env: dict[str, str] | None = None) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "node.cli", *args],
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            env={**os.environ, **(env or {})})
        self.lines: list[str] = []
        self.err: list[str] = []
        self.out_closed = False
        self._seen = threading.Condition()
        threading.Thread(target=self._pump, args=(self.proc.stdout, self.lines), daemon=True).start()
        threading.Thread(target=self._pump, args=(self.proc.stderr, self.err), daemon=True).start()

    def _pump(self, stream: Any, into: list[str]) -> None:
        for line in stream:
            with self._seen:
                into.append(line.rstrip("\n"))
                self._seen.notify_all()
        with self._seen:
            if into is self.lines:
                self.out_closed = True
            self._seen.notify_all()

    def expect(self, pattern: str, *, after: int = 0, timeout: float = 60.0) -> int:
        """Wait for a stdout line (from index `after` on) matching `pattern`; its index."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        with self._seen:
            while True:
                for i in range(after, len(self.lines)):
                    if rx.search(self.lines[i]):
                        return i
                left = end - time.monotonic()
                if left <= 0 or self.out_closed:
                    raise AssertionError(
                        f"dungeon {self.args[0]}: no line matching {pattern!r}; last lines:\n"
                        + "\n".join(self.lines[-15:]) + "\nstderr:\n" + "\n".join(self.err[-10:]))
                self._seen.wait(min(left, 0.5))

    async def wait_for(self, pattern: str, *, after: int = 0, timeout: float = 60.0) -> int:
        return await asyncio.to_thread(self.expect, pattern, after=after, timeout=timeout)

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def close_stdin(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()

    def finish(self, timeout: float = 90.0) -> int:
        """Wait for the process to exit by itself; its exit code."""
        code = self.proc.wait(timeout=timeout)
        time.sleep(0.1)  # let the pumps take the last lines
        return code

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def stderr(self) -> str:
        return "\n".join(self.err)


class Device(Proc):
    """`dungeon device`: simulated radios on ephemeral ports; radio(name) -> "tcp:..."."""

    def __init__(self, *args: str) -> None:
        super().__init__("device", "--port-base", "0", "--preset", PRESET, "--json", *args)
        self.expect(r"^\{")
        self.radios = {r["name"]: r for r in json.loads(self.lines[0])["radios"]}

    def radio(self, name: str) -> str:
        return f"tcp:127.0.0.1:{self.radios[name]['port']}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def short_dir(prefix: str) -> Path:
    """A data dir with a short path: unix socket paths are capped near 108 bytes."""
    return Path(tempfile.mkdtemp(prefix=prefix))


class Node(Proc):
    """`dungeon node` on a radio, with a health port, up once its control socket answers."""

    def __init__(self, radio: str, data_dir: Path, *args: str,
                 env: dict[str, str] | None = None) -> None:
        self.data_dir = data_dir
        self.health = free_port()
        # The node paces its outbox for its configured preset: the radios' own, as a DM sets it.
        data_dir.mkdir(parents=True, exist_ok=True)
        config = data_dir / "node.toml"
        config.write_text(f'[node]\npreset = "{PRESET}"\n')
        super().__init__("node", "--config", str(config), "--radio", radio,
                         "--data-dir", str(data_dir), "--auto-approve",
                         "--health-port", str(self.health), "--live", *args, env=env)

    async def control(self) -> ControlClient:
        try:
            return await ControlClient.when_ready(self.data_dir / "control.sock",
                                                  alive=lambda: self.proc.poll() is None,
                                                  tries=3000)
        except ConnectionError as err:
            raise AssertionError(f"{err}: {self.stderr()[-800:]}") from None

    def metrics(self) -> str:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.health}/metrics", timeout=10) as r:
            return r.read().decode()


def dungeon(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[str]:
    """Run one `dungeon` command to completion."""
    return subprocess.run([sys.executable, "-m", "node.cli", *args], capture_output=True,
                          text=True, timeout=timeout)
