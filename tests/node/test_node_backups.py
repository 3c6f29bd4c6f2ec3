"""The node process snapshots its database before a level-up or a DM sheet edit."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

from nodehelpers import connect_control


async def test_level_up_and_sheet_edit_take_a_snapshot_first(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "node.cli", "node", "--radio", "loopback", "--data-dir",
         str(tmp_path), "--auto-approve", "--log-level", "WARNING"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        c = await connect_control(tmp_path / "control.sock", proc)
        joined = await c.request("command", intent={"type": "Join", "name": "Brom", "cls": "fighter"})
        eid = next(e["eid"] for e in joined["events"] if e["type"] == "Joined")
        snaps = tmp_path / "snapshots"
        assert not list(snaps.glob("*levelup*"))
        await c.request("command", intent={"type": "Dm", "op": "level_up", "target": eid})
        levelups = list(snaps.glob("*levelup*"))
        assert len(levelups) == 1
        # The copy is from before the level-up: the hero is still level 1 in it.
        con = sqlite3.connect(levelups[0])
        try:
            assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
            rows = con.execute("SELECT payload FROM events WHERE type = 'command'").fetchall()
        finally:
            con.close()
        assert not any('"level_up"' in r[0] for r in rows)
        await c.request("sheet.edit", eid=eid, field="hp", value=5)
        assert len(list(snaps.glob("*dm-edit*"))) == 1
        await c.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
