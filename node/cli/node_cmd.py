"""`dungeon node`: run the node process until SIGTERM/SIGINT, then shut down cleanly."""

from __future__ import annotations

import argparse
import sys

HELP = "run the node: the game on local SQLite, players over the radio, the DM over a socket"

# A stored game that cannot load needs the DM, not a restart: the unit's
# RestartPreventExitStatus names this code (and 2, bad configuration).
EXIT_NEEDS_DM = 78  # EX_CONFIG


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", metavar="FILE", help="TOML config file ([node] table)")
    parser.add_argument("--data-dir", metavar="DIR", help="where dungeon.db and control.sock live")
    parser.add_argument("--radio", metavar="SPEC",
                        help="auto (default: the USB radio if one is plugged in, else none) | "
                             "sim | loopback | serial[:PATH] | tcp:HOST[:PORT]")
    parser.add_argument("--node-id", metavar="ID", help="this node's name in logs and sync")
    parser.add_argument("--dungeon", metavar="NAME|PATH",
                        help="dungeon for a new session: a bundled name (crypt) or a .toml path")
    parser.add_argument("--auto-approve", action="store_true", default=None,
                        help="let radio players join without the DM approving")
    parser.add_argument("--party-max", type=int, metavar="N",
                        help="auto-approve stops at this many characters (default 8)")
    parser.add_argument("--text-auth", choices=("channel", "dm"),
                        help="a new session's text_auth: channel (any game-channel text acts) "
                        "or dm (only encrypted DMs from approved radio keys act)")
    parser.add_argument("--turn-timeout", type=float, metavar="S", dest="turn_timeout_s",
                        help="seconds before an absent player dodges and ends the turn")
    parser.add_argument("--health-port", type=int, metavar="PORT", help="serve /healthz and /metrics")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING")
    parser.add_argument("--fresh", action="store_true",
                        help="if the stored game cannot load, set it aside (kept in the log) "
                             "and start a new one")
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
                          party_max=args.party_max, text_auth=args.text_auth,
                          health_port=args.health_port)
    except ConfigError as err:
        print(f"dungeon node: {err}", file=sys.stderr)
        return 2
    logging_setup.setup(args.log_level.upper(), cfg.log_json)
    if args.fresh:
        _set_aside_unloadable(cfg)
    live = sys.stdout.isatty() if args.live is None else args.live
    try:
        return asyncio.run(_main(cfg, live))
    except KeyboardInterrupt:
        return 130


async def _main(cfg, live: bool) -> int:  # type: ignore[no-untyped-def]
    import asyncio
    import logging

    from node.cli.signals import on_stop_signals
    from node.config import radio_mismatches
    from node.obs.sdnotify import Notifier, watchdog_interval_s, watchdog_loop
    from node.radio.base import TransportError
    from node.radio.factory import make_transport, resolve_radio
    from node.session import StoredStateError
    from node.wiring import build_node

    log = logging.getLogger("node")
    try:
        spec, note = resolve_radio(cfg.radio)
        if note:
            print(f"dungeon node: {note}", file=sys.stderr)
        transport = make_transport(spec)
    except TransportError as err:
        print(f"dungeon node: {err}", file=sys.stderr)
        return 2
    app = build_node(cfg, transport, live=sys.stdout if live else None)
    # The control socket appears part-way through start(): a SIGTERM from then on must
    # still stop the node cleanly, so it is held until start() is done.
    stop_early = asyncio.Event()
    on_stop_signals(stop_early.set)
    try:
        await app.start()
    except StoredStateError as err:
        print(f"dungeon node: {err}", file=sys.stderr)
        await app.stop()
        return EXIT_NEEDS_DM
    except TransportError as err:  # the radio cannot be reached: one line, no traceback
        print(f"dungeon node: {err}", file=sys.stderr)
        await app.stop()
        return 2
    except Exception as err:
        log.exception("start-up failed")
        print(f"dungeon node: could not start: {str(err).splitlines()[0][:160]}", file=sys.stderr)
        await app.stop()
        return 1
    loop = asyncio.get_running_loop()
    on_stop_signals(app.request_stop)
    if stop_early.is_set():
        app.request_stop()
    for warning in radio_mismatches(cfg, transport.info.region, transport.info.preset):
        log.warning(warning)
    notifier = Notifier()
    notifier.ready(f"seq {app.store.max_seq()}")
    watchdog = None
    interval = watchdog_interval_s()
    if interval:
        watchdog = loop.create_task(watchdog_loop(notifier, interval, lambda: app.started))
    await app.run_until_stopped()
    notifier.stopping()
    if watchdog is not None:
        watchdog.cancel()
    log.info("node stopped cleanly")
    return 0


def _set_aside_unloadable(cfg) -> None:  # type: ignore[no-untyped-def]
    """--fresh: only a game that cannot load is set aside, so a --fresh left in a unit
    file never throws away a good game."""
    from node.session import StoredStateError, abandon_current, resume
    from node.store import Store

    if not cfg.db_path.exists():
        return
    store = Store(cfg.db_path)
    try:
        resume(store)
    except StoredStateError:
        seq = abandon_current(store)
        print(f"dungeon node: --fresh: the game begun at seq {seq} stays in the log but is "
              "not loaded; a new game starts", file=sys.stderr)
    finally:
        store.close()

