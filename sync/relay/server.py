"""The relay's HTTP API (aiohttp): node push/pull/tactics behind signed tokens, health and metrics.

Routes (all JSON; /v1/* need `Authorization: Bearer <token>`):
  POST /v1/push      {"prev", "events": [{"seq","ts","type","payload"}]} -> {"acked", "stored"}
  GET  /v1/cursor    -> {"acked"}
  GET  /v1/pull?after=ID&wait=S  long poll -> {"commands": [{"id","key","body","expires"}]}
  POST /v1/tactics   {"actor","state","options","budget_s"} -> {"ok","action","target","flavour","reason"}
  GET  /healthz, GET /metrics

A pushed batch is checked whole before anything is stored (validate.py); a stored row the
mirror cannot fold is skipped and counted at start, never fatal. Failed authentication is
limited per client address and logged as a periodic summary, not a line per request.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from node.obs.metrics import Metrics
from sync.relay.gemini import Decision, GeminiTactician
from sync.relay.mirror import GameMirror, Mirror
from sync.relay.ratelimit import RateLimiter, RefusalTally
from sync.relay.storage import Storage, StoredEvent
from sync.relay.validate import BadBatch, parse_batch
from sync.tokens import MAX_TOKEN_TTL_S, TokenError, verify_token

log = logging.getLogger("dungeon.relay")

# aiohttp >= 3.12 wants typed request keys; older versions take a plain string
NODE: Any = web.RequestKey("node_id", str) if hasattr(web, "RequestKey") else "node_id"

MAX_BATCH = 2000
MAX_WAIT_S = 30.0
MAX_TACTICS_BODY = 64 * 1024  # a real request is 1-3 KB; Gemini gets a clipped copy anyway

EventsHook = Callable[[str, list[str]], Awaitable[None]]


@dataclass
class RelayConfig:
    secrets: dict[str, str]
    rate_per_s: float = 20.0
    burst: float = 100.0
    offline_after_s: float = 90.0
    max_body: int = 8 * 1024 * 1024
    max_token_ttl_s: float = MAX_TOKEN_TTL_S
    # failed authentications per client address: a burst, then this many per second
    auth_fail_per_s: float = 0.2
    auth_fail_burst: float = 10.0
    log_summary_s: float = 60.0
    # delivered or expired inbox rows older than this are deleted (kept a while for dedupe)
    inbox_keep_s: float = 86_400.0
    housekeeping_s: float = 300.0


@dataclass
class Relay:
    """The relay's state: storage, the mirror, metrics, and hooks the Discord bridge uses."""

    storage: Storage
    config: RelayConfig
    gemini: GeminiTactician | None = None
    metrics: Metrics = field(default_factory=Metrics)
    clock: Callable[[], float] = time.time
    mirror: Mirror = field(default_factory=Mirror)
    hooks: list[EventsHook] = field(default_factory=list)
    _waiters: dict[str, asyncio.Event] = field(default_factory=dict)
    _seen: dict[str, float] = field(default_factory=dict)
    _housekeeper: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.config.rate_per_s, self.config.burst, time.monotonic)
        self.auth_limiter = RateLimiter(self.config.auth_fail_per_s, self.config.auth_fail_burst,
                                        time.monotonic)
        self.refusals = RefusalTally(log, self.config.log_summary_s, time.monotonic)
        self.bad_batches = RefusalTally(log, self.config.log_summary_s, time.monotonic,
                                        what="batches refused")
        for name, text in [
            ("relay_events_ingested_total", "events stored, by node"),
            ("relay_events_duplicate_total", "events received again and skipped"),
            ("relay_auth_failures_total", "requests refused for a missing or bad token"),
            ("relay_rate_limited_total", "requests refused by the per-node rate limit"),
            ("relay_commands_queued_total", "remote commands queued for nodes"),
            ("relay_events_invalid_total", "pushed batches refused as malformed, nothing stored"),
            ("relay_rows_skipped_total", "stored rows the mirror could not load, skipped"),
            ("relay_auth_throttled_total", "requests refused: too many failed logins from the address"),
            ("relay_inbox_pruned_total", "delivered or expired inbox rows deleted"),
        ]:
            self.metrics.describe(name, text)

    async def start(self) -> None:
        """Open storage, rebuild the mirror from stored events, start housekeeping."""
        await self.storage.open()
        for node_id, (_acked, seen) in (await self.storage.nodes()).items():
            self._seen[node_id] = seen
            await self._rebuild(node_id)
        self._housekeeper = asyncio.ensure_future(self._housekeeping())

    async def _rebuild(self, node_id: str) -> None:
        game, reached = self.mirror.game(node_id), 0

        def bad(node: str, seq: int, why: str) -> None:
            nonlocal reached
            reached = max(reached, seq)  # a page of only bad rows still moves on
            self._skip(node, seq, why)

        while True:
            before = reached
            batch = await self.storage.events_after(node_id, before, 5000, on_bad=bad)
            if batch:
                self._fold(game, batch)
                reached = max(reached, batch[-1].seq)
            if reached == before:
                return

    async def stop(self) -> None:
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            await asyncio.gather(self._housekeeper, return_exceptions=True)
        self.refusals.flush()
        self.bad_batches.flush()

    def _skip(self, node_id: str, seq: int, why: str) -> None:
        self.metrics.inc("relay_rows_skipped_total", node=node_id)
        log.error("stored row skipped", extra={"node": node_id, "seq": seq, "reason": why})

    def _fold(self, game: GameMirror, rows: list[StoredEvent]) -> list[str]:
        """Fold rows into the mirror; one that cannot fold is skipped and counted, never fatal."""
        lines: list[str] = []
        for r in rows:
            try:
                lines += game.apply(r.seq, r.payload)
            except (KeyError, TypeError, ValueError, AttributeError) as err:
                self._skip(game.node_id, r.seq, f"{type(err).__name__}: {err}"[:120])
        return lines

    async def housekeep(self) -> int:
        """Prune old inbox rows and flush the refusal summary; return rows pruned."""
        pruned = await self.storage.prune_inbox(self.clock() - self.config.inbox_keep_s)
        if pruned:
            self.metrics.inc("relay_inbox_pruned_total", pruned)
        self.refusals.flush()
        self.bad_batches.flush()
        return pruned

    async def _housekeeping(self) -> None:
        while True:
            await asyncio.sleep(self.config.housekeeping_s)
            try:
                await self.housekeep()
            except Exception:  # storage down: try again next round
                log.exception("housekeeping failed")

    # -- used by the Discord bridge --------------------------------------------------------
    def online(self, node_id: str) -> bool:
        seen = self._seen.get(node_id)
        return seen is not None and self.clock() - seen < self.config.offline_after_s

    async def enqueue(self, node_id: str, key: str, body: dict[str, Any], ttl_s: float) -> bool:
        fresh = await self.storage.enqueue(node_id, key, body, self.clock(), ttl_s)
        if fresh:
            self.metrics.inc("relay_commands_queued_total", node=node_id)
        self._waiter(node_id).set()
        return fresh

    def _waiter(self, node_id: str) -> asyncio.Event:
        return self._waiters.setdefault(node_id, asyncio.Event())

    def _heard(self, node_id: str) -> None:
        self._seen[node_id] = self.clock()
        self.metrics.set("relay_node_last_seen_seconds", self._seen[node_id], node=node_id)

    # -- HTTP -------------------------------------------------------------------------------
    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.max_body,
                              middlewares=[self._auth_middleware])
        app.router.add_get("/healthz", self.healthz)
        app.router.add_get("/metrics", self.prometheus)
        app.router.add_post("/v1/push", self.push)
        app.router.add_get("/v1/cursor", self.cursor)
        app.router.add_get("/v1/pull", self.pull)
        app.router.add_post("/v1/tactics", self.tactics)
        return app

    @web.middleware
    async def _auth_middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        address = client_address(request)
        wait = self.auth_limiter.blocked(address)
        if wait > 0:  # refused before any work, and counted in the summary, not logged
            self.metrics.inc("relay_auth_throttled_total")
            self.refusals.add(address, "throttled")
            return web.json_response({"error": "too many failed logins", "retry_after": round(wait, 1)},
                                     status=429, headers={"Retry-After": str(max(1, round(wait)))})
        header = request.headers.get("Authorization", "")
        try:
            if not header.startswith("Bearer "):
                raise TokenError("missing token")
            node_id = verify_token(header[7:].strip(), self.config.secrets, self.clock(),
                                   self.config.max_token_ttl_s)
        except TokenError as err:
            self.metrics.inc("relay_auth_failures_total")
            self.auth_limiter.allow(address)
            self.refusals.add(address, str(err))
            return web.json_response({"error": str(err)}, status=401)
        wait = self.limiter.allow(node_id)
        if wait > 0:
            self.metrics.inc("relay_rate_limited_total", node=node_id)
            return web.json_response({"error": "rate limited", "retry_after": round(wait, 2)},
                                     status=429, headers={"Retry-After": str(max(1, round(wait)))})
        request[NODE] = node_id
        self._heard(node_id)
        return await handler(request)

    async def healthz(self, request: web.Request) -> web.Response:
        try:
            await self.storage.nodes()
        except Exception as err:
            return web.json_response({"ok": False, "error": str(err)[:200]}, status=503)
        return web.json_response({"ok": True, "nodes": len(self._seen),
                                  "gemini": self.gemini is not None})

    async def prometheus(self, request: web.Request) -> web.Response:
        return web.Response(text=self.metrics.render_prometheus(),
                            content_type="text/plain", charset="utf-8")

    async def cursor(self, request: web.Request) -> web.Response:
        return web.json_response({"acked": await self.storage.acked(request[NODE])})

    async def push(self, request: web.Request) -> web.Response:
        node_id = request[NODE]
        try:
            body = await request.json()
        except ValueError:
            body = None
        if isinstance(body, dict) and isinstance(body.get("events"), list) \
                and len(body["events"]) > MAX_BATCH:
            return web.json_response({"error": f"at most {MAX_BATCH} events per batch"}, status=413)
        try:
            prev, rows = parse_batch(node_id, body)
        except BadBatch as err:
            self.metrics.inc("relay_events_invalid_total", node=node_id)
            self.bad_batches.add(node_id, str(err)[:120])
            return web.json_response({"error": f"bad batch: {err}"[:200]}, status=400)
        acked, stored = await self.storage.ingest(node_id, prev, rows, self.clock())
        if rows and acked < rows[-1].seq:
            # the batch starts after a gap the relay has not seen: the node resends from `acked`
            return web.json_response({"error": "gap", "acked": acked}, status=409)
        self.metrics.inc("relay_events_ingested_total", stored, node=node_id)
        self.metrics.inc("relay_events_duplicate_total", len(rows) - stored, node=node_id)
        lines = self._fold(self.mirror.game(node_id), rows)
        if lines:
            for hook in self.hooks:
                try:
                    await hook(node_id, lines)
                except Exception:
                    log.exception("events hook failed", extra={"node": node_id})
        return web.json_response({"acked": acked, "stored": stored})

    async def pull(self, request: web.Request) -> web.Response:
        node_id = request[NODE]
        try:
            after = int(request.query.get("after", "0"))
            wait = min(MAX_WAIT_S, max(0.0, float(request.query.get("wait", "0"))))
        except ValueError:
            return web.json_response({"error": "after and wait must be numbers"}, status=400)
        deadline = time.monotonic() + wait
        while True:
            waiter = self._waiter(node_id)
            waiter.clear()
            items = await self.storage.pending(node_id, after, self.clock())
            left = deadline - time.monotonic()
            if items or left <= 0:
                break
            try:
                await asyncio.wait_for(waiter.wait(), timeout=left)
            except TimeoutError:
                pass
            self._heard(node_id)
        return web.json_response({"commands": [
            {"id": i.id, "key": i.key, "body": i.body, "expires": i.expires} for i in items]})

    async def tactics(self, request: web.Request) -> web.Response:
        too_big = web.json_response({"error": f"tactics requests are at most {MAX_TACTICS_BODY} bytes"},
                                    status=413)
        if (request.content_length or 0) > MAX_TACTICS_BODY:
            return too_big
        raw = bytearray()
        async for chunk in request.content.iter_any():  # chunked bodies say no length up front
            raw += chunk
            if len(raw) > MAX_TACTICS_BODY:
                return too_big
        try:
            body = json.loads(raw)
            options = list(body["options"])
            budget = float(body.get("budget_s", 2.5))
            if not all(isinstance(o, dict) and isinstance(o.get("id"), str | int) for o in options):
                raise ValueError("options need ids")
            actor, state = body.get("actor") or {}, body.get("state") or {}
            if not isinstance(actor, dict) or not isinstance(state, dict) or not math.isfinite(budget):
                raise ValueError("actor and state are objects")
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad tactics request"}, status=400)
        if self.gemini is None:
            self.metrics.inc("relay_ai_failures_total", reason="disabled")
            return web.json_response(Decision(False, reason="disabled").to_json())
        # leave headroom for the trip back so the node's own budget is not overrun
        decision = await self.gemini.choose(actor, state, options, max(0.05, budget - 0.3))
        return web.json_response(decision.to_json())


def client_address(request: web.Request) -> str:
    """The client's address; behind a reverse proxy on loopback, the one it forwarded.

    Only a loopback peer is trusted to say who its client was (the proxy in README.md sets
    X-Forwarded-For); anyone else could put any address there.
    """
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Forwarded-For", "")
    if forwarded and peer in ("127.0.0.1", "::1"):
        return forwarded.rsplit(",", 1)[-1].strip()[:64] or peer
    return peer
