"""Fixtures for radio tests: a simulated mesh served as Meshtastic TCP devices on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from node.sim.device_thread import DeviceMesh, start_device_mesh, stop_device_mesh
from node.sim.mesh import Mesh


@pytest.fixture
def device_mesh() -> Iterator[DeviceMesh]:
    """Node, one relay and two players (two hops out) on SHORT_TURBO, so packets take ms."""
    dm = start_device_mesh(lambda: Mesh.build(players=2, hops=2, preset="SHORT_TURBO", seed=1))
    try:
        yield dm
    finally:
        stop_device_mesh(dm)
