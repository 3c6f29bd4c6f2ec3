"""The node's input channels: radio text, radio binary frames, and the local control socket."""

from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger(__name__)


def lines_of(out: Any, game: Any, limit: int = 200) -> list[str]:
    """What a pipeline Outcome says in words: its error, its private answer, or its events
    rendered (each line within `limit` bytes). Each channel calls this once per outcome."""
    from node.pipeline import fit
    from protocol import render

    if not out.ok:
        return [fit(render.sentence(out.error), limit)] if out.error else []
    if out.text:
        return [fit(out.text, limit)]
    try:
        return [fit(x, limit) for x in render.render(out.events, game, limit=limit)]
    except Exception:  # a renderer bug must not cost a player the answer to an applied command
        log.exception("render failed")
        return []
