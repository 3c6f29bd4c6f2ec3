"""`dungeon play`: the player client for a laptop or phone terminal with a radio on USB or TCP."""

from __future__ import annotations

import argparse

HELP = "play from a terminal over your own radio (binary protocol, text rendered locally)"
# Words the client answers itself, without airtime (PlayerClient.submit_line).
LOCAL = ("help", "h", "?", "status", "quit", "exit")
# At the end of a script, how long the node has to acknowledge what was sent (--wait): as
# long as the client's own six repeats take. At 60 s, over two relay hops at 20% loss the
# script stopped waiting while the client was still repeating its commands.
SETTLE_S = 96.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", required=True,
                        help="your radio: serial[:PATH] or tcp:HOST[:PORT]")
    parser.add_argument("--name", default="Wren", help="your character's name")
    parser.add_argument("--class", dest="cls", default="fighter", help="your character's class")
    parser.add_argument("--node", default=None,
                        help="the game node's id (!a1b2c3d4); default: whoever answers")
    parser.add_argument("--wait", type=float, default=SETTLE_S, metavar="S",
                        help="reading a script from a pipe: at its end, wait at most S seconds "
                             f"for the node to acknowledge every command (default {SETTLE_S:g})")


def run(args: argparse.Namespace) -> int:
    import asyncio
    import sys

    from node.radio.base import TransportError
    from node.radio.factory import make_transport

    if not args.wait >= 0:
        print(f"dungeon play: --wait {args.wait:g} must be 0 seconds or more", file=sys.stderr)
        return 2
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
        return asyncio.run(_play(transport, args.name, args.cls, node_num, args.wait))
    except TransportError as err:
        print(f"dungeon play: {err}", file=sys.stderr)
        return 1


async def _play(transport, name: str, cls: str, node_num: int | None,  # type: ignore[no-untyped-def]
                wait_s: float = SETTLE_S) -> int:
    import asyncio
    import sys

    from node.client.player import PlayerClient

    scripted = not sys.stdin.isatty()
    client = PlayerClient(transport, name=name, cls=cls, out=lambda line: print(line, flush=True),
                          node_num=node_num, max_tries=script_tries(wait_s) if scripted else 6)
    if not scripted:
        _readline(client)
    await client.start()
    print(f"joining as {name} the {cls}... (help works offline; quit to leave)", flush=True)
    try:
        if not await client.join():
            return 1
        if scripted:
            return await _script(client, sys.stdin, wait_s)
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


async def _script(client, stdin, wait_s: float) -> int:  # type: ignore[no-untyped-def]
    """One command a line from a pipe or file; at its end, wait for every intent's ack.

    Exit 0 when the node acknowledged them all (their times on stderr), else 1 naming the
    lines it never acknowledged. Broadcast results it missed are fetched within the same wait."""
    import asyncio
    import sys

    from protocol import text
    from protocol.errors import ProtocolError

    loop = asyncio.get_running_loop()
    sent: list[tuple[str, float, asyncio.Task]] = []  # (line, sent at, its delivery)
    while line := (await asyncio.to_thread(stdin.readline)):
        line = line.strip()
        words = line.split()
        if not words:
            continue
        if words[0].lower() in LOCAL:
            if not await client.submit_line(line):
                break  # quit
            continue  # answered locally, no airtime
        try:
            intents = text.parse_chain(line)
        except ProtocolError as err:
            print(f"? {err}", flush=True)
            continue
        sent.append((line, loop.time(), loop.create_task(client.deliver(intents))))
    deadline = loop.time() + wait_s
    if sent:
        await asyncio.wait([task for *_, task in sent], timeout=wait_s)
    # Results broadcast while we were not listening come again on request: let the client
    # fill its gaps (within the same wait) so the script shows every result it caused.
    if not await client.caught_up(max(0.0, deadline - loop.time())):
        print(f"dungeon play: {len(client.gaps.missing())} broadcast frame(s) never arrived",
              file=sys.stderr)
    missing, took = [], []
    for line, at, task in sent:
        acks = task.result() if task.done() else []
        if task.done() and all(ack.done.is_set() for ack in acks):
            took.append(max(ack.at for ack in acks) - at if acks else 0.0)
        else:
            task.cancel()
            missing.append(line)
    if missing:
        print("dungeon play: never acknowledged: " + "; ".join(missing), file=sys.stderr)
        return 1
    print(f"all {len(took)} commands acknowledged; seconds each: "
          + " ".join(f"{t:.1f}" for t in took), file=sys.stderr, flush=True)
    return 0


def script_tries(wait_s: float) -> int:
    """How often a script's command is sent before the client gives up on it: enough repeats
    to fill the --wait. At the default six (96 s) a script over two lossy hops stopped
    repeating its commands long before the wait it was given ran out."""
    import math

    from protocol.resync import INTENT_RETRY_S

    return max(6, math.ceil(wait_s / INTENT_RETRY_S) + 1)


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
