"""Bot players for the simulator and the demo: the stock-app text player, and what all bots share.

Bots play through a radio Transport exactly as a person would: they type (or encode)
commands, wait for what comes back over the mesh, and retry what seems lost. What a
person reads off the screen to decide (which monster is in front of them, who is
hurt) the bots take from `eyes`, a read-only view of the game; everything they
measure (latency, applied, lost) comes only from packets that actually arrived.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.channels.text import NOTHING_HEARD
from node.radio.base import BROADCAST, TEXT_PORT, Packet, Transport
from protocol.render import COMBAT_OUTCOMES, announced

log = logging.getLogger(__name__)

TEXT_GAP_S = 2.5
Eyes = Callable[[], Any]  # returns the current rules.game.Game (read only), or None


@dataclass
class BotStats:
    sent: int = 0  # actions (not packets) the bot started
    packets: int = 0  # radio packets, retries included
    retries: int = 0
    applied: int = 0  # a public result came back
    answered: int = 0  # a private answer came back (errors, queries)
    lost: int = 0  # no answer even after every retry
    latencies: list[float] = field(default_factory=list)
    # The text tail's anatomy: latencies of actions answered on their first try, and for
    # each action that needed a re-send (text, first try sent at, first re-send at).
    first_try_latencies: list[float] = field(default_factory=list)
    resent: list[tuple[str, float, float]] = field(default_factory=list)


@dataclass
class _Pending:
    text: str
    started: float
    matches: Callable[[str, bool], bool]  # (message part, is a direct message) -> is our result
    done: asyncio.Event = field(default_factory=asyncio.Event)
    public: bool = False
    delivered: bool = False  # the app showed the node's routing ack for a DM
    again: asyncio.Event = field(default_factory=asyncio.Event)  # the node says: send again


def alive_monsters(game: Any) -> list[Any]:
    """Living monsters in the party's room: what a player can see and attack."""
    room = getattr(game, "room", None)
    return [e for e in game.entities.values()
            if e.side == "monsters" and not e.dead and not e.fled and e.hp > 0
            and (room is None or getattr(e, "room", room) == room)]


