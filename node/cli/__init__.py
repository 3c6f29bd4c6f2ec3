"""The `dungeon` command: a dispatcher that imports only the subcommand it runs.

Each subcommand lives in its own module under node/cli/ and exposes HELP (one line),
add_arguments(parser) and run(args) -> int. Those modules import heavy libraries
(textual, discord, google-genai) only inside run(), so a headless node stays lean.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from types import ModuleType
from typing import NoReturn

# name -> module; the order is the order `dungeon --help` lists them in.
COMMANDS: dict[str, str] = {
    "demo": "node.cli.demo_cmd",
    "node": "node.cli.node_cmd",
    "tui": "node.cli.tui_cmd",
    "play": "node.cli.play_cmd",
    "status": "node.cli.status_cmd",
    "replay": "node.cli.replay_cmd",
    "srd": "node.cli.srd_cmd",
    "character": "node.cli.character_cmd",
    "script": "node.cli.script_cmd",
    "encounter": "node.cli.encounter_cmd",
    "sim": "node.cli.sim_cmd",
    "device": "node.cli.device_cmd",
    "bench": "node.cli.bench_cmd",
    "relay": "node.cli.relay_cmd",
    "sync": "node.cli.sync_cmd",
    "backup": "node.cli.backup_cmd",
    "install-service": "node.cli.install_cmd",
    "doctor": "node.cli.doctor_cmd",
    "text": "node.cli.text_cmd",
    "completion": "node.cli.completion_cmd",
}


def print_report(report: dict, as_json: bool) -> None:
    """A benchmark's or simulation's figures: one JSON line, or one aligned line per key."""
    if as_json:
        import json

        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:28} {value}")


class UsageError(Exception):
    """Bad input a command found after parsing; main prints it as one line and exits 2."""


class Parser(argparse.ArgumentParser):
    """argparse that reports bad input in one line (no usage block), exit 2, for every command."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: {message} (see {self.prog} --help)\n")


def _load(name: str) -> ModuleType | None:
    try:
        return importlib.import_module(COMMANDS[name])
    except ModuleNotFoundError as err:
        if err.name == COMMANDS[name]:
            return None  # not built yet; keep the rest of the CLI usable
        raise


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    from node import VERSION

    parser = Parser(
        prog="dungeon",
        description="Distributed Dungeon: D&D 5e over Meshtastic LoRa. "
        "Start with `dungeon demo`, or run a node with `dungeon node`.",
    )
    parser.add_argument("--version", action="version", version=f"dungeon {VERSION}")
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
    args, extra = parser.parse_known_args(argv)
    if extra:
        # argparse gives a trailing list positional nothing once an option came between
        # (`srd class --json barbarian`): words after the option still belong to it.
        tail = getattr(args, "name", None)
        if not isinstance(tail, list) or any(x.startswith("-") for x in extra):
            parser.error(f"unrecognized arguments: {' '.join(extra)}")
        args.name = tail + extra
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0 if not argv else 2
    try:
        return int(args._run(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `dungeon srd monsters --json | head`: the reader left, which is not an error of
        # ours. Point stdout at /dev/null so the interpreter's final flush is quiet too.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, what a shell reports for a writer killed by the pipe
    except bad_input_errors() as err:  # bad input, explained in one line
        print(f"dungeon {args.command}: {str(err).splitlines()[0]}", file=sys.stderr)
        return 2


def bad_input_errors() -> tuple[type[Exception], ...]:
    """The typed errors that mean "the user asked for something that cannot be": exit 2."""
    from node.config import ConfigError
    from node.radio.base import TransportError
    from protocol.errors import ProtocolError
    from rules.errors import RulesError

    return UsageError, ConfigError, ProtocolError, RulesError, TransportError


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
