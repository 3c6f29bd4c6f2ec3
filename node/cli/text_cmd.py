"""`dungeon text`: a text player as the stock Meshtastic app is one, for testing a node by hand.

Each typed line goes out as one channel text, or as a direct message to the node; whatever
text arrives (on the channel, or to this radio) is printed. `/dm` switches between the two.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from node.cli import argtypes

HELP = "type to a node as the stock Meshtastic app would: channel texts or DMs, replies printed"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--radio", required=True, metavar="SPEC",
                        help="your radio: serial[:PATH] or tcp:HOST[:PORT]")
    parser.add_argument("--channel", type=argtypes.int_range(0, 7), default=0,
                        help="the game channel's index on your radio (default 0)")
    parser.add_argument("--dm", action="store_true",
                        help="send lines as direct messages to the node (type /dm to switch)")
    parser.add_argument("--node", metavar="!ID",
                        help="the node for DMs (default: the first radio whose text arrives)")
    parser.add_argument("--linger", type=argtypes.float_range(0.0), default=0.0, metavar="S",
                        help="when input ends (a script piped in), keep printing what arrives "
                             "for S seconds (default 0)")


def node_number(text: str) -> int:
    """A node id as the app shows it, "!0d0d0001", as a number."""
    try:
        return int(text.strip().lstrip("!"), 16)
    except ValueError:
        from node.cli import UsageError

        raise UsageError(f"bad node id {text!r}; use !a1b2c3d4") from None


class TextPlayer:
    """Sends lines and prints arrivals; DMs go to `node`, learnt from the first reply if unset."""

    def __init__(self, transport: Any, channel: int, dm: bool, node: int | None,
                 out: Any = print) -> None:
        self.transport, self.channel, self.dm, self.node = transport, channel, dm, node
        self.out = out
        self._last_sent = float("-inf")

    def on_packet(self, pkt: Any) -> None:
        from node.radio.base import BROADCAST, TEXT_PORT

        if pkt.port != TEXT_PORT:
            return
        direct = pkt.to != BROADCAST
        if not direct and pkt.channel != self.channel:
            return
        if self.node is None:
            self.node = pkt.sender
        where = "dm" if direct else f"ch{pkt.channel}"
        text = pkt.payload.decode("utf-8", errors="replace")
        self.out(f"[{where}] !{pkt.sender:08x}: {text}", flush=True)

    async def line(self, text: str) -> None:
        """Send one typed line, or act on /dm; waits out the radio's text gap first."""
        import asyncio
        import time

        from node.radio.base import BROADCAST, TEXT_PORT
        from node.radio.firmware import TEXT_APP_GAP_S

        text = text.strip()
        if not text:
            return
        if text.split()[0] == "/dm":
            rest = text.split()[1:]
            if rest:
                self.node = node_number(rest[0])
            self.dm = not self.dm if not rest else True
            self.out(f"sending {'DMs to ' + self.node_name() if self.dm else 'on the channel'}",
                     flush=True)
            return
        if self.dm and self.node is None:
            self.out("no node to DM yet: wait for its first text, or type /dm !a1b2c3d4",
                     flush=True)
            return
        # The firmware drops a second app text inside its gap, silently: wait instead.
        wait = self._last_sent + TEXT_APP_GAP_S - time.monotonic()
        if wait > 0:
            await asyncio.sleep(wait)
        to = self.node if self.dm else BROADCAST
        await self.transport.send(to, TEXT_PORT, text.encode(), channel=self.channel,
                                  want_ack=self.dm)
        self._last_sent = time.monotonic()

    def node_name(self) -> str:
        return f"!{self.node:08x}" if self.node is not None else "the node"


async def _session(player: TextPlayer, linger_s: float) -> int:
    import asyncio

    from node.cli.signals import on_stop_signals

    await player.transport.start(player.on_packet)
    mode = f"DMs to {player.node_name()}" if player.dm else f"channel {player.channel}"
    print(f"connected as !{player.transport.info.node_num:08x}; typing sends on {mode} "
          "(/dm switches; Ctrl-D or Ctrl-C leaves)", flush=True)
    reader = asyncio.ensure_future(_read_lines(player, linger_s))
    on_stop_signals(reader.cancel)
    try:
        await reader
    except asyncio.CancelledError:
        pass
    finally:
        await player.transport.close()
    return 0


async def _read_lines(player: TextPlayer, linger_s: float) -> None:
    import asyncio

    while True:
        line = await asyncio.to_thread(sys.stdin.readline)
        if not line:  # end of input: answers to the last line may still be on the air
            await asyncio.sleep(linger_s)
            return
        await player.line(line)


def run(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from node.radio.factory import make_transport

    node = node_number(args.node) if args.node else None
    if args.radio.split(":", 1)[0] not in ("serial", "tcp"):
        from node.cli import UsageError

        raise UsageError("a text player needs a radio: --radio serial[:PATH] or tcp:HOST[:PORT]")
    logging.getLogger("meshtastic").setLevel(logging.CRITICAL)
    player = TextPlayer(make_transport(args.radio), args.channel, args.dm, node)
    return asyncio.run(_session(player, args.linger))
