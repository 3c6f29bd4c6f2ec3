"""`dungeon status`: the session, players, database and radio, from the running node or its DB."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

HELP = "show the node's session, players, database and radio (works when the node is stopped)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR", help="the node's data directory")
    parser.add_argument("--config", metavar="FILE", help="TOML config file")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def _from_socket(path: Any) -> dict[str, Any] | None:
    import asyncio

    from node.control_client import ControlClient

    async def ask() -> dict[str, Any]:
        async with ControlClient(path) as c:
            return await asyncio.wait_for(c.request("status"), 3.0)

    try:
        return asyncio.run(ask())
    except (OSError, TimeoutError, ConnectionError):
        return None


def _from_db(db: Any) -> dict[str, Any]:
    from node.session import resume
    from node.store import Store

    out: dict[str, Any] = {"running": False, "note": "node not running", "session": None,
                           "players": [], "radio": None,
                           "database": {"path": str(db), "exists": db.exists()}}
    if not db.exists():
        return out
    store = Store(db)
    try:
        out["database"].update(size_bytes=store.size_bytes(), seq=store.max_seq(),
                               integrity=store.integrity(quick=True))
        bindings = store.bindings()
        try:
            s = resume(store)
        except Exception as err:  # a broken log still deserves a status line
            out["session"] = {"error": str(err)[:160]}
            return out
        if s is not None:
            g = s.game
            out["session"] = {"id": s.id, "dungeon": s.dungeon, "status": s.status,
                              "digest": g.digest()}
            out["players"] = [
                {"eid": e, "name": g.name_of(e),
                 "senders": [snd for snd, eids in bindings.items() if e in eids]}
                for e in g.party_eids()
            ]
        out["uplink"] = _cached_uplink(db.parent / "uplink.json", store.max_seq())
    finally:
        store.conn.close()
    return out


def _cached_uplink(path: Any, max_seq: int) -> dict[str, Any] | None:
    """What the uplink last knew (it caches the relay's acknowledged seq) when the node is down."""
    import json

    try:
        acked = int(json.loads(path.read_text()).get("acked") or 0)
    except (OSError, ValueError, AttributeError):
        return None
    return {"online": False, "acked": acked, "backlog": max(0, max_seq - acked)}


def run(args: argparse.Namespace) -> int:
    from node.config import ConfigError, load_config

    try:
        cfg = load_config(args.config, data_dir=args.data_dir)
    except ConfigError as err:
        print(f"dungeon status: {err}", file=sys.stderr)
        return 2
    status = _from_socket(cfg.control_path) if cfg.control_path.exists() else None
    if status is not None:
        from node.store import Store

        store = Store(cfg.db_path)
        try:
            status["database"]["integrity"] = store.integrity(quick=True)
        finally:
            store.conn.close()
    else:
        status = _from_db(cfg.db_path)
    # Nothing running and no database: most likely a mistyped --data-dir, so say so.
    missing = not status.get("running") and not (status.get("database") or {}).get("exists", True)
    if args.json:
        print(json.dumps(status, default=str))
    else:
        _print(status)
    if missing:
        print(f"dungeon status: no node has run with data in {cfg.data_dir} "
              "(start one with `dungeon node --data-dir DIR`)", file=sys.stderr)
        return 1
    return 0


def _print(st: dict[str, Any]) -> None:
    print("node:     " + ("running" if st.get("running") else "node not running"))
    s = st.get("session")
    if s and "id" in s:
        print(f"session:  {s['id']} ({s['dungeon']}, {s['status']}) digest {s.get('digest', 0):08x}")
    else:
        print(f"session:  {s.get('error') if s else 'none'}")
    players = st.get("players") or []
    print("players:  " + (", ".join(f"{p['name']} [{','.join(p['senders']) or 'dm'}]"
                                     for p in players) or "none"))
    db = st.get("database") or {}
    if db.get("exists", True):
        print(f"database: {db.get('path')} {db.get('size_bytes', 0)} B, seq {db.get('seq', 0)}, "
              f"integrity {db.get('integrity', '?')}")
    else:
        print(f"database: {db.get('path')} (none yet)")
    radio = st.get("radio")
    if radio:
        ob = radio.get("outbox") or {}
        print(f"radio:    {radio.get('spec')} {radio.get('link')}, sent {ob.get('sent', 0)}, "
              f"airtime {ob.get('airtime_used_s', 0)} s of {ob.get('duty_budget_s')}")
    else:
        print("radio:    -")
    up = st.get("uplink")
    if up:
        print(f"uplink:   {'online' if up.get('online') else 'offline'}, relay has seq "
              f"{up.get('acked', '?')}, backlog {up.get('backlog', '?')} events")
    else:
        print("uplink:   no relay configured (offline play)")
