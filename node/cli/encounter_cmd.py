"""`dungeon encounter simulate`: Monte Carlo win rate and SRD difficulty for an encounter."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from node.cli import argtypes

HELP = "simulate an encounter many times: win rate, rounds, SRD difficulty"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    p = sub.add_parser("simulate", help="run full combats with the rules engine")
    p.add_argument("--party", required=True, help='e.g. "fighter:3,wizard:3,cleric:3,rogue:3"')
    p.add_argument("--monsters", required=True, help='e.g. "goblin:6,hobgoblin:1"')
    p.add_argument("--trials", type=argtypes.count, default=1000, help="fights per encounter")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--json", action="store_true", help="print one JSON document")
    p.add_argument("--plot", action="store_true",
                   help="also draw the win rate against the count of the first monster kind, "
                        "from 1 to --plot-max, in the terminal (needs plotext; with --json, "
                        "the curve's points)")
    p.add_argument("--plot-max", type=argtypes.count, default=None, metavar="N",
                   help="the largest count on the curve (default: twice the count asked)")
    _add_table(sub)


def _add_table(sub: Any) -> None:
    p = sub.add_parser("table", help="win rates at each SRD difficulty for parties of "
                                     "several levels against fitting SRD foes")
    p.add_argument("--party", default="fighter,cleric,rogue,wizard",
                   help="classes, comma-separated (default: fighter,cleric,rogue,wizard)")
    p.add_argument("--levels", default="1,5,10,20", help="party levels (default: 1,5,10,20)")
    p.add_argument("--trials", type=argtypes.count, default=200, help="fights per row")
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
    if args.action == "table":
        return run_table(args)
    from node.cli import UsageError
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
        found = [(content.resolve_monster(m), m, n) for m, n in monsters]
        for f, m, _n in found:
            if f.why:
                print(f"dungeon encounter: {f.note(m)}", file=sys.stderr)
        monsters = [(f.record["index"], n) for f, _m, n in found]
    except (RulesError, ValueError) as err:
        raise UsageError(str(err)) from None
    with Progress(args.trials, "simulating") as bar:
        result = simulate(party, monsters, args.trials, args.seed, progress=bar.update)
    if args.plot:
        top = args.plot_max or max(2, 2 * monsters[0][1])
        result["curve"] = win_curve(party, monsters, range(1, top + 1), args.trials, args.seed)
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(f"party win rate {result['party_win_rate']:.1%} over {result['trials']} fights, "
              f"mean {result['mean_rounds']} rounds; difficulty {result['difficulty']} "
              f"({result['adjusted_xp']} adjusted XP)")
    if args.plot and not args.json:  # with --json the curve is in the document
        print(plot_curve(result["curve"], monsters[0][0], sys.stdout.isatty()))
    return 0


def run_table(args: argparse.Namespace) -> int:
    """The plausibility table: one row a level and difficulty, foes picked by the tool."""
    from node.cli import UsageError
    from node.cli.progress import Progress
    from rules import pregen
    from rules.encounter import LABELS, plausibility
    from rules.errors import RulesError

    try:
        classes = [pregen.class_key(c) for c in args.party.split(",") if c.strip()]
        levels = [int(x) for x in args.levels.split(",") if x.strip()]
        if not classes or not levels or not all(1 <= lv <= pregen.MAX_LEVEL for lv in levels):
            raise ValueError(f"--levels are 1-{pregen.MAX_LEVEL}, --party names classes")
    except (RulesError, ValueError) as err:
        raise UsageError(str(err).splitlines()[0]) from None
    with Progress(len(levels) * len(LABELS), "simulating") as bar:
        result = plausibility(classes, levels, args.trials, args.seed, progress=bar.update)
    if args.json:
        print(json.dumps(result, sort_keys=True))
        return 0
    for r in result["rows"]:
        print(f"level {r['level']:>2} {r['difficulty']:<7} {r['monsters']:<22} "
              f"{r['party_win_rate']:6.1%} {r['mean_rounds']:5.1f} rounds"
              f"{'' if r['plausible'] else '  (implausible)'}")
    return 0


def win_curve(party: list[tuple[str, int]], monsters: list[tuple[str, int]],
              counts: range, trials: int, seed: int) -> list[dict[str, Any]]:
    """The party's win rate as the first monster kind's count varies, the others kept."""
    from node.cli.progress import Progress
    from rules.encounter import simulate

    curve = []
    with Progress(len(counts), "plotting") as bar:
        for k, n in enumerate(counts):
            r = simulate(party, [(monsters[0][0], n), *monsters[1:]], trials, seed)
            curve.append({"count": n, "party_win_rate": r["party_win_rate"],
                          "difficulty": r["difficulty"]})
            bar.update(k + 1)
    return curve


def plot_curve(curve: list[dict[str, Any]], monster: str, color: bool) -> str:
    """The curve drawn by plotext, or as a table with a one-line hint when plotext is missing."""
    try:
        import plotext as plt
    except ModuleNotFoundError:
        rows = "\n".join(f"{p['count']:>4} {monster:<12} {p['party_win_rate']:6.1%}  "
                         f"{p['difficulty']}" for p in curve)
        print("dungeon encounter: --plot draws with plotext: "
              "pip install 'distributed-dungeon[plot]'", file=sys.stderr)
        return rows
    plt.clear_figure()
    xs = [p["count"] for p in curve]
    plt.plot(xs, [100 * p["party_win_rate"] for p in curve], marker="braille")
    plt.xticks(xs)
    plt.ylim(0, 100)
    plt.title(f"party win rate (%) against the number of {monster}s")
    plt.xlabel(f"{monster} count")
    plt.plotsize(70, 20)
    drawn = str(plt.build())
    return drawn if color else plt.uncolorize(drawn)
