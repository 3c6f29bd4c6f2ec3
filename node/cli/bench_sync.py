"""`dungeon bench sync`: catch-up over loopback to a real relay, and relay ingest on SQLite and PostgreSQL."""

from __future__ import annotations

import argparse

from node.cli import argtypes

HELP = "sync figures: catch-up time, bytes per event, relay ingest events/s (SQLite, PostgreSQL)"

SECRET = "bench-secret-0123456789abcdef"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=argtypes.count, default=100_000)
    parser.add_argument("--batch", type=argtypes.count, default=1000, help="events per push request")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL figure")
    parser.add_argument("--json", action="store_true", help="print one JSON document (always JSON)")


def _payload(i: int) -> dict:
    """A typical logged command: an attack with its hit and damage events."""
    return {"source": "text", "sender": "!a1b2c3d4", "actor": 1 + i % 4,
            "intent": {"type": "Attack", "target": "gob1", "weapon": None},
            "events": [{"type": "Attacked", "eid": 1 + i % 4, "target": 7, "nat": 1 + i % 20,
                        "total": 5 + i % 20, "ac": 15, "hit": i % 3 != 0, "crit": False,
                        "using": "longsword"},
                       {"type": "Damaged", "target": 7, "amount": 1 + i % 8, "dtype": "slashing",
                        "hp": max(0, 20 - i % 21)}],
            "digest": (i * 2654435761) % 2**32}


def run(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import os
    import socket
    import subprocess
    import sys
    import tempfile
    import time
    from pathlib import Path

    import httpx

    from node.cli.progress import Progress
    from node.store import Store, Write
    from sync.pgtemp import PostgresUnavailable, temp_postgres
    from sync.relay.storage import PostgresStorage, SqliteStorage, StoredEvent
    from sync.uplink import Uplink

    n = args.events
    tmp = Path(tempfile.mkdtemp(prefix="dungeon-bench-sync-"))
    out: dict = {"events": n, "batch": args.batch}

    t0 = time.perf_counter()
    store = Store(tmp / "node.db", synchronous="OFF")
    with Progress(n, "writing node log") as bar:
        for i in range(1, n + 1):
            store.commit("bench", Write(i, 1.7e9 + i, "command", _payload(i)))
            if i % 1000 == 0:
                bar.update(i)
    out["setup_s"] = round(time.perf_counter() - t0, 2)

    # a real relay process on loopback, as a node would meet it
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "DUNGEON_RELAY_SECRETS": f"bench={SECRET}"}
    env.pop("GEMINI_API_KEY", None)
    env.pop("DISCORD_TOKEN", None)
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "relay", "--port", str(port),
                             "--db", str(tmp / "relay.db"), "--rate", "100000", "--burst", "100000"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            print(json.dumps({"error": "relay did not start"}))
            return 1

        async def catch_up() -> None:
            up = Uplink(url, "bench", SECRET, store, batch=args.batch, timeout_s=60)
            with Progress(n, "catching up") as bar:
                t = time.perf_counter()
                pushed = await up.push_pending(lambda done, total: bar.update(done))
                dt = time.perf_counter() - t
            await up.client.aclose()
            out["catch_up_s"] = round(dt, 3)
            out["catch_up_events_per_s"] = round(pushed / dt) if dt else None
            out["bytes_per_event"] = round(up.bytes_total / max(1, pushed), 1)
            out["pushed"] = pushed

        asyncio.run(catch_up())
    finally:
        proc.terminate()
        proc.wait(10)

    rows = [StoredEvent("bench", r.seq, r.ts, r.type, r.payload) for r in store.iter_events(0, 5000)]
    store.close()
    raw = sum(len(json.dumps({"seq": r.seq, "ts": r.ts, "type": r.type, "payload": r.payload},
                             separators=(",", ":"))) for r in rows)
    out["json_bytes_per_event"] = round(raw / max(1, len(rows)), 1)  # before gzip

    async def ingest(storage) -> float:
        await storage.open()
        t = time.perf_counter()
        for i in range(0, len(rows), args.batch):
            chunk = rows[i:i + args.batch]
            await storage.ingest("ingest", chunk[0].seq - 1, chunk, time.time())
        dt = time.perf_counter() - t
        await storage.close()
        return round(len(rows) / dt)

    rates: dict = {"sqlite": asyncio.run(ingest(SqliteStorage(tmp / "ingest.db")))}
    out["postgresql_note"] = None
    if args.no_postgres:
        rates["postgresql"], out["postgresql_note"] = None, "skipped (--no-postgres)"
    else:
        try:
            with temp_postgres() as dsn:
                rates["postgresql"] = asyncio.run(ingest(PostgresStorage(dsn)))
            out["postgresql_note"] = "throwaway local server, fsync off"
        except (PostgresUnavailable, ImportError) as err:
            rates["postgresql"], out["postgresql_note"] = None, str(err)
    out["relay_ingest_events_per_s"] = rates
    out["total_s"] = round(time.perf_counter() - t0, 1)
    import shutil

    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out))
    return 0
