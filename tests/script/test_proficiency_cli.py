"""`dungeon srd class NAME` says what a class is proficient with, first and as a later class."""

from __future__ import annotations

import json
import subprocess
import sys


def _srd_class(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "node.cli", "srd", "class", *args],
                          capture_output=True, text=True, timeout=120)


def test_a_class_lists_its_proficiencies_and_its_multiclass_share() -> None:
    run = _srd_class("fighter", "--json")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert "all-armor" in doc["proficiencies"]
    assert "heavy-armor" not in doc["multiclass_proficiencies"]
    assert {"light-armor", "medium-armor", "shields"} <= set(doc["multiclass_proficiencies"])
    text = _srd_class("wizard").stdout.splitlines()
    assert text[1] == ("proficient: daggers, darts, slings, quarterstaffs, crossbows-light; "
                       "as a later class: none")
