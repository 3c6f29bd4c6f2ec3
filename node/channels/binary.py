"""The node's binary channel: a thin asyncio driver of protocol.session.NodeSession.

Packets on GAME_PORT go into the session. The intents it releases go through the same
pipeline as every other input, one at a time, in the order it released them; the events
of every public result, from any channel, go back into it for the next broadcast; what it
says to send goes to the outbox; and a timer calls it again at its next deadline. The
protocol itself (keys, windows, slots, batching, resends, resync, nudges) lives in the
session, where it is tested with plain calls and a fake clock.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections import deque
from typing import Any

from node.pipeline import Command, Outcome
from node.radio import firmware as fw
from node.radio.base import GAME_PORT, Packet
from node.radio.outbox import Priority
from protocol.session import Apply, NodeSession, Result, Send, Urgency

log = logging.getLogger(__name__)

_PRIORITY = {Urgency.REPLY: Priority.REPLY, Urgency.RESULT: Priority.RESULT,
             Urgency.CHATTER: Priority.CHATTER}


def sender_id(num: int) -> str:
    return f"!{num:08x}"


def node_secret(config: Any) -> bytes:
    """The secret every client's frame key derives from: the config's hmac_key when set (keys
    then survive a restart), else a random one drawn at start (clients HELLO again)."""
    configured = getattr(config, "hmac_key", None)
    return configured.encode("utf-8") if configured else os.urandom(32)


class _Table:
    """protocol.session.Table over the running node: who plays what, and the game."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def eid_of(self, client: int) -> int | None:
        eids = self.app.pipeline.eids_of(sender_id(client))
        return eids[0] if eids else None

    def owner(self, eid: int) -> int | None:
        for sender in self.app.pipeline.senders_of(eid):
            try:
                return int(sender.removeprefix("!"), 16)
            except ValueError:
                continue  # a Discord or console player
        return None

    def digest(self) -> int | None:
        game = self.app.game
        try:
            return game.digest() if game is not None else None
        except Exception:  # a frame without its digest still carries the results and acks
            log.exception("cannot digest the game state")
            return None

    def current_turn(self) -> int | None:
        game = self.app.game
        return game.current_turn() if game is not None else None

    def canonical(self) -> bytes | None:
        game = self.app.game
        return game.canonical() if game is not None else None


class BinaryChannel:
    """Register with BinaryChannel(app); it hooks app.on_port and the pipeline itself.

    The frame keys derive from `secret`, by default from app.config (see node_secret)."""

    def __init__(self, app: Any, *, secret: bytes | None = None) -> None:
        self.app = app
        self.session = NodeSession(secret if secret is not None else node_secret(app.config))
        self.table = _Table(app)
        self._timer: asyncio.TimerHandle | None = None
        self._due: deque[Apply] = deque()
        self._worker: asyncio.Task[None] | None = None
        app.on_port(GAME_PORT, self.on_packet)
        app.pipeline.subscribe(self._on_outcome)

    @property
    def bseq(self) -> int:
        """The newest broadcast's sequence number."""
        return self.session.bseq

    def stats(self) -> dict[str, int]:
        return self.session.stats()

    def serves(self, num: int) -> bool:
        """True if the radio `num` plays through a binary client this node knows."""
        return num in self.session.clients

    def on_packet(self, packet: Packet) -> asyncio.Task[None] | None:
        """A packet on the game port; returns the task applying intents when it starts one."""
        had = self._worker
        # Before the session reads the packet: the first HELLO's WELCOME is held for a quiet
        # spell under 2.8 like every later one (it went at once, read before the firmware,
        # and met the other players' HELLOs at the relay). `dungeon sim --mode binary
        # --firmware 2.8`, seeds 1-240: 4.09 -> 3.98 s of node airtime per round, seed 7
        # 5.11 -> 2.83 s (seeds 1-12: 3.99 -> 4.42 s, 13-24: 3.63 -> 3.80 s, within chance).
        self._know_firmware()
        self._run(self.session.receive(packet.sender, packet.payload, self._now(), self.table))
        return self._worker if self._worker is not had else None

    # --- driving the session ---------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    def _know_firmware(self) -> None:
        """Tell the session whether the radio signs short broadcasts (firmware 2.8)."""
        info = getattr(self.app.transport, "info", None)
        self.session.signed_up_to = (
            fw.SIGNED_BROADCAST_MAX if fw.signs_broadcasts(getattr(info, "firmware", "")) else 0)

    def _run(self, outputs: list[Send | Apply]) -> None:
        self._know_firmware()
        for out in outputs:
            if isinstance(out, Send):
                self.app.outbox.submit_binary(out.to, out.data, priority=_PRIORITY[out.urgency],
                                              charged=out.charged)
            else:
                self._due.append(out)
        if self._due and (self._worker is None or self._worker.done()):
            self._worker = asyncio.get_running_loop().create_task(self._apply_due())
        self._arm()

    async def _apply_due(self) -> None:
        """Submit released intents one at a time, so they take effect in the order sent."""
        while self._due:
            item = self._due.popleft()
            out: Outcome = await self.app.pipeline.submit(
                Command("binary", sender_id(item.client), item.intent, item.key))
            result = Result(
                ok=out.ok, public=out.ok and not out.private and not out.duplicate
                and bool(out.events), duplicate=out.duplicate, dropped=out.dropped,
                text=out.error or out.text or "ok", actor=out.actor or 0)
            self._run(self.session.applied(item.client, item.seq, result, self._now(),
                                           self.table))

    def warn_turn(self, eid: int, text: str) -> None:
        """The turn is about to time out: tell the binary player of eid privately, once,
        unless its command is already on the way (the frame is charged to that player's
        airtime budget)."""
        owner = self.table.owner(eid)
        if owner is not None:
            self._run(self.session.warn(owner, text, self._now()))

    def _on_outcome(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        if events and not out.private:
            self.session.publish(events, self._now())
            self._arm()

    def _arm(self) -> None:
        deadline = self.session.next_deadline()
        if self._timer is not None and (deadline is None or self._timer.when() != deadline):
            self._timer.cancel()
            self._timer = None
        if deadline is not None and self._timer is None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._tick)

    def _tick(self) -> None:
        # asyncio may run a timer up to its clock resolution early: it is due all the same
        assert self._timer is not None
        due, self._timer = self._timer.when(), None
        self._run(self.session.tick(max(self._now(), due), self.table))
