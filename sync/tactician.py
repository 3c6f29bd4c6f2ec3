"""The node's RelayTactician: asks the relay's Gemini tactician, falls back to the rule-based AI.

It implements node.tactician's seam. Offline, late, refused or illegal answers all end in
the fallback within the turn's budget; only an option the engine offered is ever played.
"""

from __future__ import annotations

import logging
import random
from typing import Any

from node.obs.metrics import Metrics

log = logging.getLogger("dungeon.tactician.relay")

MARGIN_S = 0.2  # kept back from the budget so the fallback still runs inside it


def option_json(option: Any) -> dict[str, Any]:
    target = getattr(option.intent, "target", None)
    return {"id": str(option.id), "label": str(option.label),
            "target": None if target is None else str(target)}


def compact_state(game: Any, eid: int) -> dict[str, Any]:
    """Who is here and how hurt, as small as possible: the model needs no dice or stat blocks."""
    try:
        me = game.entity(eid)
        here = game.here(me.room)
        combat = game.combat or {}
    except (AttributeError, KeyError, TypeError):  # a game without these views: options suffice
        return {}
    return {
        "round": combat.get("round"),
        "creatures": [
            {"id": e.eid, "name": e.name, "side": e.side, "hp": e.hp, "max_hp": e.max_hp,
             "ac": e.ac, "conditions": sorted(e.conditions)}
            for e in here if not e.dead
        ],
    }


class RelayTactician:
    """Tactician seam: `await choose(game, eid, options, rng) -> Option`."""

    def __init__(self, uplink: Any, fallback: Any, budget_s: float = 2.5,
                 metrics: Metrics | None = None) -> None:
        self.uplink, self.fallback, self.budget_s = uplink, fallback, budget_s
        self.metrics = metrics or Metrics()
        self.last_flavour = ""
        self.last_source = ""

    async def choose(self, game: Any, eid: int, options: list[Any], rng: random.Random) -> Any:
        name = game.name_of(eid) if hasattr(game, "name_of") else str(eid)
        request = {"actor": {"eid": eid, "name": name}, "state": compact_state(game, eid),
                   "options": [option_json(o) for o in options]}
        answer = await self.uplink.tactics(request, max(0.05, self.budget_s - MARGIN_S)) \
            if options else None
        if answer and answer.get("ok"):
            chosen = next((o for o in options if str(o.id) == str(answer.get("action"))), None)
            if chosen is not None:
                self.last_flavour = str(answer.get("flavour") or "")[:80]
                self.last_source = "gemini"
                self.metrics.inc("node_ai_choices_total", source="gemini")
                return chosen
        reason = (answer or {}).get("reason") or ("offline" if answer is None else "illegal")
        log.info("relay tactician fell back", extra={"reason": reason})
        self.last_flavour, self.last_source = "", "fallback"
        self.metrics.inc("node_ai_choices_total", source="fallback")
        return await self.fallback.choose(game, eid, options, rng)
