"""The relay's durable store: node events (idempotent on node_id, seq), cursors and the command inbox.

SQLite by default; PostgreSQL through a psycopg_pool async pool when a DSN is given. Both
speak the same SQL apart from placeholders. Every query is an async function of a cursor:
PostgreSQL hands it a pooled connection's async cursor (a dead connection is replaced by
the pool, and the call is retried once on a fresh one, which is safe because every write
here is idempotent); SQLite hands it a cursor whose calls run on one worker thread, so the
event loop never blocks on disk.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from node.store import EventRow

log = logging.getLogger("dungeon.relay.storage")

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

Query = Callable[..., Awaitable[Any]]
BadRow = Callable[[str, int, str], None]  # (node_id, seq, why) for a stored row that cannot load


@dataclass(frozen=True, slots=True)
class InboxItem:
    id: int
    key: str
    body: dict[str, Any]
    expires: float


class Storage:
    """Shared queries; subclasses provide `_call(query, *args)` and the dialect."""

    placeholder = "?"
    serial = "INTEGER PRIMARY KEY AUTOINCREMENT"

    def _sql(self, sql: str) -> str:
        return sql.replace("?", self.placeholder)

    async def _call(self, fn: Query, *args: Any) -> Any:
        """Run `await fn(cursor, *args)` in one transaction."""
        raise NotImplementedError

    async def open(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        raise NotImplementedError

    async def _create(self, cur: Any) -> None:
        for stmt in _SCHEMA:
            await cur.execute(stmt.format(serial=self.serial))

    # -- events ---------------------------------------------------------------------------
    async def acked(self, node_id: str) -> int:
        return await self._call(self._acked, node_id)

    async def _acked(self, cur: Any, node_id: str) -> int:
        await cur.execute(self._sql("SELECT acked FROM cursors WHERE node_id = ?"), (node_id,))
        row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def ingest(self, node_id: str, prev: int, rows: list[StoredEvent], now: float) -> tuple[int, int]:
        """Store a batch that follows seq `prev`; return (new acked seq, rows newly stored).

        Idempotent: rows already stored are skipped. The cursor only moves when the batch
        starts at or before it, so a gap is never acknowledged.
        """
        return await self._call(self._ingest, node_id, prev, rows, now)

    async def _ingest(self, cur: Any, node_id: str, prev: int, rows: list[StoredEvent],
                      now: float) -> tuple[int, int]:
        acked = await self._acked(cur, node_id)
        if prev > acked or not rows:
            return acked, 0
        # count only within the batch's range so ingest stays O(batch), not O(log)
        span = (node_id, min(r.seq for r in rows), max(r.seq for r in rows))
        count_sql = self._sql("SELECT COUNT(*) FROM events WHERE node_id = ? AND seq BETWEEN ? AND ?")
        await cur.execute(count_sql, span)
        before = int((await cur.fetchone())[0])
        await cur.executemany(
            self._sql(
                "INSERT INTO events (node_id, seq, ts, type, payload) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (node_id, seq) DO NOTHING"
            ),
            [(node_id, r.seq, r.ts, r.type, json.dumps(r.payload, separators=(",", ":")))
             for r in rows],
        )
        await cur.execute(count_sql, span)
        added = int((await cur.fetchone())[0]) - before
        new_acked = max([acked] + [r.seq for r in rows])
        await cur.execute(
            self._sql(
                "INSERT INTO cursors (node_id, acked, seen) VALUES (?, ?, ?) "
                "ON CONFLICT (node_id) DO UPDATE SET acked = excluded.acked, seen = excluded.seen"
            ),
            (node_id, new_acked, now),
        )
        return new_acked, added

    async def events_after(self, node_id: str, seq: int, limit: int = 1000,
                           on_bad: BadRow | None = None) -> list[StoredEvent]:
        """Up to `limit` rows after `seq`; a row whose payload cannot load goes to `on_bad`."""
        raw = await self._call(self._events_after, node_id, seq, limit)
        out = []
        for s, t, ty, p in raw:
            try:
                payload = json.loads(p)
                if not isinstance(payload, dict):
                    raise ValueError("payload is not an object")
                out.append(StoredEvent(node_id, int(s), float(t), str(ty), payload))
            except (TypeError, ValueError) as err:
                if on_bad is None:
                    raise
                on_bad(node_id, int(s), f"undecodable payload: {err}"[:120])
        return out

    async def _events_after(self, cur: Any, node_id: str, seq: int, limit: int) -> list[Any]:
        await cur.execute(
            self._sql(
                "SELECT seq, ts, type, payload FROM events WHERE node_id = ? AND seq > ? "
                "ORDER BY seq LIMIT ?"
            ),
            (node_id, seq, limit),
        )
        return list(await cur.fetchall())

    async def nodes(self) -> dict[str, tuple[int, float]]:
        """node_id -> (acked seq, last seen epoch)."""
        async def _nodes(cur: Any) -> dict[str, tuple[int, float]]:
            await cur.execute("SELECT node_id, acked, seen FROM cursors")
            return {n: (int(a), float(s)) for n, a, s in await cur.fetchall()}
        return await self._call(_nodes)

    # -- inbox (relay -> node) ------------------------------------------------------------
    async def enqueue(self, node_id: str, key: str, body: dict[str, Any], now: float, ttl_s: float) -> bool:
        """Queue a command for the node; False if the key was already queued."""
        async def _enqueue(cur: Any) -> bool:
            await cur.execute(
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
        async def _pending(cur: Any) -> list[InboxItem]:
            await cur.execute(
                self._sql("UPDATE inbox SET delivered = 1 WHERE node_id = ? AND id <= ? AND delivered = 0"),
                (node_id, after),
            )
            await cur.execute(
                self._sql(
                    "SELECT id, key, body, expires FROM inbox WHERE node_id = ? AND delivered = 0 "
                    "AND id > ? AND expires > ? ORDER BY id LIMIT ?"
                ),
                (node_id, after, now, limit),
            )
            return [InboxItem(int(i), k, json.loads(b), float(e)) for i, k, b, e in await cur.fetchall()]
        return await self._call(_pending)

    async def prune_inbox(self, before: float) -> int:
        """Delete rows delivered or expired and created before `before`; return how many.

        Rows are kept that long (not deleted on delivery) so a Discord retry of the same
        interaction within the window is still recognised as a duplicate.
        """
        async def _prune(cur: Any) -> int:
            await cur.execute(
                self._sql("DELETE FROM inbox WHERE created < ? AND (delivered = 1 OR expires < ?)"),
                (before, before),
            )
            return max(0, cur.rowcount)
        return await self._call(_prune)

    async def inbox_size(self) -> int:
        async def _size(cur: Any) -> int:
            await cur.execute("SELECT COUNT(*) FROM inbox")
            return int((await cur.fetchone())[0])
        return await self._call(_size)


class _ThreadCursor:
    """An sqlite3 cursor whose calls run on the storage's single worker thread."""

    def __init__(self, cur: sqlite3.Cursor, pool: ThreadPoolExecutor) -> None:
        self._cur, self._pool = cur, pool

    async def _run(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def execute(self, sql: str, params: Any = ()) -> None:
        await self._run(self._cur.execute, sql, params)

    async def executemany(self, sql: str, rows: list[Any]) -> None:
        await self._run(self._cur.executemany, sql, rows)

    async def fetchone(self) -> Any:
        return await self._run(self._cur.fetchone)

    async def fetchall(self) -> list[Any]:
        return await self._run(self._cur.fetchall)

    @property
    def rowcount(self) -> int:
        return self._cur.rowcount


class SqliteStorage(Storage):
    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relay-db")
        self._lock = asyncio.Lock()  # one transaction at a time on the one connection
        self._conn: sqlite3.Connection | None = None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        return conn

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._pool, fn, *args)

    async def _call(self, fn: Query, *args: Any) -> Any:
        async with self._lock:
            if self._conn is None:
                conn = await self._in_thread(self._connect)
                await self._create(_ThreadCursor(conn.cursor(), self._pool))
                await self._in_thread(conn.commit)
                self._conn = conn
            conn = self._conn
            try:
                result = await fn(_ThreadCursor(conn.cursor(), self._pool), *args)
            except BaseException:
                await self._in_thread(conn.rollback)
                raise
            await self._in_thread(conn.commit)
            return result

    async def open(self) -> None:
        async def nothing(cur: Any) -> None:
            return None
        await self._call(nothing)

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                await self._in_thread(self._conn.close)
                self._conn = None
        self._pool.shutdown(wait=True)


