"""The outbox: every transmission the node makes, paced, coalesced, prioritised and budgeted.

Airtime is the scarcest resource on a LoRa mesh, so nothing in the node calls
transport.send() directly. The drain task (`run`) picks the most urgent packet that
may go now: texts at least `text_gap_s` apart (the firmware silently drops a second
text from its app link within 2 s), queued texts for one recipient joined into one
packet, a rolling-hour duty-cycle budget per region, and a back-off while the radio
reports a busy channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from node.clock import Clock
from node.obs.metrics import Metrics
from node.radio.base import BROADCAST, GAME_PORT, MAX_PAYLOAD, TEXT_PORT, Transport, TransportError
from node.radio.budget import Budgets
from node.radio.firmware import ROUTING_ACK_BYTES, ROUTING_PORT, RateLimitedError

log = logging.getLogger(__name__)

# Fraction of each rolling hour a region lets one radio transmit (Meshtastic RegionInfo).
DUTY_LIMITS: dict[str, float] = {"EU_868": 0.10, "EU_433": 0.10, "UA_433": 0.10, "UA_868": 0.01}
AIRTIME_BUCKETS = 30  # the console's sparkline: two minutes a bar
DUTY_WINDOW_S = 3600.0
# Our own budget stays under the legal one: the radio also spends airtime rebroadcasting
# other nodes' packets, and past the limit the firmware refuses everything.
DUTY_SAFETY = 0.8
DUTY_RECHECK_S = 30.0  # how often to look again when only the radio's own figure is over
# What players wait on (answers, results, the table's broadcast) may go on past the budget,
# up to this share of the legal hour, while the radio reports its own airtime (firmware
# retransmissions then counted, not guessed): a busy table slows to what matters instead
# of hearing nothing until the hour rolls on. Prompts and chatter still stop at the budget.
DUTY_RESERVE = 0.95
CHANNEL_UTIL_LIMIT = 0.25  # firmware holds its own traffic back above this
UTIL_BACKOFF_S = 2.0
# Players wait on prompts, replies and results; only chatter yields to a busy channel.
HOLD_ON_BUSY = 3  # Priority.CHATTER (the enum is defined below)
UTIL_MAX_HOLD_S = 30.0  # the game must not stall forever behind a busy channel
# Extra spacing on top of text_gap_s: the firmware's 2 s window starts when the radio
# gets the text, which can be a little after we hand it over.
TEXT_GAP_MARGIN_S = 0.3
SEPARATOR = " | "
EPSILON_S = 1e-6  # float slack: a timer for `wait - now` can fire a hair before `wait`
# After we hand a packet over, each repeater in earshot sends it again within a window,
# and the next packet waits for that window and the repeat's airtime, per repeater. The
# first: our radio's own random wait before keying up (up to 2^CW slots, CW 4 on a channel
# a fifth busy) and then the ROUTER's (0..2*CW_MAX slots). The second, a CLIENT repeating
# for a table of players: 2*CW_MAX slots, then up to 2^CW more (getTxDelayMsecWeighted).
RELAY_WINDOW_SLOTS = 32
RELAYS_IN_EARSHOT = 2
MAX_DM_TALLY = 1024  # recipients whose DM airtime is tallied (the smallest make room)  # relay 1 hears us and relay 2; farther relays cannot collide with us


class Priority(enum.IntEnum):
    # Results for the whole table (the coalesced text broadcast) go before any answer to
    # one radio: a flood of replies to one sender must not hold the round up.
    TABLE = -1
    REPLY = 0  # a direct answer to what a player just sent
    RESULT = 1  # results of actions, usually a broadcast
    # "your turn" goes last of what the game waits on: the prompted player answers at once,
    # and anything we sent after the prompt would meet that answer at the relay, which
    # hears both of us while we cannot hear the player (a hidden terminal).
    PROMPT = 2
    CHATTER = 3  # say, narration, anything that can wait


@dataclass
class _Item:
    priority: Priority
    order: int
    to: int
    port: int
    payload: bytes
    channel: int
    queued_at: float
    parts: list[str] = field(default_factory=list)  # texts only: the pieces joined so far
    reliable: bool = True  # texts only: ask the firmware for its (implicit) ack

    @property
    def key(self) -> tuple[int, int]:
        return (self.priority, self.order)


def _fit(text: str, limit: int) -> str:
    from protocol.render import fit

    return fit(text, limit)


def _airtime(n_bytes: int, preset: str, **port: int) -> float:
    from protocol.airtime import airtime_s

    return airtime_s(n_bytes, preset, **port)


def _relay_window_s(preset: str) -> float:
    from node.radio.firmware import slot_time_s

    try:
        return RELAY_WINDOW_SLOTS * slot_time_s(preset)
    except ValueError:  # an unknown preset: assume LONG_FAST's slow slots
        return RELAY_WINDOW_SLOTS * slot_time_s("LONG_FAST")


class Outbox:
    """Queue packets with submit_text/submit_binary; `await run()` drains them onto the radio."""

    def __init__(
        self,
        transport: Transport,
        *,
        clock: Clock,
        metrics: Metrics,
        region: str = "EU_868",
        preset: str = "LONG_FAST",
        text_gap_s: float = 2.0,
        budgets: Budgets | None = None,
    ) -> None:
        self.transport = transport
        self.budgets = budgets  # per-recipient airtime for DMs; None: no limit but the duty cycle
        self.clock = clock
        self.metrics = metrics
        self.region = region
        self.preset = preset
        self.text_gap_s = text_gap_s
        limit = DUTY_LIMITS.get(region)
        self.duty_budget_s: float | None = (
            None if limit is None else limit * DUTY_WINDOW_S * DUTY_SAFETY
        )
        self.duty_reserve_s: float | None = (
            None if limit is None else limit * DUTY_WINDOW_S * DUTY_RESERVE
        )
        self._queue: list[_Item] = []
        self._order = itertools.count()
        self._wake = asyncio.Event()
        self._history: deque[tuple[float, float]] = deque()  # (sent at, airtime) last hour
        self._last_text_at = float("-inf")
        self._busy_until = float("-inf")
        self._util_hold_since: float | None = None
        self.last_packets: deque[dict[str, Any]] = deque(maxlen=20)
        self.sent = 0
        self.coalesced = 0
        self.deferred_for_duty = 0
        self.deferred_for_util = 0
        self.send_errors = 0
        self.airtime_total_s = 0.0
        self.deduped_broadcasts = 0
        self.acks_waited = 0  # routing acks our radio owed, which we kept quiet for
        self.reserve_sent = 0  # packets players waited on, sent from the reserve past the budget
        # Texts the radio answered with RATE_LIMIT_EXCEEDED (PhoneAPI.cpp:851-858), queued
        # again; the last few sent texts are kept so a late routing error can find its text.
        self.rate_limited = 0
        self._recent_texts: deque[_Item] = deque(maxlen=8)
        watch = getattr(transport, "watch_refusals", None)
        if callable(watch):
            watch(self.refused)
        self.dropped_for_budget = 0  # DMs not sent: their recipient's airtime budget was spent
        self._dm_air: dict[int, float] = {}  # airtime spent on DMs, per recipient
        self.table_sent = 0  # broadcasts of the table's results sent...
        self.table_wait_s = 0.0  # ...and how long, in all, they waited here to go
        metrics.describe("outbox_dropped_total", "texts not sent, by reason")

    # --- submitting -------------------------------------------------------------------

    def submit_text(
        self, to: int, text: str, *, priority: Priority, channel: int = 0,
        reliable: bool = True, error: bool = False,
    ) -> None:
        """Queue one text; longer than one packet it is cut on a UTF-8 boundary.

        reliable=False sends without want_ack: no firmware retransmission when the relay's
        repeat (or a DM's ack) goes unheard, and for a DM no ack on the air at all (for news
        the game repeats anyway if it is missed). A DM is charged to its recipient's airtime
        budget (error=True: an error reply or hint, which has a smaller one) and is dropped,
        counted, when that is spent.
        """
        if not text:
            return
        if len(text.encode()) > MAX_PAYLOAD:
            text = _fit(text, MAX_PAYLOAD)
        if to != BROADCAST and self.budgets is not None and not self.budgets.allow(
                to, _airtime(len(text.encode()), self.preset), self.clock.monotonic(),
                error=error):
            self.dropped_for_budget += 1
            self.metrics.inc("outbox_dropped_total", reason="budget")
            return
        if to == BROADCAST and any(
            it.port == TEXT_PORT and it.to == BROADCAST and it.channel == channel
            and text in it.parts for it in self._queue
        ):
            # Broadcast once: several players' handlers may publish the same result.
            self.deduped_broadcasts += 1
            return
        item = _Item(Priority(priority), next(self._order), to, TEXT_PORT, text.encode(),
                     channel, self.clock.monotonic(), [text], reliable)
        self._queue.append(item)
        self.metrics.inc("outbox_queued_total", port="text")
        self._wake.set()

    def queued_for(self, to: int) -> bool:
        """True while a packet that `to` would hear (a DM to it, or a broadcast) waits here."""
        return any(it.to in (to, BROADCAST) for it in self._queue)

    def submit_binary(self, to: int, payload: bytes, *, priority: Priority,
                      charged: bool = True) -> None:
        """Queue one binary frame on GAME_PORT; a frame over one packet is a bug. A DM is
        charged to its recipient's airtime budget like a text, and dropped, counted, when
        that is spent (charged=False: a frame whose sender limits it itself)."""
        if len(payload) > MAX_PAYLOAD:
            raise ValueError(f"binary payload of {len(payload)} B exceeds {MAX_PAYLOAD} B")
        if to != BROADCAST and charged and self.budgets is not None and not self.budgets.allow(
                to, _airtime(len(payload), self.preset, portnum=GAME_PORT),
                self.clock.monotonic()):
            self.dropped_for_budget += 1
            self.metrics.inc("outbox_dropped_total", reason="budget")
            return
        item = _Item(Priority(priority), next(self._order), to, GAME_PORT, bytes(payload),
                     0, self.clock.monotonic())
        self._queue.append(item)
        self.metrics.inc("outbox_queued_total", port="binary")
        self._wake.set()

    def heard(self, packet: Any) -> None:
        """Note a packet the radio received: a want_ack DM to us makes the firmware answer
        with a routing ack at once, which the relay then repeats; stay quiet meanwhile,
        or our next packet meets that ack at the relay (half duplex) and is lost there."""
        try:
            me = int(getattr(self.transport.info, "node_num", 0) or 0)
        except (TypeError, ValueError):
            return
        if not (packet.want_ack and me and packet.to == me):
            return
        air = _airtime(ROUTING_ACK_BYTES, self.preset, portnum=ROUTING_PORT)
        now = self.clock.monotonic()
        self._busy_until = max(self._busy_until, self._quiet_until(now, air))
        self.acks_waited += 1

    def refused(self, to: int, port: int, payload: bytes, channel: int) -> None:
        """The radio answered a text we handed it with RATE_LIMIT_EXCEEDED: send it again
        once the firmware's 2 s window has passed."""
        item = next((it for it in self._recent_texts if it.to == to and it.port == port
                     and it.payload == payload and it.channel == channel), None)
        if item is None:
            item = _Item(Priority.RESULT, next(self._order), to, port, bytes(payload), channel,
                         self.clock.monotonic(), [payload.decode("utf-8", "replace")])
        else:
            self._recent_texts.remove(item)
        self._requeue_refused(item, self.clock.monotonic())

    def _requeue_refused(self, item: _Item, now: float) -> None:
        self.rate_limited += 1
        self.metrics.inc("outbox_rate_limited_total")
        # The firmware's window runs from its last accepted text, which we cannot see:
        # a whole window from now is the earliest that is sure to pass.
        self._last_text_at = max(self._last_text_at,
                                 now + max(0.0, RateLimitedError.retry_after_s - self.text_gap_s))
        self._queue.append(item)
        self._wake.set()
        log.info("radio rate-limited a text to %08x; sending it again", item.to)

    # --- draining ---------------------------------------------------------------------

    async def run(self) -> None:
        """Drain the queue forever; stops when cancelled."""
        while True:
            now = self.clock.monotonic()
            item, wait = self._next(now)
            if item is None:
                self._wake.clear()
                timeout = None if wait is None else max(wait - now, 0.0)
                if timeout is not None and timeout < EPSILON_S:
                    await asyncio.sleep(0)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout)
                continue
            await self._send(item, now)

    def _next(self, now: float) -> tuple[_Item | None, float | None]:
        """The item to send now, or (None, when to look again; None = when woken)."""
        if not self._queue:
            return None, None
        if now + EPSILON_S < self._busy_until:
            return None, self._busy_until
        util = self._channel_util()
        wake_at: float | None = None
        for item in sorted(self._queue, key=lambda it: it.key):
            if item.port == TEXT_PORT:
                ready = self._last_text_at + self.text_gap_s + TEXT_GAP_MARGIN_S
                if now + EPSILON_S < ready:
                    wake_at = ready if wake_at is None else min(wake_at, ready)
                    continue
            if util > CHANNEL_UTIL_LIMIT and item.priority >= HOLD_ON_BUSY:
                if self._util_hold_since is None:
                    self._util_hold_since = now
                    self.deferred_for_util += 1
                    self.metrics.inc("outbox_deferred_total", reason="channel_util")
                if now - self._util_hold_since < UTIL_MAX_HOLD_S:
                    retry = now + UTIL_BACKOFF_S
                    wake_at = retry if wake_at is None else min(wake_at, retry)
                    continue
            if item.port == TEXT_PORT:
                self._coalesce(item)
            over = self._duty_wait(now, _airtime(len(item.payload), self.preset),
                                   essential=item.priority <= Priority.RESULT)
            if over is not None:
                self.deferred_for_duty += 1
                self.metrics.inc("outbox_deferred_total", reason="duty_cycle")
                # Nothing smaller should jump the queue past the budget either.
                return None, over
            self._util_hold_since = None
            return item, None
        return None, wake_at

    def _coalesce(self, head: _Item) -> None:
        """Join later queued texts for the same recipient into head while they fit."""
        mates = sorted(
            (it for it in self._queue if it is not head and it.port == TEXT_PORT
             and it.to == head.to and it.channel == head.channel),
            key=lambda it: it.order,
        )
        for mate in mates:
            parts = sorted([(head.order, head.parts), (mate.order, mate.parts)])
            joined = SEPARATOR.join(p for _, ps in parts for p in ps)
            if len(joined.encode()) > MAX_PAYLOAD:
                continue
            head.parts = [p for _, ps in parts for p in ps]
            head.payload = joined.encode()
            head.priority = min(head.priority, mate.priority)
            head.reliable = head.reliable or mate.reliable
            self._queue.remove(mate)
            self.coalesced += 1
            self.metrics.inc("outbox_coalesced_total")

    def _duty_wait(self, now: float, air: float, essential: bool = False) -> float | None:
        """None if `air` seconds fit the rolling-hour budget now, else when they will."""
        self._expire(now)
        if self.duty_budget_s is None:
            return None
        used = sum(a for _, a in self._history)
        radio_used = self._radio_airtime_s()
        if radio_used > used:
            # The radio also spends airtime on firmware retransmissions and on relaying
            # others' packets; when it tells us, trust its (larger) figure and wait a while.
            cap = self.duty_reserve_s if essential and self.duty_reserve_s else self.duty_budget_s
            if radio_used + air <= cap:
                if radio_used + air > self.duty_budget_s:
                    self.reserve_sent += 1
                return None
            return now + DUTY_RECHECK_S
        if used + air <= self.duty_budget_s:
            return None
        for t, a in self._history:
            used -= a
            if used + air <= self.duty_budget_s:
                return t + DUTY_WINDOW_S + 1e-3  # float-safe: strictly past expiry
        return now + DUTY_WINDOW_S  # pragma: no cover - one packet never exceeds a budget

    def _expire(self, now: float) -> None:
        while self._history and self._history[0][0] + DUTY_WINDOW_S <= now:
            self._history.popleft()

    def _radio_airtime_s(self) -> float:
        """Seconds the radio itself reports transmitting in the last hour (0 if it cannot say)."""
        try:
            value = float(self.transport.stats().get("air_util_tx", 0.0))
        except (TypeError, ValueError):
            return 0.0
        fraction = value / 100.0 if value > 1.0 else value  # firmware reports percent
        return fraction * DUTY_WINDOW_S

    def _quiet_until(self, now: float, air: float) -> float:
        """When a packet of `air` seconds we send now has been repeated by the relays."""
        return now + air + self._relays() * (air + _relay_window_s(self.preset))

    def _relays(self) -> int:
        try:
            hops = int(getattr(self.transport.info, "hop_limit", 0) or 0)
        except (TypeError, ValueError):
            return 0
        return max(0, min(hops, RELAYS_IN_EARSHOT))

    def _channel_util(self) -> float:
        try:
            value = float(self.transport.stats().get("channel_util", 0.0))
        except (TypeError, ValueError):
            return 0.0
        return value / 100.0 if value > 1.0 else value  # firmware reports percent

    @staticmethod
    def _want_ack(item: _Item) -> bool:
        # Texts have no other recovery: a DM gets the firmware's routing ack, a broadcast its
        # implicit ack (the first rebroadcast heard), each with up to three retransmissions.
        # Binary frames carry their own acks and resync, so the firmware's would cost twice.
        return item.port == TEXT_PORT and item.reliable

    async def _send(self, item: _Item, now: float) -> None:
        self._queue.remove(item)
        air = _airtime(len(item.payload), self.preset)
        if item.port == TEXT_PORT:
            self._last_text_at = now
        # Keep quiet until the relays have repeated this packet: talking over a relay's
        # rebroadcast loses it at the relay (half duplex) and loses the implicit ack here,
        # so the firmware would retransmit (~8 s later) what was in fact on its way.
        self._busy_until = self._quiet_until(now, air)
        try:
            await self.transport.send(
                item.to, item.port, item.payload, channel=item.channel,
                want_ack=self._want_ack(item),
            )
        except RateLimitedError:
            self._requeue_refused(item, now)
            return
        except TransportError as err:
            self.send_errors += 1
            self.metrics.inc("outbox_send_errors_total")
            log.warning("radio refused a %d B packet to %08x: %s", len(item.payload), item.to, err)
            return
        self.sent += 1
        if item.port == TEXT_PORT:
            self._recent_texts.append(item)
        self.airtime_total_s += air
        if item.priority == Priority.TABLE:
            self.table_sent += 1
            self.table_wait_s += now - item.queued_at
        if item.to != BROADCAST:
            if item.to not in self._dm_air and len(self._dm_air) >= MAX_DM_TALLY:
                del self._dm_air[min(self._dm_air, key=self._dm_air.__getitem__)]
            self._dm_air[item.to] = self._dm_air.get(item.to, 0.0) + air
        self._history.append((now, air))
        self.last_packets.append(
            {"to": item.to, "port": item.port, "bytes": len(item.payload), "t": round(now, 3)}
        )
        port = "text" if item.port == TEXT_PORT else "binary"
        self.metrics.inc("outbox_sent_total", port=port)
        self.metrics.inc("outbox_airtime_seconds_total", air)
        self.metrics.set("outbox_queue", len(self._queue))

    # --- reporting --------------------------------------------------------------------

    def airtime_buckets(self, now: float, n: int = AIRTIME_BUCKETS) -> list[float]:
        """Seconds on air in each of `n` equal slices of the rolling hour, oldest first."""
        width = DUTY_WINDOW_S / n
        out = [0.0] * n
        for at, air in self._history:
            k = int((now - at) // width)
            if 0 <= k < n:
                out[n - 1 - k] += air
        return [round(x, 3) for x in out]

    def dm_airtime(self, n: int = 8) -> dict[str, float]:
        """The radios whose DMs cost the most airtime so far, "!a1b2c3d4" -> seconds."""
        worst = sorted(self._dm_air.items(), key=lambda kv: -kv[1])[:n]
        return {f"!{to:08x}": round(s, 3) for to, s in worst}

    def stats(self) -> dict[str, Any]:
        now = self.clock.monotonic()
        self._expire(now)
        return {
            "queue": len(self._queue),
            "sent": self.sent,
            "coalesced": self.coalesced,
            "airtime_used_s": round(sum(a for _, a in self._history), 3),
            "radio_airtime_s": round(self._radio_airtime_s(), 3),
            "duty_budget_s": self.duty_budget_s,
            "deferred_for_duty": self.deferred_for_duty,
            "deferred_for_util": self.deferred_for_util,
            "send_errors": self.send_errors,
            "acks_waited": self.acks_waited,
            "reserve_sent": self.reserve_sent,
            "rate_limited": self.rate_limited,
            "dropped_for_budget": self.dropped_for_budget,
            "dm_airtime_s": self.dm_airtime(),
            "table_sent": self.table_sent,
            "table_wait_s": round(self.table_wait_s, 3),
            "channel_util": round(self._channel_util(), 4),
            "airtime_buckets_s": self.airtime_buckets(now),
            "last_packets": list(self.last_packets),
        }
