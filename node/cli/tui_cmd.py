"""`dungeon tui`: the DM console, attached to a running node's control socket or with a node in-process."""

from __future__ import annotations

import argparse
import sys

HELP = "the DM console: attach to the node's control socket (or --embedded to run one here)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", metavar="DIR",
                        help="the node's data dir, where control.sock lives (default: the node's)")
    parser.add_argument("--config", metavar="FILE",
                        help="the node's TOML config, to find its data dir the way the node does")
    parser.add_argument("--embedded", action="store_true",
                        help="start a node in this process (simulated radio, a fresh temp data dir "
                        "unless --data-dir) and attach to it")
    parser.add_argument("--radio", default="sim", metavar="SPEC",
                        help="with --embedded: the node's radio (default sim)")
    parser.add_argument("--dungeon", metavar="NAME", help="with --embedded: dungeon for a new session")


def _draw_on_the_terminal() -> None:
    """Textual draws on stderr; when stderr is redirected (`2>log`) but stdout is the
    terminal, draw there instead and send Python's own error output to the old stderr."""
    import os

    if sys.__stderr__ is None or sys.__stdout__ is None:
        return
    if sys.__stderr__.isatty() or not sys.__stdout__.isatty():
        return
    errors = os.fdopen(os.dup(2), "w", buffering=1)
    os.dup2(1, 2)
    sys.stderr = errors  # tracebacks and warnings keep going to the redirected file


def run(args: argparse.Namespace) -> int:
    import asyncio
    import os
    from pathlib import Path

    from node.config import ConfigError, load_config

    _draw_on_the_terminal()
    if args.embedded:
        import tempfile

        from tui.embedded import EmbeddedError, run_embedded

        # a throwaway game unless told where: never take over a running node's data dir by default
        data_dir = Path(args.data_dir or tempfile.mkdtemp(prefix="dungeon-")).expanduser()
        try:
            return asyncio.run(run_embedded(data_dir, radio=args.radio, dungeon=args.dungeon))
        except (ConfigError, EmbeddedError) as err:
            print(f"dungeon tui: {err}", file=sys.stderr)
            return 2
    try:  # the same file, environment and defaults the node reads, so both find one socket
        sock = load_config(args.config, env=os.environ, data_dir=args.data_dir).control_path
    except ConfigError as err:
        print(f"dungeon tui: {err}", file=sys.stderr)
        return 2
    from tui.app import DungeonConsole

    if not sock.exists():
        # not fatal: the console waits for the node (a systemd unit may still be starting)
        print(f"dungeon tui: no node at {sock} yet; waiting for it", file=sys.stderr)
    DungeonConsole(sock).run()
    return 0
