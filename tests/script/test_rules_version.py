"""A log keeps the rules version it was recorded under; an older one stays readable."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from node.replay import verify
from rules import RULES_VERSION

SCRIPT = "join Thorin fighter 3\ndm: spawn goblin\ndm: start combat\ndm: turn Thorin\n" \
         "Thorin: atk goblin\n"


def _record(tmp: Path) -> Path:
    import asyncio

    from node.clock import Clock
    from node.obs.metrics import Metrics
    from node.pipeline import Pipeline
    from node.store import Store

    async def play() -> Path:
        store = Store(tmp / "dungeon.db")
        p = Pipeline(store, node_id="t", clock=Clock.for_loop(asyncio.get_running_loop(), 0.0),
                     metrics=Metrics(), auto_approve=True)
        await p.start_session("crypt", seed=3)
        from node.cli.script_cmd import Runner

        r = Runner(p, as_json=True)
        for line in SCRIPT.splitlines():
            await r.line(line)
        store.close()
        return tmp / "dungeon.db"

    return asyncio.run(play())


def test_new_sessions_record_the_rules_version_and_replay_exactly(tmp_path: Path) -> None:
    db = _record(tmp_path)
    with sqlite3.connect(db) as conn:
        payload = json.loads(conn.execute(
            "SELECT payload FROM events WHERE type = 'session'").fetchone()[0])
    assert payload["rules"] == RULES_VERSION
    rep = verify(db)
    assert rep.ok and not rep.note and rep.commands >= 5 and rep.rules == RULES_VERSION


def test_older_rules_log_is_readable_and_says_so_in_one_line(tmp_path: Path) -> None:
    db = _record(tmp_path)
    with sqlite3.connect(db) as conn:  # as a node before rules versions wrote it
        row = conn.execute("SELECT seq, payload FROM events WHERE type = 'session'").fetchone()
        payload = json.loads(row[1])
        del payload["rules"]
        conn.execute("UPDATE events SET payload = ? WHERE seq = ?", (json.dumps(payload), row[0]))
    rep = verify(db)
    assert rep.ok and rep.rules == 1 and rep.commands >= 5
    assert "rules version 1" in rep.note
    run = subprocess.run([sys.executable, "-m", "node.cli", "replay", str(db), "--verify"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0
    lines = run.stdout.strip().splitlines()
    assert len(lines) == 1 and "rules version 1" in lines[0] and "readable" in lines[0]
