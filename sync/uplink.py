"""The node's uplink to the relay (httpx): push the event log, long-poll remote commands, ask for tactics.

Nothing on the node waits for it: the backlog is the node's own event log, pushed from
the relay's acknowledged seq whenever the link is up, with jittered exponential back-off
while it is down. Sleeps go through an injectable `sleep` so a virtual-time loop works.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from sync.backoff import Backoff
from sync.tokens import make_token

log = logging.getLogger("dungeon.uplink")


class EventLog(Protocol):
    """What the uplink reads from node.store.Store."""

    def events_after(self, seq: int, limit: int) -> list[Any]: ...

    def max_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class RemoteCommand:
    """One command from the relay's inbox: kind "command" (intent) or "link" (code)."""

    id: int
    key: str
    kind: str
    sender: str
    intent: dict[str, Any] | None
    code: str | None
    expires: float

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> RemoteCommand:
        body = d.get("body") or {}
        return cls(int(d["id"]), str(d["key"]), str(body.get("kind", "command")),
                   str(body.get("sender", "")), body.get("intent"), body.get("code"),
                   float(d.get("expires", 0)))


Handler = Callable[[RemoteCommand], Awaitable[None]]


class UplinkError(Exception):
    """The relay refused or could not be reached; str(err) is one line."""


def event_json(row: Any) -> dict[str, Any]:
    return {"seq": row.seq, "ts": row.ts, "type": row.type, "payload": row.payload}


