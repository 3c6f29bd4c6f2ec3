"""The relay's durable store: node events (idempotent on node_id, seq), cursors and the command inbox.

SQLite by default; PostgreSQL (psycopg 3) when a DSN is given. Both speak the same SQL
apart from placeholders and upserts; calls run on one worker thread so the event loop
never blocks on disk or network.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.store import EventRow

_SCHEMA = [
    """CREATE TABLE IF NOT EXISTS events (
        node_id TEXT NOT NULL, seq BIGINT NOT NULL, ts DOUBLE PRECISION NOT NULL,
        type TEXT NOT NULL, payload TEXT NOT NULL, PRIMARY KEY (node_id, seq))""",
    """CREATE TABLE IF NOT EXISTS cursors (
        node_id TEXT PRIMARY KEY, acked BIGINT NOT NULL, seen DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS inbox (
        id {serial}, node_id TEXT NOT NULL, key TEXT NOT NULL, body TEXT NOT NULL,
        created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL,
        delivered INTEGER NOT NULL DEFAULT 0, UNIQUE (node_id, key))""",
]


# The relay stores the node's own log rows, so it uses the node's row type.
StoredEvent = EventRow


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    key: str
    body: dict[str, Any]
    expires: float


class Storage:
    """Shared logic; subclasses provide a DB-API connection and the dialect."""

    placeholder = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-db")
        self._lock = threading.Lock()
        self._conn: Any = None

    # -- plumbing -------------------------------------------------------------------------
    def _connect(self) -> Any:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    def _run(self, fn: Any, *args: Any) -> Any:
        with self._lock:
            if self._conn is None:
                self._conn = self._connect()
                cur = self._conn.cursor()
                for stmt in _SCHEMA:
                    cur.execute(stmt.format(serial=self.serial))
                self._conn.commit()
            try:
                result = fn(self._conn.cursor(), *args)
                self._conn.commit()
                return result
            except BaseException:
                self._conn.rollback()
                raise

    async def _call(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, self._run, fn, *args)

    async def open(self) -> None:
        await self._call(lambda cur: None)

    async def close(self) -> None:
        def _close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None
        await asyncio.get_running_loop().run_in_executor(self._pool, _close)
        self._pool.shutdown(wait=True)

    # -- events ---------------------------------------------------------------------------
    async def acked(self, node_id: str) -> int:
        return await self._call(self._acked, node_id)

    def _acked(self, cur: Any, node_id: str) -> int:
        cur.execute(self._sql("SELECT acked FROM cursors WHERE node_id = ?"), (node_id,))
        row = cur.fetchone()
        return int(row[0]) if row else 0

    async def ingest(self, node_id: str, prev: int, rows: list[StoredEvent], now: float) -> tuple[int, int]:
        """Store a batch that follows seq `prev`; return (new acked seq, rows newly stored).

        Idempotent: rows already stored are skipped. The cursor only moves when the batch
        starts at or before it, so a gap is never acknowledged.
        """
        return await self._call(self._ingest, node_id, prev, rows, now)

    def _ingest(self, cur: Any, node_id: str, prev: int, rows: list[StoredEvent], now: float) -> tuple[int, int]:
        acked = self._acked(cur, node_id)
        if prev > acked:
            return acked, 0
        if not rows:
            return acked, 0
        # count only within the batch's range so ingest stays O(batch), not O(log)
        span = (node_id, min(r.seq for r in rows), max(r.seq for r in rows))
        count_sql = self._sql("SELECT COUNT(*) FROM events WHERE node_id = ? AND seq BETWEEN ? AND ?")
        cur.execute(count_sql, span)
        before = int(cur.fetchone()[0])
        cur.executemany(
            self._sql(
                "INSERT INTO events (node_id, seq, ts, type, payload) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (node_id, seq) DO NOTHING"
            ),
            [(node_id, r.seq, r.ts, r.type, json.dumps(r.payload, separators=(",", ":")))
             for r in rows],
        )
        cur.execute(count_sql, span)
        added = int(cur.fetchone()[0]) - before
        new_acked = max([acked] + [r.seq for r in rows])
        cur.execute(
            self._sql(
                "INSERT INTO cursors (node_id, acked, seen) VALUES (?, ?, ?) "
                "ON CONFLICT (node_id) DO UPDATE SET acked = excluded.acked, seen = excluded.seen"
            ),
            (node_id, new_acked, now),
        )
        return new_acked, added

    async def events_after(self, node_id: str, seq: int, limit: int = 1000) -> list[StoredEvent]:
        return await self._call(self._events_after, node_id, seq, limit)

    def _events_after(self, cur: Any, node_id: str, seq: int, limit: int) -> list[StoredEvent]:
        cur.execute(
            self._sql(
                "SELECT seq, ts, type, payload FROM events WHERE node_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?"
            ),
            (node_id, seq, limit),
        )
        return [StoredEvent(node_id, int(s), float(t), ty, json.loads(p)) for s, t, ty, p in cur.fetchall()]

    async def nodes(self) -> dict[str, tuple[int, float]]:
        """node_id -> (acked seq, last seen epoch)."""
        def _nodes(cur: Any) -> dict[str, tuple[int, float]]:
            cur.execute("SELECT node_id, acked, seen FROM cursors")
            return {n: (int(a), float(s)) for n, a, s in cur.fetchall()}
        return await self._call(_nodes)

    async def touch(self, node_id: str, now: float) -> None:
        """Record that the node was heard from (a pull counts, not only a push)."""
        def _touch(cur: Any) -> None:
            cur.execute(
                self._sql(
                    "INSERT INTO cursors (node_id, acked, seen) VALUES (?, 0, ?) "
                    "ON CONFLICT (node_id) DO UPDATE SET seen = excluded.seen"
                ),
                (node_id, now),
            )
        await self._call(_touch)

    # -- inbox (relay -> node) ------------------------------------------------------------
    async def enqueue(self, node_id: str, key: str, body: dict[str, Any], now: float, ttl_s: float) -> bool:
        """Queue a command for the node; False if the key was already queued."""
        def _enqueue(cur: Any) -> bool:
            cur.execute(
                self._sql(
                    "INSERT INTO inbox (node_id, key, body, created, expires) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (node_id, key) DO NOTHING"
                ),
                (node_id, key, json.dumps(body), now, now + ttl_s),
            )
            return cur.rowcount == 1
        return await self._call(_enqueue)

    async def pending(self, node_id: str, after: int, now: float, limit: int = 50) -> list[InboxItem]:
        """Commands not yet acknowledged and not expired; ids <= `after` are acknowledged first."""
        def _pending(cur: Any) -> list[InboxItem]:
            cur.execute(
                self._sql("UPDATE inbox SET delivered = 1 WHERE node_id = ? AND id <= ? AND delivered = 0"),
                (node_id, after),
            )
            cur.execute(
                self._sql(
                    "SELECT id, key, body, expires FROM inbox WHERE node_id = ? AND delivered = 0 "
                    "AND id > ? AND expires > ? ORDER BY id LIMIT ?"
                ),
                (node_id, after, now, limit),
            )
            return [InboxItem(int(i), k, json.loads(b), float(e)) for i, k, b, e in cur.fetchall()]
        return await self._call(_pending)


class SqliteStorage(Storage):
    def __init__(self, path: Path | str) -> None:
        super().__init__()
        self.path = str(path)

    def _connect(self) -> Any:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn


class PostgresStorage(Storage):
    placeholder = "%s"
    serial = "BIGSERIAL PRIMARY KEY"

    def __init__(self, dsn: str) -> None:
        super().__init__()
        self.dsn = dsn

    def _connect(self) -> Any:
        import psycopg  # the relay extra; imported only when a DSN is used

        return psycopg.connect(self.dsn)

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s")


def open_storage(db: str | None = None, dsn: str | None = None) -> Storage:
    """PostgreSQL when a DSN is given, else SQLite at `db` (default relay.db)."""
    if dsn:
        return PostgresStorage(dsn)
    return SqliteStorage(db or "relay.db")
