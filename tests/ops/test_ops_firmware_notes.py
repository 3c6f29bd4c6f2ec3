"""The DM's radio guide: its airtime table is the generator's output, and its facts hold."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

from protocol.airtime import PRESETS, airtime_s

ROOT = Path(__file__).resolve().parents[2]
NOTES = ROOT / "firmware-notes" / "README.md"


def _tool():
    spec = importlib.util.spec_from_file_location("airtime_table", ROOT / "tools" / "airtime_table.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_table_in_notes_equals_generator_output():
    tool = _tool()
    assert tool.embedded(NOTES.read_text()) == tool.table()


def test_check_mode_fails_on_a_stale_table(tmp_path):
    stale = tmp_path / "notes.md"
    stale.write_text(NOTES.read_text().replace("| `LONG_FAST` | 11 |", "| `LONG_FAST` | 12 |"))
    tool = ROOT / "tools" / "airtime_table.py"
    ok = subprocess.run([sys.executable, str(tool), "--check", str(NOTES)], capture_output=True)
    bad = subprocess.run([sys.executable, str(tool), "--check", str(stale)], capture_output=True,
                         text=True)
    assert ok.returncode == 0
    assert bad.returncode == 1 and "stale" in bad.stderr
    subprocess.run([sys.executable, str(tool), "--write", str(stale)], check=True)
    assert stale.read_text() == NOTES.read_text()


def test_table_has_every_preset_with_the_models_figures():
    rows = {line.split("|")[1].strip(" `"): line for line in _tool().table().splitlines()[2:]}
    assert set(rows) == set(PRESETS)
    long_fast = [c.strip() for c in rows["LONG_FAST"].split("|")[1:-1]]
    assert long_fast[6] == f"{airtime_s(200, 'LONG_FAST'):.2f} s"
    assert int(long_fast[7]) == int(360 // airtime_s(200, "LONG_FAST"))


@pytest.mark.parametrize(
    "fact",
    ["EU_868", "10 %", "hop_limit 3", "CLIENT_MUTE", "--ch-set psk random",
     "one text message every 2 seconds", "T-Deck", "phone app", "200 bytes"],
)
def test_dm_guide_covers(fact):
    assert fact in NOTES.read_text()


@pytest.mark.parametrize(
    "fact",
    ["dialout", "udev", "tcp:", "4403", "aarch64", "32-bit", "/opt/dungeon/venv",
     "AWS_CA_BUNDLE", "install-service --user dungeon", "backup restore"],
)
def test_pi_guide_covers(fact):
    assert fact in (ROOT / "firmware-notes" / "pi-setup.md").read_text()
