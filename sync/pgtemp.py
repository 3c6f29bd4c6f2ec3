"""A throwaway PostgreSQL server (Debian's binaries) on 127.0.0.1, for tests and `dungeon bench sync`.

initdb refuses to run as root, so as root the server runs as the `postgres` user (or
`nobody`) in a temporary directory chowned to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

BIN_DIRS = [Path("/usr/lib/postgresql") / v / "bin" for v in ("17", "16", "15", "14")]


class PostgresUnavailable(Exception):
    """No PostgreSQL server binaries here, or the server would not start; str(err) says which."""


def find_bin() -> Path | None:
    env = os.environ.get("DUNGEON_PG_BIN")
    for d in ([Path(env)] if env else []) + BIN_DIRS:
        if (d / "initdb").exists() and (d / "pg_ctl").exists():
            return d
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_user() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            user = pwd.getpwnam(name)
            return ["runuser", "-u", name, "--"], user
    raise PostgresUnavailable("running as root and no unprivileged user to run postgres as")


class TempPostgres:
    """A running throwaway server: `dsn`, and stop()/start() to take it down and bring it
    back on the same port and data (the relay's reconnect test)."""

    def __init__(self, bindir: Path, prefix: list[str], root: Path, port: int) -> None:
        self.bindir, self.prefix, self.root, self.port = bindir, prefix, root, port
        self.data = root / "data"
        self.dsn = f"postgresql://dungeon@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(self.prefix + [str(self.bindir / args[0]), *args[1:]],
                              capture_output=True, text=True, cwd=str(self.root))

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root / 'sock'} -c listen_addresses=127.0.0.1 -c fsync=off"
        r = self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.root / "log"),
                      "-w", "-t", "30", "start")
        if r.returncode:
            log = (self.root / "log").read_text()[-300:] if (self.root / "log").exists() else r.stderr
            raise PostgresUnavailable(f"postgres did not start: {log.strip()}")
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), 0.5):
                return
            time.sleep(0.1)

    def stop(self, mode: str = "fast") -> None:
        """fast: disconnect every client and shut down; immediate: like a crash."""
        if self.data.exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


@contextlib.contextmanager
def temp_postgres_server() -> Iterator[TempPostgres]:
    """Yield a fresh server; stop it and delete its files afterwards."""
    bindir = find_bin()
    if bindir is None:
        raise PostgresUnavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
    prefix, user = _as_user()
    root = Path(tempfile.mkdtemp(prefix="dungeon-pg-"))
    sock = root / "sock"
    sock.mkdir()
    if user is not None:
        os.chmod(root, 0o700)
        for p in (root, sock):
            os.chown(p, user.pw_uid, user.pw_gid)
    server = TempPostgres(bindir, prefix, root, _free_port())
    try:
        r = server._run("initdb", "-D", str(server.data), "-A", "trust", "-U", "dungeon",
                        "--no-sync", "-E", "UTF8")
        if r.returncode:
            raise PostgresUnavailable(f"initdb failed: {r.stderr.strip()[-200:]}")
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(root, ignore_errors=True)


@contextlib.contextmanager
def temp_postgres() -> Iterator[str]:
    """Yield a DSN for a fresh server; stop it and delete its files afterwards."""
    with temp_postgres_server() as server:
        yield server.dsn
