"""The radio text channel: text packets in, commands through the pipeline, short replies out.

Private information (errors, hp/sheet/inv, join status) goes back as a direct message to
its sender only; public results go out as broadcasts on the game channel, gathered for a
moment so a round's results cost one packet, not one DM per player.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from typing import Any

from node.clock import Clock
from node.obs.metrics import Metrics
from node.pipeline import Command, Outcome, Pipeline, fit
from node.radio.base import BROADCAST, MAX_PAYLOAD, TEXT_PORT, Packet
from node.radio.outbox import Priority
from protocol.render import announced

log = logging.getLogger(__name__)

# A player who hears nothing back re-types the same command (and a stock app may deliver a
# text twice under a new packet id). The same command from the same sender, within this
# window and in the same turn of the same fight (or again outside combat), with nothing else
# from that sender in between, is that repeat: answered from the stored result, never
# applied twice. To do the same thing twice on purpose, a player words it differently.
REPEAT_WINDOW_S = 60.0
# A broadcast that says "Next: <name>" is the turn prompt for everyone who reads the channel;
# a separate private prompt within this time would spend airtime on the same news.
PROMPT_FOLD_S = 15.0
# A repeat of an applied command is answered with its result broadcast again, not as a DM.
REPEAT_PUBLIC = True
# Broadcasts nobody is waiting on (monster turns) go without want_ack: no firmware
# retransmissions for them; the measured duty-cycle saving is what keeps the node legal.
MONSTER_NEWS_UNACKED = True
# A private turn prompt goes without want_ack too: the player's routing ack would cross our
# next packet at the relay (neither radio hears the other), and a lost prompt is repeated
# by the reminder below anyway.
PROMPT_UNACKED = True
# ...but a player who missed that broadcast would sit out the turn: if they have sent nothing
# this long after it, the prompt goes privately after all.
PROMPT_REMIND_S = 20.0
# While monsters are taking their turns, results keep gathering (up to this long) so a
# player's action and the monster turns that follow it go out as one packet, not three.
MONSTER_HOLD_S = 6.0
# A command that came as a DM to the node is answered by DM (its result included), since
# both legs then get per-hop retransmissions from firmware 2.7's NextHopRouter.
DIRECT_RESULTS = True
HOLD_POLL_S = 0.25
# A turn warning is a courtesy: it goes only while the rolling-hour airtime used stays under
# this share of the budget, leaving the rest for results the whole table needs.
WARN_BUDGET_SHARE = 0.8


@dataclass
class _LastCommand:
    intent: str  # canonical JSON of the parsed intent: "atk gob" and "attack gob" match
    context: tuple[Any, ...]
    key: str
    at: float


def _turn_actions(intents: list[Any]) -> bool:
    """True if every intent needs the sender's turn in a fight (attack, cast, end ...)."""
    from rules import intents as it

    free = (it.Join, it.Look, it.Say, it.Query, it.Rest, it.Roll, it.Dm)
    return all(not isinstance(i, free) for i in intents)


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
        self._urgent = False
        self._flush_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last: dict[str, _LastCommand] = {}
        self._direct: set[str] = set()  # keys of commands that came as DMs to the node
        self._announced: dict[str, float] = {}  # "Next: <name>" lines -> when broadcast
        self.repeats = 0
        self.prompts_folded = 0
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
            intents = ptext.parse_chain(line)
        except (UnicodeDecodeError, ProtocolError) as err:
            self.metrics.inc("dungeon_commands_rejected_total", reason="parse")
            hint = "unreadable text; send help" if isinstance(err, UnicodeDecodeError) else \
                str(err) or "unknown command; send help"
            self._dm(packet.sender, hint, Priority.REPLY)
            return None
        key = self._key(sender, packet, intents)
        direct = packet.to != BROADCAST and DIRECT_RESULTS
        out: Outcome | None = None
        for n, intent in enumerate(intents):
            # Each command of a chain has its own key, derived from the message's, so a
            # repeated message is answered part by part and never applied twice.
            part_key = key if n == 0 or key is None else f"{key}/{n}"
            out = await self._run(packet, intent, part_key, direct)
            if out.dropped or not out.ok:
                break  # "atk gob1; end" that could not attack does not end the turn
        return out

    async def _run(self, packet: Packet, intent: Any, key: str | None, direct: bool) -> Outcome:
        """One command through the pipeline, then its answer to whoever should hear it."""
        sender = sender_id(packet.sender)
        if direct and key is not None:
            self._direct.add(key)
        try:
            out = await self.pipeline.submit(Command("text", sender, intent, key))
        finally:
            self._direct.discard(key or "")
        if out.dropped:
            return out
        if out.ok and not out.duplicate:
            self._tell_what_was_cut(packet.sender, intent, out)
        if direct and out.ok and out.lines:
            # A command sent as a DM gets its result as a DM: firmware 2.7 repairs each hop
            # of a DM (NextHopRouter), never the second hop of a broadcast. The round still
            # reaches everyone else in the coalesced broadcast.
            self._dm(packet.sender, " | ".join(out.lines), Priority.REPLY)
            return out
        if out.duplicate and out.ok and out.events and out.lines and REPEAT_PUBLIC:
            # A repeat of an applied command: its result was public, and whoever else missed
            # that broadcast missed it too. Broadcast it again (one packet, no routing ack
            # coming back as for a direct message), gathered with whatever else is due.
            self._urgent = True  # the sender is waiting for it
            for text in out.lines:
                self.broadcast(text)
            return out
        if not out.ok or out.private or out.duplicate:
            for text in out.lines or ([out.error] if out.error else []):
                self._dm(packet.sender, text, Priority.REPLY)
        # accepted public results reach everyone through _on_outcome's broadcast
        return out

    def _tell_what_was_cut(self, to: int, intent: Any, out: Outcome) -> None:
        """A `say` the rules shortened: the speaker hears, privately, what did not go out."""
        from rules import events as ev

        said = next((e.text for e in out.events if isinstance(e, ev.Said)), None)
        full = " ".join(str(getattr(intent, "text", "")).split())
        if said is None or type(intent).__name__ != "Say" or len(full) <= len(said):
            return
        cut = full[len(said):]
        self._dm(to, f"Your say was cut to {len(said.encode())} B; not sent: {cut}",
                 Priority.REPLY)

    def _may_act(self, sender: str) -> bool:
        """True unless a fight is on and it is nobody's turn the sender plays."""
        game = self.pipeline.game
        if game is None or not getattr(game, "combat", None):
            return True
        return game.current_turn() in self.pipeline.eids_of(sender)

    def _context(self) -> tuple[Any, ...]:
        game = self.pipeline.game
        combat = getattr(game, "combat", None) if game is not None else None
        if not combat:
            return ("explore",)
        return ("combat", combat.get("round"), game.current_turn())

    def _key(self, sender: str, packet: Packet, intents: list[Any]) -> str | None:
        """The idempotency key: a repeat of the sender's last message reuses that one's key."""
        from protocol import jsonform

        try:
            canon = json.dumps([jsonform.dump(i) for i in intents], sort_keys=True)
        except Exception:  # an intent the JSON form cannot carry: no repeat detection
            canon = repr(intents)
        now = self.clock.monotonic()
        context = self._context()
        last = self._last.get(sender)
        # Once the turn has moved on, the same turn actions cannot be a new action of the
        # sender's ("not your turn"), so they are the repeat of one whose answer went missing.
        # (A question asked again, by contrast, wants today's answer.)
        if last is not None and last.intent == canon and now - last.at <= REPEAT_WINDOW_S \
                and (last.context == context
                     or _turn_actions(intents) and not self._may_act(sender)):
            self.repeats += 1
            self.metrics.inc("dungeon_text_repeats_total")
            last.at = now
            return last.key
        if not packet.id:
            return None
        key = f"{sender}:{packet.id}"
        self._last[sender] = _LastCommand(canon, context, key, now)
        return key

    # -- outbound -------------------------------------------------------------------------
    def _dm(self, to: int, text: str, priority: Priority, reliable: bool = True) -> None:
        self._submit(to, fit(text), priority, reliable)

    def _submit(self, to: int, text: str, priority: Priority, reliable: bool) -> None:
        # `reliable` is passed only when False, so any outbox with the plain
        # submit_text(to, text, priority=, channel=) signature still works
        extra = {} if reliable else {"reliable": False}
        self.outbox.submit_text(to, text, priority=priority, channel=self.channel, **extra)

    def prompt(self, eid: int, text: str) -> None:
        """A turn prompt to every radio that plays `eid`."""
        if self.muted:
            return
        name = self._name_of(eid)
        at = self._announced.get(f"Next: {name}") if name else None
        if at is not None and self.clock.monotonic() - at <= PROMPT_FOLD_S:
            self.prompts_folded += 1
        else:
            self._prompt_dm(eid, text)
        self._remind_later(eid, text)

    def warn_turn(self, eid: int, text: str) -> None:
        """The turn is about to time out: tell its player privately, once, if the node's
        airtime allows one more packet without eating into what the table's results need."""
        if self.muted or not self._airtime_spare(text):
            self.metrics.inc("dungeon_turn_warnings_total", sent="no")
            return
        self.metrics.inc("dungeon_turn_warnings_total", sent="yes")
        self._prompt_dm(eid, text)

    def _airtime_spare(self, text: str) -> bool:
        from protocol.airtime import airtime_s

        stats = self.outbox.stats() if hasattr(self.outbox, "stats") else {}
        budget = stats.get("duty_budget_s")
        if budget is None:
            return True  # a region with no duty-cycle limit
        used = max(stats.get("airtime_used_s", 0.0), stats.get("radio_airtime_s", 0.0))
        air = airtime_s(len(text.encode()), getattr(self.outbox, "preset", "LONG_FAST"),
                        portnum=TEXT_PORT)
        return used + air <= budget * WARN_BUDGET_SHARE

    def _remind_later(self, eid: int, text: str) -> None:
        game = self.pipeline.game
        combat = getattr(game, "combat", None) or {}
        turn = (combat.get("round"), eid)
        senders = self.pipeline.senders_of(eid)
        since = self.clock.monotonic()

        async def remind() -> None:
            await asyncio.sleep(PROMPT_REMIND_S)
            game = self.pipeline.game
            combat = getattr(game, "combat", None) or {}
            if game is None or (combat.get("round"), game.current_turn()) != turn:
                return
            if any(s in self._last and self._last[s].at >= since for s in senders):
                return  # they are playing the turn; an answer is on its way
            self.metrics.inc("dungeon_prompt_reminders_total")
            self._prompt_dm(eid, text)

        task = asyncio.get_running_loop().create_task(remind())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _prompt_dm(self, eid: int, text: str) -> None:
        for sender in self.pipeline.senders_of(eid):
            num = node_num(sender)
            if num is not None:
                self._dm(num, text, Priority.PROMPT, reliable=not PROMPT_UNACKED)

    def _name_of(self, eid: int) -> str | None:
        game = self.pipeline.game
        try:
            return None if game is None else str(game.name_of(eid))
        except Exception:
            return None

    def _note_announced(self, lines: list[str]) -> None:
        now = self.clock.monotonic()
        for line in lines:
            for part in line.split(" | "):
                for name in announced(part):
                    self._announced[f"Next: {name}"] = now
        stale = [k for k, t in self._announced.items() if now - t > PROMPT_FOLD_S]
        for k in stale:
            del self._announced[k]

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
        if cmd.source not in ("ai", "system") and cmd.idempotency_key not in self._direct:
            # someone waits for this result: no holding for monsters (a DM sender gets
            # theirs directly, so the broadcast may gather the monster turns that follow)
            self._urgent = True
        # The game loop prompts the next player right after this publish: the broadcast
        # carrying "Next: <name>" is already on its way, so the private prompt is folded in.
        self._note_announced(out.lines)
        self._schedule_flush()

    def _schedule_flush(self) -> None:
        if self._flush_task is None or self._flush_task.done():
            self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        started = self.clock.monotonic()
        await asyncio.sleep(self.coalesce_s)
        while not self._urgent and self._monsters_acting() and \
                self.clock.monotonic() - started < MONSTER_HOLD_S:
            await asyncio.sleep(HOLD_POLL_S)
        self.flush()

    def _monsters_acting(self) -> bool:
        game = self.pipeline.game
        try:
            eid = game.current_turn() if game is not None else None
            return eid is not None and game.controller(eid) == "monster"
        except Exception:  # a view that cannot say: do not hold anything back
            return False

    def flush(self) -> None:
        """Pack the gathered lines into as few <=200 B broadcasts as they fit."""
        lines, self._pending = self._pending, []
        # A result someone is waiting on gets the firmware's retransmissions; monster turns
        # and narration go once (a player who misses "Next: <name>" gets a private reminder).
        reliable = self._urgent or not MONSTER_NEWS_UNACKED
        self._urgent = False
        packet = ""
        for line in lines:
            joined = f"{packet} | {line}" if packet else line
            if len(joined.encode()) <= MAX_PAYLOAD:
                packet = joined
                continue
            if packet:
                self._submit(BROADCAST, packet, Priority.RESULT, reliable)
            packet = fit(line)
        if packet:
            self._submit(BROADCAST, packet, Priority.RESULT, reliable)


    async def close(self) -> None:
        # no final flush: the outbox stops with the node, so a last broadcast would not leave
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_task.cancel()
        for task in list(self._tasks):
            task.cancel()
