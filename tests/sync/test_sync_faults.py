"""The relay against a bad node and a bad database: malformed pushes, bad stored rows, long
tokens, bad-token floods, a growing inbox, and a PostgreSQL backend killed mid-session."""

import asyncio
import json
import logging
import random
import sqlite3
import time

import httpx
import pytest
from synchelpers import SECRET, SECRETS, fill

from sync.relay.runner import start_relay
from sync.relay.server import Relay, RelayConfig
from sync.tokens import make_token
from sync.uplink import Uplink


def auth(node="node-1", secret=SECRET, ttl=300):
    return {"Authorization": f"Bearer {make_token(node, secret, time.time(), ttl)}"}


def row(seq, events, **extra):
    return {"seq": seq, "ts": 1000.0 + seq, "type": "command",
            "payload": {"sender": "!a1", "actor": 1, "events": events, **extra}}


SAID = {"type": "Said", "eid": 1, "text": "hi"}

BAD_BATCHES = {
    "event without eid (the field incident)": {"prev": 0, "events": [row(1, [{"type": "Joined", "name": "Mira", "cls": "wizard", "level": 1}])]},
    "event field of the wrong type": {"prev": 0, "events": [row(1, [{"type": "Damaged", "target": "gob", "amount": 3, "dtype": "fire", "hp": 2}])]},
    "event that is not an object": {"prev": 0, "events": [row(1, ["Said"])]},
    "events not a list": {"prev": 0, "events": [row(1, {"type": "Said"})]},
    "payload not an object": {"prev": 0, "events": [{"seq": 1, "ts": 1.0, "type": "command", "payload": [1]}]},
    "seq as text": {"prev": 0, "events": [{"seq": "1", "ts": 1.0, "type": "command", "payload": {}}]},
    "seq zero": {"prev": 0, "events": [{"seq": 0, "ts": 1.0, "type": "command", "payload": {}}]},
    "seq past BIGINT": {"prev": 0, "events": [{"seq": 2**63, "ts": 1.0, "type": "command", "payload": {}}]},
    "seq twice": {"prev": 0, "events": [row(1, [SAID]), row(1, [SAID])]},
    "ts not finite": '{"prev": 0, "events": [{"seq": 1, "ts": 1e400, "type": "command", "payload": {}}]}',
    "ts NaN": '{"prev": 0, "events": [{"seq": 1, "ts": NaN, "type": "command", "payload": {}}]}',
    "not JSON": '{"prev": 0, "events": [',
    "prev negative": {"prev": -1, "events": [row(1, [SAID])]},
    "body a list": [1, 2],
    "good row then a bad one": {"prev": 0, "events": [row(1, [SAID]), row(2, [{"type": "Died"}])]},
}


@pytest.mark.parametrize("name", list(BAD_BATCHES))
async def test_a_malformed_batch_gets_400_stores_nothing_and_the_relay_still_starts(relay_factory, tmp_path, name, caplog):
    caplog.set_level(logging.INFO, logger="dungeon.relay")
    r = await relay_factory(db=tmp_path / "relay.db")
    async with httpx.AsyncClient(base_url=r.url) as c:
        bad = BAD_BATCHES[name]
        body = {"content": bad.encode()} if isinstance(bad, str) else {"json": bad}
        resp = await c.post("/v1/push", **body, headers={**auth(), "Content-Type": "application/json"})
        assert resp.status_code == 400 and resp.json()["error"].startswith("bad batch:")
        assert "\n" not in resp.json()["error"]
    assert await r.relay.storage.events_after("node-1", 0) == []
    assert await r.relay.storage.acked("node-1") == 0
    assert r.relay.metrics.get("relay_events_invalid_total", node="node-1") == 1
    await r.relay.housekeep()  # refusals are logged as one periodic summary, not per request
    [summary] = [rec for rec in caplog.records if rec.name == "dungeon.relay"]
    assert summary.getMessage() == "batches refused" and summary.requests == 1
    port = r.port
    await r.stop()
    r2 = await relay_factory(db=tmp_path / "relay.db", port=port)  # the incident: this failed
    async with httpx.AsyncClient(base_url=r2.url) as c:
        ok = await c.post("/v1/push", json={"prev": 0, "events": [row(1, [SAID])]}, headers=auth())
    assert ok.status_code == 200 and ok.json()["acked"] == 1


async def test_the_uplink_reports_why_the_relay_refused_a_batch(relay_factory, store):
    from node.store import Write
    from sync.uplink import UplinkError

    r = await relay_factory()
    store.commit("node-1", Write(seq=1, ts=1.0, type="command", payload={
        "events": [{"type": "Joined", "name": "Mira", "cls": "wizard", "level": 1}]}))
    up = Uplink(r.url, "node-1", SECRET, store)
    with pytest.raises(UplinkError, match=r"\(400\) bad batch: events\[0\].payload.events\[0\]: Joined lacks 'eid'"):
        await up.push_pending()
    await up.client.aclose()


