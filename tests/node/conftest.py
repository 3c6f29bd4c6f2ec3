"""Fixtures for node tests: real SQLite files in tmp_path, a real NodeApp on a loopback radio."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.clock import Clock
from node.config import load_config
from node.obs.metrics import Metrics
from node.pipeline import Pipeline
from node.radio.base import LoopbackTransport
from node.store import Store
from node.wiring import build_node


@pytest.fixture
def store(tmp_path: Path):
    s = Store(tmp_path / "dungeon.db")
    yield s
    s.close()


@pytest.fixture
async def pipeline(store: Store) -> Pipeline:
    clock = Clock.for_loop(asyncio.get_running_loop(), epoch=1_700_000_000.0)
    p = Pipeline(store, node_id="test", clock=clock, metrics=Metrics(), auto_approve=True,
                 snapshot_every=5)
    await p.start_session("crypt", seed=42)
    return p


@pytest.fixture
def config(tmp_path: Path):
    return load_config(env={}, data_dir=tmp_path / "node", auto_approve=False, coalesce_s=0.05,
                       game_seed=7)


@pytest.fixture
async def app(config):
    a = build_node(config, LoopbackTransport())
    await a.start()
    yield a
    await a.stop()
