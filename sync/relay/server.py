"""The relay's HTTP API (aiohttp): node push/pull/tactics behind signed tokens, health and metrics.

Routes (all JSON; /v1/* need `Authorization: Bearer <token>`):
  POST /v1/push      {"prev", "events": [{"seq","ts","type","payload"}]} -> {"acked", "stored"}
  GET  /v1/cursor    -> {"acked"}
  GET  /v1/pull?after=ID&wait=S  long poll -> {"commands": [{"id","key","body","expires"}]}
  POST /v1/tactics   {"actor","state","options","budget_s"} -> {"ok","action","target","flavour","reason"}
  GET  /healthz, GET /metrics
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from node.obs.metrics import Metrics
from sync.relay.gemini import Decision, GeminiTactician
from sync.relay.mirror import Mirror
from sync.relay.ratelimit import RateLimiter
from sync.relay.storage import Storage, StoredEvent
from sync.tokens import TokenError, verify_token

log = logging.getLogger("dungeon.relay")

# aiohttp >= 3.12 wants typed request keys; older versions take a plain string
NODE: Any = web.RequestKey("node_id", str) if hasattr(web, "RequestKey") else "node_id"

MAX_BATCH = 2000
MAX_WAIT_S = 30.0

EventsHook = Callable[[str, list[str]], Awaitable[None]]


@dataclass
class RelayConfig:
    secrets: dict[str, str]
    rate_per_s: float = 20.0
    burst: float = 100.0
    offline_after_s: float = 90.0
    max_body: int = 8 * 1024 * 1024


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

    def __post_init__(self) -> None:
        self.limiter = RateLimiter(self.config.rate_per_s, self.config.burst, time.monotonic)
        for name, text in [
            ("relay_events_ingested_total", "events stored, by node"),
            ("relay_events_duplicate_total", "events received again and skipped"),
            ("relay_auth_failures_total", "requests refused for a missing or bad token"),
            ("relay_rate_limited_total", "requests refused by the per-node rate limit"),
            ("relay_commands_queued_total", "remote commands queued for nodes"),
        ]:
            self.metrics.describe(name, text)

    async def start(self) -> None:
        """Open storage and rebuild the mirror from stored events."""
        await self.storage.open()
        for node_id, (_acked, seen) in (await self.storage.nodes()).items():
            self._seen[node_id] = seen
            game, after = self.mirror.game(node_id), 0
            while batch := await self.storage.events_after(node_id, after, 5000):
                for ev in batch:
                    game.apply(ev.seq, ev.payload)
                after = batch[-1].seq

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
        header = request.headers.get("Authorization", "")
        try:
            if not header.startswith("Bearer "):
                raise TokenError("missing token")
            node_id = verify_token(header[7:].strip(), self.config.secrets, self.clock())
        except TokenError as err:
            self.metrics.inc("relay_auth_failures_total")
            log.warning("auth refused", extra={"path": request.path, "reason": str(err)})
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
            prev = int(body["prev"])
            rows = [StoredEvent(node_id, int(e["seq"]), float(e["ts"]), str(e["type"]),
                                dict(e["payload"])) for e in body["events"]]
        except (ValueError, KeyError, TypeError) as err:
            return web.json_response({"error": f"bad batch: {err}"[:200]}, status=400)
        if len(rows) > MAX_BATCH:
            return web.json_response({"error": f"at most {MAX_BATCH} events per batch"}, status=413)
        rows.sort(key=lambda r: r.seq)
        acked, stored = await self.storage.ingest(node_id, prev, rows, self.clock())
        if rows and acked < rows[-1].seq:
            # the batch starts after a gap the relay has not seen: the node resends from `acked`
            return web.json_response({"error": "gap", "acked": acked}, status=409)
        self.metrics.inc("relay_events_ingested_total", stored, node=node_id)
        self.metrics.inc("relay_events_duplicate_total", len(rows) - stored, node=node_id)
        game, lines = self.mirror.game(node_id), []
        for r in rows:
            lines += game.apply(r.seq, r.payload)
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
        try:
            body = await request.json()
            options = list(body["options"])
            budget = float(body.get("budget_s", 2.5))
        except (ValueError, KeyError, TypeError):
            return web.json_response({"error": "bad tactics request"}, status=400)
        if self.gemini is None:
            self.metrics.inc("relay_ai_failures_total", reason="disabled")
            return web.json_response(Decision(False, reason="disabled").to_json())
        # leave headroom for the trip back so the node's own budget is not overrun
        decision = await self.gemini.choose(body.get("actor") or {}, body.get("state") or {},
                                            options, max(0.05, budget - 0.3))
        return web.json_response(decision.to_json())
