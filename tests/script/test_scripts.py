"""`dungeon script` as installed: every .dd file here passes, and the command's own contract."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent
SCRIPTS = sorted(HERE.glob("*.dd"))


def dungeon(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_script_file_passes(path: Path) -> None:
    run = dungeon("script", str(path))
    assert run.returncode == 0, run.stderr


def test_json_prints_one_event_per_line_then_the_digest() -> None:
    text = "join Thorin fighter 3\ndm: spawn goblin\ndm: start combat\n"
    run = dungeon("script", "-", "--json", "--seed", "7", stdin=text)
    assert run.returncode == 0, run.stderr
    rows = [json.loads(x) for x in run.stdout.splitlines()]
    assert rows[0]["type"] == "Joined" and rows[0]["name"] == "Thorin"
    assert any(r.get("type") == "CombatStarted" for r in rows)
    assert set(rows[-1]) == {"digest"}
    again = dungeon("script", "-", "--json", "--seed", "7", stdin=text)
    assert again.stdout == run.stdout  # same seed, same game


def test_failing_line_stops_with_its_number_and_exit_2() -> None:
    text = "join Thorin fighter 3\n# a comment\nThorin: cast fireball\njoin Mira wizard 3\n"
    run = dungeon("script", "-", stdin=text)
    assert run.returncode == 2
    assert run.stderr.startswith("dungeon script: line 3: ")
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Mira" not in run.stdout  # nothing after the failing line ran


def test_failed_expectation_exits_1_and_says_what_was_found() -> None:
    text = "join Thorin fighter 3\nexpect Thorin hp = 1\n"
    run = dungeon("script", "-", stdin=text)
    assert run.returncode == 1
    assert "line 2: expectation failed: Thorin hp is" in run.stderr


def test_monsters_act_only_after_ai_on() -> None:
    base = "join Thorin fighter 3\ndm: spawn goblin 3\ndm: start combat\ndm: turn Goblin1\n"
    quiet = dungeon("script", "-", "--json", stdin=base + "dm: next\n")
    assert quiet.returncode == 0, quiet.stderr
    ai = dungeon("script", "-", "--json", stdin=base + "dm: ai on\ndm: next\n")
    assert ai.returncode == 0, ai.stderr

    def monster_acts(out: str) -> int:
        rows = [json.loads(x) for x in out.splitlines()[:-1]]
        return sum(r["type"] in ("Attacked", "ActionTaken", "Moved") and r.get("eid", 0) > 1
                   for r in rows)

    assert monster_acts(quiet.stdout) == 0
    assert monster_acts(ai.stdout) > 0


def test_unknown_dungeon_is_one_line() -> None:
    run = dungeon("script", "-", "--dungeon", "nowhere", stdin="join A fighter\n")
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1


def test_dungeon_from_a_toml_path(tmp_path: Path) -> None:
    room = tmp_path / "cellar.toml"
    room.write_text('name = "cellar"\nstart = 1\n[[rooms]]\nid = 1\nname = "Cellar"\n'
                    'light = "dim"\nexits = []\n', "utf-8")
    run = dungeon("script", "-", "--dungeon", str(room), stdin="join A fighter\nA: look\n")
    assert run.returncode == 0, run.stderr
    assert "Cellar" in run.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text("rooms = [", "utf-8")
    run = dungeon("script", "-", "--dungeon", str(bad), stdin="join A fighter\n")
    assert run.returncode == 2 and "bad.toml" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
