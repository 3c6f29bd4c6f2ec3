"""Shared constants and helpers for sync tests (a unique module name: every test folder has a conftest)."""

from __future__ import annotations

from node.store import Store, Write

SECRET = "s3cret-for-node-one-0123456789"
SECRETS = {"node-1": SECRET, "node-2": "another-secret-0123456789"}


def fill(store: Store, n: int, node_id: str = "node-1") -> None:
    """Append n command rows, each with one Said event, like the pipeline would."""
    start = store.max_seq()
    for i in range(start + 1, start + n + 1):
        store.commit(node_id, Write(seq=i, ts=1000.0 + i, type="command", payload={
            "source": "radio", "sender": "!a1", "actor": 1, "intent": {"type": "Say", "text": f"m{i}"},
            "events": [{"type": "Said", "eid": 1, "text": f"m{i}"}]}))
