"""`dungeon demo`: a game that plays itself, keeps its data and resumes."""

from __future__ import annotations

import os
import re
import subprocess
import sys


def demo(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node.cli", "demo", "--no-tui", "--speed", "1000", *args],
        capture_output=True, text=True, timeout=120, check=True,
        env={**os.environ, **(env or {})},
    )


def seqs(out: str) -> list[int]:
    return [int(m) for m in re.findall(r"^#(\d+)\s", out, re.M)]


def test_demo_plays_logs_and_resumes(tmp_path):
    first = demo("--minutes", "3", env={"XDG_DATA_HOME": str(tmp_path)})
    data = tmp_path / "dungeon" / "demo"
    assert data.is_dir() and any(data.iterdir())
    played = seqs(first.stdout)
    assert len(played) >= 5
    assert "joins" in first.stdout and re.search(r"^#\d+\s+text\s", first.stdout, re.M)
    assert "resume" in first.stderr

    second = demo("--minutes", "2", "--data-dir", str(data))
    more = seqs(second.stdout)
    assert more and min(more) > max(played)  # the same game went on
    assert "you already play" not in second.stdout


def test_a_demo_game_saved_by_other_radios_is_kept_aside_and_a_new_one_starts(tmp_path):
    import asyncio

    from node.config import NodeConfig
    from node.pipeline import Command
    from node.radio.base import LoopbackTransport
    from node.wiring import build_node
    from rules import intents as it

    data = tmp_path / "demo"

    async def old_game() -> None:
        app = build_node(NodeConfig(data_dir=data, auto_approve=True), LoopbackTransport(),
                      control=False)
        await app.start()
        out = await app.pipeline.submit(Command("text", "!0d0f0001", it.Join("Mira", "cleric")))
        assert out.ok
        await app.stop()

    asyncio.run(old_game())
    run = demo("--minutes", "2", "--data-dir", str(data))
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("demo.old-")]
    assert len(aside) == 1 and (aside[0] / "dungeon.db").exists()
    assert "played by other radios" in run.stderr
    from node.sim.mesh import PLAYER_BASE

    first_bot = f"!{PLAYER_BASE + 1:08x}"
    assert re.search(rf"^#\d+\s+text\s+{first_bot}\s+join\s+Mira", run.stdout, re.M)
