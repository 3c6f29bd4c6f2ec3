"""The one command path: authorise -> resolve -> persist -> publish -> render, for every input.

Radio text, binary frames, relay (Discord) commands, DM console actions and the monster AI
all submit a Command here. A single asyncio lock serialises submissions, so the game, the
event log and the published stream always agree on one order. The result is one typed
Outcome (events, or a private answer, or an error); each channel renders its own words.
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
# The DM reads join requests one by one. A flood fills neither the list nor the DM's screen:
# one radio holds at most MAX_JOINS_PER_SENDER (one per key it shows), the list at most
# MAX_PENDING_JOINS (past it the oldest unauthenticated request makes room), and a request
# the DM has not answered in JOIN_TTL_S is dropped, restart or not.
MAX_PENDING_JOINS = 32
MAX_JOINS_PER_SENDER = 2
JOIN_TTL_S = 1800.0
DEFAULT_PARTY_MAX = 8  # auto-approve stops here; later joins wait for the DM


@dataclass(frozen=True)
class Command:
    source: str  # "text" | "binary" | "relay" | "dm" | "system" | "ai"
    sender: str  # "!a1b2c3d4" for a radio, "discord:<id>", "dm", "ai", "system"
    intent: Any
    idempotency_key: str | None = None
    actor: int | None = None
    # The sender's radio key, when the radio vouched for it (a PKI DM): a join approved with
    # it pins it, so the player is that key from then on.
    public_key: bytes | None = None
    direct: bool = False  # addressed to the node alone (a radio DM): answered the same way


@dataclass
class Outcome:
    """What one command came to. Channels render `events` (or say `text`/`error`) their way."""

    ok: bool
    seq: int | None
    events: list[Any]
    error: str | None = None  # one line for the sender: why nothing happened
    text: str | None = None  # a private answer in words: a query's, a join request's status
    duplicate: bool = False
    dropped: bool = False  # a flood: not answered on the radio, only counted
    private: bool = False  # answer only the sender (queries, join status)
    actor: int | None = None

    def reply(self) -> dict[str, Any]:
        from protocol import jsonform

        return {"ok": self.ok, "seq": self.seq, "text": self.text, "error": self.error,
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
    key: str | None = None  # the join command's idempotency key
    public_key: str | None = None  # hex of the radio key that asked, when the radio vouched
    at: float = 0.0  # clock.now() when asked: wall time, so expiry survives a restart

    @property
    def fingerprint(self) -> str | None:
        from node.identity import fingerprint

        return fingerprint(bytes.fromhex(self.public_key)) if self.public_key else None


@dataclass
class _Listeners:
    fns: list[Callable[[int, Command, list[Any], Outcome], None]] = field(default_factory=list)


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
        party_max: int = DEFAULT_PARTY_MAX,
        text_auth: str = "channel",
    ) -> None:
        self.store = store
        self.node_id = node_id
        self.clock = clock
        self.metrics = metrics
        self.rate_per_s = rate_per_s
        self.rate_burst = rate_burst
        self.snapshot_every = snapshot_every
        self.auto_approve = auto_approve
        self.party_max = party_max
        self.text_auth = text_auth  # for new sessions; a running game keeps its own setting
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
            ("dungeon_joins_evicted_total", "join requests dropped unanswered, by reason"),
        ):
            metrics.describe(name, text)
        self._load_joins()

    # -- state ----------------------------------------------------------------------------
    @property
    def game(self) -> Any:
        return self.session.game if self.session else None

    def subscribe(self, fn: Callable[[int, Command, list[Any], Outcome], None]) -> Callable[[], None]:
        """fn(seq, cmd, events, outcome) after every persisted command; returns unsubscribe.

        Listeners run under the pipeline lock, in log order, before submit() returns: they
        see the game exactly as this command left it. So a listener must be quick and must
        not await or submit (that would wait on the lock it runs under): schedule a task
        for anything slow. An exception in one is logged and does not reach the others."""
        self._listeners.fns.append(fn)
        return lambda: self._listeners.fns.remove(fn) if fn in self._listeners.fns else None

    def on_join_request(self, fn: Callable[[JoinRequest], None]) -> None:
        self._join_listeners.append(fn)

    def eids_of(self, sender: str) -> list[int]:
        return list(self.bindings.get(sender, []))

    def knows_radio(self, num: int) -> bool:
        """Does the radio with this node number play a character?"""
        return bool(self.bindings.get(f"!{num:08x}"))

    def senders_of(self, eid: int) -> list[str]:
        return [s for s, eids in self.bindings.items() if eid in eids]

    # -- sessions -------------------------------------------------------------------------
    async def start_session(self, dungeon: str, house_rules: dict[str, Any] | None = None,
                            seed: int | None = None,
                            monsters: list[Any] | None = None) -> Session:
        """Begin a new game; earlier sessions stay in the log (and replay) but stop binding."""
        from node.identity import TEXT_AUTH_RULE

        house_rules = dict(house_rules or {})
        if self.text_auth == "dm":
            house_rules.setdefault(TEXT_AUTH_RULE, True)
        async with self.lock:
            game = new_game(dungeon, house_rules, monsters)  # raises before anything is written
            seq = self.store.next_seq()
            sid = f"{self.node_id}-{seq}"
            seed = secrets.randbits(32) if seed is None else seed
            from rules import RULES_VERSION

            payload = {"id": sid, "dungeon": dungeon, "seed": seed,
                       "house_rules": house_rules or {}, "rules": RULES_VERSION}
            # A file's dungeon and the custom monsters are recorded, not their paths, so the
            # session replays the same after the files change.
            if dungeon.endswith(".toml"):
                payload["dungeon_source"] = game.dungeon.source
            if game.bestiary:
                payload["monsters"] = list(game.bestiary.values())
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
    def _auto_joins(self, cmd: Command) -> bool:
        """Whether a join needs no DM: auto-approve is on, the party has room, and it comes
        from a radio (a Discord user joins through the DM or a link code)."""
        if not self.auto_approve or cmd.source == "relay" or self.game is None:
            return False
        return len(list(self.game.party_eids())) < self.party_max

    def _queue_join(self, cmd: Command) -> Outcome:
        self._expire_joins()
        j = cmd.intent
        key_hex = cmd.public_key.hex() if cmd.public_key else None
        for req in self.joins.values():
            if (req.sender, req.public_key) == (cmd.sender, key_hex):
                # the same radio again (a retry, or a fixed typo): one request, the latest
                req.name, req.cls, req.level = j.name, j.cls, j.level
                self._save_joins()
                return Outcome(True, None, [], text="your join request is waiting for the DM",
                               private=True)
        # Another key under this node number (an impostor, or the real player after one):
        # the newest request takes the oldest one's place, so neither locks the other out.
        mine = sorted((r for r in self.joins.values() if r.sender == cmd.sender),
                      key=lambda r: r.id)
        while len(mine) >= MAX_JOINS_PER_SENDER:
            self._evict(mine.pop(0), "sender")
        if len(self.joins) >= MAX_PENDING_JOINS:
            # A full list makes room rather than refusing: unauthenticated requests go first
            # (anyone can type a node number), oldest first.
            oldest = min(self.joins.values(), key=lambda r: (r.public_key is not None, r.id))
            self._evict(oldest, "full")
        self._join_ids += 1
        req = JoinRequest(self._join_ids, j.name, j.cls, j.level, cmd.sender, cmd.source,
                          cmd.idempotency_key, key_hex, self.clock.now())
        self.joins[req.id] = req
        self._save_joins()
        for fn in list(self._join_listeners):
            try:
                fn(req)
            except Exception:
                log.exception("join listener failed")
        return Outcome(True, None, [], text=fit(f"join request for {j.name} sent to the DM"),
                       private=True)

    def _evict(self, req: JoinRequest, reason: str) -> None:
        del self.joins[req.id]
        self.metrics.inc("dungeon_joins_evicted_total", reason=reason)

    def _expire_joins(self) -> None:
        now = self.clock.now()
        for req in [r for r in self.joins.values() if now - r.at > JOIN_TTL_S]:
            self._evict(req, "stale")

    def pending_joins(self) -> list[JoinRequest]:
        """The join requests the DM has yet to answer, oldest first (stale ones dropped)."""
        before = len(self.joins)
        self._expire_joins()
        if len(self.joins) != before:
            self._save_joins()
        return sorted(self.joins.values(), key=lambda r: r.id)

    async def approve_join(self, req_id: int) -> Outcome:
        req = self.joins.pop(req_id, None)
        if req is None:
            raise Rejected(f"no join request {req_id}")
        self._save_joins()
        key = bytes.fromhex(req.public_key) if req.public_key else None
        # approval is where the key is pinned: the join binds the sender and pins it at once
        return await self.submit(Command("system", req.sender,
                                         it.Join(req.name, req.cls, req.level), None,
                                         public_key=key))

    def deny_join(self, req_id: int) -> JoinRequest:
        req = self.joins.pop(req_id, None)
        if req is None:
            raise Rejected(f"no join request {req_id}")
        self._save_joins()
        return req

    # A player told "your request is waiting for the DM" must still be waiting after a
    # restart, so pending joins live in the database, not only in memory; each keeps the
    # wall time it was asked at, so a flood of them expires whether or not the node restarts.
    def _save_joins(self) -> None:
        self.store.put(PENDING_JOINS_KEY, {"next": self._join_ids,
                                           "joins": [asdict(r) for r in self.joins.values()]})

    def _load_joins(self) -> None:
        saved = self.store.get(PENDING_JOINS_KEY) or {}
        self._join_ids = int(saved.get("next", 0))
        fields = set(JoinRequest.__dataclass_fields__)
        for row in saved.get("joins", [])[-MAX_PENDING_JOINS:]:
            if not isinstance(row, dict):
                continue
            try:
                req = JoinRequest(**{k: v for k, v in row.items() if k in fields})
            except TypeError:  # a row from a future or broken version: not worth a crash
                continue
            self.joins[req.id] = req
        before = len(self.joins)
        self._expire_joins()
        if len(self.joins) != before:
            self._save_joins()

    async def rebind(self, old: str, new: str, public_key: bytes) -> bool:
        """Move `old`'s characters and key pin to `new` (the same radio key, renumbered).

        False when `new` already plays a character (two players' numbers do not merge)."""
        async with self.lock:
            eids = self.bindings.get(old, [])
            if not eids or self.bindings.get(new):
                return False
            seq = self.store.next_seq()
            self.store.commit(self.node_id, Write(
                seq, self.clock.now(), BIND_ROW,
                {"sender": new, "eid": eids[0], "eids": eids, "role": "player", "via": "rekey",
                 "from": old},
                bindings=[(new, e, "player") for e in eids], unbind=[old],
                pins=[(new, public_key)]))
            self.bindings[new] = self.bindings.pop(old)
            self.metrics.inc("dungeon_rebinds_total")
            return True

    async def bind(self, sender: str, eid: int, *, via: str, key: str | None = None) -> Outcome:
        """Link a sender (e.g. "discord:<id>") to a character, logged like any command."""
        async with self.lock:
            if key is not None and (stored := self.store.reply_for(key)) is not None:
                return _from_reply(stored, duplicate=True)
            game = self.game
            if game is None or eid not in list(game.party_eids()):
                raise Rejected(f"no character {eid} in this game")
            seq = self.store.next_seq()
            out = Outcome(True, seq, [], text=fit(f"linked to {game.name_of(eid)}"),
                          private=True, actor=eid)
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
        if not self.take_token(sender):
            return self._flood()
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
        if cmd.source in RATE_LIMITED and not self.take_token(cmd.sender):
            return self._flood()
        try:
            actor = self._authorise(cmd)
        except Rejected as err:
            return self._reject(cmd, str(err), "auth")
        if isinstance(cmd.intent, it.Join) and cmd.source not in PRIVILEGED \
                and not self._auto_joins(cmd):
            return self._queue_join(cmd)
        if isinstance(cmd.intent, it.Query):
            return self._query(cmd, actor)
        return self._resolve_persist(cmd, actor)

    def _flood(self) -> Outcome:
        self.metrics.inc("dungeon_commands_dropped_total", reason="rate")
        return Outcome(False, None, [], error="too fast; wait a moment", dropped=True)

    def take_token(self, sender: str) -> bool:
        """Spend one of the sender's commands; False (drop it, answer nothing) when too fast.

        Channels call it for input that never becomes a command (unparseable text), so
        garbage costs the same as a command and is not answered faster."""
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
        if isinstance(cmd.intent, it.Make):  # creation steps come before the join
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
        return Outcome(False, None, [], error=reason, private=True)

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
        return Outcome(True, None, [], text=fit(text), private=True, actor=actor)

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
        out = Outcome(True, seq, events, actor=actor)
        payload = {
            "source": cmd.source, "sender": cmd.sender, "actor": actor,
            "intent": jsonform.dump(cmd.intent),
            "events": [jsonform.dump(e) for e in events], "digest": digest,
        }
        binds: list[tuple[str, int, str]] = []
        pins: list[tuple[str, bytes]] = []
        if isinstance(cmd.intent, it.Join) and cmd.sender not in ("dm", "system"):
            binds = [(cmd.sender, e.eid, "player") for e in events if isinstance(e, ev.Joined)]
            if binds and cmd.public_key:
                pins = [(cmd.sender, bytes(cmd.public_key))]
        self._since_snapshot += 1
        snapshot = None
        if self._since_snapshot >= self.snapshot_every:
            snapshot = (digest, game.to_dict())
        w = Write(seq, self.clock.now(), COMMAND_ROW, payload, key=cmd.idempotency_key,
                  reply=out.reply() if cmd.idempotency_key else None, snapshot=snapshot,
                  sheets=self._sheet_changes(cmd, actor, events), bindings=binds, pins=pins)
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

        # A DM's sheet edit is always a version, even of play state such as hp that the
        # sheet itself leaves out: the history is where the DM looks for what they changed.
        edited = cmd.intent.target if isinstance(cmd.intent, it.Dm) and \
            cmd.intent.op == "edit_sheet" else None
        out: list[SheetWrite] = []
        for eid in sorted(touched & party):
            sheet = entity_dict(self.game, eid)
            last = self.store.sheet_version(eid)
            if last is not None and last[1] == sheet and eid != edited:
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
    text = stored.get("text")
    if text is None and not events and stored.get("lines"):  # a reply stored before "text"
        text = " | ".join(stored["lines"])
    return Outcome(bool(stored.get("ok")), stored.get("seq"), events, stored.get("error"), text,
                   duplicate=duplicate, actor=stored.get("actor"), private=True)
