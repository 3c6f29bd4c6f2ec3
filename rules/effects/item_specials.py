"""Named effect types for magic items: attunement (at most three items, kept across rests)."""

from __future__ import annotations

from typing import Any

from rules import events as ev
from rules.effects.records import Effect
from rules.errors import RulesError

MAX_ATTUNED = 3  # SRD: a creature can be attuned to no more than three magic items at once


def attune(ctx: Any, args: dict[str, Any]) -> None:
    """The user attunes to an item it carries: an effect tagged `attuned` with the item's
    numbers (ac, save, resist...) that lasts until the item leaves it."""
    c = ctx.caster
    item = str(args["item"])
    if item not in c.inventory:
        raise RulesError(f"no {item} to attune to")
    if sum(1 for x in c.effects if x.has("attuned")) >= MAX_ATTUNED:
        raise RulesError(f"attuned to {MAX_ATTUNED} items already")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in args.items()
              if k != "item"}
    tags = tuple(values.pop("tags", ())) + ("attuned",)
    c.effects.append(Effect(item, c.eid, tags=tags, **values))
    ctx.out.append(ev.Info(c.eid, f"{c.name} attunes to the {item}"))


ITEM_SPECIALS = {"attune": attune}
