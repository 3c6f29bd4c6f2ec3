"""Fixtures for sync tests: a real relay on loopback, a node event log, fake Gemini, PostgreSQL."""

from __future__ import annotations

import pytest
import pytest_asyncio
from fake_gemini import FakeGemini

from node.store import Store, Write
from sync.pgtemp import PostgresUnavailable, find_bin, temp_postgres
from sync.relay.runner import start_relay
from sync.relay.server import Relay, RelayConfig
from sync.relay.storage import SqliteStorage

SECRET = "s3cret-for-node-one-0123456789"
SECRETS = {"node-1": SECRET, "node-2": "another-secret-0123456789"}


def fill(store: Store, n: int, node_id: str = "node-1") -> None:
    """Append n command rows, each with one Said event, like the pipeline would."""
    start = store.max_seq()
    for i in range(start + 1, start + n + 1):
        store.commit(node_id, Write(seq=i, ts=1000.0 + i, type="command", payload={
            "source": "radio", "sender": "!a1", "actor": 1, "intent": {"type": "Say", "text": f"m{i}"},
            "events": [{"type": "Said", "eid": 1, "text": f"m{i}"}]}))


@pytest.fixture
def store(tmp_path):
    s = Store(tmp_path / "node.db", synchronous="OFF")
    yield s
    s.conn.close()


@pytest_asyncio.fixture
async def relay_factory(tmp_path):
    started = []

    async def make(db=None, port=0, **cfg):
        relay = Relay(SqliteStorage(db or tmp_path / "relay.db"), RelayConfig(dict(SECRETS), **cfg))
        running = await start_relay(relay, port=port)
        started.append(running)
        return running

    yield make
    for r in started:
        try:
            await r.stop()
        except Exception:
            pass


@pytest_asyncio.fixture
async def fake_gemini():
    fake = await FakeGemini().start()
    yield fake
    await fake.stop()


@pytest.fixture(scope="session")
def pg_dsn():
    if find_bin() is None:
        pytest.skip("PostgreSQL server binaries (postgresql package) are not installed")
    try:
        with temp_postgres() as dsn:
            yield dsn
    except PostgresUnavailable as err:
        pytest.skip(str(err))
