"""The one command path: authorise -> resolve -> persist -> publish -> render, for every input.

Radio text, binary frames, relay (Discord) commands, DM console actions and the monster AI
all submit a Command here. A single asyncio lock serialises submissions, so the game, the
event log and the published stream always agree on one order.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from node.clock import Clock
from node.identity import LinkCodes
from node.obs.metrics import Metrics
from node.session import (
    BIND_ROW,
    COMMAND_ROW,
    SESSION_ROW,
    STATUS_ROW,
    Session,
    new_game,
    resume,
    rng_for,
)
from node.store import SheetWrite, Store, Write
from rules import events as ev
from rules import intents as it

log = logging.getLogger(__name__)

PENDING_JOINS_KEY = "pending_joins"

# DM operations worth a whole-database snapshot first, and the snapshot label.
_MAJOR_CHANGES = {"level_up": "levelup", "edit_sheet": "dm-edit", "revert_sheet": "dm-edit"}

SOURCES = frozenset({"text", "binary", "relay", "dm", "system", "ai"})
PRIVILEGED = frozenset({"dm", "system"})  # owning the control socket is the DM role
RATE_LIMITED = frozenset({"text", "binary", "relay"})
LIMIT = 200  # bytes per radio text
MAX_BUCKETS = 4096  # rate-limit state kept for this many senders at most
MAX_PENDING_JOINS = 32  # the DM reads them one by one; more is a flood


@dataclass(frozen=True)
class Command:
    source: str  # "text" | "binary" | "relay" | "dm" | "system" | "ai"
    sender: str  # "!a1b2c3d4" for a radio, "discord:<id>", "dm", "ai", "system"
    intent: Any
    idempotency_key: str | None = None
    actor: int | None = None


@dataclass
class Outcome:
    ok: bool
    seq: int | None
    events: list[Any]
    lines: list[str]
    error: str | None = None
    duplicate: bool = False
    dropped: bool = False  # a flood: not answered on the radio, only counted
    private: bool = False  # answer only the sender (queries, join status)
    actor: int | None = None

    def reply(self) -> dict[str, Any]:
        from protocol import jsonform

        return {"ok": self.ok, "seq": self.seq, "lines": self.lines, "error": self.error,
                "events": [jsonform.dump(e) for e in self.events], "actor": self.actor}


class Rejected(Exception):
    """A command refused before it touched the game; str(err) is the one-line answer."""


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class JoinRequest:
    id: int
    name: str
    cls: str
    level: int
    sender: str
    source: str
    key: str | None = None


@dataclass
class _Listeners:
    fns: list[Callable[[int, Command, list[Any], Outcome], None]] = field(default_factory=list)


def render_lines(events: list[Any], game: Any) -> list[str]:
    from protocol import render

    return render.render(events, game, limit=LIMIT)


def fit(text: str, limit: int = LIMIT) -> str:
    data = text.encode()
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", "ignore").rstrip() + "..."


class Pipeline:
    def __init__(
        self,
        store: Store,
        *,
        node_id: str,
        clock: Clock,
        metrics: Metrics,
        rate_per_s: float = 1.0,
        rate_burst: int = 5,
        snapshot_every: int = 50,
        auto_approve: bool = False,
        renderer: Callable[[list[Any], Any], list[str]] = render_lines,
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.metrics = metrics
        self.rate_per_s = rate_per_s
        self.rate_burst = rate_burst
        self.snapshot_every = snapshot_every
        self.auto_approve = auto_approve
        self.renderer = renderer
        self.lock = asyncio.Lock()
        self.session: Session | None = resume(store)
        self.bindings: dict[str, list[int]] = store.bindings()
        self.joins: dict[int, JoinRequest] = {}
        self._join_ids = 0
        self._buckets: dict[str, _Bucket] = {}
        self._since_snapshot = 0
        self._listeners = _Listeners()
        # Called with a label ("levelup", "dm-edit") before a change a DM may want to undo
        # wholesale; the node process points it at a VACUUM INTO snapshot.
        self.before_major_change: Callable[[str], None] | None = None
        self._join_listeners: list[Callable[[JoinRequest], None]] = []
        self.link_codes = LinkCodes(clock, store)
        for name, text in (
            ("dungeon_commands_total", "commands accepted and persisted"),
            ("dungeon_commands_rejected_total", "commands refused, by reason"),
            ("dungeon_commands_dropped_total", "commands dropped unanswered (floods)"),
            ("dungeon_commands_duplicate_total", "duplicates answered from the stored reply"),
        ):
            metrics.describe(name, text)
        self._load_joins()

    # -- state ----------------------------------------------------------------------------
    @property
    def game(self) -> Any:
        return self.session.game if self.session else None

    def subscribe(self, fn: Callable[[int, Command, list[Any], Outcome], None]) -> Callable[[], None]:
        """fn(seq, cmd, events, outcome) after every persisted command; returns unsubscribe.

        The listener contract: listeners run synchronously, in the order they subscribed,
        while the pipeline lock is held and right after the command's commit, so each sees
        the game exactly as that command left it and no other command can interleave. So a
        listener must not block or await, and must not submit a command itself (the lock
        is not re-entrant): it schedules that work instead (a task, a timer, a queue). An
        exception in one listener is logged and does not stop the others."""
        self._listeners.fns.append(fn)
        return lambda: self._listeners.fns.remove(fn) if fn in self._listeners.fns else None

    def on_join_request(self, fn: Callable[[JoinRequest], None]) -> None:
        self._join_listeners.append(fn)

    def eids_of(self, sender: str) -> list[int]:
        return list(self.bindings.get(sender, []))

    def senders_of(self, eid: int) -> list[str]:
        return [s for s, eids in self.bindings.items() if eid in eids]

    # -- sessions -------------------------------------------------------------------------
    async def start_session(self, dungeon: str, house_rules: dict[str, Any] | None = None,
                            seed: int | None = None) -> Session:
        """Begin a new game; earlier sessions stay in the log (and replay) but stop binding."""
        async with self.lock:
            game = new_game(dungeon, house_rules)  # raises before anything is written
            seq = self.store.next_seq()
            sid = f"{self.node_id}-{seq}"
            seed = secrets.randbits(32) if seed is None else seed
            payload = {"id": sid, "dungeon": dungeon, "seed": seed,
                       "house_rules": house_rules or {}}
            self.store.commit(self.node_id, Write(
                seq, self.clock.now(), SESSION_ROW, payload,
                snapshot=(game.digest(), game.to_dict()), clear_bindings=True))
            self.bindings = {}
            self.joins.clear()
            self._save_joins()
            self.session = Session(sid, dungeon, seed, payload["house_rules"], seq, game)
            self._since_snapshot = 0
            return self.session

    async def set_status(self, status: str) -> str:
        if status not in ("running", "paused", "ended"):
            raise Rejected(f"unknown session status {status!r}")
        async with self.lock:
            if self.session is None:
                raise Rejected("no session; start one first")
            seq = self.store.next_seq()
            self.store.commit(self.node_id, Write(seq, self.clock.now(), STATUS_ROW,
                                                  {"status": status}))
            self.session.status = status
            return status

    # -- joins and links ------------------------------------------------------------------
    def _queue_join(self, cmd: Command) -> Outcome:
        for req in self.joins.values():
            if req.sender == cmd.sender:
                return Outcome(True, None, [], ["your join request is waiting for the DM"],
                               private=True)
        if len(self.joins) >= MAX_PENDING_JOINS:
            return self._reject(cmd, "too many join requests waiting; try later", "joins")
        self._join_ids += 1
        j = cmd.intent
        req = JoinRequest(self._join_ids, j.name, j.cls, j.level, cmd.sender, cmd.source,
                          cmd.idempotency_key)
        self.joins[req.id] = req
        self._save_joins()
        for fn in list(self._join_listeners):
            try:
                fn(req)
            except Exception:
                log.exception("join listener failed")
        return Outcome(True, None, [], [fit(f"join request for {j.name} sent to the DM")],
                       private=True)

    async def approve_join(self, req_id: int) -> Outcome:
        req = self.joins.pop(req_id, None)
        if req is None:
            raise Rejected(f"no join request {req_id}")
        self._save_joins()
        return await self.submit(Command("system", req.sender, it.Join(req.name, req.cls, req.level),
                                         None))

    def deny_join(self, req_id: int) -> JoinRequest:
        req = self.joins.pop(req_id, None)
        if req is None:
            raise Rejected(f"no join request {req_id}")
        self._save_joins()
        return req

    # A player told "your request is waiting for the DM" must still be waiting after a
    # restart, so pending joins live in the database, not only in memory.
    def _save_joins(self) -> None:
        self.store.put(PENDING_JOINS_KEY, {"next": self._join_ids,
                                           "joins": [asdict(r) for r in self.joins.values()]})

    def _load_joins(self) -> None:
        saved = self.store.get(PENDING_JOINS_KEY) or {}
        self._join_ids = int(saved.get("next", 0))
        for row in saved.get("joins", []):
            req = JoinRequest(**row)
            self.joins[req.id] = req

    async def bind(self, sender: str, eid: int, *, via: str, key: str | None = None) -> Outcome:
        """Link a sender (e.g. "discord:<id>") to a character, logged like any command."""
        async with self.lock:
            if key is not None and (stored := self.store.reply_for(key)) is not None:
                return _from_reply(stored, duplicate=True)
            game = self.game
            if game is None or eid not in list(game.party_eids()):
                raise Rejected(f"no character {eid} in this game")
            seq = self.store.next_seq()
            out = Outcome(True, seq, [], [fit(f"linked to {game.name_of(eid)}")], private=True,
                          actor=eid)
            self.store.commit(self.node_id, Write(
                seq, self.clock.now(), BIND_ROW,
                {"sender": sender, "eid": eid, "role": "player", "via": via},
                key=key, reply=out.reply(), bindings=[(sender, eid, "player")]))
            self.bindings.setdefault(sender, []).append(eid)
            return out

    async def link(self, sender: str, code: str, *, key: str | None = None) -> Outcome:
        """A remote user (sender "discord:<id>") redeems a one-time code from `link.code`."""
        if key is not None and (stored := self.store.reply_for(key)) is not None:
            return _from_reply(stored, duplicate=True)
        if not self._take_token(sender):
            self.metrics.inc("dungeon_commands_dropped_total", reason="rate")
            return Outcome(False, None, [], [], "too fast; wait a moment", dropped=True)
        eid = self.link_codes.redeem(code)
        if eid is None:
            return self._reject(Command("relay", sender, it.Say(f"link {code[:12]}")),
                                "that link code is unknown or expired; ask the DM", "link")
        try:
            return await self.bind(sender, eid, via="link", key=key)
        except Rejected as err:
            return self._reject(Command("relay", sender, it.Say("link")), str(err), "link")

    # -- the command path -----------------------------------------------------------------
    async def submit(self, cmd: Command) -> Outcome:
        async with self.lock:
            return self._submit_locked(cmd)

    def _submit_locked(self, cmd: Command) -> Outcome:
        if cmd.idempotency_key is not None:
            stored = self.store.reply_for(cmd.idempotency_key)
            if stored is not None:
                self.metrics.inc("dungeon_commands_duplicate_total", source=cmd.source)
                return _from_reply(stored, duplicate=True)
        if cmd.source in RATE_LIMITED and not self._take_token(cmd.sender):
            self.metrics.inc("dungeon_commands_dropped_total", reason="rate")
            return Outcome(False, None, [], [], "too fast; wait a moment", dropped=True)
        try:
            actor = self._authorise(cmd)
        except Rejected as err:
            return self._reject(cmd, str(err), "auth")
        if isinstance(cmd.intent, it.Join) and cmd.source not in PRIVILEGED and not self.auto_approve:
            return self._queue_join(cmd)
        if isinstance(cmd.intent, it.Query):
            return self._query(cmd, actor)
        return self._resolve_persist(cmd, actor)

    def _take_token(self, sender: str) -> bool:
        now = self.clock.monotonic()
        b = self._buckets.get(sender)
        if b is None and len(self._buckets) >= MAX_BUCKETS:
            # many (possibly spoofed) senders: forget the ones whose buckets have refilled
            full = self.rate_burst / self.rate_per_s
            self._buckets = {k: v for k, v in self._buckets.items() if now - v.at < full}
        if b is None:
            b = self._buckets[sender] = _Bucket(float(self.rate_burst), now)
        b.tokens = min(float(self.rate_burst), b.tokens + (now - b.at) * self.rate_per_s)
        b.at = now
        if b.tokens < 1.0:
            return False
        b.tokens -= 1.0
        return True

    def _authorise(self, cmd: Command) -> int | None:
        if cmd.source not in SOURCES:
            raise Rejected(f"unknown source {cmd.source!r}")
        if type(cmd.intent) not in it.ALL_INTENTS:
            raise Rejected("not a game command; send help")
        s = self.session
        if s is None:
            raise Rejected("no game running; ask the DM to start one")
        privileged = cmd.source in PRIVILEGED
        if s.status != "running" and not privileged and not isinstance(cmd.intent, it.Query):
            raise Rejected(f"the game is {s.status}")
        if isinstance(cmd.intent, it.Dm):
            if not privileged:
                raise Rejected("only the DM can do that")
            return None
        if isinstance(cmd.intent, it.Join):
            if not privileged and self.bindings.get(cmd.sender):
                name = self.game.name_of(self.bindings[cmd.sender][0])
                raise Rejected(f"you already play {name}")
            return None
        if privileged:
            if cmd.actor is None and not isinstance(cmd.intent, it.Query):
                raise Rejected("say which character acts")
            return cmd.actor
        if cmd.source == "ai":
            if cmd.actor is None or self.game.controller(cmd.actor) != "monster":
                raise Rejected("the AI acts only for monsters")
            return cmd.actor
        mine = self.bindings.get(cmd.sender, [])
        if cmd.actor is not None:
            if cmd.actor not in mine:
                raise Rejected("you can only act for your own character")
            return cmd.actor
        if not mine:
            if isinstance(cmd.intent, it.Query) and cmd.intent.what.startswith("help"):
                return None
            raise Rejected("join first: join <name> <class>")
        return mine[0]

    def _reject(self, cmd: Command, reason: str, kind: str) -> Outcome:
        from protocol import jsonform

        reason = fit(reason)
        self.metrics.inc("dungeon_commands_rejected_total", reason=kind)
        try:
            intent = jsonform.dump(cmd.intent)
        except Exception:
            intent = {"type": type(cmd.intent).__name__}
        self.store.audit(self.clock.now(), cmd.source, cmd.sender, intent, reason)
        return Outcome(False, None, [], [reason], reason, private=True)

    def _query(self, cmd: Command, actor: int | None) -> Outcome:
        what = cmd.intent.what
        game = self.game
        try:
            if what.startswith("help") or actor is None:
                from protocol.text import help_text

                text = help_text(what[5:].strip() or None)
            else:
                text = game.describe(actor, what)
        except Exception as err:  # a view that cannot answer is the player's one-line error
            from rules.errors import RulesError

            if not isinstance(err, RulesError):
                log.exception("describe(%s, %s) failed", actor, what)
            return self._reject(cmd, str(err) or "cannot answer that", "query")
        return Outcome(True, None, [], [fit(text)], private=True, actor=actor)

    def _resolve_persist(self, cmd: Command, actor: int | None) -> Outcome:
        label = _MAJOR_CHANGES.get(cmd.intent.op) if isinstance(cmd.intent, it.Dm) else None
        if label and self.before_major_change is not None:
            try:
                self.before_major_change(label)
            except Exception:  # a failed backup must not stop the game
                log.exception("snapshot before %s failed", label)
        from protocol import jsonform
        from rules import game as rgame
        from rules.errors import RulesError

        s = self.session
        assert s is not None
        game = s.game
        seq = self.store.next_seq()
        try:
            events = list(rgame.apply(game, actor, cmd.intent, rng_for(s.seed, seq)))
        except RulesError as err:
            return self._reject(cmd, str(err), "rules")
        except Exception:
            # apply validates before mutating, but a bug may have left a half-applied state:
            # rebuild from the log so the game and the log never disagree
            log.exception("rules failed on %r", cmd.intent)
            self._reload()
            return self._reject(cmd, "that could not be resolved", "bug")
        digest = game.digest()
        try:
            lines = [fit(x) for x in self.renderer(events, game)]
        except Exception:
            log.exception("render failed")
            lines = []
        out = Outcome(True, seq, events, lines, actor=actor)
        payload = {
            "source": cmd.source, "sender": cmd.sender, "actor": actor,
            "intent": jsonform.dump(cmd.intent),
            "events": [jsonform.dump(e) for e in events], "digest": digest,
        }
        binds: list[tuple[str, int, str]] = []
        if isinstance(cmd.intent, it.Join) and cmd.sender not in ("dm", "system"):
            binds = [(cmd.sender, e.eid, "player") for e in events if isinstance(e, ev.Joined)]
        self._since_snapshot += 1
        snapshot = None
        if self._since_snapshot >= self.snapshot_every:
            snapshot = (digest, game.to_dict())
        w = Write(seq, self.clock.now(), COMMAND_ROW, payload, key=cmd.idempotency_key,
                  reply=out.reply() if cmd.idempotency_key else None, snapshot=snapshot,
                  sheets=self._sheet_changes(cmd, actor, events), bindings=binds)
        try:
            self.store.commit(self.node_id, w)
        except Exception:
            log.exception("could not persist seq %d", seq)
            self._reload()
            return self._reject(cmd, "could not save that; try again", "store")
        if snapshot is not None:
            self._since_snapshot = 0
        for sender, eid, _role in binds:
            self.bindings.setdefault(sender, []).append(eid)
        self.metrics.inc("dungeon_commands_total", source=cmd.source)
        self.metrics.set("dungeon_event_seq", seq)
        self._publish(seq, cmd, events, out)
        return out

    def _sheet_changes(self, cmd: Command, actor: int | None, events: list[Any]) -> list[SheetWrite]:
        """A new sheet version for each character whose sheet a join, DM edit, rest or level changed."""
        sheet_intent = isinstance(cmd.intent, it.Join | it.Dm | it.Rest)
        if not sheet_intent and not any(isinstance(e, ev.LevelledUp) for e in events):
            return []
        from node.state_view import entity_dict

        party = set(self.game.party_eids())
        touched = {e.eid for e in events if isinstance(e, ev.Joined | ev.LevelledUp)}
        touched |= {e.target for e in events if hasattr(e, "target") and isinstance(e.target, int)}
        for e in events:
            touched |= set(getattr(e, "eids", ()) or ())
        if actor is not None:
            touched.add(actor)
        if isinstance(cmd.intent, it.Dm) and isinstance(cmd.intent.target, int):
            touched.add(cmd.intent.target)
        from protocol import jsonform

        out: list[SheetWrite] = []
        for eid in sorted(touched & party):
            sheet = entity_dict(self.game, eid)
            last = self.store.sheet_version(eid)
            if last is not None and last[1] == sheet:
                continue
            out.append(SheetWrite(eid, {"source": cmd.source, "intent": jsonform.dump(cmd.intent)},
                                  sheet))
        return out

    def _publish(self, seq: int, cmd: Command, events: list[Any], out: Outcome) -> None:
        for fn in list(self._listeners.fns):
            try:
                fn(seq, cmd, events, out)
            except Exception:
                log.exception("event listener failed")

    def _reload(self) -> None:
        self.session = resume(self.store)
        self.bindings = self.store.bindings()


def _from_reply(stored: dict[str, Any], *, duplicate: bool) -> Outcome:
    from protocol import jsonform

    events = [jsonform.load(e) for e in stored.get("events", [])]
    return Outcome(bool(stored.get("ok")), stored.get("seq"), events, list(stored.get("lines", [])),
                   stored.get("error"), duplicate=duplicate, actor=stored.get("actor"),
                   private=True)
