"""A character leaves one game and joins another: `dungeon character export|import` on
real node processes, with one-line errors for bad files."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
from pathlib import Path

from node.control_client import ControlClient


def dungeon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], capture_output=True,
                          text=True, timeout=60)


def start_node(data: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-m", "node.cli", "node", "--radio", "loopback",
                             "--data-dir", str(data)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)

    async def answers() -> None:
        # The socket file exists a moment before the node listens on it: wait for an answer.
        client = await ControlClient.when_ready(data / "control.sock",
                                                alive=lambda: proc.poll() is None, tries=2000)
        await client.close()

    asyncio.run(answers())
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)


def control(data: Path, op: str, **args: object) -> object:
    async def ask() -> object:
        async with ControlClient(data / "control.sock") as c:
            return await c.request(op, **args)

    return asyncio.run(ask())


def test_export_from_one_game_import_into_another(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    node = start_node(a)
    try:
        control(a, "character.create", name="Mira", cls="wizard", level=3, race="high-elf",
                stats="8 14 13 15 12 10", skills="arcana history")
    finally:
        stop(node)
    out = dungeon("character", "export", "mira", "--data-dir", str(a))
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["format"] == "dungeon-character/2" and doc["level"] == 3
    assert doc["abilities"]["dex"] == 16 and doc["darkvision"] == 60
    path = tmp_path / "mira.json"
    path.write_text(out.stdout)
    node = start_node(b)
    try:
        imp = dungeon("character", "import", str(path), "--data-dir", str(b))
        assert imp.returncode == 0, imp.stderr
        again = dungeon("character", "import", str(path), "--data-dir", str(b))
        assert again.returncode == 1 and "already here" in again.stderr
        sheet = control(b, "sheet.get", eid=1)
        assert sheet["sheet"]["name"] == "Mira" and sheet["sheet"]["abilities"]["dex"] == 16
    finally:
        stop(node)


def test_bad_files_are_refused_in_one_line(tmp_path: Path) -> None:
    from rules import character_io
    from rules.pregen import character

    doc = character_io.export(character("Bo", "fighter", 2))
    cases = {"notjson": "{", "format": json.dumps({"format": "x"}),
             "level": json.dumps({**doc, "level": 25}),
             "spell": json.dumps({**doc, "spells": ["wish-upon-a-star"]})}
    ok = tmp_path / "ok.json"
    ok.write_text(json.dumps(doc))
    checked = dungeon("character", "import", str(ok), "--check", "--data-dir", str(tmp_path))
    assert checked.returncode == 0 and "valid level 2 fighter" in checked.stdout
    for name, text in cases.items():
        p = tmp_path / f"{name}.json"
        p.write_text(text)
        run = dungeon("character", "import", str(p), "--check", "--data-dir", str(tmp_path))
        assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1, run.stderr
    missing = dungeon("character", "export", "Nobody", "--data-dir", str(tmp_path / "none"))
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
