"""Fixtures for console tests: a real NodeApp on a loopback radio in a short tmp dir, and a DM client."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from tuihelpers import PARTY, node_config

from node.app import NodeApp
from node.control_client import ControlClient
from node.radio.base import LoopbackTransport
from node.wiring import build_node


@pytest.fixture
def data_dir() -> Any:
    # unix socket paths are capped near 108 bytes; pytest's tmp_path can be longer
    d = Path(tempfile.mkdtemp(prefix="dd-tui-"))
    yield d
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
async def node(data_dir: Path) -> AsyncIterator[NodeApp]:
    app = build_node(node_config(data_dir), LoopbackTransport())
    await app.start()
    async with ControlClient(app.config.control_path) as c:
        for name, cls in PARTY:
            await c.request("command", intent={"type": "Join", "name": name, "cls": cls})
    yield app
    await app.stop()


@pytest.fixture
async def dm(node: NodeApp) -> AsyncIterator[ControlClient]:
    """The test's own line to the node: every assertion reads the node's state through it."""
    async with ControlClient(node.config.control_path) as c:
        yield c


