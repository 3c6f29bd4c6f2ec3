"""A bot player on the project's binary client, for the simulator and the demo.

It is the player client (node.client.player) with a bot at the keyboard: the same
session (keys, frames, acks, bundles, gap resync and digests) as `dungeon play`; what it
adds is the playing (read off `eyes`, as the text bots do) and what the simulator measures.
"""

from __future__ import annotations

import asyncio
import random
from typing import Any

from node.client.player import PlayerClient
from node.radio.base import Transport
from node.sim.bots import BotStats, Eyes, member, open_exits, plan_turn, play_turns
from protocol.resync import INTENT_RETRY_S


def _unread(line: str) -> None:
    """A bot reads the game off `eyes`; the client's rendered lines go nowhere."""


class BinaryBot(PlayerClient):
    """A player on the project's binary client: intents in frames, acks, gap resync, digest."""

    def __init__(
        self,
        transport: Transport,
        node_num: int,
        *,
        name: str,
        cls: str,
        rng: random.Random,
        eyes: Eyes,
        retry_s: float = INTENT_RETRY_S,  # as `dungeon play`
        # `dungeon play` gives up after 6 tries and says so; its player then types the
        # command again, which is what the bot's further tries stand for.
        max_tries: int = 40,
        think: tuple[float, float] = (2.0, 8.0),
        explore: tuple[float, float] = (20.0, 60.0),
    ) -> None:
        # a bot's decision is one call (action and end of turn): nothing to gather
        super().__init__(transport, name=name, cls=cls, out=_unread, node_num=node_num,
                         retry_s=retry_s, max_tries=max_tries, rng=rng, gather_s=0.0)
        self.eyes = eyes
        self.think = think
        self.explore = explore
        self.stats = BotStats()
        self.active = True

    @property
    def busy(self) -> bool:
        """True while intents wait for their acks."""
        return bool(self._acks)

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _transmit(self, data: bytes) -> None:
        self.stats.packets += 1
        await super()._transmit(data)

    async def act(self, *intents: Any) -> bool:
        """One decision (e.g. attack, then end turn), delivered; what it took, in stats."""
        started, resent = self._now(), self.resent
        acks = await self.deliver(list(intents))
        self.stats.sent += len(acks)
        self.stats.retries += self.resent - resent
        for ack in acks:
            if not ack.done.is_set():
                self.stats.lost += 1
            else:
                self.stats.latencies.append(ack.at - started)
                if ack.public:
                    self.stats.applied += 1
                else:
                    self.stats.answered += 1
        return all(ack.done.is_set() for ack in acks)

    # --- playing --------------------------------------------------------------------

    async def run(self) -> None:
        from rules import intents as it

        await asyncio.sleep(self.rng.uniform(*self.think))
        await self.hello()
        while self.active and self.eid is None:
            await self.act(it.Join(self.name, self.cls))
            game = self.eyes()
            me = member(game, self.name) if self.eid is None and game is not None else None
            if me is not None:
                self.eid = me.eid
            if self.eid is None:
                await asyncio.sleep(self.rng.uniform(*self.explore))
        await play_turns(self)

    async def _turn(self) -> None:
        from rules import intents as it

        await asyncio.sleep(self.rng.uniform(*self.think))
        game = self.eyes()
        if game is None or self.eid is None or game.current_turn() != self.eid:
            return
        plan = plan_turn(game, game.entity(self.eid), self.cls)
        # One decision, two frames sent together: the action, then the end of the turn.
        if plan is None:
            await self.act(it.EndTurn())
        elif plan[0] == "heal":
            await self.act(it.Cast("cure wounds", plan[1].eid), it.EndTurn())
        else:
            await self.act(it.Attack(plan[1].eid), it.EndTurn())

    async def _idle(self) -> None:
        from rules import intents as it

        game = self.eyes()
        if game is None or game.current_turn() is not None:
            return
        if self.rng.random() < 0.5:
            await self.act(it.Look())
        else:
            exits = [e.dir for e in open_exits(game)]
            if exits:
                await self.act(it.Move(self.rng.choice(exits)))

    async def final_view(self) -> int | None:
        """The digest of the newest state we hold, once every frame is in (None: a gap)."""
        self._welcomed.clear()
        await self.hello()  # a fresh WELCOME tells us the node's newest broadcast seq
        for _ in range(self.max_tries * 2):
            req = self.gaps.request()
            if req is None:
                break
            await self._transmit(self.session.resync(req[0]).data)
            await asyncio.sleep(self.retry_s)
        if self.gaps.missing():
            return None
        return self.digests.get(self.gaps.latest)

    def expected_view(self, game: Any) -> int | None:
        return None if game is None else game.digest()
