"""The Discord bridge service: turns Discord input into queued node commands and batches summaries.

discord_bot.py keeps the discord.py handlers thin over this class, which needs no
Discord connection and is tested directly. A game maps to one channel.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from protocol import jsonform
from sync.relay.server import Relay

DEFAULT_TTL_S = 600.0
MAX_EMBED_CHARS = 4000  # Discord allows 4096 in an embed description
MIN_POST_INTERVAL_S = 1.5  # per channel; Discord allows about 5 messages per 5 s


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    ok: bool = True
    queued: bool = False
    ephemeral: bool = False


def parse_channels(text: str) -> dict[int, str]:
    """`channel_id=node_id` pairs, comma or space separated."""
    out: dict[int, str] = {}
    for item in text.replace(",", " ").split():
        chan, eq, node = item.partition("=")
        if eq and chan.isdigit() and node:
            out[int(chan)] = node
    return out


class SummaryBatcher:
    """Gathers summary lines per channel and posts them as one embed at most every interval."""

    def __init__(self, post: Callable[[int, str, list[str]], Awaitable[None]],
                 interval_s: float = MIN_POST_INTERVAL_S,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.post, self.interval_s, self.clock = post, interval_s, clock
        self._buf: dict[int, list[str]] = {}
        self._titles: dict[int, str] = {}
        self._last: dict[int, float] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}

    def add(self, channel_id: int, title: str, lines: list[str]) -> None:
        self._buf.setdefault(channel_id, []).extend(lines)
        self._titles[channel_id] = title
        if channel_id not in self._tasks or self._tasks[channel_id].done():
            self._tasks[channel_id] = asyncio.ensure_future(self._flush_later(channel_id))

    async def _flush_later(self, channel_id: int) -> None:
        wait = self._last.get(channel_id, -1e9) + self.interval_s - self.clock()
        if wait > 0:
            await asyncio.sleep(wait)
        while self._buf.get(channel_id):
            lines, chunk, size = self._buf[channel_id], [], 0
            while lines and size + len(lines[0]) + 1 <= MAX_EMBED_CHARS:
                size += len(lines[0]) + 1
                chunk.append(lines.pop(0))
            if not chunk:  # one oversized line: cut it rather than stall
                chunk = [lines.pop(0)[: MAX_EMBED_CHARS - 1]]
            self._last[channel_id] = self.clock()
            await self.post(channel_id, self._titles.get(channel_id, ""), chunk)
            if self._buf[channel_id]:
                await asyncio.sleep(self.interval_s)

    async def drain(self) -> None:
        """Wait for every scheduled post (tests, shutdown)."""
        while pending := [t for t in self._tasks.values() if not t.done()]:
            await asyncio.gather(*pending)


@dataclass
class BridgeService:
    relay: Relay
    channels: dict[int, str]
    ttl_s: float = DEFAULT_TTL_S
    queue_offline: bool = True
    clock: Callable[[], float] = time.time
    batcher: SummaryBatcher | None = None
    _by_node: dict[str, list[int]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for chan, node in self.channels.items():
            self._by_node.setdefault(node, []).append(chan)
        self.relay.hooks.append(self.on_lines)

    # -- relay -> Discord -----------------------------------------------------------------
    async def on_lines(self, node_id: str, lines: list[str]) -> None:
        if self.batcher is None:
            return
        game = self.relay.mirror.game(node_id)
        title = f"Round {game.round}" if game.round else "The dungeon"
        for chan in self._by_node.get(node_id, []):
            self.batcher.add(chan, title, lines)

    # -- Discord -> node ------------------------------------------------------------------
    def node_for(self, channel_id: int) -> str | None:
        return self.channels.get(channel_id)

    async def submit(self, channel_id: int, user_id: int, intent: Any, key: str) -> Reply:
        """Queue `intent` for the channel's node with idempotency key `key`."""
        return await self._queue(channel_id, key, {
            "kind": "command", "sender": f"discord:{user_id}", "intent": jsonform.dump(intent)})

    async def link(self, channel_id: int, user_id: int, code: str, key: str) -> Reply:
        code = code.strip().upper()
        if not code.isalnum() or not 4 <= len(code) <= 12:
            return Reply("A link code is 4-12 letters or digits, as the DM's console shows it.",
                         ok=False, ephemeral=True)
        reply = await self._queue(channel_id, key, {
            "kind": "link", "sender": f"discord:{user_id}", "code": code})
        if reply.ok and not reply.queued:
            return Reply("Link code sent to the table; your character will answer here.", ephemeral=True)
        return reply

    async def text(self, channel_id: int, user_id: int, message_id: int, line: str) -> Reply | None:
        """A plain message in a game channel, read with the radio's text grammar."""
        if channel_id not in self.channels or not line.strip():
            return None
        from protocol.errors import ProtocolError
        from protocol.text import parse

        try:
            intent = parse(line)
        except ProtocolError as err:
            return Reply(str(err), ok=False)
        return await self.submit(channel_id, user_id, intent, f"discord-msg:{message_id}")

    async def _queue(self, channel_id: int, key: str, body: dict[str, Any]) -> Reply:
        node = self.node_for(channel_id)
        if node is None:
            return Reply("This channel is not linked to a game.", ok=False, ephemeral=True)
        online = self.relay.online(node)
        if not online and not self.queue_offline:
            return Reply("The table's node is offline right now; try again later.", ok=False)
        fresh = await self.relay.enqueue(node, key, body, self.ttl_s)
        if not fresh:
            return Reply("Already received.", ephemeral=True)
        if online:
            return Reply("Sent to the table.", ephemeral=True)
        minutes = round(self.ttl_s / 60)
        expiry = time.strftime("%H:%M UTC", time.gmtime(self.clock() + self.ttl_s))
        return Reply(f"The table's node is offline. Your command is queued for {minutes} min "
                     f"(until {expiry}) and is dropped if the node is not back by then.",
                     queued=True)

    # -- read model -----------------------------------------------------------------------
    def status(self, channel_id: int) -> dict[str, Any] | None:
        node = self.node_for(channel_id)
        if node is None:
            return None
        return {**self.relay.mirror.game(node).status(), "online": self.relay.online(node)}

    def sheet(self, channel_id: int, user_id: int) -> Reply:
        node = self.node_for(channel_id)
        if node is None:
            return Reply("This channel is not linked to a game.", ok=False, ephemeral=True)
        game = self.relay.mirror.game(node)
        eid = game.actors.get(f"discord:{user_id}")
        if eid is None:
            return Reply("No character is linked to you yet: ask the DM for a code, then /link.",
                         ok=False, ephemeral=True)
        return Reply(game.sheet(eid), ephemeral=True)
