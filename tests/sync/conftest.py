"""Fixtures for sync tests: a real relay on loopback, a node event log, fake Gemini, PostgreSQL."""

from __future__ import annotations

import pytest
import pytest_asyncio
from fake_gemini import FakeGemini
from synchelpers import SECRETS

from node.store import Store
from sync.pgtemp import PostgresUnavailable, find_bin, temp_postgres_server
from sync.relay.runner import start_relay
from sync.relay.server import Relay, RelayConfig
from sync.relay.storage import SqliteStorage


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
def pg_server():
    if find_bin() is None:
        pytest.skip("PostgreSQL server binaries (postgresql package) are not installed")
    try:
        with temp_postgres_server() as server:
            yield server
    except PostgresUnavailable as err:
        pytest.skip(str(err))


@pytest.fixture
def pg_dsn(pg_server):
    return pg_server.dsn
