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


def rooms_entered(out: str) -> list[str]:
    """Room names the party walked into, in order, from the live log's move lines."""
    return re.findall(r"^#\d+\s+text\s+\S+\s+move\s+([^\[]+?) \[", out, re.M)


def test_the_demo_party_explores_fights_rests_and_starts_again(tmp_path):
    run = demo("--minutes", "240", "--data-dir", str(tmp_path / "d"), "--speed", "5000")
    out = run.stdout
    assert "You are the DM, watching three bot players (Mira, Thorin, Vex)" in out
    rooms = rooms_entered(out)
    assert len(set(rooms)) >= 6 and "Tomb of the Warden" in rooms  # the way to the end
    assert "Victory! The party wins" in out and "a long rest" in out
    assert "The tale begins again" in out  # the end, or a fallen party: the crypt again
    # the party walks on: no endless stream of spawned goblins in the first room
    assert not re.search(r"Goblin\d{2,}", out)


def test_fresh_starts_over_and_the_hint_names_the_data_dir(tmp_path):
    data = tmp_path / "my demo"
    first = demo("--minutes", "3", "--data-dir", str(data))
    hint = f"dungeon demo --data-dir '{data}'"
    assert hint in first.stderr and hint in first.stdout  # the intro says it too
    assert "--fresh" in first.stderr
    again = demo("--minutes", "3", "--data-dir", str(data))
    assert "joins" not in again.stdout  # resumed: the party is already there
    fresh = demo("--minutes", "3", "--data-dir", str(data), "--fresh")
    assert re.search(r"^#\d+\s+text\s+\S+\s+join\s+", fresh.stdout, re.M)  # a new party
    assert min(seqs(fresh.stdout)) > max(seqs(again.stdout))  # the old game stays in the log


def test_ctrl_c_stops_the_demo_and_saves_it(tmp_path):
    import signal
    import time

    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "demo", "--no-tui", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert "You are the DM" in proc.stdout.readline()  # the intro: the demo is up
        time.sleep(1.0)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode == 0 and "Traceback" not in err
    assert "demo stopped; the game is saved" in err
    assert (tmp_path / "dungeon.db").exists()


def test_make_demo_installs_only_the_node(tmp_path):
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    plan = subprocess.run(["make", "-n", "demo", f"VENV={tmp_path / 'v'}"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    installs = [line for line in plan.splitlines() if "pip install" in line]
    assert installs and all(line.rstrip().endswith("-e .") for line in installs)
    assert "dev" not in plan and "relay" not in plan


def test_the_demo_dm_grants_a_milestone_opens_the_sealed_way_and_starts_again(tmp_path):
    import asyncio

    from node.cli.demo_cmd import dm_step
    from node.config import NodeConfig
    from node.pipeline import Command
    from node.radio.base import LoopbackTransport
    from node.sim import wayfinder
    from node.wiring import build_node
    from rules import intents as it

    async def main() -> None:
        app = build_node(NodeConfig(data_dir=tmp_path, auto_approve=True, game_seed=3),
                         LoopbackTransport(), control=False)
        await app.start()
        try:
            for name, cls in (("Mira", "cleric"), ("Thorin", "fighter")):
                assert (await app.pipeline.submit(Command("dm", "dm", it.Join(name, cls)))).ok
            game = app.game
            # the party stands in the chapel, every fight before it won; the shaft needs level 2
            game.state["cleared"] += [2, 3, 4, 5]
            for e in game.party():
                e.room = 6
            game.room = 6
            assert wayfinder.next_step(game)[1] == "level"
            assert await dm_step(app, 2) == "xp"
            assert all(e.level >= 2 for e in app.game.party())
            assert wayfinder.next_step(app.game) == (wayfinder.route(app.game)[0], None)
            # down the shaft and the warren cleared: the tomb's door opens only for the DM
            game = app.game
            game.state["cleared"].append(7)
            for e in game.party():
                e.room = 7
            game.room = 7
            assert wayfinder.next_step(game)[1] == "sealed"
            assert await dm_step(app, 2) == "open"
            assert wayfinder.next_step(app.game)[1] is None
            # the tomb cleared: the end, and the dungeon starts again with a new party
            app.game.state["cleared"].append(8)
            old = app.pipeline.session.id
            assert await dm_step(app, 2) == "again"
            assert app.pipeline.session.id != old and app.game.party() == []
        finally:
            await app.stop()

    asyncio.run(main())
