"""Helpers for the rules tests (imported by name; tests/rules has no __init__.py)."""

from __future__ import annotations

import random

from rules import intents as it
from rules.dungeon import Dungeon
from rules.game import Game, apply, spawn, start_combat

ARENA = {"name": "t", "start": 1, "rooms": [
    {"id": 1, "name": "Hall", "light": "bright", "exits": [{"to": 2, "dir": "n"}]},
    {"id": 2, "name": "Den", "light": "dark", "exits": [{"to": 1, "dir": "s"}],
     "encounter": {"monsters": [["goblin", 2]], "loot": ["5 gp"]}},
]}


def fight(g: Game, monster: str = "goblin", n: int = 1, rng: random.Random | None = None
          ) -> list[int]:
    """Spawn foes in the party's room and start combat; returns the foes' ids."""
    r = rng or random.Random(0)
    evs = spawn(g, monster, n)
    start_combat(g, r)
    return [e.eid for e in evs]


def turn_of(g: Game, eid: int) -> None:
    """Put `eid` on turn with a fresh action economy (test set-up, not play)."""
    from rules.creature import new_turn

    g.combat["idx"] = g.combat["order"].index(eid)
    e = g.entities[eid]
    e.turn = new_turn()
    e.turn["move"] = e.effective_speed()


def party(*members: tuple[str, str, int]) -> Game:
    """A game in ARENA with pregenerated characters (name, class, level) joined in order."""
    g = Game.new(Dungeon.from_dict(ARENA))
    for name, cls, level in members:
        apply(g, None, it.Join(name, cls, level), random.Random(0))
    return g


def made(g: Game, name: str, cls: str, scores: tuple[int, ...], rng: random.Random,
         race: str = "human") -> int:
    """A character of `cls` and `race` made step by step over the radio grammar's intents,
    joined at 1; returns its id."""
    from rules import content

    apply(g, None, it.Make(name, "class", cls), rng)
    apply(g, None, it.Make(name, "race", race), rng)
    apply(g, None, it.Make(name, "stats", " ".join(map(str, scores))), rng)
    pool = content.classes()[cls]["skill_choices"]
    picks = [s for s in pool["from"] if s not in content.backgrounds()["acolyte"]["skills"]]
    apply(g, None, it.Make(name, "skills", " ".join(picks[:int(pool["choose"])])), rng)
    apply(g, None, it.Join(name, cls, 1), rng)
    return next(e.eid for e in g.entities.values() if e.name == name)
