"""`dungeon demo`: a node, the sample dungeon, a simulated mesh and three bot players, watchable live."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from node.cli import argtypes

HELP = "watch a game play itself: node + simulated radios + three bot players (offline)"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dungeon" / "demo"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="where the demo keeps its game (default $XDG_DATA_HOME/dungeon/demo)")
    parser.add_argument("--speed", type=argtypes.positive, default=None,
                        help="run simulated time X times faster than real time (default: real time)")
    parser.add_argument("--minutes", type=argtypes.positive, default=None,
                        help="stop after this many (simulated) minutes; default: until Ctrl-C")
    parser.add_argument("--preset", default="LONG_FAST", help="modem preset of the simulated mesh")
    parser.add_argument("--hops", type=argtypes.count, default=1, help="radio hops between node and players")
    parser.add_argument("--loss", type=argtypes.probability, default=0.05, help="extra loss per reception")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tui", action="store_true",
                        help="print the live log even when a terminal could show the DM console")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging
    import sys

    data_dir = args.data_dir or default_data_dir()
    use_tui = (not args.no_tui and args.speed is None and sys.stdout.isatty()
               and _tui_available())
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    demo = _demo(args, data_dir, use_tui)
    try:
        if args.speed is None:
            asyncio.run(demo)
        else:
            from node.sim.virtual_loop import run_virtual

            run_virtual(demo)
    except KeyboardInterrupt:
        pass  # the node closed its database on the way out; running again resumes
    print(f"demo stopped; the game is saved in {data_dir} (run `dungeon demo` again to resume)",
          file=sys.stderr)
    return 0


def _tui_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("tui.app") is not None


async def _demo(args: argparse.Namespace, data_dir: Path, use_tui: bool) -> None:
    import asyncio
    import random
    import sys
    import time

    from node.app import NodeApp
    from node.clock import Clock
    from node.config import NodeConfig
    from node.sim.bots import TextBot
    from node.sim.mesh import NODE_NUM, Mesh
    from node.sim.simulation import ROSTER, direct
    from node.sim.transport import SimTransport
    from node.wiring import build_node

    loop = asyncio.get_running_loop()
    virtual = args.speed is not None
    mesh = Mesh.build(players=3, hops=args.hops, preset=args.preset.upper(), loss=args.loss,
                      seed=args.seed, hop_limit=max(1, args.hops - 1))
    config = NodeConfig(data_dir=data_dir, radio="sim", auto_approve=True, game_seed=args.seed,
                        region=mesh.region, preset=mesh.preset)
    def make_app() -> NodeApp:
        # The control socket is real I/O: only on a real-time loop (the TUI attaches to it).
        return build_node(config, SimTransport(mesh, NODE_NUM),
                          clock=Clock.for_loop(loop, time.time()) if virtual else None,
                          control=not virtual, live=None if use_tui else sys.stdout)

    app = make_app()
    await app.start()
    strangers = set(app.pipeline.bindings) - {f"!{num:08x}" for num in mesh.players}
    if strangers:
        # A game saved by other radios (an older demo): our bots could never play its
        # characters, and the table would wait on turn timeouts forever.
        await app.stop()
        aside = data_dir.with_name(f"{data_dir.name}.old-{int(time.time())}")
        data_dir.rename(aside)
        print(f"the saved demo game was played by other radios; kept it in {aside} and "
              "started a new one", file=sys.stderr)
        app = make_app()
        await app.start()
    bots = []
    for i, num in enumerate(mesh.players):
        name, cls = ROSTER[i]
        bot = TextBot(SimTransport(mesh, num), NODE_NUM, name=name, cls=cls,
                      rng=random.Random(f"demo:{args.seed}:{i}"), eyes=lambda: app.game)
        await bot.start()
        bots.append(bot)
    tasks = [loop.create_task(b.run()) for b in bots]
    tasks.append(loop.create_task(_dm_loop(app, len(bots), direct)))
    if virtual:
        tasks.append(loop.create_task(_pace(args.speed)))
    try:
        if use_tui:
            from tui.app import DungeonConsole

            await DungeonConsole(config.control_path).run_async()
        elif args.minutes is not None:
            await asyncio.sleep(args.minutes * 60.0)
        else:
            await asyncio.Event().wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.stop()


async def _dm_loop(app, players: int, direct) -> None:  # type: ignore[no-untyped-def]
    """The demo's DM: starts the next encounter whenever the party is idle."""
    import asyncio

    while True:
        await asyncio.sleep(5.0)
        game = app.game
        if game is not None:
            await direct(app, ("goblin", 3), joined=len(game.party_eids()) >= players)


async def _pace(speed: float) -> None:
    """Hold virtual time to `speed` x the wall clock so the log stays watchable."""
    import asyncio
    import time

    loop = asyncio.get_running_loop()
    v0, w0 = loop.time(), time.monotonic()
    while True:
        await asyncio.sleep(0.25)
        ahead = (loop.time() - v0) / speed - (time.monotonic() - w0)
        if ahead > 0:
            time.sleep(ahead)  # blocking on purpose: the whole simulated world waits
