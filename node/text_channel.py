"""The radio text channel: text packets in, commands through the pipeline, short replies out.

Private information (errors, hp/sheet/inv, join status) goes back as a direct message to
its sender only; public results go out as broadcasts on the game channel, gathered for a
moment so a round's results cost one packet, not one DM per player.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from node.clock import Clock
from node.metrics import Metrics
from node.pipeline import Command, Outcome, Pipeline, fit
from node.radio.base import BROADCAST, MAX_PAYLOAD, Packet
from node.radio.outbox import Priority

log = logging.getLogger(__name__)


def sender_id(node_num: int) -> str:
    return f"!{node_num:08x}"


def node_num(sender: str) -> int | None:
    if sender.startswith("!") and len(sender) == 9:
        try:
            return int(sender[1:], 16)
        except ValueError:
            return None
    return None


class TextChannel:
    def __init__(
        self,
        pipeline: Pipeline,
        outbox: Any,
        *,
        clock: Clock,
        metrics: Metrics,
        channel: int = 0,
        coalesce_s: float = 1.0,
        identity: Any = None,
    ) -> None:
        self.pipeline = pipeline
        self.outbox = outbox
        self.clock = clock
        self.metrics = metrics
        self.channel = channel
        self.coalesce_s = coalesce_s
        self.identity = identity  # node.identity.KeyPins, or None to skip key pinning
        self._pending: list[str] = []
        self._flush_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self.muted = False
        self._unsub = pipeline.subscribe(self._on_outcome)

    def mute(self) -> None:
        """Stop broadcasting results and prompts (a table of binary clients only): airtime
        for nobody. Replies to texts that do arrive still go out."""
        self.muted = True
        self._unsub()

    # -- inbound --------------------------------------------------------------------------
    def on_packet(self, packet: Packet) -> None:
        task = asyncio.get_running_loop().create_task(self.handle(packet))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def handle(self, packet: Packet) -> Outcome | None:
        from protocol import text as ptext
        from protocol.errors import ProtocolError

        sender = sender_id(packet.sender)
        if self.identity is not None and not self.identity.check(sender, packet.public_key):
            self.metrics.inc("dungeon_text_dropped_total", reason="key")
            return None
        if len(packet.payload) > MAX_PAYLOAD + 33:  # above the firmware's own limit: garbage
            self.metrics.inc("dungeon_text_dropped_total", reason="oversize")
            return None
        try:
            line = packet.payload.decode("utf-8")
            intent = ptext.parse(line)
        except UnicodeDecodeError:
            self._dm(packet.sender, "unreadable text; send help", Priority.REPLY)
            return None
        except ProtocolError as err:
            self.metrics.inc("dungeon_commands_rejected_total", reason="parse")
            self._dm(packet.sender, str(err) or "unknown command; send help", Priority.REPLY)
            return None
        key = f"{sender}:{packet.id}" if packet.id else None
        out = await self.pipeline.submit(Command("text", sender, intent, key))
        if out.dropped:
            return out
        if not out.ok or out.private or out.duplicate:
            for text in out.lines or ([out.error] if out.error else []):
                self._dm(packet.sender, text, Priority.REPLY)
        # accepted public results reach everyone through _on_outcome's broadcast
        return out

    # -- outbound -------------------------------------------------------------------------
    def _dm(self, to: int, text: str, priority: Priority) -> None:
        self.outbox.submit_text(to, fit(text), priority=priority, channel=self.channel)

    def prompt(self, eid: int, text: str) -> None:
        """A turn prompt to every radio that plays `eid`."""
        if self.muted:
            return
        for sender in self.pipeline.senders_of(eid):
            num = node_num(sender)
            if num is not None:
                self._dm(num, text, Priority.PROMPT)

    def broadcast(self, text: str) -> None:
        self._pending.append(fit(text))
        self._schedule_flush()

    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        num = node_num(cmd.sender)
        if cmd.source == "system" and type(cmd.intent).__name__ == "Join" and num is not None:
            # the DM approved a join that arrived earlier: tell the waiting radio privately
            self._dm(num, f"welcome, {cmd.intent.name}! you are in. send help for commands",
                     Priority.REPLY)
        if not out.lines:
            return
        self._pending.extend(out.lines)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.coalesce_s)
        self.flush()

    def flush(self) -> None:
        """Pack the gathered lines into as few <=200 B broadcasts as they fit."""
        lines, self._pending = self._pending, []
        packet = ""
        for line in lines:
            joined = f"{packet} | {line}" if packet else line
            if len(joined.encode()) <= MAX_PAYLOAD:
                packet = joined
                continue
            if packet:
                self.outbox.submit_text(BROADCAST, packet, priority=Priority.RESULT,
                                        channel=self.channel)
            packet = fit(line)
        if packet:
            self.outbox.submit_text(BROADCAST, packet, priority=Priority.RESULT,
                                    channel=self.channel)

    async def close(self) -> None:
        # no final flush: the outbox stops with the node, so a last broadcast would not leave
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_task.cancel()
        for task in list(self._tasks):
            task.cancel()