async def test_unknown_event_types_from_a_newer_node_still_sync(relay_factory):
    r = await relay_factory()
    async with httpx.AsyncClient(base_url=r.url) as c:
        resp = await c.post("/v1/push", json={"prev": 0, "events": [
            row(1, [{"type": "Teleported", "eid": 1, "to": "moon"}, SAID])]}, headers=auth())
    assert resp.status_code == 200 and resp.json()["stored"] == 1
    assert list(r.relay.mirror.game("node-1").recent) == ["#1: hi"]


async def test_bad_stored_rows_are_skipped_counted_and_logged_at_start(relay_factory, tmp_path, caplog):
    db = tmp_path / "relay.db"
    r = await relay_factory(db=db)
    await r.stop()
    good_join = row(1, [{"type": "Joined", "eid": 1, "name": "Mira", "cls": "wizard", "level": 1}])
    with sqlite3.connect(db) as conn:  # what an older relay (or a hand edit) left behind
        conn.executemany("INSERT INTO events VALUES ('node-1', ?, 1.0, 'command', ?)", [
            (1, json.dumps(good_join["payload"])),
            (2, json.dumps({"events": [{"type": "Joined", "name": "Ghost"}]})),  # no eid
            (3, "{not json"),
            (4, json.dumps([1, 2])),
            (5, json.dumps(row(5, [SAID])["payload"])),
        ])
        conn.execute("INSERT INTO cursors VALUES ('node-1', 5, 1.0)")
    caplog.set_level(logging.ERROR, logger="dungeon.relay")
    r2 = await relay_factory(db=db)
    game = r2.relay.mirror.game("node-1")
    assert game.last_seq == 5 and game.names == {1: "Mira"}
    assert r2.relay.metrics.get("relay_rows_skipped_total", node="node-1") == 3
    skipped = [rec.seq for rec in caplog.records if rec.getMessage() == "stored row skipped"]
    assert sorted(skipped) == [2, 3, 4]


async def test_a_token_minted_to_outlive_the_cap_is_refused(relay_factory):
    r = await relay_factory(max_token_ttl_s=3600)
    async with httpx.AsyncClient(base_url=r.url) as c:
        forever = await c.get("/v1/cursor", headers=auth(ttl=2**62))
        hour = await c.get("/v1/cursor", headers=auth(ttl=3500))
    assert forever.status_code == 401 and "longer than 3600" in forever.json()["error"]
    assert hour.status_code == 200


async def test_failed_logins_are_throttled_per_address_and_logged_as_one_summary(relay_factory, caplog):
    caplog.set_level(logging.INFO, logger="dungeon.relay")
    r = await relay_factory(auth_fail_per_s=0.001, auth_fail_burst=5, log_summary_s=3600)
    bad = {"Authorization": "Bearer forged.token"}
    async with httpx.AsyncClient(base_url=r.url) as c:
        codes = [(await c.get("/v1/cursor", headers=bad)).status_code for _ in range(40)]
        same_addr = await c.get("/v1/cursor", headers=auth())
        proxied = await c.get("/v1/cursor", headers={**auth(), "X-Forwarded-For": "203.0.113.9"})
    assert codes == [401] * 5 + [429] * 35
    assert same_addr.status_code == 429 and "Retry-After" in same_addr.headers
    assert proxied.status_code == 200  # another client behind the loopback proxy is not locked out
    assert r.relay.metrics.get("relay_auth_failures_total") == 5
    assert r.relay.metrics.get("relay_auth_throttled_total") == 36
    assert [rec for rec in caplog.records if rec.name == "dungeon.relay"] == []  # no line per request
    await r.relay.housekeep()
    summaries = [rec for rec in caplog.records if rec.getMessage() == "auth refused"]
    assert len(summaries) == 1 and summaries[0].requests == 41 and summaries[0].addresses == 1


async def test_delivered_and_expired_inbox_rows_are_pruned(relay_factory):
    r = await relay_factory(inbox_keep_s=600)
    now = [10_000.0]
    r.relay.clock = lambda: now[0]
    for i in range(5):
        await r.relay.enqueue("node-1", f"k{i}", {"kind": "command", "i": i}, ttl_s=60 if i < 4 else 3600)
    items = await r.relay.storage.pending("node-1", 0, now[0])
    await r.relay.storage.pending("node-1", items[2].id, now[0])  # k0..k2 acknowledged
    assert await r.relay.housekeep() == 0  # within the dedupe window nothing goes
    assert not await r.relay.enqueue("node-1", "k0", {"kind": "command"}, ttl_s=60)
    now[0] += 700  # k3 expired undelivered, k4 still waiting
    assert await r.relay.housekeep() == 4
    assert await r.relay.storage.inbox_size() == 1
    assert [i.key for i in await r.relay.storage.pending("node-1", items[2].id, now[0])] == ["k4"]
    assert r.relay.metrics.get("relay_inbox_pruned_total") == 4


