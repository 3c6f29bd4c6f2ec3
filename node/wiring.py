"""The one composition root: build_node puts a node together the same way for every entry point.

`dungeon node`, `dungeon demo`, `dungeon sim`, `dungeon tui --embedded`, the screenshot tool
and the tests' node fixtures all call build_node. They may differ only in the transport, the
clock and the switches below; everything else a DM's node runs, they run too.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, TextIO

from node.app import NodeApp
from node.clock import Clock
from node.config import NodeConfig
from node.obs.metrics import Metrics
from node.radio.base import TEXT_PORT, Transport
from node.tactician import Tactician

log = logging.getLogger(__name__)


def build_node(
    config: NodeConfig,
    transport: Transport,
    *,
    clock: Clock | None = None,
    metrics: Metrics | None = None,
    tactician: Tactician | None = None,
    control: bool = True,
    mute_text: bool = False,
    live: TextIO | None = None,
    backups: bool = True,
    uplink: bool = True,
) -> NodeApp:
    """A node (not yet started): text and binary channels, control socket, health and metrics,
    and the uplink, backups and live log when configured.

    Switches: `control=False` leaves out the control socket (real I/O a virtual-time run
    cannot serve); `mute_text=True` stops the text channel broadcasting results and prompts
    (a table of binary clients only); `live` is a stream for the live game log; `backups` and
    `uplink` turn those off even when configured (the simulator's throwaway games)."""
    sync = None
    if uplink and config.relay_url:
        # Imported only when a relay is configured: httpx stays out of an offline node.
        from sync.node_sync import relay_parts

        sync, relay_tactician = relay_parts(config)
        tactician = tactician or relay_tactician
    app = NodeApp(config, transport, clock=clock, metrics=metrics, tactician=tactician)
    app.attach(lambda a: _text_channel(a, mute_text))
    app.attach(_binary_channel)
    if control:
        app.add_service(_control)
    if config.health_port is not None:
        app.add_service(_Health)
    if backups:
        app.add_service(_Backups)
    if sync is not None:
        app.add_service(lambda a: _Uplink(a, sync))
    if live is not None:
        app.add_service(lambda a: _Live(a, live))
    return app


def _text_channel(app: NodeApp, mute: bool) -> Any:
    from node.channels.text import TextChannel
    from node.identity import KeyPins

    cfg = app.config
    assert app.clock is not None  # start() sets it before attaching channels
    text = TextChannel(app.pipeline, app.outbox, clock=app.clock, metrics=app.metrics,
                       channel=cfg.game_channel, coalesce_s=cfg.coalesce_s,
                       identity=KeyPins(app.store, app.clock, app.metrics),
                       turn_timeout_s=cfg.turn_timeout_s)
    app.on_port(TEXT_PORT, text.on_packet)
    if mute:
        text.mute()
    # The binary channel is attached after this one: look it up when a prompt goes out.
    text.served_elsewhere = lambda num: (b := getattr(app, "binary", None)) is not None \
        and b.serves(num)
    app.text = text
    return text


def _binary_channel(app: NodeApp) -> Any:
    from node.channels.binary import BinaryChannel

    app.binary = BinaryChannel(app)  # it registers GAME_PORT and its pipeline listener itself
    return app.binary


def _control(app: NodeApp) -> Any:
    from node.channels.control import ControlServer

    app.control = ControlServer(app, app.config.control_path)
    return app.control


class _Health:
    """/healthz and /metrics on the configured port."""

    def __init__(self, app: NodeApp) -> None:
        self.app = app
        self.server: asyncio.AbstractServer | None = None

    async def start(self) -> None:
        from node.obs.health import start_health_server

        cfg = self.app.config
        self.server = await start_health_server(self.app.metrics, self.app.status,
                                                cfg.health_host, cfg.health_port or 0)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()


class _Backups:
    """Periodic VACUUM INTO snapshots, and one before each level-up or DM sheet edit."""

    def __init__(self, app: NodeApp) -> None:
        self.app = app
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        from node import backup

        cfg = self.app.config
        snapdir = cfg.data_dir / "snapshots"
        self.app.pipeline.before_major_change = lambda label: backup.snapshot(
            cfg.db_path, snapdir, keep=cfg.backup_keep, label=label)
        if cfg.backup_interval_s:
            self.task = asyncio.get_running_loop().create_task(backup.periodic_snapshots(
                cfg.db_path, snapdir, keep=cfg.backup_keep, interval_s=cfg.backup_interval_s))

    async def stop(self) -> None:
        self.app.pipeline.before_major_change = None
        if self.task is not None:
            self.task.cancel()
            await asyncio.gather(self.task, return_exceptions=True)


class _Uplink:
    """The relay uplink (sync.node_sync.NodeSync) on this node's pipeline."""

    def __init__(self, app: NodeApp, sync: Any) -> None:
        self.app, self.sync = app, sync

    async def start(self) -> None:
        await self.sync.start(self.app)

    async def stop(self) -> None:
        await self.sync.stop()


class _Live:
    """The live game log: one line per accepted command on a stream."""

    def __init__(self, app: NodeApp, stream: TextIO) -> None:
        self.app, self.stream = app, stream
        self.log: Any = None

    async def start(self) -> None:
        from node.live_log import LiveLog

        self.log = LiveLog(self.app.pipeline, stream=self.stream)

    async def stop(self) -> None:
        if self.log is not None:
            self.log.close()
