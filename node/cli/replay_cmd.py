"""`dungeon replay DB --verify`: rebuild the game from the event log and check its digests."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "replay a node database's event log and verify it reproduces the recorded state"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("db", metavar="DB", help="path to dungeon.db")
    parser.add_argument("--verify", action="store_true",
                        help="exit 1 with a one-line reason when the replay does not match")
    parser.add_argument("--every-digest", action="store_true",
                        help="compute the state digest after every command (slower), not only "
                             "every few hundred commands and at the end; finds a divergence "
                             "that later healed")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def check_database(path: str) -> None:
    """Refuse, in one line, a path that is not a SQLite database before anything opens it."""
    from pathlib import Path

    from node.cli import UsageError

    p = Path(path)
    if not p.is_file():
        raise UsageError(f"no database at {p}")
    with p.open("rb") as f:
        if f.read(16) != b"SQLite format 3\0":  # the header every SQLite 3 file starts with
            raise UsageError(f"{p} is not a SQLite database (give the node's dungeon.db)")


def run(args: argparse.Namespace) -> int:
    from node.replay import CHECK_EVERY, verify

    check_database(args.db)
    rep = verify(args.db, check_every=1 if args.every_digest else CHECK_EVERY)
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
