"""The event log: WAL + FULL sync, idempotency keys in the same transaction, migrations."""

from __future__ import annotations

import sqlite3

import pytest

from node.store import SheetWrite, Store, Write


def test_wal_and_full_sync_are_set(store: Store):
    assert store.pragma("journal_mode") == "wal"
    assert store.pragma("synchronous") == 2  # FULL


def test_commit_is_atomic_with_its_idempotency_key(store: Store):
    store.commit("n1", Write(1, 10.0, "command", {"a": 1}, key="k1", reply={"ok": True, "seq": 1}))
    # a second command with the same key fails as a whole: no second event row is left behind
    with pytest.raises(sqlite3.IntegrityError):
        store.commit("n1", Write(2, 11.0, "command", {"a": 2}, key="k1", reply={"ok": True}))
    assert store.count_events() == 1
    assert store.max_seq() == 1
    assert store.reply_for("k1") == {"ok": True, "seq": 1}
    assert store.reply_for("nope") is None


def test_events_after_pages_in_order(store: Store):
    for seq in range(1, 8):
        store.commit("n1", Write(seq, float(seq), "command", {"i": seq}))
    rows = store.events_after(2, 3)
    assert [r.seq for r in rows] == [3, 4, 5]
    assert rows[0].node_id == "n1" and rows[0].payload == {"i": 3}
    assert [r.seq for r in store.iter_events(0, batch=2)] == list(range(1, 8))


def test_seq_must_increase(store: Store):
    store.commit("n1", Write(1, 1.0, "x", {}))
    with pytest.raises(ValueError):
        store.commit("n1", Write(1, 1.0, "x", {}))


def test_reopen_keeps_schema_and_seq(tmp_path):
    s = Store(tmp_path / "a.db")
    s.commit("n", Write(1, 1.0, "x", {}, sheets=[SheetWrite(3, {"c": 1}, {"ac": 15})],
                        bindings=[("!00000001", 3, "player")]))
    s.commit("n", Write(2, 2.0, "x", {}, sheets=[SheetWrite(3, {"c": 2}, {"ac": 16})]))
    s.close()
    s = Store(tmp_path / "a.db")
    assert s.schema_version() == 1
    assert s.max_seq() == 2
    assert s.sheet_version(3) == (2, {"ac": 16})
    assert s.sheet_at(3, 1) == {"ac": 15}
    assert [h["version"] for h in s.sheet_history(3)] == [1, 2]
    assert s.bindings() == {"!00000001": [3]}
    assert s.integrity() == "ok"
    s.close()


def test_key_pin_is_first_use_only(store: Store):
    store.pin_key("!00000001", b"k1", 1.0)
    store.pin_key("!00000001", b"k2", 2.0)
    assert store.public_key("!00000001") == b"k1"
