"""Relay storage on SQLite and on a real PostgreSQL server: idempotent ingest, cursor, inbox."""

import pytest_asyncio
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sync.relay.storage import PostgresStorage, SqliteStorage, StoredEvent


def ev(seq, node="n1"):
    return StoredEvent(node, seq, 1000.0 + seq, "command", {"events": [{"type": "Said", "eid": 1, "text": str(seq)}]})


@pytest_asyncio.fixture(params=["sqlite", "postgres"])
async def storage(request, tmp_path):
    if request.param == "sqlite":
        s = SqliteStorage(tmp_path / "r.db")
    else:
        dsn = request.getfixturevalue("pg_dsn")
        s = PostgresStorage(dsn)
        await s.open()

        async def wipe(cur):
            await cur.execute("DELETE FROM events")
            await cur.execute("DELETE FROM cursors")
            await cur.execute("DELETE FROM inbox")
        await s._call(wipe)
    await s.open()
    yield s
    await s.close()


async def test_ingest_is_idempotent_on_node_and_seq(storage):
    assert await storage.ingest("n1", 0, [ev(1), ev(2), ev(3)], now=1) == (3, 3)
    assert await storage.ingest("n1", 0, [ev(1), ev(2), ev(3)], now=2) == (3, 0)
    assert await storage.ingest("n1", 2, [ev(3), ev(4)], now=3) == (4, 1)
    assert [e.seq for e in await storage.events_after("n1", 0)] == [1, 2, 3, 4]
    assert (await storage.events_after("n1", 3))[0].payload["events"][0]["text"] == "4"


async def test_batch_after_a_gap_is_not_acknowledged(storage):
    await storage.ingest("n1", 0, [ev(1)], now=1)
    assert await storage.ingest("n1", 5, [ev(6)], now=2) == (1, 0)
    assert await storage.acked("n1") == 1
    assert [e.seq for e in await storage.events_after("n1", 0)] == [1]


async def test_nodes_are_separate(storage):
    await storage.ingest("n1", 0, [ev(1), ev(2)], now=1)
    await storage.ingest("n2", 0, [ev(1, "n2")], now=1)
    assert await storage.acked("n1") == 2 and await storage.acked("n2") == 1
    assert set(await storage.nodes()) == {"n1", "n2"}


async def test_inbox_dedupes_keys_expires_and_acknowledges(storage):
    assert await storage.enqueue("n1", "k1", {"kind": "command"}, now=100, ttl_s=60)
    assert not await storage.enqueue("n1", "k1", {"kind": "command"}, now=101, ttl_s=60)
    assert await storage.enqueue("n1", "k2", {"kind": "link", "code": "AB12"}, now=100, ttl_s=10)
    items = await storage.pending("n1", 0, now=105)
    assert [i.key for i in items] == ["k1", "k2"]
    assert [i.key for i in await storage.pending("n1", 0, now=111)] == ["k1"]  # k2 expired
    assert await storage.pending("n1", items[0].id, now=105) == [i for i in items[1:]]
    assert await storage.pending("n1", items[1].id, now=105) == []
    assert await storage.pending("n2", 0, now=105) == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=st.lists(st.tuples(st.integers(0, 30), st.integers(1, 8)), min_size=1, max_size=12))
async def test_random_resends_store_each_seq_once(tmp_path_factory, batches):
    s = SqliteStorage(tmp_path_factory.mktemp("h") / "r.db")
    await s.open()
    try:
        for start, n in batches:
            acked = await s.acked("n1")
            prev = min(start, acked)  # a node only resends from at or before the relay's cursor
            await s.ingest("n1", prev, [ev(q) for q in range(prev + 1, prev + n + 1)], now=1)
        seqs = [e.seq for e in await s.events_after("n1", 0, 10_000)]
        assert seqs == list(range(1, len(seqs) + 1))
        assert await s.acked("n1") == len(seqs)
    finally:
        await s.close()