class TextBot:
    """A field player on the stock Meshtastic app: short text commands, human think times."""

    def __init__(
        self,
        transport: Transport,
        node_num: int,
        *,
        name: str,
        cls: str,
        rng: random.Random,
        eyes: Eyes,
        # A person re-types after hearing nothing for a while (jittered below). Sooner, on a
        # busy two-hop LONG_FAST mesh, the retries themselves collide with the answers
        # (measured: 8-10 s lost actions and pushed the node to its duty budget).
        retry_s: float = 18.0,
        max_tries: int = 6,
        think: tuple[float, float] = (2.0, 8.0),
        explore: tuple[float, float] = (20.0, 60.0),
        on_channel: bool = True,
        explorer: bool = False,
        level: int = 1,
    ) -> None:
        self.transport = transport
        self.node_num = node_num
        self.name = name
        self.cls = cls
        self.rng = rng
        self.eyes = eyes
        self.retry_s = retry_s
        self.max_tries = max_tries
        self.think = think
        self.explore = explore
        # True: commands go to the game channel (a broadcast, as the stock app sends a channel
        # message); False: as a direct message to the node, which costs the node a routing ack.
        self.on_channel = on_channel
        # The demo's players: between fights they rest when hurt and walk the dungeon
        # towards its next fight (the simulator's wander, and meet the DM's spawns).
        self.explorer = explorer
        self.level = level
        self.stats = BotStats()
        self.inbox: list[tuple[float, bool, str]] = []  # (time, direct, text)
        self.eid: int | None = None
        self._pending: _Pending | None = None
        self.my_turn = asyncio.Event()
        self._last_hp: str | None = None
        self._last_send = float("-inf")
        self.active = True  # False: stop starting new actions (the sim is winding down)

    @property
    def busy(self) -> bool:
        """True while an action waits for its answer."""
        return self._pending is not None

    # --- radio ----------------------------------------------------------------------

    async def start(self) -> None:
        await self.transport.start(self.on_packet)
        watch = getattr(self.transport, "watch_acks", None)
        if watch is not None:
            watch(self._on_ack)

    def _on_ack(self, request_id: int, ok: bool, by: int) -> None:
        # Only the node's own ack means "delivered" in the app; a relay's rebroadcast does not.
        pend = self._pending
        if ok and by == self.node_num and pend is not None:
            pend.delivered = True

    def on_packet(self, packet: Packet) -> None:
        if packet.port != TEXT_PORT:
            return
        me = self.transport.info.node_num
        if packet.to not in (me, BROADCAST) or packet.sender != self.node_num:
            return  # other players' commands on the channel are not answers
        direct = packet.to == me
        text = packet.payload.decode("utf-8", "replace")
        now = asyncio.get_running_loop().time()
        self.inbox.append((now, direct, text))
        if direct and self._nudged(text):
            return
        for part in text.split(" | "):
            if direct and part.startswith("Your turn") or not direct and self._named_next(part):
                self.my_turn.set()
                continue
            if direct and " HP " in part and part.startswith(self.name):
                self._last_hp = part
            pend = self._pending
            if pend is not None and not pend.done.is_set() and pend.matches(part, direct):
                # Sending by DM, the result comes back by DM naming its actor as the
                # broadcast line does (errors do not; a private "hp" answer does, too).
                pend.public = not direct or not self.on_channel and \
                    part.startswith(self.name + " ")
                pend.done.set()

    def _nudged(self, text: str) -> bool:
        """The node's turn reminder says it heard nothing from us (node/channels/text.py):
        a person reading it while waiting for an answer sends the command again at once."""
        if not text.endswith(NOTHING_HEARD):
            return False
        self.my_turn.set()
        pend = self._pending
        if pend is not None and not pend.done.is_set() and pend.text.startswith("join "):
            pend.done.set()  # a turn of our own: whatever was lost, we are in the game
        self.send_again()
        return True

    def send_again(self) -> None:
        """Told the node has not heard the action in hand: send it again at once."""
        pend = self._pending
        if pend is not None and not pend.done.is_set():
            pend.again.set()

    # --- acting ---------------------------------------------------------------------

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _pause(self, lo_hi: tuple[float, float]) -> None:
        await asyncio.sleep(self.rng.uniform(*lo_hi))

    async def act(self, text: str, matches: Callable[[str, bool], bool], *,
                  tries: int | None = None) -> bool:
        """Send `text`, wait for its result, retry the same text; True if a result came."""
        pend = _Pending(text, self._now(), matches)
        self._pending = pend
        self.stats.sent += 1
        first_at = pend.started
        try:
            for attempt in range(tries or self.max_tries):
                if attempt:
                    self.stats.retries += 1
                self.stats.packets += 1
                # Like a person, never two texts inside the radio's 2 s app window.
                gap = self._last_send + TEXT_GAP_S - self._now()
                if gap > 0:
                    await asyncio.sleep(gap)
                self._last_send = self._now()
                if attempt == 0:
                    first_at = self._now()
                elif attempt == 1:
                    self.stats.resent.append((text, first_at, self._now()))
                try:
                    # The stock app asks for an ack either way: a routing ack for a direct
                    # message, the first rebroadcast heard (implicit ack) for a channel one.
                    to = BROADCAST if self.on_channel else self.node_num
                    await self.transport.send(to, TEXT_PORT, text.encode(), want_ack=True)
                except Exception as err:  # the radio refused (duty cycle): count as a try
                    log.info("%s: radio refused %r: %s", self.name, text, err)
                try:
                    # Jittered: retries on a fixed period fall into step with another
                    # player's, and the answers to one keep colliding with the other's.
                    await _first(pend.done, pend.again,
                                 timeout=self.retry_s * self.rng.uniform(0.8, 1.3))
                    if not pend.done.is_set():  # the node asked for it again
                        pend.again.clear()
                        continue
                except TimeoutError:
                    if not pend.delivered:
                        continue
                    # The app shows the DM as delivered: a person waits a while longer for
                    # the answer rather than re-typing what the node already has.
                    try:
                        await asyncio.wait_for(pend.done.wait(), self.retry_s)
                    except TimeoutError:
                        continue
                self.stats.latencies.append(self._now() - pend.started)
                if attempt == 0:
                    self.stats.first_try_latencies.append(self._now() - pend.started)
                if pend.public:
                    self.stats.applied += 1
                else:
                    self.stats.answered += 1
                return True
            self.stats.lost += 1
            log.info("%s: no answer to %r", self.name, text)
            return False
        finally:
            self._pending = None

    def _named_next(self, part: str) -> bool:
        """True if a broadcast part ends on our turn ("Next: Mira", not "Next: Mira2")."""
        return announced(part)[-1:] == [self.name]

    def _mine(self, part: str, direct: bool) -> bool:
        return direct or part.startswith(self.name + " ")

    def _room(self, part: str, direct: bool) -> bool:
        return direct or " exits " in part

    def _turn_over(self, part: str, direct: bool) -> bool:
        return direct or "Next:" in part or part.startswith(("Round", "Fight")) or any(
            end in part for end in COMBAT_OUTCOMES.values())

    def _find_me(self, game: Any) -> Any:
        me = member(game, self.name)
        if me is not None:
            self.eid = me.eid
        return me

    async def run(self) -> None:
        """Join, then play until cancelled."""
        await self._pause(self.think)
        while self.active and self.eid is None:
            await self.act(self._join_text(), self._mine)
            game = self.eyes()
            if game is not None:
                self._find_me(game)
            if self.eid is None:
                await self._pause(self.explore)
        await play_turns(self)

    async def _turn(self) -> None:
        await self._pause(self.think)
        game = self.eyes()
        me = self._find_me(game) if game is not None else None
        if game is None or me is None or game.current_turn() != me.eid:
            return  # the prompt was stale (a timeout or a retry crossed it)
        plan = plan_turn(game, me, self.cls)
        if plan is not None:
            verb, target = plan
            await self.act(f"{'cast cure wounds' if verb == 'heal' else 'atk'} {target.name}",
                           self._mine)
        await self._pause((1.0, 3.0))
        game = self.eyes()
        if self.active and game is not None and game.current_turn() == me.eid:
            await self.act("end", self._turn_over)

    async def _idle(self) -> None:
        """Out of combat: look around, wander, or rest when hurt."""
        game = self.eyes()
        if game is None or game.current_turn() is not None:
            return
        if self.explorer:
            await self._explore(game)
            return
        me = self._find_me(game)
        if me is not None and getattr(me, "dead", False):
            return  # a fallen character's player waits for the DM, not the radio
        if me is not None and me.hp < me.max_hp:
            await self.act(f"rest {self.rng.choice(['short', 'long'])}",
                           lambda part, direct: direct or "rest" in part.lower())
            return
        roll = self.rng.random()
        if roll < 0.4:
            await self.act("look", self._room)
        elif roll < 0.6:
            await self.act("hp", lambda part, direct: direct)
        else:
            exits = [e.dir for e in open_exits(game)]
            if exits:
                await self.act(self.rng.choice(exits), self._room)

    async def _explore(self, game: Any) -> None:
        """The demo's party: (re)join a new game, rest when hurt, and let the first of the
        party in the room lead the way to the next fight."""
        from node.sim import wayfinder

        me = self._find_me(game)
        if me is None:  # the DM started the dungeon again: a new game needs a new character
            self.eid = None
            await self.act(self._join_text(), self._mine)
            return
        if getattr(me, "dead", False):
            return
        here = [e for e in game.party() if not e.dead and e.room == me.room]
        if any(e.hp < e.max_hp for e in here):  # nobody walks on hurt
            await self.act("rest long", lambda part, direct: direct or "rest" in part.lower())
            return
        if min(e.eid for e in here) != me.eid:
            await self.act("look", self._room)  # the leader decides where the party goes
            return
        step, barred = wayfinder.next_step(game)
        if step is not None and barred is None:
            # Sent once: a retry that lands after the next room's fight has begun would be a
            # flee. Lost, the next idle moment plans again from wherever the party is. (A
            # roll at a door answers by our name.)
            await self.act(step.dir, lambda part, direct: self._room(part, direct)
                           or self._mine(part, direct), tries=1)

    def _join_text(self) -> str:
        return f"join {self.name} {self.cls}" + (f" {self.level}" if self.level > 1 else "")

    async def final_view(self) -> str | None:
        """Our HP line as the node last told us, asked afresh (the sim compares views)."""
        self._last_hp = None
        # This is the simulator checking views, not play: its question (asked by every bot
        # at once) stays out of the play figures, as the binary bot's check does.
        play, self.stats = self.stats, BotStats()
        try:
            # At the end of a session a person asks until the answer comes.
            await self.act("hp", lambda part, direct: direct and " HP " in part,
                           tries=self.max_tries * 3)
        finally:
            self.stats = play
        return self._last_hp

    def expected_view(self, game: Any) -> str | None:
        """What final_view should say, read from the node's own state."""
        me = self._find_me(game)
        return None if me is None else game.describe(me.eid, "hp")


