"""Monsters that re-form days after they are destroyed (a lich, a mummy lord, a naga).

The game has no calendar: the party's long rest is its day clock (a creature gains the
benefit of one long rest in 24 hours), so each one counts a day off every destroyed
monster's wait. The wait is kept in game.state["rejuvenating"] as [eid, days left].
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, dice
from rules import events as ev
from rules.effects import monsters

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game

KEY = "rejuvenating"
# Uses a monster regains when it finishes a long rest (a manticore's tail spikes).
REGROW = ("tail_spikes",)


def days_for(monster: str) -> str:
    """The dice of days a destroyed monster of this kind takes to re-form ("" if never)."""
    m = content.monster_record(monster) or {}
    for t in m.get("special_abilities", []):
        d = monsters.entry(monster, t)
        if d.get("rejuvenate"):
            return str(d["rejuvenate"])
    return ""


def on_death(game: Game, e: Entity, rng: random.Random, out: list[Any]) -> None:
    """A monster that rejuvenates starts its wait when it is destroyed."""
    what = days_for(e.monster)
    if not what:
        return
    days = dice.total(what, rng)
    game.state.setdefault(KEY, []).append([e.eid, days])
    out.append(ev.Info(e.eid, f"{e.name} will re-form in {days} days"))


def pass_day(game: Game, rng: random.Random, out: list[Any]) -> None:
    """A day passes: living monsters rest (spent tail spikes regrow); each waiting monster
    is a day nearer, and at 0 it re-forms where it fell with all its hit points, its
    traits renewed."""
    from rules.effects import engine

    for e in game.entities.values():
        if e.kind == "monster" and not e.dead:
            e.res.update({k: e.res_max[k] for k in REGROW if k in e.res_max})
    waiting = []
    for eid, days in game.state.get(KEY, []):
        e = game.entities.get(eid)
        if e is None or not e.dead:
            continue
        if days > 1:
            waiting.append([eid, days - 1])
            continue
        e.dead, e.fled, e.hp = False, False, e.max_hp
        e.conditions.clear()
        e.effects.clear()
        e.engaged.clear()
        e.death_f = e.death_s = 0
        e.recharge = {k: True for k in e.recharge}
        engine.traits(game, e, rng, out)
        out.append(ev.Info(e.eid, f"{e.name} re-forms"))
    if KEY in game.state or waiting:
        game.state[KEY] = waiting
