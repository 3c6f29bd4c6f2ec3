"""`dungeon relay`: run the cloud relay (HTTP API, optional Discord bot and Gemini tactician)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from node.cli import argtypes

HELP = "run the cloud relay: node sync API, Discord bridge and Gemini tactician"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--host", default="127.0.0.1", help="listen address (put TLS in a reverse proxy)")
    parser.add_argument("--port", type=argtypes.port_or_any, default=8787,
                        help="TCP port (default 8787; 0: any free port)")
    store = parser.add_mutually_exclusive_group()
    store.add_argument("--db", default="relay.db", help="SQLite file (default relay.db)")
    store.add_argument("--dsn", default=os.environ.get("DUNGEON_RELAY_DSN"),
                       help="postgresql://... to use PostgreSQL instead (env DUNGEON_RELAY_DSN)")
    parser.add_argument("--secrets-file", type=Path,
                        help="0600 file of node=secret lines (also env DUNGEON_RELAY_SECRETS)")
    parser.add_argument("--rate", type=argtypes.positive, default=20.0, help="requests per second per node")
    parser.add_argument("--burst", type=argtypes.float_range(1.0), default=100.0, help="burst allowance per node")
    parser.add_argument("--channels", default=os.environ.get("DUNGEON_RELAY_CHANNELS", ""),
                        help="Discord channel_id=node_id pairs (env DUNGEON_RELAY_CHANNELS)")
    parser.add_argument("--queue-ttl", type=argtypes.positive, default=600.0,
                        help="seconds a command for an offline node stays queued")
    parser.add_argument("--gemini-model", default=os.environ.get("DUNGEON_GEMINI_MODEL", "gemini-2.5-flash"))
    parser.add_argument("--gemini-base-url", default=os.environ.get("DUNGEON_GEMINI_BASE_URL"),
                        help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys

    from node.cli.signals import until_stopped
    from node.obs import logging_setup
    from node.obs.metrics import Metrics
    from node.obs.sdnotify import Notifier, watchdog_interval_s, watchdog_loop
    from sync.relay.runner import start_relay
    from sync.relay.server import Relay, RelayConfig
    from sync.relay.storage import open_storage
    from sync.tokens import SecretsError, load_relay_secrets

    logging_setup.setup(logging.INFO, json_logs=True)
    log = logging.getLogger("dungeon.relay")
    try:
        secrets = load_relay_secrets(args.secrets_file)
    except (SecretsError, OSError) as err:
        print(f"dungeon relay: {err}", file=sys.stderr)
        return 2
    if not secrets:
        print("dungeon relay: no node secrets; set DUNGEON_RELAY_SECRETS=node=secret or "
              "--secrets-file", file=sys.stderr)
        return 2

    async def main() -> int:
        metrics = Metrics()
        gemini = None
        if os.environ.get("GEMINI_API_KEY"):
            from sync.relay.gemini import GeminiTactician

            gemini = GeminiTactician(os.environ["GEMINI_API_KEY"], model=args.gemini_model,
                                     base_url=args.gemini_base_url, metrics=metrics)
        relay = Relay(open_storage(args.db, args.dsn),
                      RelayConfig(secrets, rate_per_s=args.rate, burst=args.burst), gemini,
                      metrics=metrics)
        try:
            running = await start_relay(relay, args.host, args.port)
        except Exception as err:  # storage unreachable or unreadable: one line, exit 1 (systemd retries)
            log.debug("relay start failed", exc_info=True)
            text = str(err).splitlines()[0][:160] if str(err) else type(err).__name__
            print(f"dungeon relay: could not start: {text}", file=sys.stderr)
            await relay.storage.close()
            return 1
        log.info("relay listening", extra={"url": running.url, "nodes": sorted(secrets),
                                           "storage": "postgresql" if args.dsn else "sqlite",
                                           "gemini": gemini is not None})
        bot = None
        if os.environ.get("DISCORD_TOKEN"):
            from sync.relay.bridge import BridgeService, parse_channels
            from sync.relay.discord_bot import DungeonBot

            bridge = BridgeService(relay, parse_channels(args.channels), ttl_s=args.queue_ttl)
            bot = DungeonBot(bridge, sync_commands=True)
            asyncio.ensure_future(bot.start(os.environ["DISCORD_TOKEN"]))
        # As the node does: READY once listening, then WATCHDOG pings from this event loop,
        # so systemd restarts a relay whose loop is wedged.
        notifier = Notifier()
        notifier.ready(f"listening on {running.url}")
        interval = watchdog_interval_s()
        watchdog = asyncio.ensure_future(watchdog_loop(notifier, interval)) if interval else None
        await until_stopped()
        notifier.stopping()
        if watchdog is not None:
            watchdog.cancel()
        if bot is not None:
            await bot.close()
        await running.stop()
        notifier.close()
        return 0

    return asyncio.run(main())
