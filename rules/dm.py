"""The DM's commands (the Dm intent): combat control, damage and healing, spawns, edits."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, resolver
from rules import events as ev
from rules import intents as it
from rules.creature import Entity
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.explore import spawn
from rules.names import check_name
from rules.turns import (
    advance_idx,
    begin_turn,
    check_end,
    end_turn_effects,
    level_up,
    run_legendary,
    start_combat,
)

if TYPE_CHECKING:
    from rules.game import Game


# -- the DM -------------------------------------------------------------------------
def dm(game: Game, _a: Entity | None, i: it.Dm, rng: random.Random) -> list[Any]:
    op = i.op
    if op == "start_combat":
        if game.combat is not None:
            raise RulesError("already in combat")
        if not [e for e in game.here() if e.side == "monsters" and not e.down]:
            raise RulesError("no foes here")
        return start_combat(game, rng)
    if op == "end_combat":
        if game.combat is None:
            raise RulesError("not in combat")
        game.combat = None
        for e in game.entities.values():
            e.engaged.clear()
        return [ev.CombatEnded(0, ())]
    if op in ("next_turn", "prev_turn"):
        if game.combat is None:
            raise RulesError("not in combat")
        if op == "prev_turn":
            c = game.combat
            c["idx"] -= 1
            if c["idx"] < 0:
                c["idx"] = len(c["order"]) - 1
                c["round"] = max(1, c["round"] - 1)
            e = game.entities[game.current_turn()]
            return [ev.TurnStarted(c["round"], e.eid)]
        cur = game.entities[game.current_turn()]
        out = end_turn_effects(game, cur, rng)
        out += run_legendary(game, cur, rng)
        if game.combat is None:
            return out
        advance_idx(game)
        return out + begin_turn(game, rng)
    if op == "narrate":
        if not i.text.strip():
            raise RulesError("narrate what?")
        return [ev.Narrated(i.text.strip()[:180])]
    if op == "spawn":
        content.monster(i.text)  # validate first
        n = max(1, min(20, i.value or 1))
        out = spawn(game, i.text, n)
        if game.combat is not None:
            game.combat["order"] += [e.eid for e in out]
        return out
    if op == "set_roll":
        faces = [i.value] if not i.text.strip() else _faces(i.text)
        if not faces or not all(1 <= f <= 20 for f in faces):
            raise RulesError("set_roll needs d20 faces from 1 to 20")
        game.next_d20 = faces[0] if len(faces) == 1 else faces
        return []  # the DM's secret: nothing for the players' screens
    if op == "house_rule":
        if not i.text:
            raise RulesError("which house rule?")
        game.house[i.text] = bool(i.value)
        return [ev.Info(0, f"house rule {i.text} {'on' if i.value else 'off'}")]
    if op == "unlock":
        x = game.dungeon.find_exit(game.room, i.text)
        key = f"{game.room}:{x.to}"
        game.state["unlocked"].append(key)
        game.state["unsealed"].append(key)
        return [ev.Info(0, f"the way {x.dir or x.name} is open")]
    if i.target is None:
        raise RulesError(f"{op} needs a target")
    t = game.find(i.target, room=game.room) if not isinstance(i.target, int) else game.entity(
        i.target)
    if op == "set_turn":
        return _set_turn(game, t, rng)
    if op == "force_action":
        from rules import tactics
        from rules.game import apply

        option = next((o for o in tactics.legal_actions(game, t.eid) if o.id == i.text), None)
        if option is None:
            raise RulesError(f"{t.name} has no legal option {i.text[:20]!r} now")
        return apply(game, t.eid, option.intent, rng)
    if op == "damage":
        if i.value <= 0:
            raise RulesError("damage must be positive")
        out: list[Any] = []
        resolver.deal(game, t, i.value, i.text or "force", out, rng=rng)
        if game.combat is not None:
            check_end(game, out)
        return out
    if op == "heal":
        if i.value <= 0:
            raise RulesError("heal must be positive")
        if t.dead:
            raise RulesError(f"{t.name} is dead")
        out = []
        resolver.heal(game, t, i.value, out)
        return out
    if op == "condition":
        cond = i.text.strip().lower()
        if cond not in content.conditions():
            raise RulesError(f"no condition {cond!r}")
        out = []
        if i.value:
            resolver.add_condition(game, t, cond, out)
        else:
            resolver.remove_condition(game, t, cond, out)
        return out
    if op == "cover":
        if i.value not in (0, 2, 5):
            raise RulesError("cover is 0, 2 or 5")
        t.effects[:] = [x for x in t.effects if x.name != "cover"]
        if i.value:
            t.effects.append(Effect("cover", 0, ac=i.value))
        return [ev.Info(t.eid, f"cover +{i.value}" if i.value else "no cover")]
    if op == "level_up":
        from rules import pregen

        if t.kind != "pc" or t.level >= pregen.MAX_LEVEL:
            raise RulesError(f"{t.name} cannot level up")
        return level_up(game, t, t.level + 1)
    if op == "edit_sheet":
        field_, _, val = i.text.partition("=")
        field_ = field_.strip()
        if field_ not in ("hp", "max_hp", "ac", "temp_hp", "speed", "xp", "name"):
            raise RulesError("edit hp, max_hp, ac, temp_hp, speed, xp or name")
        if field_ == "name":
            t.name = check_name(val)
        else:
            try:
                n = int(val)
            except ValueError:
                raise RulesError(f"{field_} must be a number") from None
            if n < 0:
                raise RulesError(f"{field_} cannot be negative")
            setattr(t, field_, n)
            t.hp = min(t.hp, t.max_hp)
        return [ev.Info(t.eid, f"{field_} set")]
    raise RulesError(f"unknown DM op {op!r}")


def _faces(text: str) -> list[int]:
    try:
        return [int(x) for x in text.replace(",", " ").split()][:20]
    except ValueError:
        raise RulesError("set_roll faces are numbers from 1 to 20") from None


def _set_turn(game: Game, t: Entity, rng: random.Random) -> list[Any]:
    """Make it `t`'s turn now, with a fresh action economy (a DM's correction, or a test)."""
    if game.combat is None:
        raise RulesError("not in combat")
    if t.eid not in game.combat["order"]:
        game.combat["order"].append(t.eid)
    if t.dead or t.fled:
        raise RulesError(f"{t.name} cannot take a turn")
    game.combat["idx"] = game.combat["order"].index(t.eid)
    return begin_turn(game, rng)
