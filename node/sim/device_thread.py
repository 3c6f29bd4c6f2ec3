"""Run a simulated mesh and its TCP devices on a background thread (for tests and blocking clients)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from node.sim.device import SimDevice, serve_mesh
from node.sim.mesh import Mesh

T = TypeVar("T")


@dataclass
class DeviceMesh:
    """A mesh and its devices living on their own real-time event loop thread."""

    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    mesh: Mesh
    devices: dict[int, SimDevice] = field(default_factory=dict)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def call(self, fn: Callable[[], T], timeout: float = 10.0) -> T:
        async def wrapped() -> T:
            return fn()

        return self.run(wrapped(), timeout)

    def port(self, num: int) -> int:
        return self.devices[num].port


def start_device_mesh(build: Callable[[], Mesh], telemetry_interval_s: float = 0.0) -> DeviceMesh:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="sim-device", daemon=True)
    thread.start()

    async def setup() -> tuple[Mesh, list[SimDevice]]:
        mesh = build()
        return mesh, await serve_mesh(mesh, port_base=0, telemetry_interval_s=telemetry_interval_s)

    fut = asyncio.run_coroutine_threadsafe(setup(), loop)
    mesh, devices = fut.result(10)
    return DeviceMesh(loop, thread, mesh, {d.num: d for d in devices})


def stop_device_mesh(dm: DeviceMesh) -> None:
    async def teardown() -> None:
        for dev in dm.devices.values():
            await dev.stop()

    try:
        dm.run(teardown())
    finally:
        dm.loop.call_soon_threadsafe(dm.loop.stop)
        dm.thread.join(5)
        dm.loop.close()
