"""`dungeon demo`: a node, the sample dungeon, a simulated mesh and three bot players, watchable live."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from node.cli import argtypes

HELP = "watch a game play itself: node + simulated radios + three bot players (offline)"

# The sample crypt is for levels 1-3. Measured over four 4-hour runs: at level 1 most parties
# fall in the second room; at level 2 they reach the tomb and fall to its wight; at level 3
# they reach it every run and now and then clear the crypt.
DEMO_LEVEL = 3
# What the demo's first screen says, in the console's log or atop the printed log.
INTRO = (
    "This is the demo. You are the DM, watching three bot players ({names}) explore {dungeon} "
    "over a simulated LoRa mesh: they join, walk, fight and rest by themselves.",
    "Try: t narrate, s spawn a monster, d damage, h heal, u house rules, ? every key. "
    "q or Ctrl-C stops the demo; the game is saved and `{again}` resumes it.",
)


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
    parser.add_argument("--fresh", action="store_true",
                        help="start the dungeon over in a new session (the old game stays in "
                             "the log)")


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
    print(f"demo stopped; the game is saved in {data_dir} (run `{again_command(args)}` "
          "again to resume, add --fresh to start over)", file=sys.stderr)
    return 0


def again_command(args: argparse.Namespace) -> str:
    """The command that resumes this demo: it names the data directory if one was given."""
    import shlex

    return "dungeon demo" + (f" --data-dir {shlex.quote(str(args.data_dir))}"
                             if args.data_dir else "")


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
    from node.sim.simulation import ROSTER
    from node.sim.transport import SimTransport
    from node.wiring import build_node

    loop = asyncio.get_running_loop()
    virtual = args.speed is not None
    mesh = Mesh.build(players=3, hops=args.hops, preset=args.preset.upper(), loss=args.loss,
                      seed=args.seed, hop_limit=max(1, args.hops - 1))
    # A radio starts its packet ids at random when it boots; the mesh's seeded ids would be
    # the same every run, and a resumed game takes a repeated id for a repeated command.
    mesh.rng.seed(os.urandom(8))
    config = NodeConfig(data_dir=data_dir, radio="sim", auto_approve=True, game_seed=args.seed,
                        region=mesh.region, preset=mesh.preset)
    roster = ROSTER[:len(mesh.players)]
    intro = [line.format(names=", ".join(n for n, _ in roster), dungeon=_dungeon_name(config),
                         again=again_command(args)) for line in INTRO]
    if not use_tui:  # above the live log, which starts with the node
        print("\n".join(intro), flush=True)

    def make_app() -> NodeApp:
        # The control socket is real I/O: only on a real-time loop (the TUI attaches to it).
        return build_node(config, SimTransport(mesh, NODE_NUM),
                          clock=Clock.for_loop(loop, time.time()) if virtual else None,
                          control=not virtual, live=None if use_tui else sys.stdout)

    app = make_app()
    await app.start()
    if args.fresh and app.pipeline.session is not None and app.store.max_seq() > \
            app.pipeline.session.started_seq:
        await app.pipeline.start_session(config.dungeon, seed=args.seed)
        app.loop.reset()
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
    for num, (name, cls) in zip(mesh.players, roster, strict=True):
        bot = TextBot(SimTransport(mesh, num), NODE_NUM, name=name, cls=cls,
                      rng=random.Random(f"demo:{args.seed}:{name}"), eyes=lambda: app.game,
                      explorer=True, explore=(6.0, 15.0), level=DEMO_LEVEL)
        await bot.start()
        bots.append(bot)
    tasks = [loop.create_task(b.run()) for b in bots]
    tasks.append(loop.create_task(_dm_loop(app, len(bots))))
    if virtual:
        tasks.append(loop.create_task(_pace(args.speed)))
    try:
        if use_tui:
            from tui.app import DungeonConsole

            await DungeonConsole(config.control_path, intro=intro,
                                 quit_help="stop the demo (the game is saved)").run_async()
        elif args.minutes is not None:
            await asyncio.sleep(args.minutes * 60.0)
        else:
            await asyncio.Event().wait()
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await app.stop()


def _dungeon_name(config) -> str:  # type: ignore[no-untyped-def]
    from rules.dungeon import load_bundled

    try:
        return load_bundled(config.dungeon).name
    except Exception:  # the node says what is wrong with its dungeon when it starts
        return "the sample dungeon"


async def _dm_loop(app, players: int) -> None:  # type: ignore[no-untyped-def]
    """The demo's DM: opens what only a DM may open, grants a milestone when the way on
    needs a higher level, and starts the dungeon again when it is cleared or the party
    has fallen. The bots do the exploring, fighting and resting."""
    import asyncio
    import logging

    while True:
        await asyncio.sleep(5.0)
        try:
            await dm_step(app, players)
        except Exception:  # the demo's DM must not stop the demo
            logging.getLogger(__name__).exception("demo DM step failed")


async def dm_step(app, players: int) -> str | None:  # type: ignore[no-untyped-def]
    """One look at the table by the demo's DM; what it did ("again", "fight", "xp", "open"),
    or None."""
    from node.pipeline import Command
    from node.sim import wayfinder
    from rules import pregen
    from rules.intents import Dm

    game = app.game
    session = app.pipeline.session
    if game is None or session is None or session.status != "running":
        return None
    party = game.party()
    if len(party) < players or game.current_turn() is not None:
        return None  # still joining, or a fight is on

    async def dm(op: str, target: int | None = None, value: int = 0, text: str = "") -> bool:
        out = await app.pipeline.submit(Command("dm", "dm", Dm(op, target, value, text)))
        return out.ok

    alive = [e for e in party if not e.dead]
    standing = [e for e in alive if e.hp > 0]
    if not standing or wayfinder.finished(game):
        await dm("narrate", text="The crypt is cleared." if standing else "The party has fallen.")
        await dm("narrate", text="The tale begins again: a new party gathers at the stair.")
        await app.pipeline.start_session(session.dungeon, seed=session.seed + 1)
        app.loop.reset()
        return "again"
    if any(e.side == "monsters" and not e.down for e in game.here()):
        await dm("start_combat")  # foes still standing where the party is: no resting here
        return "fight"
    step, barred = wayfinder.next_step(game)
    if barred == "level":
        need = pregen.XP_LEVELS[step.min_level - 1]
        for e in alive:
            if e.xp < need:
                await dm("give_xp", e.eid, need - e.xp)
        await dm("narrate", text=f"A milestone: the party reaches level {step.min_level}.")
        return "xp"
    if barred in ("sealed", "locked"):
        await dm("unlock", text=step.dir)
        return "open"
    return None


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
