"""A hydra's heads: lost to heavy blows, regrown two for one unless burned, one bite each.

res["heads"] counts them (Multiple Heads grants five). 25 damage or more within one turn
kills a head; at the end of the hydra's turn each head lost since its last turn grows back
as two, with 10 HP each, unless it took fire damage meanwhile. Every head beyond the first
is a spare reaction for opportunity attacks (Reactive Heads).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rules import events as ev

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game

HEAD_KILL = 25  # damage in one turn that kills a head
REGROW = 2  # heads grown for each one lost
HEAD_HP = 10  # hit points regained per head regrown


def has_heads(e: Entity) -> bool:
    return bool(e.effects) and any(x.has("heads") for x in e.effects)


def _turn_key(game: Game) -> int:
    c = game.combat
    return -1 if c is None else int(c["round"]) * 1000 + int(c["idx"])


def on_damage(game: Game, e: Entity, amount: int, dtype: str, out: list[Any]) -> bool:
    """Count a blow against this turn's total; True when its last head died with it."""
    if dtype == "fire":
        e.res["burned"] = 1
    key = _turn_key(game)
    if e.res.get("dmg_turn") != key:
        e.res.update({"dmg_turn": key, "dmg": 0, "cut": 0})
    e.res["dmg"] += amount
    if e.res["dmg"] < HEAD_KILL or e.res["cut"] or e.res.get("heads", 0) <= 0:
        return False
    e.res["cut"] = 1
    e.res["heads"] -= 1
    e.res["lost"] = e.res.get("lost", 0) + 1
    out.append(ev.Info(e.eid, f"one of {e.name}'s heads dies ({e.res['heads']} left)"))
    return e.res["heads"] <= 0


def regrow(game: Game, e: Entity, out: list[Any]) -> None:
    """The end of the hydra's turn: two heads for each lost one, unless burned."""
    from rules import resolver

    lost, burned = e.res.get("lost", 0), e.res.get("burned", 0)
    e.res.update({"lost": 0, "burned": 0, "oa_used": 0})
    e.res.pop("dmg_turn", None)  # the next turn's blows count afresh
    if not lost or e.dead:
        return
    if burned:
        out.append(ev.Info(e.eid, f"{e.name}'s burned necks do not regrow"))
        return
    grown = REGROW * lost
    e.res["heads"] += grown
    out.append(ev.Info(e.eid, f"{e.name} grows {grown} heads ({e.res['heads']})"))
    resolver.heal(game, e, HEAD_HP * grown, out, own=True)


def react(e: Entity) -> bool:
    """Spend a reaction on an opportunity attack: its own, else a spare head's."""
    if e.reaction:
        e.reaction = False
        return True
    if has_heads(e) and e.res.get("heads", 0) - 1 > e.res.get("oa_used", 0):
        e.res["oa_used"] = e.res.get("oa_used", 0) + 1
        return True
    return False


def can_react(e: Entity) -> bool:
    return e.reaction or (has_heads(e) and e.res.get("heads", 0) - 1 > e.res.get("oa_used", 0))
