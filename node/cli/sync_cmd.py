"""`dungeon sync status|push`: the uplink's cursor and backlog, or a catch-up push now."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "show the relay sync cursor and backlog, or push the backlog now"

STATE_FILE = "uplink.json"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", choices=["status", "push"], nargs="?", default="status")
    parser.add_argument("--data-dir", type=Path, help="the node's data directory")
    parser.add_argument("--config", type=Path, help="node config TOML")
    parser.add_argument("--relay", help="relay URL (default: the node config's relay_url)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import json
    import sys

    from node.config import ConfigError, load_config
    from node.store import Store
    from sync.uplink import Uplink, UplinkError

    try:
        cfg = load_config(args.config, data_dir=args.data_dir, relay_url=args.relay)
    except ConfigError as err:
        print(f"dungeon sync: {err}", file=sys.stderr)
        return 2
    if not cfg.db_path.exists():
        print(f"dungeon sync: no node database at {cfg.db_path}", file=sys.stderr)
        return 1
    store = Store(cfg.db_path)
    state_path = cfg.data_dir / STATE_FILE
    cached = json.loads(state_path.read_text()) if state_path.exists() else {}
    out = {"node_id": cfg.node_id, "relay": cfg.relay_url, "online": False,
           "max_seq": store.max_seq(), "acked": cached.get("acked"), "cursor_from": "cache",
           "cached_at": cached.get("ts"), "error": None, "pushed": 0}

    async def talk() -> None:
        if not cfg.relay_url or not cfg.relay_secret:
            out["error"] = "no relay_url or relay secret configured"
            return
        up = Uplink(cfg.relay_url, cfg.node_id, cfg.relay_secret, store, state_path=state_path,
                    timeout_s=5.0)
        try:
            out["acked"] = await up.fetch_cursor()
            out["cursor_from"], out["online"] = "relay", True
            if args.action == "push":
                from node.cli.progress import Progress

                with Progress(max(1, up.backlog()), "catching up") as bar:
                    out["pushed"] = await up.push_pending(lambda done, total: bar.update(done))
                out["acked"] = up.acked
        except UplinkError as err:
            out["error"] = str(err)
        finally:
            await up.client.aclose()

    asyncio.run(talk())
    out["backlog"] = max(0, out["max_seq"] - (out["acked"] or 0))
    if args.json:
        print(json.dumps(out))
    else:
        state = "online" if out["online"] else f"offline ({out['error']})"
        print(f"relay   {out['relay'] or '-'}: {state}")
        print(f"cursor  {out['acked'] if out['acked'] is not None else 'unknown'} "
              f"(from {out['cursor_from']}); log at {out['max_seq']}")
        print(f"backlog {out['backlog']} events" + (f"; pushed {out['pushed']}" if out["pushed"] else ""))
    if out["error"] and out["error"].endswith("answered 401"):
        # Retrying will not help: the relay does not accept this node's secret.
        print(f"dungeon sync: the relay at {cfg.relay_url} refused node {cfg.node_id!r}: "
              f"{out['error']}; check relay_secret against the relay's secrets for this node",
              file=sys.stderr)
        return 1
    return 0 if args.action == "status" or out["online"] else 1
