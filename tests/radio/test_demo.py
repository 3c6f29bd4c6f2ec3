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
