"""Start and stop the relay's HTTP server (and optionally its Discord bot) on a host and port."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from sync.relay.server import Relay


@dataclass
class RunningRelay:
    relay: Relay
    runner: web.AppRunner
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        await self.runner.cleanup()
        await self.relay.stop()
        await self.relay.storage.close()


async def start_relay(relay: Relay, host: str = "127.0.0.1", port: int = 0) -> RunningRelay:
    """Open storage, rebuild the mirror, and listen; port 0 picks a free port."""
    await relay.start()
    runner = web.AppRunner(relay.app(), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    sockets = site._server.sockets if site._server else []  # type: ignore[union-attr]
    bound = sockets[0].getsockname()[1] if sockets else port
    return RunningRelay(relay, runner, host, bound)
