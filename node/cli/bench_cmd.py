"""`dungeon bench KIND`: benchmarks that print JSON (rules, protocol, node, sync, replay, mesh)."""

from __future__ import annotations

import argparse
import importlib

HELP = "run a benchmark and print its figures as JSON"

# kind -> module exposing add_arguments(parser) and run(args) -> int
KINDS: dict[str, str] = {
    "rules": "node.cli.bench_rules",
    "protocol": "node.cli.bench_protocol",
    "fuzz": "node.cli.bench_fuzz",
    "node": "node.cli.bench_node",
    "sync": "node.cli.bench_sync",
    "flood": "node.cli.bench_flood",
    "replay": "node.cli.bench_replay",
    "mesh": "node.cli.bench_mesh",
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="kind", metavar="KIND", required=True)
    for kind, modname in KINDS.items():
        try:
            mod = importlib.import_module(modname)
        except ModuleNotFoundError as err:
            if err.name == modname:
                continue
            raise
        p = sub.add_parser(kind, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_bench=mod.run)


def run(args: argparse.Namespace) -> int:
    return int(args._bench(args) or 0)
