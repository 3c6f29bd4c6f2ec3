"""Replay: rebuild the game from the event log with each command's seed, and check it matches."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from node.session import (
    COMMAND_ROW,
    SESSION_ROW,
    StoredStateError,
    apply_logged,
    game_from_row,
    stored_seed,
)
from node.store import Store


@dataclass
class ReplayReport:
    events: int  # rows in the log
    digest: int  # the replayed state's digest (0: no session)
    snapshot_digest: int | None  # the latest snapshot's digest, if any
    ok: bool
    integrity: str  # PRAGMA integrity_check
    reason: str = ""  # one line when not ok
    commands: int = 0  # commands re-applied
    seq: int = 0  # the last seq in the log
    rules: int = 0  # the rules version the session was recorded under
    note: str = ""  # one line when the log is readable but not re-checked
    digests_checked: int = 0  # logged and snapshot digests compared with the replay

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


CHECK_EVERY = 500  # commands between the digests a quick replay computes and compares


def verify(db_path: str | Path, check_every: int = CHECK_EVERY) -> ReplayReport:
    """Re-apply every logged command of the latest session from its start, no snapshots used.

    Each command row carries the state digest the node computed after it, and snapshots
    carry theirs. A digest costs as much as the whole state, far more than applying a
    command, so the replay computes it after every `check_every`-th command and the last,
    and compares it with the logged one and any snapshot's there; every snapshot's digest is
    compared with the logged one at its seq. On a mismatch it replays again computing every
    digest, to name the first command that differs. check_every=1 does that in one pass.
    """
    path = Path(db_path)
    if not path.exists():
        return ReplayReport(0, 0, None, False, "missing", f"no database at {path}")
    store = Store(path)
    try:
        rep = _verify(store, max(1, check_every))
        if not rep.ok and check_every > 1 and rep.integrity == "ok":
            rep = _verify(store, 1)
        return rep
    finally:
        store.conn.close()  # read-only use: no checkpoint, leave the file as found


def _verify(store: Store, check_every: int) -> ReplayReport:
    integrity = store.integrity(quick=False)
    count = store.count_events()
    last = store.max_seq()
    snaps = {
        seq: digest
        for seq, digest in store.conn.execute("SELECT seq, digest FROM snapshots ORDER BY seq")
    }
    latest_snapshot = snaps[max(snaps)] if snaps else None
    start = store.last_event_of_type(SESSION_ROW)
    rep = ReplayReport(count, 0, latest_snapshot, integrity == "ok", integrity, seq=last)
    if integrity != "ok":
        rep.reason = f"integrity check: {integrity}"
        return rep
    if start is None:
        return rep
    p = start.payload
    from rules import RULES_VERSION

    rep.rules = int(p.get("rules", 1))  # sessions from before versions were recorded: 1
    if rep.rules != RULES_VERSION:
        # Dice and rules differ between versions, so the digests cannot be reproduced;
        # the log stays readable (events, commands, snapshots) and says why.
        rep.commands = sum(1 for r in store.iter_events(start.seq) if r.type == COMMAND_ROW)
        rep.digest = latest_snapshot or 0
        rep.note = (f"log recorded under rules version {rep.rules}; this node runs "
                    f"{RULES_VERSION}: events readable, digests not re-checked")
        return rep
    try:
        seed = stored_seed(start)
    except StoredStateError as err:
        return _fail(rep, str(err))
    try:
        game = game_from_row(p)
    except Exception as err:
        return _fail(rep, f"cannot create dungeon {p['dungeon']!r}: {err}")
    if start.seq in snaps and snaps[start.seq] != game.digest():
        return _fail(rep, f"new game digest differs from its snapshot at seq {start.seq}")
    rows = [row for row in store.iter_events(start.seq) if row.type == COMMAND_ROW]
    checked = 0  # the command count at the last digest compared
    for k, row in enumerate(rows, 1):
        try:
            apply_logged(game, row.payload, seed, row.seq)
        except Exception as err:
            rep.digest = game.digest()
            return _fail(rep, f"seq {row.seq} no longer applies: {str(err)[:80]}")
        rep.commands += 1
        logged = row.payload.get("digest")
        if row.seq in snaps and logged is not None and snaps[row.seq] != logged:
            return _fail(rep, f"seq {row.seq} logged digest {logged} != snapshot {snaps[row.seq]}")
        if k - checked < check_every and k != len(rows):
            continue
        checked = k
        digest = game.digest()
        rep.digests_checked += ("digest" in row.payload) + (row.seq in snaps)
        if "digest" in row.payload and row.payload["digest"] != digest:
            rep.digest = digest
            return _fail(rep, f"seq {row.seq} digest {digest} != logged {row.payload['digest']}")
        if row.seq in snaps and snaps[row.seq] != digest:
            rep.digest = digest
            return _fail(rep, f"seq {row.seq} digest {digest} != snapshot {snaps[row.seq]}")
    rep.digest = game.digest()
    return rep


def _fail(rep: ReplayReport, reason: str) -> ReplayReport:
    rep.ok = False
    rep.reason = reason
    return rep