async def _first(*events: asyncio.Event, timeout: float) -> None:
    """Wait until any of `events` is set; TimeoutError after `timeout` seconds."""
    waits = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waits, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waits:
            w.cancel()
    if not done:
        raise TimeoutError


def member(game: Any, name: str) -> Any:
    """The party member called `name`, or None."""
    return next((e for e in game.party() if e.name == name), None)


def plan_turn(game: Any, me: Any, cls: str) -> tuple[str, Any] | None:
    """What a bot does with its turn, whichever client it plays on: a cleric with a slot
    heals a badly hurt friend; anyone else attacks the first monster in sight."""
    hurt = [e for e in game.party() if not e.dead and e.hp < e.max_hp // 2]
    if cls == "cleric" and hurt and me.slots[0] > 0:
        return "heal", hurt[0]
    monsters = alive_monsters(game)
    return ("attack", monsters[0]) if monsters else None


async def play_turns(bot: Any) -> None:
    """A joined bot's life: play each turn it is given; between fights, now and then idle."""
    while True:
        try:
            await asyncio.wait_for(bot.my_turn.wait(), bot.rng.uniform(*bot.explore))
        except TimeoutError:
            if bot.active:
                await bot._idle()
            continue
        bot.my_turn.clear()
        if bot.active:
            await bot._turn()


def open_exits(game: Any) -> list[Any]:
    """Exits a party can simply walk through (no lock, no level or DM gate)."""
    room = game.dungeon.rooms.get(game.room)
    exits = getattr(room, "exits", ()) or ()
    return [e for e in exits if not (e.locked or e.dm_only or e.min_level)]