async def _kill_relay_backends(dsn):
    import psycopg

    from sync.relay.storage import PostgresStorage

    async with await psycopg.AsyncConnection.connect(dsn, autocommit=True) as conn:
        cur = await conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            (PostgresStorage.APP_NAME,))
        return len(await cur.fetchall())


async def test_postgresql_backend_killed_mid_session_loses_and_duplicates_nothing(pg_dsn, store):
    from sync.relay.storage import PostgresStorage

    relay = Relay(PostgresStorage(pg_dsn), RelayConfig(dict(SECRETS)))
    r = await start_relay(relay)

    async def wipe(cur):
        await cur.execute("DELETE FROM events WHERE node_id = 'node-1'")
        await cur.execute("DELETE FROM cursors WHERE node_id = 'node-1'")
        await cur.execute("DELETE FROM inbox WHERE node_id = 'node-1'")
    await relay.storage._call(wipe)
    fill(store, 400)
    up = Uplink(r.url, "node-1", SECRET, store, batch=100, rng=random.Random(2))
    assert await up.push_pending() == 400
    for round_ in range(3):  # kill every relay backend, then carry on: push, queue, pull
        assert await _kill_relay_backends(pg_dsn) >= 1
        fill(store, 100)
        up._need_cursor = True
        assert await up.push_pending() == 100
        assert await relay.enqueue("node-1", f"k{round_}", {"kind": "command"}, ttl_s=60)
        assert [c.key for c in await up.pull_once()] == [f"k{round_}"]
    seqs = [e.seq for e in await relay.storage.events_after("node-1", 0, 10_000)]
    assert seqs == list(range(1, 701))
    assert await relay.storage.acked("node-1") == 700
    assert relay.mirror.game("node-1").last_seq == 700
    assert relay.metrics.get("relay_events_ingested_total", node="node-1") == 700
    async with httpx.AsyncClient(base_url=r.url) as c:
        assert (await c.get("/healthz")).json()["ok"] is True
    await up.client.aclose()
    await r.stop()


async def test_postgresql_server_restarted_mid_session_the_relay_carries_on(pg_server, store):
    """The server goes away (every connection dropped, new ones refused) and comes back on the
    same port: the running relay answers 5xx meanwhile, then carries on with no restart."""
    from sync.relay.storage import PostgresStorage
    from sync.uplink import UplinkError

    relay = Relay(PostgresStorage(pg_server.dsn, wait_s=1.0), RelayConfig(dict(SECRETS)))
    r = await start_relay(relay)

    async def wipe(cur):
        await cur.execute("DELETE FROM events WHERE node_id = 'node-2'")
        await cur.execute("DELETE FROM cursors WHERE node_id = 'node-2'")
    await relay.storage._call(wipe)
    fill(store, 300, node_id="node-2")
    up = Uplink(r.url, "node-2", SECRETS["node-2"], store, batch=100)
    assert await up.push_pending() == 300
    pg_server.stop("fast")
    try:
        fill(store, 100, node_id="node-2")
        with pytest.raises(UplinkError):
            await up.push_pending()
        async with httpx.AsyncClient(base_url=r.url) as c:
            assert (await c.get("/healthz")).status_code == 503
    finally:
        pg_server.start()
    # The push loop retries with a backoff while the pool reconnects to the restarted server
    # (a busy machine takes a moment); do the same, for 30 s at most.
    for _ in range(60):
        up._need_cursor = True  # as the push loop does after a failure
        try:
            pushed = await up.push_pending()
            break
        except UplinkError:
            await asyncio.sleep(0.5)
    assert pushed == 100
    seqs = [e.seq for e in await relay.storage.events_after("node-2", 0, 10_000)]
    assert seqs == list(range(1, 401))
    assert relay.mirror.game("node-2").last_seq == 400
    async with httpx.AsyncClient(base_url=r.url) as c:
        assert (await c.get("/healthz")).json()["ok"] is True
    await up.client.aclose()
    await r.stop()


def test_per_address_buckets_stay_bounded_under_many_addresses():
    from sync.relay.ratelimit import MAX_KEYS, RateLimiter

    t = [0.0]
    lim = RateLimiter(0.001, 2, lambda: t[0])
    for i in range(3 * MAX_KEYS):  # every address fails twice: no bucket ever refills
        lim.allow(f"10.{i}")
        lim.allow(f"10.{i}")
    assert len(lim._buckets) <= MAX_KEYS
    assert lim.blocked(f"10.{3 * MAX_KEYS - 1}") > 0  # the newest are still remembered
