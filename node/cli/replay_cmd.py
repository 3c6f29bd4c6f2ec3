"""`dungeon replay DB --verify`: rebuild the game from the event log and check every digest."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "replay a node database's event log and verify it reproduces the recorded state"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("db", metavar="DB", help="path to dungeon.db")
    parser.add_argument("--verify", action="store_true",
                        help="exit 1 with a one-line reason when the replay does not match")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def run(args: argparse.Namespace) -> int:
    from node.replay import verify

    rep = verify(args.db)
    if args.json:
        print(json.dumps(rep.to_dict()))
    elif rep.ok and rep.note:
        print(f"ok: {rep.events} events readable; {rep.note}")
    elif rep.ok:
        print(f"ok: {rep.events} events, {rep.commands} commands replayed, digest {rep.digest:08x}, "
              f"integrity {rep.integrity}")
    if not rep.ok:
        print(f"dungeon replay: mismatch: {rep.reason}", file=sys.stderr)
        return 1 if args.verify else 0
    return 0
