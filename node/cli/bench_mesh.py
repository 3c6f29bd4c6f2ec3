"""`dungeon bench mesh`: issue 18's calibration scenario, figures to set beside Meshtasticator's."""

from __future__ import annotations

import argparse

HELP = "run the mesh calibration scenario (node, ROUTER, 4 players) over seeds; print JSON"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from node.cli.sim_cmd import seed_list

    parser.add_argument("--seeds", type=seed_list, default=list(range(1, 13)),
                        help="seeds to average over, e.g. 1-12 or 1,4,7 (default 1-12)")
    parser.add_argument("--minutes", type=float, default=30.0,
                        help="simulated minutes per seed (default 30)")
    parser.add_argument("--loss", type=float, default=0.1,
                        help="loss probability per reception (default 0.1)")
    parser.add_argument("--json", action="store_true",
                        help="print JSON (the only output; kept for symmetry)")


def run(args: argparse.Namespace) -> int:
    import json
    import sys

    from node.sim.calibration import sweep

    if not args.minutes > 0 or not 0.0 <= args.loss < 1.0:
        print("dungeon bench mesh: minutes must be > 0 and loss 0 to just under 1",
              file=sys.stderr)
        return 2
    print(json.dumps(sweep(args.seeds, minutes=args.minutes, loss=args.loss)))
    return 0
