"""NodeApp: the node's core — store, pipeline, radio, outbox, game loop — and the seams its parts plug into.

The parts themselves (channels, control socket, health, uplink, backups, live log) are
chosen and attached by the one composition root, node.wiring.build_node.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from node import VERSION, table_settings
from node.clock import Clock
from node.config import NodeConfig
from node.game_loop import GameLoop
from node.obs.metrics import Metrics
from node.pipeline import Pipeline
from node.radio.base import Packet, Transport
from node.store import Store, private_dir
from node.tactician import Tactician

log = logging.getLogger(__name__)

PortHandler = Callable[[Packet], Awaitable[None] | None]


class Service(Protocol):
    """Something that runs beside the core: started after it, stopped before it."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


Attach = Callable[["NodeApp"], Any]
MakeService = Callable[["NodeApp"], Service]


class NodeApp:
    """One node. The simulator runs this same class in virtual time: no wall clock in here."""

    def __init__(
        self,
        config: NodeConfig,
        transport: Transport,
        *,
        clock: Clock | None = None,
        metrics: Metrics | None = None,
        tactician: Tactician | None = None,
    ) -> None:
        self.config = config
        self.transport = transport
        self.clock = clock
        self.metrics = metrics or Metrics()
        self.tactician = tactician
        self.store: Store = None  # type: ignore[assignment]  # opened in start()
        self.pipeline: Pipeline = None  # type: ignore[assignment]
        self.outbox: Any = None
        self.loop: GameLoop | None = None
        # Set by the parts node.wiring attaches (None when a part is switched off).
        self.text: Any = None
        self.binary: Any = None
        self.control: Any = None
        self.uplink: Any = None  # sync.uplink sets itself here to appear in status()
        self.channels: list[Any] = []
        self._attach: list[Attach] = []
        self._services: list[MakeService] = []
        self._running: list[Service] = []
        self._handlers: dict[int, list[PortHandler]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._bg: list[asyncio.Task[Any]] = []
        self._stopped = asyncio.Event()
        self._stopper: asyncio.Task[None] | None = None
        self.started = False

    # -- public seams -----------------------------------------------------------------------
    @property
    def game(self) -> Any:
        return self.pipeline.game if self.pipeline else None

    def on_port(self, port: int, handler: PortHandler) -> None:
        """Route packets on `port` to `handler` (sync or async); several handlers may share a port."""
        self._handlers.setdefault(port, []).append(handler)

    def attach(self, make: Attach) -> None:
        """make(app) runs in start(), once the pipeline and outbox exist, and returns a channel.

        The channel registers its own ports (on_port) and pipeline listeners; its
        prompt(eid, text), if it has one, receives every turn prompt, and its close(), if
        any, runs at stop."""
        self._attach.append(make)

    def add_service(self, make: MakeService) -> None:
        """make(app) runs once the core is up; its service starts then, in the order added,
        and stops before the core does, in reverse order."""
        self._services.append(make)

    # -- lifecycle ------------------------------------------------------------------------
    async def start(self) -> None:
        from node.radio.budget import Budgets
        from node.radio.outbox import Outbox

        cfg = self.config
        if self.clock is None:
            self.clock = Clock.for_loop(asyncio.get_running_loop())
        private_dir(cfg.data_dir)
        self.store = Store(cfg.db_path)
        table = table_settings.restore(self.store, cfg)
        self.pipeline = Pipeline(
            self.store, node_id=cfg.node_id, clock=self.clock, metrics=self.metrics,
            rate_per_s=cfg.rate_per_s, rate_burst=cfg.rate_burst,
            snapshot_every=cfg.snapshot_every, auto_approve=table["auto_approve"],
            party_max=table["party_max"], text_auth=cfg.text_auth,
        )
        if self.pipeline.session is None and cfg.dungeon:
            await self.pipeline.start_session(cfg.dungeon, seed=cfg.game_seed,
                                              monsters=cfg.monsters())
        self.outbox = Outbox(self.transport, clock=self.clock, metrics=self.metrics,
                             region=cfg.region, preset=cfg.preset,
                             budgets=Budgets(known=self.pipeline.knows_radio))
        self.channels = [make(self) for make in self._attach]
        self.loop = GameLoop(self.pipeline, clock=self.clock, metrics=self.metrics,
                             tactician=self.tactician, turn_timeout_s=cfg.turn_timeout_s,
                             ai_budget_s=cfg.ai_budget_s, ai_delay_s=cfg.ai_delay_s,
                             prompt=self._prompt, warn=self._warn)
        await self.transport.start(self._on_packet)
        self._bg.append(asyncio.get_running_loop().create_task(self.outbox.run()))
        self.loop.start()
        self.started = True  # from here on stop() undoes what started, services included
        for make in self._services:
            service = make(self)
            await service.start()
            self._running.append(service)
        log.info("node %s ready: seq %d, session %s", cfg.node_id, self.store.max_seq(),
                 self.pipeline.session.id if self.pipeline.session else None)

    def _prompt(self, eid: int, text: str) -> None:
        for channel in self.channels:
            prompt = getattr(channel, "prompt", None)
            if callable(prompt):
                prompt(eid, text)

    def _warn(self, eid: int, text: str) -> None:
        """The turn is about to time out: each channel that can warns its player."""
        for channel in self.channels:
            warn = getattr(channel, "warn_turn", None)
            if callable(warn):
                warn(eid, text)

    async def stop(self) -> None:
        if not self.started:
            self._stopped.set()
            return
        self.started = False
        for service in reversed(self._running):
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %s failed", type(service).__name__)
        self._running.clear()
        if self.loop is not None:
            await self.loop.stop()
        for channel in reversed(self.channels):
            close = getattr(channel, "close", None)
            if callable(close):
                res = close()
                if inspect.isawaitable(res):
                    await res
        tasks = list(self._tasks) + self._bg
        for task in tasks:
            task.cancel()
        if tasks:
            # bounded: a background task that ignores cancellation must not block shutdown
            _done, stuck = await asyncio.wait(tasks, timeout=1.0)
            if stuck:
                log.warning("%d background task(s) did not stop on cancel", len(stuck))
        try:
            await self.transport.close()
        except Exception:
            log.exception("closing the radio failed")
        async with self.pipeline.lock:  # let an in-flight command finish its commit
            self.store.close()
        self._stopped.set()

    async def run_until_stopped(self) -> None:
        await self._stopped.wait()

    def request_stop(self) -> None:
        """From a signal handler: stop soon (kept apart from _tasks, which stop() cancels)."""
        if self._stopper is None:
            self._stopper = asyncio.get_running_loop().create_task(self.stop())

    # -- inbound packets ------------------------------------------------------------------
    def _on_packet(self, packet: Packet) -> None:
        self.metrics.inc("dungeon_packets_in_total", port=str(packet.port))
        if self.outbox is not None:
            self.outbox.heard(packet)
        handlers = self._handlers.get(packet.port)
        if not handlers:
            self.metrics.inc("dungeon_packets_dropped_total", reason="port")
            return
        for handler in handlers:
            try:
                res = handler(packet)
            except Exception:
                log.exception("port %d handler failed", packet.port)
                continue
            if inspect.isawaitable(res):
                task = asyncio.ensure_future(res)
                self._tasks.add(task)
                task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("packet handler failed: %s", task.exception())

    # -- status ---------------------------------------------------------------------------
    def radio_status(self) -> dict[str, Any]:
        out: dict[str, Any] = {"link": "up" if self.started else "down",
                               "spec": self.config.radio}
        try:
            out.update(self.transport.stats())
        except Exception:
            pass
        if self.outbox is not None:
            try:
                out["outbox"] = self.outbox.stats()
            except Exception:
                pass
        return out

    def uplink_status(self) -> dict[str, Any] | None:
        if self.uplink is None:
            return None
        fn = getattr(self.uplink, "status", None)
        return fn() if callable(fn) else None

    def status(self) -> dict[str, Any]:
        s = self.pipeline.session if self.pipeline else None
        game = self.game
        players = []
        if game is not None:
            for eid in game.party_eids():
                players.append({"eid": eid, "name": game.name_of(eid),
                                "senders": self.pipeline.senders_of(eid)})
        return {
            "node_id": self.config.node_id, "version": VERSION, "running": self.started,
            "session": None if s is None else {"id": s.id, "dungeon": s.dungeon,
                                               "status": s.status,
                                               "digest": game.digest() if game else None},
            "players": players,
            "joins_pending": len(self.pipeline.joins) if self.pipeline else 0,
            "database": {"path": str(self.config.db_path),
                         "size_bytes": self.store.size_bytes() if self.store else 0,
                         "seq": self.store.max_seq() if self.store else 0},
            "radio": self.radio_status(),
            "outbox": self.outbox.stats() if self.outbox else {},
            "ai_paused": self.loop.ai_paused if self.loop else False,
            "uplink": self.uplink_status(),
            "binary": self.binary.stats() if self.binary is not None else None,
        }
