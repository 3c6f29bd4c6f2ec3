"""`make demo`'s game: `dungeon demo` with its defaults plays in real time and stops cleanly."""

from __future__ import annotations

import signal

import pytest
from e2ehelpers import Proc, short_dir

pytestmark = [pytest.mark.timeout(180), pytest.mark.slow]


def test_the_demo_plays_with_its_defaults_and_stops_cleanly_on_ctrl_c():
    home = short_dir("dd-e2e-demo-")
    demo = Proc("demo", env={"XDG_DATA_HOME": str(home)})  # stdout is no terminal: the live log
    try:
        joined = demo.expect(r"^#\d+\s+text\s+\S+\s+join\s", timeout=90)
        # A bot player's own turn in the fight, sent over the simulated radio as text.
        demo.expect(r"^#\d+\s+text\s+(Mira|Thorin|Vex)\s+(attack|cast|dodge|endturn)\b",
                    after=joined, timeout=120)
    finally:
        code = demo.stop(signal.SIGINT)
    assert code == 0, demo.stderr()[-800:]
    assert "demo stopped; the game is saved" in demo.stderr()
    assert "Traceback" not in demo.stderr()
    assert (home / "dungeon" / "demo" / "dungeon.db").exists()
