"""`dungeon sim`: play a whole session with bot players over a simulated mesh, in virtual time."""

from __future__ import annotations

import argparse

HELP = "simulate bot players over a LoRa mesh against the real node (virtual time)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--players", type=int, default=4, help="bot players (default 4)")
    parser.add_argument("--mode", choices=("text", "binary", "mixed"), default="text",
                        help="how bots talk: stock-app text, the binary client, or both")
    parser.add_argument("--preset", default="LONG_FAST", help="modem preset (default LONG_FAST)")
    parser.add_argument("--hops", type=int, default=2, help="radio hops node -> players")
    parser.add_argument("--loss", type=float, default=0.1,
                        help="extra loss probability per reception (default 0.1)")
    parser.add_argument("--minutes", type=float, default=30.0, help="simulated minutes")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--monsters", default=("goblin", 4), type=_monsters,
                        help="what the DM spawns for each encounter, NAME[:COUNT] "
                             "(default goblin:4)")
    roles = ("client", "client_mute", "client_base", "router", "router_late")
    parser.add_argument("--hop-limit", type=int, default=3,
                        help="every radio's hop limit (default 3, the firmware's)")
    parser.add_argument("--node-role", choices=roles, default="client_mute",
                        help="the node radio's role (default client_mute, as firmware-notes "
                             "advise: it spends its duty budget on the game only)")
    parser.add_argument("--player-role", choices=roles, default="client_mute",
                        help="players' radios' role (default client_mute, as firmware-notes "
                             "advise for players sitting together)")
    parser.add_argument("--table-repeaters", type=int, default=None,
                        help="players whose radio stays CLIENT and repeats for the rest "
                             "(default as firmware-notes advise: 1, or 0 at a mixed table)")
    parser.add_argument("--repeater-role", choices=roles, default="client",
                        help="role of the table repeaters (default client; client_base and "
                             "router_late never stand down, moving their repeat late instead)")
    parser.add_argument("--relays", type=int, default=1,
                        help="relays side by side on each hop between node and players, "
                             "1-3 (default 1; 2 gives the node a second path)")
    parser.add_argument("--dm", action="store_true",
                        help="text bots send commands as DMs to the node (default: channel)")
    parser.add_argument("--seeds", type=seed_list, default=None,
                        help="run each seed (e.g. 1-12) and print the means under the single "
                             "run's keys, with every run under `runs` (overrides --seed)")
    parser.add_argument("--firmware", choices=("2.7", "2.8"), default="2.7",
                        help="radio firmware: 2.8 signs broadcasts of 166 B or less (+66 B), "
                             "relays no longer retry DMs, node numbers are crc32(public key)")
    parser.add_argument("--pace", choices=("bot", "human"), default="bot",
                        help="bot speed, or a human table: 15-90 s per decision, exploring "
                             "3-10 min between fights (see node/sim/pace.py)")
    parser.add_argument("--relay-rate-limit", type=int, default=None, metavar="N",
                        help="2.8 traffic management on the relays: relay at most N text or "
                             "private-app packets per sender per 5 minutes (default off)")
    parser.add_argument("--perfect-reminders", action="store_true",
                        help="diagnostic, not a tactic: the moment the node's radio misses a "
                             "text command, its player re-sends it (told at no airtime); the "
                             "best latency any node-side reminder could reach")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")


def seed_list(text: str) -> list[int]:
    """Seeds as `1-12`, `3` or `1,4,7` (ranges and lists may mix)."""
    seeds: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            first, last = int(lo), int(hi or lo)
            if last < first:
                raise ValueError
            seeds.extend(range(first, last + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: seeds as 1-12 or 1,4,7") from None
    if not seeds or len(seeds) > 1000:
        raise argparse.ArgumentTypeError(f"{text!r}: 1 to 1000 seeds")
    return seeds


def _monsters(text: str) -> tuple[str, int]:
    from node.cli.encounter_cmd import parse_pairs

    try:
        pairs = parse_pairs(text, "monster", 1)
    except ValueError as err:
        raise argparse.ArgumentTypeError(f"{err} (use NAME or NAME:COUNT)") from None
    if len(pairs) != 1:
        raise argparse.ArgumentTypeError(f"{text!r}: one kind of monster (use NAME or NAME:COUNT)")
    return pairs[0]


def run(args: argparse.Namespace) -> int:
    import logging
    import sys
    import time

    from node.cli.progress import Progress
    from node.sim.simulation import SimConfig, sweep
    from node.sim.simulation import run as simulate

    logging.basicConfig(level=logging.WARNING)
    cfg = SimConfig(players=args.players, mode=args.mode, preset=args.preset.upper(),
                    hops=args.hops, loss=args.loss, minutes=args.minutes, seed=args.seed,
                    monsters=args.monsters, text_dm=args.dm,
                    hop_limit=args.hop_limit, node_role=args.node_role,
                    player_role=args.player_role, table_repeaters=args.table_repeaters,
                    relays=args.relays, firmware=args.firmware, pace=args.pace,
                    repeater_role=args.repeater_role,
                    relay_rate_limit=args.relay_rate_limit,
                    perfect_reminders=args.perfect_reminders)
    start = time.monotonic()
    try:
        with Progress(1.0, "simulating") as bar:
            report = (sweep(cfg, args.seeds, bar.update) if args.seeds
                      else simulate(cfg, bar.update))
    except ValueError as err:  # a set-up the simulator cannot build: say so in one line
        print(f"dungeon sim: {err}", file=sys.stderr)
        return 2
    report["wall_s"] = round(time.monotonic() - start, 2)
    from node.cli import print_report

    print_report(report, args.json)
    return 0
