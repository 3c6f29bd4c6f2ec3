"""A session started from a dungeon file with custom monsters replays with the files gone."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from node.cli.script_cmd import Runner
from node.clock import Clock
from node.monster_files import load_monsters
from node.obs.metrics import Metrics
from node.pipeline import Pipeline
from node.replay import verify
from node.session import resume
from node.store import Store

MONSTERS = """[[monsters]]
name = "Bog Lurker"
armor_class = 13
hit_points = 30
challenge_rating = 1
abilities = { str = 15, dex = 12, con = 14, int = 3, wis = 10, cha = 5 }
actions = [{ name = "Bite", kind = "melee", attack_bonus = 4, damage = [{ dice = "2d6+2", type = "piercing" }] }]
"""

ROOMS = """name = "Porch"
[[rooms]]
id = 1
name = "Porch"
encounter = { monsters = [["bog lurker", 2]] }
"""


def test_the_session_row_records_the_dungeon_and_monsters_not_paths(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(MONSTERS)
    (tmp_path / "d.toml").write_text(ROOMS)

    async def play() -> int:
        store = Store(tmp_path / "dungeon.db")
        p = Pipeline(store, node_id="t", clock=Clock.for_loop(asyncio.get_running_loop(), 0.0),
                     metrics=Metrics(), auto_approve=True)
        await p.start_session(str(tmp_path / "d.toml"), seed=5,
                              monsters=load_monsters(tmp_path / "m.toml"))
        r = Runner(p, as_json=True)
        for line in ["join Ana fighter 3", "dm: spawn bog lurker 1", "dm: start combat"]:
            await r.line(line)
        digest = p.game.digest()
        store.close()
        return digest

    digest = asyncio.run(play())
    (tmp_path / "m.toml").unlink()
    (tmp_path / "d.toml").write_text("not a dungeon any more")
    store = Store(tmp_path / "dungeon.db")
    try:
        session = resume(store)
        assert session is not None and session.game.digest() == digest
        assert [m["name"] for m in session.game.bestiary.values()] == ["Bog Lurker"]
    finally:
        store.close()
    report = verify(tmp_path / "dungeon.db")
    assert report.ok, report.reason
    assert report.digest == digest


async def test_the_console_spawns_custom_monsters_and_refuses_ambiguous_names(tmp_path: Path
                                                                               ) -> None:
    from node.config import load_config
    from node.control_client import ControlClient, ControlError
    from node.radio.base import LoopbackTransport
    from node.wiring import build_node

    (tmp_path / "m.toml").write_text(MONSTERS)
    cfg = load_config(env={"DUNGEON_MONSTERS_PATH": str(tmp_path / "m.toml")},
                      data_dir=tmp_path / "node", coalesce_s=0.05, game_seed=7)
    app = build_node(cfg, LoopbackTransport())
    await app.start()
    try:
        async with ControlClient(cfg.control_path) as c:
            hits = await c.request("srd.search", kind="monster", query="bog lurk")
            assert hits[0]["name"] == "Bog Lurker"
            res = await c.request("command", intent={"type": "Dm", "op": "spawn",
                                                     "text": "bog lurker", "value": 1})
            assert any(e["type"] == "Spawned" and e["name"] == "Bog Lurker"
                       for e in res["events"])
            with pytest.raises(ControlError, match="'dragon' matches 42 monsters"):
                await c.request("command", intent={"type": "Dm", "op": "spawn",
                                                   "text": "dragon", "value": 1})
            # A session from a file the node reads, whose encounter is the custom monster.
            (tmp_path / "d.toml").write_text(ROOMS)
            await c.request("session.start", dungeon=str(tmp_path / "d.toml"))
            assert app.game.dungeon.name == "Porch" and app.game.bestiary
            with pytest.raises(ControlError, match="the dungeons are crypt, mill"):
                await c.request("session.start", dungeon="nowhere")
            (tmp_path / "d.toml").write_text(ROOMS.replace("bog lurker", "dragon"))
            with pytest.raises(ControlError, match="room 1: 'dragon' matches"):
                await c.request("session.start", dungeon=str(tmp_path / "d.toml"))
            assert app.game.dungeon.name == "Porch"  # a refused start changes nothing
    finally:
        await app.stop()
