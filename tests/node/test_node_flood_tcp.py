"""Issue 13's flood target through the real TCP API: `dungeon bench flood` as a real process.

`dungeon node` on a simulated Meshtastic device, players and a flooding radio on the real
meshtastic library: garbage texts at a stock radio's pace may cost the node 5 s of airtime at
most (the node reckons airtime at its configured LONG_FAST), and every player's `look` is still
answered. The test sends 20 (40 s at the firmware's 2 s text gap: the budget is spent long
before); `dungeon bench flood` sends the issue's 100 and reports that figure.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow


def test_one_radio_sending_garbage_texts_costs_at_most_5_s_and_play_goes_on():
    proc = subprocess.run(
        [sys.executable, "-m", "node.cli", "bench", "flood", "--texts", "20", "--players", "1",
         "--baseline", "10", "--preset", "SHORT_FAST", "--json"],
        capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stderr[-500:]
    report = json.loads(proc.stdout)
    assert report["texts_sent"] == 20 and report["texts_dropped_by_its_radio"] == 0
    assert report["flooder_airtime_s"] <= 5.0  # before: one reply to each, ~0.9 s apiece (18 s)
    assert report["dm_dropped_for_budget"] > 0
    flood = report["flood"]
    assert flood["looks"] >= 3 and flood["answered"] == flood["looks"]


def test_bench_flood_refuses_bad_numbers_in_one_line():
    proc = subprocess.run([sys.executable, "-m", "node.cli", "bench", "flood", "--texts", "0"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
