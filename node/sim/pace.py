"""How fast the bot players play: flat-out bot speed, or a human table's pace.

Human pace (`dungeon sim --pace human`), documented so figures can be compared:
- a turn decision takes 15-90 s, drawn uniformly (a person reads the result, thinks,
  types on a phone keyboard);
- out of combat each player does something (look, move, ask HP, rest) every 1-4 min;
- between fights the party explores for 3-10 min before the DM starts the next one;
- the DM gives each turn 180 s before skipping it, as a table of people would.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Pace:
    name: str
    think: tuple[float, float]  # seconds per turn decision, uniform
    explore: tuple[float, float]  # seconds between idle actions out of combat, uniform
    between_fights: tuple[float, float]  # seconds of exploring before the next fight
    turn_timeout_s: float | None  # None: the node's default


PACES: dict[str, Pace] = {
    "bot": Pace("bot", (2.0, 8.0), (20.0, 60.0), (0.0, 0.0), None),
    "human": Pace("human", (15.0, 90.0), (60.0, 240.0), (180.0, 600.0), 180.0),
}
