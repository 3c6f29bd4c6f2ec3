"""The node's SQLite event log: events, idempotency keys, snapshots, sheet history, audit, identities.

Schema changes go through sqlite-utils migrations (a schema_version table, migrations as a
list); the hot path uses the raw sqlite3 connection with constant SQL strings, which
sqlite3 keeps as prepared statements in its statement cache.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

# Durability: a Pi on flaky power must never lose an action it has acknowledged, so every
# commit is fsynced. In WAL mode synchronous=FULL syncs the WAL on each commit; NORMAL would
# only sync at checkpoints and can lose the last transactions on power loss (it stays
# consistent, but forgets acknowledged actions). `dungeon bench node` measures the cost.
SYNCHRONOUS = "FULL"


@dataclass(frozen=True, slots=True)
class EventRow:
    node_id: str
    seq: int
    ts: float
    type: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class SheetWrite:
    eid: int
    change: dict[str, Any]
    sheet: dict[str, Any]


@dataclass
class Write:
    """Everything one accepted command changes, committed in a single transaction."""

    seq: int
    ts: float
    type: str
    payload: dict[str, Any]
    key: str | None = None
    reply: dict[str, Any] | None = None
    snapshot: tuple[int, dict[str, Any]] | None = None  # (digest, state)
    sheets: list[SheetWrite] = field(default_factory=list)
    bindings: list[tuple[str, int, str]] = field(default_factory=list)  # (sender, eid, role)
    clear_bindings: bool = False  # a new session: earlier characters no longer answer to anyone
    pins: list[tuple[str, bytes]] = field(default_factory=list)  # (sender, radio public key)
    unbind: list[str] = field(default_factory=list)  # senders whose characters moved elsewhere


def _m1_initial(db: sqlite_utils.Database) -> None:
    db["events"].create(
        {"seq": int, "node_id": str, "ts": float, "type": str, "payload": str},
        pk="seq", not_null={"node_id", "ts", "type", "payload"},
    )
    db["commands"].create({"key": str, "seq": int, "reply": str}, pk="key")
    db["snapshots"].create({"seq": int, "digest": int, "state": str}, pk="seq")
    db["sheet_versions"].create(
        {"eid": int, "version": int, "seq": int, "ts": float, "change": str, "sheet": str},
        pk=("eid", "version"),
    )
    db["audit"].create(
        {"id": int, "ts": float, "source": str, "sender": str, "intent": str, "reason": str},
        pk="id",
    )
    db["identities"].create(
        {"sender": str, "public_key": bytes, "first_seen": float, "rejected": int}, pk="sender"
    )
    db["bindings"].create({"sender": str, "eid": int, "role": str, "seq": int}, pk=("sender", "eid"))
    db["bindings"].create_index(["eid"])
    db["kv"].create({"key": str, "value": str}, pk="key")


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [_m1_initial]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


def private_dir(path: Path) -> Path:
    """Create `path` owner-only (0700), whatever the umask; an existing directory is left as is
    (it may be shared on purpose, like /tmp), and its files are kept owner-only instead."""
    if not path.exists():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(path, 0o700)  # mkdir's mode is filtered by the umask, which may be odd
    return path


def _private_file(path: Path, *, create: bool = True) -> None:
    """The database holds every player's key and sheet: readable by the node's user only."""
    if create and not path.exists():
        os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    if path.exists() and stat.S_IMODE(path.stat().st_mode) != 0o600:
        os.chmod(path, 0o600)


class Store:
    """One node's database. Not thread-safe: the node uses it from the event loop only."""

    def __init__(self, path: str | Path, *, synchronous: str = SYNCHRONOUS) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        _private_file(self.path)
        # autocommit mode: transactions are explicit BEGIN IMMEDIATE ... COMMIT below
        self.conn = sqlite3.connect(
            str(self.path), isolation_level=None, check_same_thread=False, cached_statements=256
        )
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.execute("PRAGMA foreign_keys=ON")
        self.conn.execute("PRAGMA busy_timeout=5000")
        self._migrate()
        for suffix in ("-wal", "-shm"):  # SQLite gives them the database's mode; make sure
            _private_file(Path(f"{self.path}{suffix}"), create=False)
        self._max_seq = int(self.conn.execute("SELECT COALESCE(MAX(seq), 0) FROM events").fetchone()[0])

    # -- schema ---------------------------------------------------------------------------
    def _migrate(self) -> None:
        db = sqlite_utils.Database(self.conn)
        if "schema_version" not in db.table_names():
            db["schema_version"].create({"version": int})
        row = self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
        current = row[0] or 0
        for version, migrate in enumerate(MIGRATIONS, start=1):
            if version <= current:
                continue
            with self.transaction():
                migrate(db)
                self.conn.execute("INSERT INTO schema_version(version) VALUES (?)", (version,))

    def schema_version(self) -> int:
        return int(self.conn.execute("SELECT MAX(version) FROM schema_version").fetchone()[0] or 0)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # -- the event log --------------------------------------------------------------------
    def max_seq(self) -> int:
        return self._max_seq

    def next_seq(self) -> int:
        return self._max_seq + 1

    def count_events(self) -> int:
        return int(self.conn.execute("SELECT COUNT(*) FROM events").fetchone()[0])

    def commit(self, node_id: str, w: Write) -> int:
        """Append one command's row with its key, reply, snapshot, sheets and bindings, atomically."""
        if w.seq <= self._max_seq:
            raise ValueError(f"seq {w.seq} is not after {self._max_seq}")
        c = self.conn
        with self.transaction():
            c.execute(
                "INSERT INTO events(seq, node_id, ts, type, payload) VALUES (?, ?, ?, ?, ?)",
                (w.seq, node_id, w.ts, w.type, _dumps(w.payload)),
            )
            if w.key is not None:
                c.execute(
                    "INSERT INTO commands(key, seq, reply) VALUES (?, ?, ?)",
                    (w.key, w.seq, _dumps(w.reply or {})),
                )
            if w.snapshot is not None:
                digest, state = w.snapshot
                c.execute(
                    "INSERT INTO snapshots(seq, digest, state) VALUES (?, ?, ?)",
                    (w.seq, digest, _dumps(state)),
                )
            for s in w.sheets:
                c.execute(
                    "INSERT INTO sheet_versions(eid, version, seq, ts, change, sheet) "
                    "SELECT ?, COALESCE(MAX(version), 0) + 1, ?, ?, ?, ? FROM sheet_versions "
                    "WHERE eid = ?",
                    (s.eid, w.seq, w.ts, _dumps(s.change), _dumps(s.sheet), s.eid),
                )
            if w.clear_bindings:
                c.execute("DELETE FROM bindings")
                c.execute("DELETE FROM identities")  # a pin belongs to a binding
            for sender in w.unbind:
                c.execute("DELETE FROM bindings WHERE sender = ?", (sender,))
                c.execute("DELETE FROM identities WHERE sender = ?", (sender,))
            for sender, eid, role in w.bindings:
                c.execute(
                    "INSERT OR REPLACE INTO bindings(sender, eid, role, seq) VALUES (?, ?, ?, ?)",
                    (sender, eid, role, w.seq),
                )
            for sender, key in w.pins:
                c.execute(
                    "INSERT INTO identities(sender, public_key, first_seen, rejected) "
                    "VALUES (?, ?, ?, 0) ON CONFLICT(sender) DO UPDATE SET "
                    "public_key = excluded.public_key, first_seen = excluded.first_seen",
                    (sender, key, w.ts),
                )
        self._max_seq = w.seq
        return w.seq

    def events_after(self, seq: int, limit: int = 1000) -> list[EventRow]:
        rows = self.conn.execute(
            "SELECT node_id, seq, ts, type, payload FROM events WHERE seq > ? ORDER BY seq LIMIT ?",
            (seq, limit),
        ).fetchall()
        return [EventRow(r[0], r[1], r[2], r[3], json.loads(r[4])) for r in rows]

    def iter_events(self, after: int = 0, batch: int = 500) -> Iterator[EventRow]:
        while True:
            rows = self.events_after(after, batch)
            if not rows:
                return
            yield from rows
            after = rows[-1].seq

    def last_event_of_type(self, type_: str) -> EventRow | None:
        r = self.conn.execute(
            "SELECT node_id, seq, ts, type, payload FROM events WHERE type = ? "
            "ORDER BY seq DESC LIMIT 1",
            (type_,),
        ).fetchone()
        return EventRow(r[0], r[1], r[2], r[3], json.loads(r[4])) if r else None

    def last_seq_of_type(self, type_: str) -> int | None:
        """The newest row's seq of that type, without decoding its payload (it may be corrupt)."""
        r = self.conn.execute("SELECT seq FROM events WHERE type = ? ORDER BY seq DESC LIMIT 1",
                              (type_,)).fetchone()
        return r[0] if r else None

    # -- idempotency ----------------------------------------------------------------------
    def reply_for(self, key: str) -> dict[str, Any] | None:
        r = self.conn.execute("SELECT reply FROM commands WHERE key = ?", (key,)).fetchone()
        return json.loads(r[0]) if r else None

    # -- snapshots ------------------------------------------------------------------------
    def latest_snapshot(self, at_or_after: int = 0) -> tuple[int, int, dict[str, Any]] | None:
        r = self.conn.execute(
            "SELECT seq, digest, state FROM snapshots WHERE seq >= ? ORDER BY seq DESC LIMIT 1",
            (at_or_after,),
        ).fetchone()
        return (r[0], r[1], json.loads(r[2])) if r else None

    # -- sheets ---------------------------------------------------------------------------
    def sheet_version(self, eid: int) -> tuple[int, dict[str, Any]] | None:
        r = self.conn.execute(
            "SELECT version, sheet FROM sheet_versions WHERE eid = ? ORDER BY version DESC LIMIT 1",
            (eid,),
        ).fetchone()
        return (r[0], json.loads(r[1])) if r else None

    def sheet_at(self, eid: int, version: int) -> dict[str, Any] | None:
        r = self.conn.execute(
            "SELECT sheet FROM sheet_versions WHERE eid = ? AND version = ?", (eid, version)
        ).fetchone()
        return json.loads(r[0]) if r else None

    def sheet_history(self, eid: int) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT version, seq, ts, change FROM sheet_versions WHERE eid = ? ORDER BY version",
            (eid,),
        ).fetchall()
        return [{"version": r[0], "seq": r[1], "ts": r[2], "change": json.loads(r[3])} for r in rows]

    # -- audit ----------------------------------------------------------------------------
    def audit(self, ts: float, source: str, sender: str, intent: dict[str, Any] | None, reason: str) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT INTO audit(ts, source, sender, intent, reason) VALUES (?, ?, ?, ?, ?)",
                (ts, source, sender, _dumps(intent), reason[:200]),
            )

    def audit_rows(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT ts, source, sender, intent, reason FROM audit ORDER BY id DESC LIMIT ?", (limit,)
        ).fetchall()
        return [
            {"ts": r[0], "source": r[1], "sender": r[2], "intent": json.loads(r[3]), "reason": r[4]}
            for r in rows
        ]

    # -- identities and bindings ----------------------------------------------------------
    def bindings(self) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        for sender, eid in self.conn.execute("SELECT sender, eid FROM bindings ORDER BY seq, eid"):
            out.setdefault(sender, []).append(eid)
        return out

    def public_key(self, sender: str) -> bytes | None:
        r = self.conn.execute("SELECT public_key FROM identities WHERE sender = ?", (sender,)).fetchone()
        return bytes(r[0]) if r and r[0] is not None else None

    def sender_of_key(self, key: bytes) -> str | None:
        """The sender a radio key is pinned to (the DM approved it), if any."""
        r = self.conn.execute("SELECT sender FROM identities WHERE public_key = ? "
                              "ORDER BY first_seen DESC LIMIT 1", (key,)).fetchone()
        return str(r[0]) if r else None

    def pin_key(self, sender: str, key: bytes, ts: float) -> None:
        """Pin a key to a sender that has none yet (an earlier pin is never replaced here)."""
        with self.transaction():
            self.conn.execute(
                "INSERT INTO identities(sender, public_key, first_seen, rejected) VALUES (?, ?, ?, 0) "
                "ON CONFLICT(sender) DO UPDATE SET public_key = COALESCE(public_key, excluded.public_key)",
                (sender, key, ts),
            )

    def count_key_mismatch(self, sender: str) -> None:
        with self.transaction():
            self.conn.execute("UPDATE identities SET rejected = rejected + 1 WHERE sender = ?", (sender,))

    # -- session meta ---------------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        r = self.conn.execute("SELECT value FROM kv WHERE key = ?", (key,)).fetchone()
        return json.loads(r[0]) if r else default

    def put(self, key: str, value: Any) -> None:
        with self.transaction():
            self.conn.execute(
                "INSERT OR REPLACE INTO kv(key, value) VALUES (?, ?)", (key, _dumps(value))
            )

    # -- health ---------------------------------------------------------------------------
    def size_bytes(self) -> int:
        total = 0
        for suffix in ("", "-wal", "-shm"):
            p = Path(str(self.path) + suffix)
            if p.exists():
                total += p.stat().st_size
        return total

    def integrity(self, quick: bool = True) -> str:
        pragma = "quick_check" if quick else "integrity_check"
        rows = self.conn.execute(f"PRAGMA {pragma}").fetchall()
        return "; ".join(str(r[0]) for r in rows)[:200]

    def pragma(self, name: str) -> Any:
        return self.conn.execute(f"PRAGMA {name}").fetchone()[0]

    def close(self) -> None:
        try:
            # fold the WAL back so a copied database file is complete on its own
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error:
            pass
        self.conn.close()
