"""The DM's runtime table settings (party_max, auto_approve) kept across a node restart."""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)

KEY = "table_settings"
FIELDS = ("party_max", "auto_approve")


def restore(store: Any, config: Any) -> dict[str, Any]:
    """The values the node starts with: a DM's change made at runtime survives a restart,
    unless the config file's value has changed since, in which case the file is the newer
    decision and wins."""
    saved = store.get(KEY, {}) or {}
    out = {}
    for name in FIELDS:
        configured = getattr(config, name)
        s = saved.get(name)
        if isinstance(s, dict) and s.get("config") == configured and "value" in s:
            out[name] = s["value"]
            if s["value"] != configured:
                log.info("%s is %s, as the DM set it (config says %s)", name, s["value"],
                         configured)
        else:
            out[name] = configured
    return out


def remember(store: Any, config: Any, **values: Any) -> None:
    """Keeps the DM's change, with the config value it overrides."""
    changed = {name: {"value": value, "config": getattr(config, name)}
               for name, value in values.items() if name in FIELDS and value is not None}
    if changed:  # a settings query that changes nothing writes nothing
        store.put(KEY, {**(store.get(KEY, {}) or {}), **changed})
