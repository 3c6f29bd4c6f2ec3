"""Wires the uplink into a running NodeApp: relay commands and links go through the node's pipeline.

node.wiring.build_node does this for every node whose config has relay_url and a relay secret:
it takes (sync, tactician) from relay_parts(cfg), builds the node with that tactician, and
runs sync.start(app) once the node is up and sync.stop() before it stops.
"""

from __future__ import annotations

import logging
from typing import Any

from protocol.errors import ProtocolError
from sync.uplink import RemoteCommand, Uplink

log = logging.getLogger("dungeon.sync")


class NodeSync:
    """Owns the node's Uplink; stands in for it (tactics, status) before start and after stop."""

    def __init__(self, url: str, secret: str, **uplink_kw: Any) -> None:
        self.url, self.secret, self.uplink_kw = url, secret, uplink_kw
        self.uplink: Uplink | None = None
        self.app: Any = None
        self.results: dict[str, Any] = {}  # idempotency key -> Outcome, newest last (bounded)
        self._unsubscribe: Any = None

    async def start(self, app: Any) -> Uplink:
        self.app = app
        kw = {"state_path": app.config.data_dir / "uplink.json", **self.uplink_kw}
        self.uplink = Uplink(self.url, app.config.node_id, self.secret, app.store,
                             handler=self.handle, **kw)
        app.uplink = self.uplink
        self._unsubscribe = app.pipeline.subscribe(lambda *_: self.uplink and self.uplink.notify())
        self.uplink.start()
        return self.uplink

    async def stop(self) -> None:
        if self._unsubscribe:
            self._unsubscribe()
        if self.uplink is not None:
            await self.uplink.stop()

    async def handle(self, cmd: RemoteCommand) -> None:
        """Submit one relay command on the node's one command path (source "relay")."""
        from node.pipeline import Command
        from protocol import jsonform

        pipeline = self.app.pipeline
        if not cmd.sender.startswith("discord:"):
            log.warning("relay command with an odd sender dropped", extra={"sender": cmd.sender[:40]})
            return
        if cmd.kind == "link" and cmd.code:
            out = await pipeline.link(cmd.sender, cmd.code, key=cmd.key)
        elif cmd.kind == "command" and cmd.intent is not None:
            try:
                intent = jsonform.load(cmd.intent)
            except ProtocolError as err:
                log.warning("relay command unreadable", extra={"key": cmd.key, "error": str(err)})
                return
            out = await pipeline.submit(Command("relay", cmd.sender, intent,
                                                idempotency_key=cmd.key))
        else:
            log.warning("relay command of unknown kind dropped", extra={"kind": cmd.kind[:20]})
            return
        self.results[cmd.key] = out
        while len(self.results) > 256:
            self.results.pop(next(iter(self.results)))

    async def tactics(self, request: dict[str, Any], budget_s: float) -> dict[str, Any] | None:
        return None if self.uplink is None else await self.uplink.tactics(request, budget_s)

    def status(self) -> dict[str, Any] | None:
        return None if self.uplink is None else self.uplink.status()


def relay_parts(cfg: Any) -> tuple[NodeSync | None, Any]:
    """(NodeSync or None, tactician) for a node config.

    With relay_url and relay_secret: a NodeSync to start after the app, and a RelayTactician
    (Gemini via the relay, rule-based fallback). Without: (None, FallbackTactician()).
    """
    from node.tactician import FallbackTactician
    from sync.tactician import RelayTactician

    if not getattr(cfg, "relay_url", None) or not getattr(cfg, "relay_secret", None):
        return None, FallbackTactician()
    sync = NodeSync(cfg.relay_url, cfg.relay_secret)
    budget = min(2.5, float(getattr(cfg, "ai_budget_s", 2.5)))
    return sync, RelayTactician(sync, FallbackTactician(), budget_s=budget)
