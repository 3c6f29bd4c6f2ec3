"""What a player-typed name or line may contain: no characters that reorder the text around it."""

from __future__ import annotations

import re

from rules.errors import RulesError

# Explicit embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069): "Mira\u202eatk"
# would show other players and the DM a different line from the one stored and logged.
BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
BIDI_REFUSAL = "text-direction control characters are not allowed"


def has_bidi_controls(text: str) -> bool:
    return BIDI_CONTROLS.search(text) is not None


def check_name(name: str) -> str:
    """The name stripped and cut to 16 characters, or RulesError with one line."""
    if has_bidi_controls(name):
        raise RulesError(f"names: {BIDI_REFUSAL}")
    name = name.strip()[:16]
    if not name:
        raise RulesError("a character needs a name")
    return name