class PostgresStorage(Storage):
    """PostgreSQL via an async connection pool that checks each connection before use."""

    placeholder = "%s"
    serial = "BIGSERIAL PRIMARY KEY"
    APP_NAME = "dungeon-relay"  # lets an operator (and the tests) find the relay's backends

    def __init__(self, dsn: str, *, max_size: int = 4, open_timeout_s: float = 10.0,
                 wait_s: float = 5.0) -> None:
        self.dsn = dsn
        self.max_size = max_size
        self.open_timeout_s = open_timeout_s
        self.wait_s = wait_s  # a request waits this long for a connection, then fails (500)
        self._pool: Any = None
        self.reconnects = 0

    async def open(self) -> None:
        from psycopg_pool import AsyncConnectionPool  # the relay extra; only with a DSN

        if self._pool is None:
            self._pool = AsyncConnectionPool(
                self.dsn, min_size=1, max_size=self.max_size, open=False,
                kwargs={"application_name": self.APP_NAME},
                check=AsyncConnectionPool.check_connection, timeout=self.wait_s,
                # a slot retries with doubling waits for a minute, then is freed, so demand
                # after a long outage connects at once instead of after an hour-long back-off
                reconnect_timeout=60.0)
            await self._pool.open(wait=True, timeout=self.open_timeout_s)
        await self._call(self._create)

    async def _call(self, fn: Query, *args: Any) -> Any:
        import psycopg
        from psycopg_pool import PoolTimeout

        if self._pool is None:
            await self.open()
        for attempt in (1, 2):
            try:
                async with self._pool.connection() as conn, conn.cursor() as cur:
                    return await fn(cur, *args)  # the pool commits on a clean exit
            except psycopg.OperationalError as err:
                # the backend died mid-call (killed, server restarted): the pool drops that
                # connection; one retry on a fresh one, since every write here is idempotent.
                # No connection within wait_s means the server is away: fail now, not twice.
                if attempt == 2 or isinstance(err, PoolTimeout):
                    raise
                self.reconnects += 1
                log.warning("postgresql connection lost; retrying once",
                            extra={"error": str(err).splitlines()[0][:160] if str(err) else ""})
        raise AssertionError("unreachable")

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None


def open_storage(db: str | None = None, dsn: str | None = None) -> Storage:
    """PostgreSQL when a DSN is given, else SQLite at `db` (default relay.db)."""
    if dsn:
        return PostgresStorage(dsn)
    return SqliteStorage(db or "relay.db")
