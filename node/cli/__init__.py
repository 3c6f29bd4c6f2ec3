"""The `dungeon` command: a dispatcher that imports only the subcommand it runs.

Each subcommand lives in its own module under node/cli/ and exposes HELP (one line),
add_arguments(parser) and run(args) -> int. Those modules import heavy libraries
(textual, discord, google-genai) only inside run(), so a headless node stays lean.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from types import ModuleType

# name -> module; the order is the order `dungeon --help` lists them in.
COMMANDS: dict[str, str] = {
    "demo": "node.cli.demo_cmd",
    "node": "node.cli.node_cmd",
    "tui": "node.cli.tui_cmd",
    "play": "node.cli.play_cmd",
    "status": "node.cli.status_cmd",
    "replay": "node.cli.replay_cmd",
    "srd": "node.cli.srd_cmd",
    "script": "node.cli.script_cmd",
    "encounter": "node.cli.encounter_cmd",
    "sim": "node.cli.sim_cmd",
    "device": "node.cli.device_cmd",
    "bench": "node.cli.bench_cmd",
    "relay": "node.cli.relay_cmd",
    "sync": "node.cli.sync_cmd",
    "backup": "node.cli.backup_cmd",
    "install-service": "node.cli.install_cmd",
}


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as err:
        if err.name == COMMANDS[name]:
            return None  # not built yet; keep the rest of the CLI usable
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dungeon",
        description="Distributed Dungeon: D&D 5e over Meshtastic LoRa. "
        "Start with `dungeon demo`, or run a node with `dungeon node`.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS if only is None else [only]:
        mod = _load(name)
        if mod is None:
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    only = argv[0] if argv and argv[0] in COMMANDS else None
    parser = build_parser(only)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0 if not argv else 2
    from protocol.errors import ProtocolError
    from rules.errors import RulesError

    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except (ProtocolError, RulesError) as err:  # bad input the core explains in one line
        print(f"dungeon {args.command}: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