class Uplink:
    def __init__(self, base_url: str, node_id: str, secret: str, log_: EventLog, *,
                 handler: Handler | None = None, rng: random.Random | None = None,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                 clock: Callable[[], float] = time.time, batch: int = 500,
                 backlog_warn: int = 10_000, poll_wait_s: float = 25.0,
                 transport: httpx.AsyncBaseTransport | None = None,
                 timeout_s: float = 10.0, state_path: Path | None = None,
                 compress: bool = True) -> None:
        self.node_id, self.secret, self.log = node_id, secret, log_
        self.handler = handler
        self.state_path = state_path
        self.compress = compress
        self.sleep, self.clock = sleep, clock
        self.batch, self.backlog_warn, self.poll_wait_s = batch, backlog_warn, poll_wait_s
        rng = rng or random.Random()
        self.backoff = Backoff(rng=rng)  # push and pull back off independently
        self.pull_backoff = Backoff(rng=rng)
        self.client = httpx.AsyncClient(base_url=base_url.rstrip("/"), transport=transport,
                                        timeout=httpx.Timeout(timeout_s, read=poll_wait_s + 10))
        self.acked: int | None = None  # unknown until the relay says
        self.online = False
        self.last_error = ""
        self.pulled_after = 0
        self.pushed_total = 0
        self.bytes_total = 0
        self._token: tuple[str, float] = ("", 0.0)
        self._wake = asyncio.Event()
        self._stopping = False
        self._warned = False
        self._tasks: list[asyncio.Future[None]] = []
        self._need_cursor = True

    # -- helpers --------------------------------------------------------------------------
    def _auth(self) -> dict[str, str]:
        token, exp = self._token
        now = self.clock()
        if exp - now < 60:
            token, exp = make_token(self.node_id, self.secret, now, 300), now + 300
            self._token = (token, exp)
        return {"Authorization": f"Bearer {token}"}

    async def _request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        try:
            headers = {**kw.pop("headers", {}), **self._auth()}
            resp = await self.client.request(method, path, headers=headers, **kw)
        except httpx.HTTPError as err:
            self._down(f"{type(err).__name__}: {err}"[:200])
            raise UplinkError(self.last_error) from err
        if resp.status_code >= 500 or resp.status_code in (401, 429):
            self._down(f"relay answered {resp.status_code}")
            raise UplinkError(self.last_error)
        self.online, self.last_error = True, ""
        return resp

    def _down(self, why: str) -> None:
        if self.online:
            log.warning("uplink down", extra={"reason": why})
        self.online, self.last_error = False, why

    def backlog(self) -> int:
        return max(0, self.log.max_seq() - (self.acked or 0))

    def status(self) -> dict[str, Any]:
        return {"online": self.online, "acked": self.acked, "backlog": self.backlog(),
                "pulled_after": self.pulled_after, "last_error": self.last_error or None}

    def notify(self) -> None:
        """Call when the node logged new events: the push loop wakes instead of polling."""
        self._wake.set()

    # -- push -----------------------------------------------------------------------------
    async def fetch_cursor(self) -> int:
        resp = await self._request("GET", "/v1/cursor")
        self.acked = int(resp.json()["acked"])
        return self.acked

    async def push_pending(self, progress: Callable[[int, int], None] | None = None) -> int:
        """Push every event after the relay's cursor; return how many were pushed."""
        if self.acked is None or self._need_cursor:
            await self.fetch_cursor()
            self._need_cursor = False
        assert self.acked is not None
        start, pushed = self.acked, 0
        while rows := self.log.events_after(self.acked, self.batch):
            body = {"prev": self.acked, "events": [event_json(r) for r in rows]}
            raw = json.dumps(body, separators=(",", ":")).encode()
            headers = {"Content-Type": "application/json"}
            if self.compress:  # event JSON is repetitive: gzip cuts a metered uplink's bytes ~5x
                raw = gzip.compress(raw, 5)
                headers["Content-Encoding"] = "gzip"
            resp = await self._request("POST", "/v1/push", content=raw, headers=headers)
            self.bytes_total += len(resp.request.content)
            if resp.status_code == 409:  # the relay lost events past its cursor: resend from there
                self.acked = int(resp.json()["acked"])
                continue
            if resp.status_code != 200:
                try:  # the relay says which row and field it refused, in one line
                    why = str(resp.json().get("error", ""))[:160]
                except ValueError:
                    why = ""
                raise UplinkError(f"relay refused the batch ({resp.status_code}) {why}".strip())
            self.acked = int(resp.json()["acked"])
            pushed += len(rows)
            self.pushed_total += len(rows)
            if progress:
                progress(self.acked - start, self.log.max_seq() - start)
        self._check_backlog()
        if pushed:
            self._save_state()
        return pushed

    def _save_state(self) -> None:
        """Remember the relay's cursor so `dungeon sync status` can answer offline."""
        if self.state_path is None:
            return
        tmp = self.state_path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"node_id": self.node_id, "acked": self.acked,
                                   "ts": self.clock()}))
        os.replace(tmp, self.state_path)

    def _check_backlog(self) -> None:
        n = self.backlog()
        if n > self.backlog_warn and not self._warned:
            log.warning("sync backlog is large", extra={"backlog": n})
            self._warned = True
        elif n <= self.backlog_warn:
            self._warned = False

    async def push_loop(self, idle_s: float = 5.0) -> None:
        while not self._stopping:
            self._wake.clear()  # before pushing, so events logged meanwhile wake the next round
            try:
                await self.push_pending()
                self.backoff.reset()
            except (UplinkError, ValueError, KeyError) as err:  # network down or a garbled answer
                self._down(str(err)[:200])
                self._check_backlog()
                self._need_cursor = True  # the relay may have restarted: ask for its cursor again
                await self.sleep(self.backoff.next_delay())
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=idle_s)
            except TimeoutError:
                pass

    # -- pull -----------------------------------------------------------------------------
    async def pull_once(self, wait_s: float = 0.0) -> list[RemoteCommand]:
        resp = await self._request("GET", "/v1/pull",
                                   params={"after": self.pulled_after, "wait": wait_s})
        cmds = [RemoteCommand.from_json(c) for c in resp.json().get("commands", [])]
        for cmd in cmds:
            if self.handler is not None:
                try:
                    await self.handler(cmd)
                except Exception:  # one bad command must not stall the inbox
                    log.exception("remote command failed", extra={"key": cmd.key})
            self.pulled_after = max(self.pulled_after, cmd.id)
        return cmds

    async def pull_loop(self) -> None:
        while not self._stopping:
            try:
                await self.pull_once(self.poll_wait_s)
                self.pull_backoff.reset()
            except (UplinkError, ValueError, KeyError) as err:
                self._down(str(err)[:200])
                await self.sleep(self.pull_backoff.next_delay())

    # -- tactics --------------------------------------------------------------------------
    async def tactics(self, request: dict[str, Any], budget_s: float) -> dict[str, Any] | None:
        """The relay's decision, or None at once when offline, late or refused."""
        if not self.online:
            return None
        try:
            resp = await asyncio.wait_for(
                self._request("POST", "/v1/tactics", json={**request, "budget_s": budget_s}),
                timeout=budget_s)
        except (UplinkError, TimeoutError):
            return None
        if resp.status_code != 200:
            return None
        data = resp.json()
        return data if isinstance(data, dict) else None

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> None:
        """Push and pull in the background until stop(); never raises for network trouble."""
        self._stopping = False
        self._tasks = [asyncio.ensure_future(self.push_loop()),
                       asyncio.ensure_future(self.pull_loop())]

    async def stop(self) -> None:
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.client.aclose()
