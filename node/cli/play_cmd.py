"""`dungeon play`: the player client for a laptop or phone terminal with a radio on USB or TCP."""

from __future__ import annotations

import argparse

HELP = "play from a terminal over your own radio (binary protocol, text rendered locally)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", required=True,
                        help="your radio: serial[:PATH] or tcp:HOST[:PORT]")
    parser.add_argument("--name", default="Wren", help="your character's name")
    parser.add_argument("--class", dest="cls", default="fighter", help="your character's class")
    parser.add_argument("--node", default=None,
                        help="the game node's id (!a1b2c3d4); default: whoever answers")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from node.radio.base import TransportError
    from node.radio.factory import make_transport

    node_num = None
    if args.node:
        try:
            node_num = int(args.node.lstrip("!"), 16)
        except ValueError:
            print(f"dungeon play: bad node id {args.node!r}; use !a1b2c3d4", file=sys.stderr)
            return 2
    try:
        transport = make_transport(args.radio)
    except TransportError as err:
        print(f"dungeon play: {err}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(_play(transport, args.name, args.cls, node_num))
    except TransportError as err:
        print(f"dungeon play: {err}", file=sys.stderr)
        return 1


async def _play(transport, name: str, cls: str, node_num: int | None) -> int:  # type: ignore[no-untyped-def]
    import asyncio

    from node.client.player import PlayerClient

    client = PlayerClient(transport, name=name, cls=cls, out=lambda line: print(line, flush=True),
                          node_num=node_num)
    _readline(client)
    await client.start()
    print(f"joining as {name} the {cls}... (help works offline; quit to leave)", flush=True)
    try:
        if not await client.join():
            return 1
        while True:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                break
            if not await client.submit_line(line):
                break
    finally:
        await client.close()
    return 0


def _readline(client) -> None:  # type: ignore[no-untyped-def]
    """Tab completion of commands and names, where the terminal has readline."""
    try:
        import readline
    except ImportError:
        return

    def complete(text: str, state: int) -> str | None:
        options = client.completions(text)
        return options[state] if state < len(options) else None

    readline.set_completer(complete)
    readline.parse_and_bind("tab: complete")
