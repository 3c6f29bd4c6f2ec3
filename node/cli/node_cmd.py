"""`dungeon node`: run the node process until SIGTERM/SIGINT, then shut down cleanly."""

from __future__ import annotations

import argparse
import sys

HELP = "run the node: the game on local SQLite, players over the radio, the DM over a socket"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config file ([node] table)")
    parser.add_argument("--data-dir", metavar="DIR", help="where dungeon.db and control.sock live")
    parser.add_argument("--radio", metavar="SPEC",
                        help="auto (default: the USB radio if one is plugged in, else none) | "
                             "sim | loopback | serial[:PATH] | tcp:HOST[:PORT]")
    parser.add_argument("--node-id", metavar="ID", help="this node's name in logs and sync")
    parser.add_argument("--dungeon", metavar="NAME", help="dungeon for a new session (crypt)")
    parser.add_argument("--auto-approve", action="store_true", default=None,
                        help="let radio players join without the DM approving")
    parser.add_argument("--turn-timeout", type=float, metavar="S", dest="turn_timeout_s",
                        help="seconds before an absent player dodges and ends the turn")
    parser.add_argument("--health-port", type=int, metavar="PORT", help="serve /healthz and /metrics")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    parser.add_argument("--live", action="store_true", default=None,
                        help="print the live game log on stdout (default: when stdout is a terminal)")


def run(args: argparse.Namespace) -> int:
    import asyncio

    from node.config import ConfigError, load_config
    from node.obs import logging_setup

    try:
        cfg = load_config(args.config, data_dir=args.data_dir, radio=args.radio,
                          node_id=args.node_id, dungeon=args.dungeon,
                          auto_approve=args.auto_approve, turn_timeout_s=args.turn_timeout_s,
                          health_port=args.health_port)
    except ConfigError as err:
        print(f"dungeon node: {err}", file=sys.stderr)
        return 2
    logging_setup.setup(args.log_level.upper(), cfg.log_json)
    live = sys.stdout.isatty() if args.live is None else args.live
    try:
        return asyncio.run(_main(cfg, live))
    except KeyboardInterrupt:
        return 130


async def _main(cfg, live: bool) -> int:  # type: ignore[no-untyped-def]
    import asyncio
    import logging

    from node.app import NodeApp
    from node.cli.signals import on_stop_signals
    from node.config import radio_mismatches
    from node.obs.sdnotify import Notifier, watchdog_interval_s, watchdog_loop
    from node.radio.base import TransportError
    from node.radio.factory import make_transport, resolve_radio

    log = logging.getLogger("node")
    try:
        spec, note = resolve_radio(cfg.radio)
        if note:
            print(f"dungeon node: {note}", file=sys.stderr)
        transport = make_transport(spec)
    except TransportError as err:
        print(f"dungeon node: {err}", file=sys.stderr)
        return 2
    sync, tactician = None, None  # offline: NodeApp's rule-based tactician
    if cfg.relay_url:
        # Imported only when a relay is configured: httpx stays out of an offline node.
        from sync.node_sync import relay_parts

        sync, tactician = relay_parts(cfg)
    app = NodeApp(cfg, transport, tactician=tactician)
    try:
        await app.start()
        if sync is not None:
            await sync.start(app)
    except TransportError as err:  # the radio cannot be reached: one line, no traceback
        print(f"dungeon node: {err}", file=sys.stderr)
        await app.stop()
        return 2
    except Exception as err:
        log.exception("start-up failed")
        print(f"dungeon node: could not start: {str(err).splitlines()[0][:160]}", file=sys.stderr)
        await app.stop()
        return 1
    for warning in radio_mismatches(cfg, transport.info.region, transport.info.preset):
        log.warning(warning)
    loop = asyncio.get_running_loop()
    on_stop_signals(app.request_stop)
    if live:
        from node.live_log import LiveLog

        LiveLog(app.pipeline, stream=sys.stdout)
    backups = _start_backups(cfg, app)
    notifier = Notifier()
    notifier.ready(f"seq {app.store.max_seq()}")
    watchdog = None
    interval = watchdog_interval_s()
    if interval:
        watchdog = loop.create_task(watchdog_loop(notifier, interval, lambda: app.started))
    await app.run_until_stopped()
    notifier.stopping()
    if sync is not None:
        await sync.stop()
    if watchdog is not None:
        watchdog.cancel()
    if backups is not None:
        backups.cancel()
    log.info("node stopped cleanly")
    return 0


def _start_backups(cfg, app):  # type: ignore[no-untyped-def]
    """Periodic VACUUM INTO snapshots, and one before each level-up or DM sheet edit.

    Only the real node process does this (never the simulator), so it lives here and not
    in NodeApp.
    """
    import asyncio

    from node import backup

    snapdir = cfg.data_dir / "snapshots"
    app.pipeline.before_major_change = lambda label: backup.snapshot(
        cfg.db_path, snapdir, keep=cfg.backup_keep, label=label)
    if not cfg.backup_interval_s:
        return None
    return asyncio.get_running_loop().create_task(backup.periodic_snapshots(
        cfg.db_path, snapdir, keep=cfg.backup_keep, interval_s=cfg.backup_interval_s))
