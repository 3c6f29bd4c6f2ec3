"""The monster-tactics seam: a Tactician picks one legal Option; the rule-based one is the fallback."""

from __future__ import annotations

import asyncio
import logging
import random
from typing import Any, Protocol

log = logging.getLogger(__name__)


class Tactician(Protocol):
    async def choose(self, game: Any, eid: int, options: list[Any], rng: random.Random) -> Any:
        """One of `options` (rules.tactics.Option) for monster `eid`."""
        ...


class FallbackTactician:
    """The pure rule-based AI (rules.tactics.choose); never waits on the network."""

    async def choose(self, game: Any, eid: int, options: list[Any], rng: random.Random) -> Any:
        from rules import tactics

        return tactics.choose(game, eid, rng)


async def choose_with_fallback(
    tactician: Tactician | None,
    game: Any,
    eid: int,
    rng: random.Random,
    *,
    budget_s: float,
) -> tuple[Any, str]:
    """(option, who chose it): the tactician within budget, else the fallback.

    An answer that is not one of the offered options is treated as a failure: a remote
    model may only pick from the legal actions the engine listed.
    """
    from rules import tactics

    options = list(tactics.legal_actions(game, eid))
    fallback = FallbackTactician()
    if tactician is not None and not isinstance(tactician, FallbackTactician) and options:
        try:
            choice = await asyncio.wait_for(tactician.choose(game, eid, options, rng), budget_s)
            ids = {o.id for o in options}
            if getattr(choice, "id", None) in ids:
                return next(o for o in options if o.id == choice.id), "tactician"
            log.warning("tactician offered %r, not a legal option; using fallback", choice)
        except TimeoutError:
            log.warning("tactician exceeded its %.1fs budget; using fallback", budget_s)
        except Exception as err:  # a remote tactician's failure must never stall the game
            log.warning("tactician failed (%s); using fallback", str(err)[:120])
    return await fallback.choose(game, eid, options, rng), "fallback"
