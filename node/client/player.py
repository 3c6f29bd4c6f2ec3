"""The player's own client on the binary protocol: typed commands out, full text rendered locally.

Players type the same grammar as on the stock app (protocol.text.parse), but the radio
carries only compact intent frames; results arrive as broadcast event frames and are
rendered here from content ids, so the words cost no airtime. Help is answered
locally. A snapshot at join (and after a long gap) gives names and the room; missing
broadcast frames are asked for again, and the state digest at the end of every
frame tells the client whether its picture still matches the node's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from node.radio.base import BROADCAST, GAME_PORT, Packet, Transport
from protocol.resync import INTENT_RETRY_S
from protocol.session import ClientSession
from protocol.session.client import Acked, GaveUp, Shown, Snapshot, Welcomed

log = logging.getLogger(__name__)

Out = Callable[[str], None]
LOCAL_WORDS = ("help", "quit", "status")
# Commands typed or piped within this long share one packet: a script's lines arrive one
# read apart, and back-to-back packets from one radio collide at the relay (half duplex).
GATHER_S = 0.3
# The snapshot after joining is many packets; streamed while the player's first commands
# are on their way, its fragments kept the relay busy and those commands were lost there.
# It waits until the commands in flight are acked (or given up).


@dataclass
class Ack:
    """One intent frame in flight, done once the node acks it."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    finished: asyncio.Event = field(default_factory=asyncio.Event)  # acked, or given up
    at: float = 0.0  # loop time of the ack
    public: bool = False  # acked with a broadcast result (applied), not only privately
    gave_up: bool = False


class _View:
    """GameView for the renderer: the last snapshot, with names learnt from events since."""

    def __init__(self) -> None:
        self.game: Any = None
        self.names: dict[int, str] = {}

    def name_of(self, eid: int) -> str:
        if eid in self.names:
            return self.names[eid]
        if self.game is not None:
            return self.game.name_of(eid)
        return f"#{eid}"

    def __getattr__(self, name: str) -> Any:
        if self.game is None:
            raise AttributeError(name)
        return getattr(self.game, name)


