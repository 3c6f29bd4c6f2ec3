"""`dungeon encounter simulate`: Monte Carlo win rate and SRD difficulty for an encounter."""

from __future__ import annotations

import argparse
import json
import sys

HELP = "simulate an encounter many times: win rate, rounds, SRD difficulty"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("simulate", help="run full combats with the rules engine")
    p.add_argument("--party", required=True, help='e.g. "fighter:3,wizard:3,cleric:3,rogue:3"')
    p.add_argument("--monsters", required=True, help='e.g. "goblin:6,hobgoblin:1"')
    p.add_argument("--trials", type=int, default=1000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON document")


def parse_pairs(text: str, what: str, default: int) -> list[tuple[str, int]]:
    out = []
    for part in text.split(","):
        name, _, num = part.strip().partition(":")
        if not name.strip():
            raise ValueError(f"empty {what} in {text!r}")
        if num.strip() and not num.strip().isdigit():
            raise ValueError(f"{part.strip()!r}: the number after ':' is a {what}'s "
                             f"{'level' if what == 'class' else 'count'}, e.g. {name}:3")
        out.append((name.strip(), int(num) if num.strip() else default))
    return out


def run(args: argparse.Namespace) -> int:
    from node.cli.progress import Progress
    from rules import content, pregen
    from rules.encounter import simulate
    from rules.errors import RulesError

    try:
        party = parse_pairs(args.party, "class", 1)
        monsters = parse_pairs(args.monsters, "monster", 1)
        for cls, level in party:
            if cls.lower() not in pregen.CLASSES or not 1 <= level <= pregen.MAX_LEVEL:
                raise RulesError(f"party member {cls}:{level}: classes are "
                                 f"{', '.join(pregen.CLASSES)}, levels 1-{pregen.MAX_LEVEL}")
        monsters = [(content.monster(m)["index"], n) for m, n in monsters]
        if args.trials < 1:
            raise RulesError("--trials must be at least 1")
        with Progress(args.trials, "simulating") as bar:
            result = simulate(party, monsters, args.trials, args.seed, progress=bar.update)
    except (RulesError, ValueError) as err:
        print(f"dungeon encounter: {err}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"party win rate {result['party_win_rate']:.1%} over {result['trials']} fights, "
              f"mean {result['mean_rounds']} rounds; difficulty {result['difficulty']} "
              f"({result['adjusted_xp']} adjusted XP)")
    return 0
