"""The relay over real HTTP on loopback: auth, idempotent push, long poll, limits, health, metrics."""

import asyncio
import random

import httpx
import pytest
from synchelpers import SECRET, SECRETS, fill

from sync.tokens import make_token
from sync.uplink import Uplink


def auth(node="node-1", secret=SECRET, now=None, ttl=300):
    import time

    return {"Authorization": f"Bearer {make_token(node, secret, now or time.time(), ttl)}"}


BATCH = {"prev": 0, "events": [{"seq": 1, "ts": 1.0, "type": "command", "payload": {"events": []}}]}


async def test_missing_wrong_or_expired_token_gets_401_and_stores_nothing(relay_factory):
    r = await relay_factory()
    async with httpx.AsyncClient(base_url=r.url) as c:
        assert (await c.post("/v1/push", json=BATCH)).status_code == 401
        bad = await c.post("/v1/push", json=BATCH, headers=auth(secret="x" * 30))
        assert bad.status_code == 401 and bad.json()["error"] == "bad signature"
        old = await c.post("/v1/push", json=BATCH, headers=auth(now=1000.0, ttl=10))
        assert old.status_code == 401 and old.json()["error"] == "token expired"
        assert (await c.get("/v1/pull", headers={"Authorization": "Bearer nope"})).status_code == 401
    assert await r.relay.storage.acked("node-1") == 0
    assert await r.relay.storage.events_after("node-1", 0) == []
    assert r.relay.metrics.get("relay_auth_failures_total") == 4


async def test_push_catch_up_is_exactly_once_across_a_relay_restart(relay_factory, store, tmp_path):
    fill(store, 1200)
    r = await relay_factory(db=tmp_path / "relay.db")
    up = Uplink(r.url, "node-1", SECRET, store, batch=250, rng=random.Random(1))
    assert await up.push_pending() == 1200
    fill(store, 300)
    port = r.port
    await r.stop()  # killed mid-session; the uplink notices and backs off
    r2 = await relay_factory(db=tmp_path / "relay.db", port=port)
    up._need_cursor = True  # as the push loop does after a failure
    assert await up.push_pending() == 300
    seqs = [e.seq for e in await r2.relay.storage.events_after("node-1", 0, 10_000)]
    assert seqs == list(range(1, 1501))
    assert up.backlog() == 0
    # the mirror was rebuilt from storage on restart and then kept up
    assert r2.relay.mirror.game("node-1").last_seq == 1500
    await up.client.aclose()


@pytest.mark.parametrize("compress", [True, False])
async def test_push_resends_after_losing_the_answer_without_duplicates(relay_factory, store, compress):
    fill(store, 10)
    r = await relay_factory()
    up = Uplink(r.url, "node-1", SECRET, store, batch=4, compress=compress)
    await up.push_pending()
    up.acked = 3  # as if the node never heard the later acks
    # one resent batch (4..7) is enough: the relay's answer moves the node's cursor to 10
    assert await up.push_pending() == 4
    assert up.acked == 10
    assert r.relay.metrics.get("relay_events_duplicate_total", node="node-1") == 4
    assert r.relay.metrics.get("relay_events_ingested_total", node="node-1") == 10
    await up.client.aclose()


async def test_long_poll_delivers_a_command_queued_while_waiting(relay_factory, store):
    r = await relay_factory()
    got = []

    async def handler(cmd):
        got.append(cmd)

    up = Uplink(r.url, "node-1", SECRET, store, handler=handler)
    poll = asyncio.ensure_future(up.pull_once(wait_s=5))
    await asyncio.sleep(0.2)
    assert not poll.done()
    await r.relay.enqueue("node-1", "discord-int:1", {"kind": "command", "sender": "discord:7",
                                                      "intent": {"type": "Look"}}, ttl_s=60)
    cmds = await asyncio.wait_for(poll, 2)
    assert [c.key for c in cmds] == ["discord-int:1"] and got[0].sender == "discord:7"
    assert got[0].intent == {"type": "Look"}
    # acknowledged by the next pull's cursor: not delivered twice
    assert await up.pull_once(wait_s=0) == []
    assert r.relay.online("node-1")
    await up.client.aclose()


async def test_rate_limit_answers_429_per_node(relay_factory):
    r = await relay_factory(rate_per_s=0.01, burst=3)
    async with httpx.AsyncClient(base_url=r.url) as c:
        codes = [(await c.get("/v1/cursor", headers=auth())).status_code for _ in range(5)]
        other = await c.get("/v1/cursor", headers=auth("node-2", "another-secret-0123456789"))
    assert codes == [200, 200, 200, 429, 429]
    assert other.status_code == 200


async def test_healthz_and_prometheus_metrics(relay_factory, store):
    fill(store, 5)
    r = await relay_factory()
    up = Uplink(r.url, "node-1", SECRET, store)
    await up.push_pending()
    async with httpx.AsyncClient(base_url=r.url) as c:
        h = await c.get("/healthz")
        m = await c.get("/metrics")
    assert h.status_code == 200 and h.json()["ok"] is True
    assert 'relay_events_ingested_total{node="node-1"} 5' in m.text
    assert "# TYPE relay_events_ingested_total counter" in m.text
    await up.client.aclose()


async def test_push_loop_backs_off_while_relay_is_down_then_catches_up(relay_factory, store, tmp_path):
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fill(store, 50)
    delays = []

    async def fast_sleep(d):
        delays.append(d)
        await asyncio.sleep(0.01)

    up = Uplink(f"http://127.0.0.1:{port}", "node-1", SECRET, store, sleep=fast_sleep,
                rng=random.Random(3), poll_wait_s=0.5)
    up.start()
    while len(delays) < 6:
        await asyncio.sleep(0.01)
    assert not up.online and up.backlog() == 50
    r = await relay_factory(port=port)
    for _ in range(300):
        if up.backlog() == 0:
            break
        await asyncio.sleep(0.02)
    await up.stop()
    assert up.backlog() == 0
    assert [e.seq for e in await r.relay.storage.events_after("node-1", 0)] == list(range(1, 51))
    # full jitter under a doubling ceiling
    assert all(0 <= d <= min(60, 0.5 * 2 ** i) for i, d in enumerate(delays[:6]))


async def test_relay_on_postgresql_survives_a_restart_exactly_once(pg_dsn, store):
    from sync.relay.runner import start_relay
    from sync.relay.server import Relay, RelayConfig
    from sync.relay.storage import PostgresStorage

    async def boot(port=0):
        relay = Relay(PostgresStorage(pg_dsn), RelayConfig(dict(SECRETS)))
        return await start_relay(relay, port=port)

    r = await boot()

    async def wipe(cur):
        await cur.execute("DELETE FROM events WHERE node_id = 'node-1'")
        await cur.execute("DELETE FROM cursors WHERE node_id = 'node-1'")
    await r.relay.storage._call(wipe)
    fill(store, 700)
    up = Uplink(r.url, "node-1", SECRET, store, batch=300)
    assert await up.push_pending() == 700
    port = r.port
    await r.stop()
    fill(store, 50)
    r = await boot(port)
    up._need_cursor = True
    assert await up.push_pending() == 50
    seqs = [e.seq for e in await r.relay.storage.events_after("node-1", 0, 10_000)]
    assert seqs == list(range(1, 751))
    assert r.relay.mirror.game("node-1").last_seq == 750
    await up.client.aclose()
    await r.stop()