class PlayerClient:
    """One player's session over a Transport; `out` receives every line to show.

    A thin asyncio driver of protocol.session.ClientSession: it feeds it packets, sends
    what it returns, calls it again at its next deadline, and renders what it reports."""

    def __init__(
        self,
        transport: Transport,
        *,
        name: str,
        cls: str,
        out: Out,
        node_num: int | None = None,
        retry_s: float = INTENT_RETRY_S,
        max_tries: int = 6,
        rng: random.Random | None = None,
        require_pki: bool = False,
        gather_s: float = GATHER_S,
    ) -> None:
        self.transport = transport
        self.name = name
        self.cls = cls
        self.out = out
        self.rng = rng or random.Random()
        self.gather_s = gather_s
        # A new nonce each start: the node then knows a rebooted client from a repeat.
        nonce = self.rng.getrandbits(32).to_bytes(4, "big")
        self.session = ClientSession(name, nonce, node=node_num, retry_s=retry_s,
                                     max_tries=max_tries, rng=self.rng,
                                     require_pki=require_pki)
        self.view = _View()
        self.my_turn = asyncio.Event()  # set when a broadcast starts our character's turn
        self._acks: dict[int, Ack] = {}
        self._welcomed = asyncio.Event()
        self._snapshot = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._timer: asyncio.TimerHandle | None = None
        self._sending = False  # a call to _send_queued is due

    # The session's state, as the client's callers read it.
    node_num = property(lambda self: self.session.node)
    slot = property(lambda self: self.session.slot)
    seq = property(lambda self: self.session.seq)
    gaps = property(lambda self: self.session.gaps)
    digests = property(lambda self: self.session.digests)
    diverged = property(lambda self: self.session.diverged)
    duplicates = property(lambda self: self.session.duplicates)
    resent = property(lambda self: self.session.resent)
    retry_s = property(lambda self: self.session.retry_s)
    max_tries = property(lambda self: self.session.max_tries)

    @property
    def eid(self) -> int | None:
        return self.session.eid

    @eid.setter
    def eid(self, value: int | None) -> None:
        self.session.eid = value

    # --- lifecycle ------------------------------------------------------------------

    async def start(self) -> None:
        await self.transport.start(self.on_packet)

    async def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        for task in list(self._tasks):
            task.cancel()
        await self.transport.close()

    async def hello(self) -> bool:
        """HELLO until the node's WELCOME (our key and slot, and our character if any)."""
        for _ in range(self.max_tries):
            await self._transmit(self.session.hello().data)
            try:
                await asyncio.wait_for(self._welcomed.wait(), self.retry_s)
                return True
            except TimeoutError:
                continue
        return False

    async def join(self) -> bool:
        """HELLO until WELCOME, Join if not yet in, then a snapshot for names and the room
        (the node gives game state to players who joined, nobody else)."""
        from rules import intents as it

        if not await self.hello():
            self.out("no game node answered; is it on the same channel?")
            return False
        if not self.eid:
            (ack,) = await self.deliver([it.Join(self.name, self.cls)])
            if not ack.done.is_set():
                self.out("(no answer from the node; try again)")
                return True
            if not ack.public:
                return True  # the DM has yet to approve us: no game state until then
        self._spawn(self._fetch_snapshot())  # names and the room; the player need not wait
        return True

    async def _fetch_snapshot(self) -> None:
        """Ask for the game state until it arrives. It is many packets, paced by the node's
        outbox, so ask again only when none of it came for a while."""
        await asyncio.sleep(self.gather_s * 2)  # commands typed at once are queued by then
        while self.session.pending() or self._sending:
            await asyncio.sleep(1.0)
        heard: int | None = None
        for _ in range(self.max_tries * 2):
            if self.session.fragments == heard or heard is None:
                await self._transmit(self.session.snapshot_request(self._now()).data)
            heard = self.session.fragments
            try:
                await asyncio.wait_for(self._snapshot.wait(), self.retry_s * 3)
                return
            except TimeoutError:
                continue

    # --- typing -----------------------------------------------------------------------

    async def submit_line(self, line: str) -> bool:
        """Handle one typed line; False when the player asked to quit."""
        from protocol import text
        from protocol.errors import ProtocolError

        words = line.strip().split()
        if not words:
            return True
        verb = words[0].lower()
        if verb in ("quit", "exit"):
            return False
        if verb in ("help", "h", "?") and len(words) <= 2:
            self.out(text.help_text(words[1] if len(words) == 2 else None))  # no airtime
            return True
        if verb == "status":
            self.out(self.status_line())
            return True
        try:
            intents = text.parse_chain(line)
        except ProtocolError as err:
            self.out(f"? {err}")
            return True
        task = asyncio.get_running_loop().create_task(self.send_intents(intents))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return True

    def status_line(self) -> str:
        behind = self.gaps.missing()
        state = "diverged, resyncing" if self.diverged else ("behind" if behind else "in sync")
        digest = self.digests.get(self.gaps.latest)
        return (f"{self.name}: event {self.gaps.latest}, {state}"
                + (f", digest {digest:08x}" if digest is not None else ""))

    def completions(self, prefix: str) -> list[str]:
        """Words that complete `prefix`: commands, then names in the current room."""
        from protocol import text

        words = set(LOCAL_WORDS) | set(getattr(text, "_VERBS", {})) | {
            "look", "n", "s", "e", "w", "u", "d", "dodge", "dash", "hide", "search", "end",
            "hp", "sheet", "inv"}
        game = self.view.game
        if game is not None:
            words |= {self.view.name_of(e) for e in game.entities}
        words |= set(self.view.names.values())
        low = prefix.lower()
        return sorted(w for w in words if w.lower().startswith(low))

    async def send_intents(self, intents: list[Any]) -> bool:
        """Deliver intents (see deliver); say so when the node never answered."""
        acks = await self.deliver(intents)
        if all(ack.done.is_set() for ack in acks):
            return True
        self.out("(no answer from the node; try again)")
        return False

    async def deliver(self, intents: list[Any]) -> list[Ack]:
        """Send one decision's intents in one packet where they fit ("atk gob1; end"); the
        session resends those not yet acked until the node acks them all or the tries run
        out. One Ack per intent, in order."""
        if (not self.session.welcomed or self.session.need_hello) and not await self._rehello():
            return [Ack(gave_up=True) for _ in intents]
        seqs = self.session.queue(intents, self._now())
        todo = [self._acks.setdefault(seq, Ack()) for seq in seqs]
        if not self._sending:
            # at the end of this turn of the loop, so decisions made together (a script's
            # lines) share a packet
            self._sending = True
            loop = asyncio.get_running_loop()
            if self.gather_s > 0:
                loop.call_later(self.gather_s, self._send_queued)
            else:
                loop.call_soon(self._send_queued)
        try:
            await asyncio.wait([asyncio.ensure_future(ack.finished.wait()) for ack in todo])
            return todo
        finally:
            for seq in seqs:
                self._acks.pop(seq, None)

    def _send_queued(self) -> None:
        self._sending = False
        sends = [send.data for send in self.session.outgoing(self._now())]
        if sends:
            self._spawn(self._send_all(sends))
        self._arm()

    async def caught_up(self, timeout: float) -> bool:
        """Wait (at most timeout s) until no broadcast we know of is missing; the session asks
        for the missed ones meanwhile."""
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.gaps.missing():
            if loop.time() >= end:
                return False
            await asyncio.sleep(min(1.0, end - loop.time()))
        return True

    async def _rehello(self) -> bool:
        self._welcomed.clear()
        return await self.hello()

    def _now(self) -> float:
        return asyncio.get_running_loop().time()

    async def _transmit(self, data: bytes) -> None:
        to = self.node_num if self.node_num is not None else BROADCAST
        try:
            await self.transport.send(to, GAME_PORT, data)
        except Exception as err:  # the radio refused: say so, the retry loop goes on
            self.out(f"(radio: {err})")

    def _arm(self) -> None:
        deadline = self.session.next_deadline()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if deadline is not None:
            self._timer = asyncio.get_running_loop().call_at(deadline, self._tick, deadline)

    def _tick(self, due: float) -> None:
        self._timer = None
        sends = []
        # asyncio may run a timer up to its clock resolution early: it is due all the same
        for item in self.session.tick(max(self._now(), due)):
            if isinstance(item, GaveUp):
                for seq in item.seqs:
                    ack = self._acks.get(seq)
                    if ack is not None:
                        ack.gave_up = True
                        ack.finished.set()
            else:
                sends.append(item.data)
        if sends:
            self._spawn(self._send_all(sends))
        self._arm()

    async def _send_all(self, sends: list[bytes]) -> None:
        for data in sends:
            await self._transmit(data)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- radio in ---------------------------------------------------------------------

    def on_packet(self, packet: Packet) -> None:
        if packet.port != GAME_PORT:
            return
        notes = self.session.receive(packet.sender, packet.to, self.transport.info.node_num,
                                     packet.payload, self._now(), packet.public_key)
        for note in notes:
            if isinstance(note, Welcomed):
                self._welcomed.set()
            elif isinstance(note, Acked):
                ack = self._acks.get(note.seq)
                if ack is not None:
                    ack.public, ack.at = note.public, self._now()
                    ack.done.set()
                    ack.finished.set()
            elif isinstance(note, Shown):
                self._show(note.events)
            elif isinstance(note, Snapshot):
                self._on_snapshot(note)
        self._arm()

    def _show(self, events: list[Any]) -> None:
        from protocol import render

        shown = []
        for ev in events:
            kind = type(ev).__name__
            if kind == "Digest":
                continue
            if kind in ("Joined", "Spawned"):
                self.view.names[ev.eid] = ev.name
                if kind == "Joined" and ev.name == self.name:
                    self.eid = ev.eid
            if kind == "TurnStarted" and self.eid is not None and ev.eid == self.eid:
                self.my_turn.set()
            if kind == "Info":
                self.out(ev.text)
                continue
            shown.append(ev)
        if not shown:
            return
        try:
            lines = render.render(shown, self.view, limit=1000)
        except Exception:  # a stale snapshot may lack an entity the renderer wants
            lines = [", ".join(type(e).__name__ for e in shown)]
        for line in lines:
            self.out(line)

    def _on_snapshot(self, note: Snapshot) -> None:
        from rules.game import Game

        try:
            game = Game.from_dict(json.loads(note.canonical))
        except (ValueError, KeyError, TypeError) as err:
            log.warning("unusable snapshot: %s", err)
            return
        self.view.game = game
        self._snapshot.set()
        if self.eid:
            try:
                self.out(game.describe_room(game.room, self.eid))
            except Exception:
                pass
