"""Each class at level 20 plays its signature features through `dungeon script` (issue 16),
and loot works (items.dd)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from rules.pregen import CLASSES

HERE = Path(__file__).parent
SCRIPTS = sorted(HERE.glob("*.dd"))


def dungeon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", *args], capture_output=True,
                          text=True, timeout=120)


def test_every_class_has_a_level_20_script() -> None:
    classes = [p for p in SCRIPTS if p.stem in CLASSES]
    assert sorted(p.stem for p in classes) == sorted(CLASSES)
    for p in classes:
        assert f"{p.stem} 20" in p.read_text(), p.name


@pytest.mark.parametrize("path", SCRIPTS, ids=[p.stem for p in SCRIPTS])
def test_class_script_passes(path: Path) -> None:
    run = dungeon("script", str(path))
    assert run.returncode == 0, run.stderr


def test_srd_class_json_lists_every_feature_mechanised_or_not() -> None:
    total = mech = 0
    for cls in CLASSES:
        run = dungeon("srd", "class", cls, "--json")
        assert run.returncode == 0, run.stderr
        doc = json.loads(run.stdout)
        rows = doc["features"]
        assert rows and all(isinstance(r["mechanised"], bool) for r in rows)
        assert [r["level"] for r in rows] == sorted(r["level"] for r in rows)
        assert any(r["subclass"] == doc["subclass"] for r in rows)  # the SRD subclass
        assert all(r["mechanised"] or r["prompt"] for r in rows)
        total += len(rows)
        mech += doc["mechanised_count"]
    assert total == 280 and mech / total >= 0.6


def test_srd_class_unknown_is_one_line_exit_1() -> None:
    run = dungeon("srd", "class", "plumber")
    assert run.returncode == 1 and len(run.stderr.strip().splitlines()) == 1
