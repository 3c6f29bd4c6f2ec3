"""The radio text channel: text packets in, commands through the pipeline, short replies out.

Private information (errors, hp/sheet/inv, join status) goes back as a direct message to
its sender only; public results go out as broadcasts on the game channel, gathered for a
moment so a round's results cost one packet, not one DM per player.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from node.channels import lines_of
from node.clock import Clock
from node.identity import KeyPins, text_auth
from node.obs.metrics import Metrics
from node.pipeline import LIMIT, Command, Outcome, Pipeline, fit
from node.radio.base import BROADCAST, MAX_PAYLOAD, TEXT_PORT, Packet
from node.radio.outbox import Priority
from protocol.render import announced, fold_announcements

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
# ...but a player who missed that broadcast would sit out the turn, and one whose command
# was lost on its way in (a relay repeats a broadcast once, and nothing in firmware 2.7
# repairs the relay-to-node hop) would wait for an answer that never comes. So if the
# player has sent nothing this long after the prompt left for the radio, the prompt goes
# privately after all, saying the node heard nothing: a person then sends again at once,
# not after the ~18 s they would otherwise give a silent radio. Measured (firmware-notes
# §10): sooner (15 s), or a second reminder after each answer, cost more airtime than the
# tail they saved.
PROMPT_REMIND_S = 20.0
# ...or later, at a slower table: a person thinks 15-90 s over a turn, and a reminder while
# they think duplicates the broadcast they read. A DM who gives turns longer than the
# default 90 s has such a table, and the reminder waits half the turn (90 s of 180 s; the
# turn warning still comes before the timeout). Measured on `dungeon sim --pace human`
# (three hours, text, seeds 1-8, with the sim's DM reviving a fallen party): at a third of
# the turn (60 s) nearly half the turns got a reminder while their player was still
# thinking, and the busiest radio's peak hour was 48-54% of its budget (mean 52%); at half,
# 46-53% (mean 49%).
DEFAULT_TURN_S = 90.0
PROMPT_REMIND_SHARE = 1 / 2
NOTHING_HEARD = "Nothing heard from you yet."  # the reminder's last words (bots read them)
# While monsters are taking their turns, results keep gathering (up to this long) so a
# player's action and the monster turns that follow it go out as one packet, not three.
MONSTER_HOLD_S = 6.0
# A command that came as a DM to the node is answered by DM (its result included), since
# both legs then get per-hop retransmissions from firmware 2.7's NextHopRouter. In a "dm"
# table every command comes that way, so this is also where that mode spends its airtime.
DIRECT_RESULTS = True
HOLD_POLL_S = 0.25
# A game starts with its players joining together, seconds apart. Each join's answer waits
# until no other join has come for this long (at most JOIN_HOLD_MAX_S in all), so the burst
# is answered in one or two broadcasts, not one each on a channel the joins keep busy:
# measured over seeds 1-12 with two relays, 7 of 48 joins re-sent instead of 22 (firmware-
# notes §10; 1.5 s of quiet, or 6 s at most, gathered too few of them).
JOIN_GATHER_S = 3.0
JOIN_HOLD_MAX_S = 9.0
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

    free = (it.Join, it.Make, it.Look, it.Say, it.Query, it.Rest, it.Roll, it.Dm, it.Advance,
            it.Trade)
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


# In a "dm" table, channel text acts for nobody; its sender is told how to play instead.
DM_HINT = "this table takes commands as direct messages only: send yours as a DM to the node"


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
        identity: KeyPins | None = None,
        turn_timeout_s: float = 0.0,
    ) -> None:
        self.pipeline = pipeline
        self.outbox = outbox
        self.clock = clock
        self.metrics = metrics
        self.channel = channel
        self.coalesce_s = coalesce_s
        self.remind_s = PROMPT_REMIND_S if turn_timeout_s <= DEFAULT_TURN_S else max(
            PROMPT_REMIND_S, PROMPT_REMIND_SHARE * turn_timeout_s)
        self.identity = identity or KeyPins(pipeline.store, clock, metrics)
        self._pending: list[str] = []
        self._urgent = False
        self._flush_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._last: dict[str, _LastCommand] = {}
        self._last_join = float("-inf")  # when the last join was answered (JOIN_GATHER_S)
        self._news = asyncio.Event()  # set by each outcome: a join gathering looks again
        self._announced: dict[str, float] = {}  # "Next: <name>" lines -> when broadcast
        self._monsters: set[str] = set()
        self.repeats = 0
        self.prompts_folded = 0
        self.muted = False
        # True for a radio another channel (the binary client) plays on; set by the wiring.
        self.served_elsewhere: Callable[[int], bool] = lambda num: False
        metrics.describe("dungeon_text_dropped_total", "radio texts ignored, by reason")
        self._unsub = pipeline.subscribe(self._on_outcome)

    def mute(self) -> None:
        """Stop broadcasting results and prompts (a table of binary clients only): airtime
        for nobody. Replies to texts that do arrive still go out."""
        self.muted = True

    # -- inbound --------------------------------------------------------------------------
    def on_packet(self, packet: Packet) -> None:
        task = asyncio.get_running_loop().create_task(self.handle(packet))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _drop(self, reason: str) -> None:
        self.metrics.inc("dungeon_text_dropped_total", reason=reason)

    async def handle(self, packet: Packet) -> Outcome | None:
        from protocol import text as ptext
        from protocol.errors import ProtocolError

        if len(packet.payload) > MAX_PAYLOAD + 33:  # above the firmware's own limit: garbage
            self._drop("oversize")
            return None
        # Only the game channel plays. A PKI DM is exempt: the firmware sends every one on
        # channel index 0, whatever channel the game uses (Router.cpp: p->channel = 0).
        if packet.channel != self.channel and not (packet.to != BROADCAST and packet.public_key):
            self._drop("channel")
            return None
        sender = sender_id(packet.sender)
        who = self.identity.check(sender, packet.public_key, signed=packet.signed,
                                  bound=bool(self.pipeline.eids_of(sender)))
        if who.refused:
            self._drop(who.refused)
            return None
        if who.moved_from is not None and who.public_key is not None:
            await self.pipeline.rebind(who.moved_from, sender, who.public_key)
        if not who.authenticated and text_auth(self.pipeline.game) == "dm":
            self._drop("auth")
            if self.pipeline.take_token(sender):
                self._dm(packet.sender, DM_HINT, Priority.REPLY, error=True)
            return None
        try:
            line = packet.payload.decode("utf-8")
            intents = ptext.parse_chain(line)
        except (UnicodeDecodeError, ProtocolError) as err:
            self.metrics.inc("dungeon_commands_rejected_total", reason="parse")
            if not self.pipeline.take_token(sender):  # garbage is rate limited like commands
                self.metrics.inc("dungeon_commands_dropped_total", reason="rate")
                return None
            hint = "unreadable text; send help" if isinstance(err, UnicodeDecodeError) else \
                str(err) or "unknown command; send help"
            self._dm(packet.sender, hint, Priority.REPLY, error=True)
            return None
        key = self._key(sender, packet, intents)
        direct = packet.to != BROADCAST
        out: Outcome | None = None
        for n, intent in enumerate(intents):
            # Each command of a chain has its own key, derived from the message's, so a
            # repeated message is answered part by part and never applied twice.
            part_key = key if n == 0 or key is None else f"{key}/{n}"
            cmd = Command("text", sender, intent, part_key, public_key=who.public_key,
                          direct=direct)
            out = await self._run(packet.sender, cmd)
            if out.dropped or not out.ok:
                break  # "atk gob1; end" that could not attack does not end the turn
        return out

    async def _run(self, num: int, cmd: Command) -> Outcome:
        """One command through the pipeline, then whatever answer _on_outcome did not give."""
        out = await self.pipeline.submit(cmd)
        if out.ok and out.seq is not None and not out.duplicate:
            self._tell_what_was_cut(num, cmd.intent, out)
        if out.dropped or (out.seq is not None and not out.duplicate):
            return out  # a flood, or applied and published: _on_outcome has answered it
        lines = self.lines(out)
        if out.duplicate and out.ok and out.events:
            if cmd.direct and DIRECT_RESULTS:
                self._dm(num, " | ".join(lines), Priority.REPLY)
            elif REPEAT_PUBLIC:
                # A repeat of an applied command: its result was public, and whoever else
                # missed that broadcast missed it too. Broadcast it again (one packet, no
                # routing ack coming back as for a DM), gathered with whatever else is due.
                self._urgent = True  # the sender is waiting for it
                for text in lines:
                    self.broadcast(text)
            return out
        for text in lines:
            self._dm(num, text, Priority.REPLY, error=not out.ok)
        return out

    def render(self, events: list[Any]) -> list[str]:
        """Published events as radio texts, each fitting one packet."""
        return lines_of(Outcome(True, None, events), self.pipeline.game, LIMIT)

    def lines(self, out: Outcome) -> list[str]:
        """What the sender is told about an outcome: its error, its answer, or its events."""
        return lines_of(out, self.pipeline.game, LIMIT)

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
    def _dm(self, to: int, text: str, priority: Priority, reliable: bool = True,
            error: bool = False) -> None:
        self._submit(to, fit(text), priority, reliable, error)

    def _submit(self, to: int, text: str, priority: Priority, reliable: bool,
                error: bool = False) -> None:
        # `reliable` and `error` are passed only when they differ from the defaults, so any
        # outbox with the plain submit_text(to, text, priority=, channel=) signature works
        extra: dict[str, bool] = {} if reliable else {"reliable": False}
        if error:
            extra["error"] = True  # error replies and hints have the smallest budget
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
        airtime allows one more packet without eating into what the table's results need
        (and the outbox sends it only within the player's own DM budget)."""
        if self.muted or not self._airtime_spare(text):
            self.metrics.inc("dungeon_turn_warnings_total", outcome="skipped")
            return
        self.metrics.inc("dungeon_turn_warnings_total", outcome="queued")
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
            # Counted from when the prompt left for the radio: a broadcast may wait here
            # for seconds behind monster turns and the relays' quiet time.
            while self._undelivered(senders):
                await asyncio.sleep(HOLD_POLL_S)
            await asyncio.sleep(self.remind_s)
            game = self.pipeline.game
            combat = getattr(game, "combat", None) or {}
            if game is None or (combat.get("round"), game.current_turn()) != turn:
                return
            if any(s in self._last and self._last[s].at >= since for s in senders):
                return  # they are playing the turn; an answer is on its way
            self.metrics.inc("dungeon_prompt_reminders_total")
            self._prompt_dm(eid, f"{text} {NOTHING_HEARD}")

        task = asyncio.get_running_loop().create_task(remind())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _undelivered(self, senders: list[str]) -> bool:
        """True while a result or prompt for these players has yet to leave the outbox."""
        queued = getattr(self.outbox, "queued_for", None)
        nums = [n for n in map(node_num, senders) if n is not None]
        return bool(self._pending) or callable(queued) and any(queued(n) for n in nums)

    def _prompt_dm(self, eid: int, text: str) -> None:
        for sender in self.pipeline.senders_of(eid):
            num = node_num(sender)
            # A radio the binary client plays on gets its prompt as a frame: a text DM
            # there is airtime nobody reads (measured: 15 of a mixed table's 30 minutes).
            if num is not None and not self.served_elsewhere(num):
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
        direct = cmd.source == "text" and cmd.direct and num is not None and DIRECT_RESULTS
        if self.muted and not direct:
            return
        if cmd.source == "system" and type(cmd.intent).__name__ == "Join" and num is not None:
            # the DM approved a join that arrived earlier: tell the waiting radio privately
            self._dm(num, f"Welcome, {cmd.intent.name}! You are in. Send help for commands.",
                     Priority.REPLY)
        lines = self.render(events)
        if not lines:
            return
        self._monster_names()  # while the fight that made these lines is still on
        if direct and num is not None:
            # A command sent as a DM gets its result as a DM: firmware 2.7 repairs each hop
            # of a DM (NextHopRouter), never the second hop of a broadcast. The round still
            # reaches everyone else in the coalesced broadcast, which may then gather the
            # monster turns that follow.
            self._dm(num, " | ".join(lines), Priority.REPLY)
            if self.muted:
                return
        elif cmd.source not in ("ai", "system"):
            self._urgent = True  # someone waits for this result: no holding for monsters
        # Joins gather only among themselves: other news in the batch ends the wait.
        joining = cmd.source == "text" and type(cmd.intent).__name__ == "Join"
        self._last_join = self.clock.monotonic() if joining else float("-inf")
        self._news.set()
        self._pending.extend(lines)
        # The game loop prompts the next player right after this publish: the broadcast
        # carrying "Next: <name>" is already on its way, so the private prompt is folded in.
        self._note_announced(lines)
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
        while (wait := min(self._last_join + JOIN_GATHER_S,
                           started + JOIN_HOLD_MAX_S) - self.clock.monotonic()) > 0:
            # another join moves _last_join on; other news sets _news and ends the wait
            self._news.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._news.wait(), wait)
        self.flush()

    def _monsters_acting(self) -> bool:
        game = self.pipeline.game
        try:
            eid = game.current_turn() if game is not None else None
            return eid is not None and game.controller(eid) == "monster"
        except Exception:  # a view that cannot say: do not hold anything back
            return False

    def _monster_names(self) -> set[str]:
        """Monsters' names, remembered past the end of their fight (the last turns of a
        fight often go out in the same broadcast as its end)."""
        game = self.pipeline.game
        try:
            order = (getattr(game, "combat", None) or {}).get("order", [])
            self._monsters |= {str(game.name_of(e)) for e in order
                               if game.controller(e) == "monster"}
        except Exception:  # a view that cannot say: fold only the names already known
            pass
        return self._monsters

    def flush(self) -> None:
        """Pack the gathered lines into as few <=200 B broadcasts as they fit."""
        lines = fold_announcements(self._pending, self._monster_names(), MAX_PAYLOAD)
        self._pending = []
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
                self._submit(BROADCAST, packet, Priority.TABLE, reliable)
            packet = fit(line)
        if packet:
            self._submit(BROADCAST, packet, Priority.TABLE, reliable)


    async def close(self) -> None:
        # no final flush: the outbox stops with the node, so a last broadcast would not leave
        if self._flush_task is not None and not self._flush_task.done():
            self._flush_task.cancel()
        for task in list(self._tasks):
            task.cancel()
