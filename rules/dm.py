"""The DM's commands (the Dm intent): combat control, damage and healing, spawns, edits."""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

from rules import content, encumbrance, house, resolver, shop
from rules import events as ev
from rules import intents as it
from rules.creature import Entity
from rules.effects.records import Effect
from rules.errors import RulesError
from rules.explore import arrive, spawn
from rules.names import BIDI_REFUSAL, check_name, has_bidi_controls
from rules.turns import (
    advance_idx,
    award_xp,
    begin_turn,
    check_end,
    end_turn_effects,
    gain_xp,
    join_combat,
    level_up,
    run_legendary,
    start_combat,
)

if TYPE_CHECKING:
    from rules.game import Game


# What the DM may set on a sheet, and within what bounds (SRD: AC 30 and 20th-level HP are
# far inside these; the bounds stop typos such as max_hp=100000, not house rules).
SHEET_LIMITS: dict[str, tuple[int, int]] = {
    "hp": (0, 999), "max_hp": (1, 999), "temp_hp": (0, 999), "ac": (1, 30),
    "speed": (0, 120), "xp": (0, 355_000),
}
NAME_MAX = 16
NARRATE_MAX_B = 200  # one text packet (DESIGN: budget <= 200 B of UTF-8)


def check_sheet_edit(text: str) -> tuple[str, int | str]:
    """ "ac=16" -> ("ac", 16); RulesError with a one-line reason for anything else."""
    field_, sep, raw = text.partition("=")
    field_, raw = field_.strip().lower(), raw.strip()
    editable = (*SHEET_LIMITS, "name")
    if not sep:
        raise RulesError("write field=value, e.g. ac=16")
    if field_ not in editable:
        raise RulesError(f"{field_ or '?'} cannot be edited; edit {', '.join(editable)}")
    if field_ == "name":
        if not raw:
            raise RulesError("name cannot be empty")
        if len(raw) > NAME_MAX:
            raise RulesError(f"name: at most {NAME_MAX} characters")
        return field_, check_name(raw)
    if not raw.lstrip("-").isdigit():
        raise RulesError(f"{field_} must be a whole number")
    n, (lo, hi) = int(raw), SHEET_LIMITS[field_]
    if not lo <= n <= hi:
        raise RulesError(f"{field_} must be {lo} to {hi}")
    return field_, n


# -- the DM -------------------------------------------------------------------------
def dm(game: Game, _a: Entity | None, i: it.Dm, rng: random.Random) -> list[Any]:
    op = i.op
    if op == "start_combat":
        if game.combat is not None:
            raise RulesError("already in combat")
        if not [e for e in game.here() if e.side == "monsters" and e.in_fight]:
            raise RulesError("no foes here")
        if not [e for e in game.here() if e.side == "party" and not e.down]:
            raise RulesError("no one in the party is here to fight")
        return start_combat(game, rng)
    if op == "end_combat":
        if game.combat is None:
            raise RulesError("not in combat")
        game.combat = None
        for e in game.entities.values():
            e.engaged.clear()
        return [ev.CombatEnded(0, (), "ended")]
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
        text = i.text.strip()
        if not text:
            raise RulesError("narrate what?")
        n = len(text.encode("utf-8"))
        if n > NARRATE_MAX_B:
            raise RulesError(f"{n} B is over the {NARRATE_MAX_B} B packet: cut {n - NARRATE_MAX_B} B")
        return [ev.Narrated(text)]
    if op == "spawn":
        found = content.resolve_monster(i.text, game.bestiary)  # validate first
        n = max(1, min(20, i.value or 1))
        note = found.note(i.text)
        out = spawn(game, found.record["index"], n)
        if game.combat is not None:
            out += join_combat(game, [game.entities[e.eid] for e in out], rng)
        return ([ev.Info(0, note)] if note else []) + out
    if op == "set_roll":
        faces = [i.value] if not i.text.strip() else _faces(i.text)
        if not faces or not all(1 <= f <= 20 for f in faces):
            raise RulesError("set_roll needs d20 faces from 1 to 20")
        game.next_d20 = faces[0] if len(faces) == 1 else faces
        return []  # the DM's secret: nothing for the players' screens
    if op == "house_rule":
        if not i.text:
            raise RulesError("which house rule?")
        if house.known(i.text) is None:
            raise RulesError(f"no house rule {i.text[:24]!r}; the rules know "
                             + ", ".join(house.HOUSE_RULES))
        game.house[i.text] = bool(i.value)
        for e in game.party():
            encumbrance.update(game, e)
        return [ev.Info(0, f"house rule {i.text} {'on' if i.value else 'off'}")]
    if op == "move_party":
        return _move_party(game, i, rng)
    if op == "give_xp" and i.target is None:
        if not 0 < i.value <= SHEET_LIMITS["xp"][1]:
            raise RulesError("give 1 or more XP")
        return [ev.Info(0, f"the party shares {i.value} XP"), *award_xp(game, i.value)]
    if op == "unlock":
        x = game.dungeon.find_exit(game.room, i.text)
        key = f"{game.room}:{x.to}"
        game.state["unlocked"].append(key)
        game.state["unsealed"].append(key)
        return [ev.Info(0, f"the way {x.dir or x.name} is open")]
    if op == "add_character":  # an exported character joins this game (rules/character_io)
        import json

        from rules import character_io, explore

        try:
            doc = json.loads(i.text)
        except ValueError:
            raise RulesError("add_character takes the character's JSON") from None
        return explore.enter(game, character_io.load(doc))
    if op == "shop.open":
        return shop.open_shop(game, i.text)
    if op == "shop.close":
        return shop.close_shop(game)
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
    if op == "give_xp":
        if t.kind != "pc" or t.dead:
            raise RulesError(f"{t.name} cannot gain XP")
        if not 0 < i.value <= SHEET_LIMITS["xp"][1] - t.xp:
            raise RulesError(f"give 1 to {SHEET_LIMITS['xp'][1] - t.xp} XP")
        return [ev.Info(t.eid, f"gains {i.value} XP"), *gain_xp(game, t, i.value)]
    if op == "give_item":
        got = _give_item(t, i.text, max(1, i.value))
        encumbrance.update(game, t)
        return got
    if op == "take_item":
        if t.kind != "pc":
            raise RulesError(f"{t.name} carries nothing")
        return shop.take(game, t, i.text)
    if op == "level_up":
        from rules import pregen

        if t.kind != "pc" or t.level >= pregen.MAX_LEVEL:
            raise RulesError(f"{t.name} cannot level up")
        cls = pregen.class_key(i.text) if i.text.strip() else ""
        return level_up(game, t, t.level + 1, rng, cls)
    if op == "edit_sheet":
        field_, value = check_sheet_edit(i.text)
        if field_ == "name":
            t.name = str(value)
        else:
            setattr(t, field_, value)
            t.hp = min(t.hp, t.max_hp)
        return [ev.Info(t.eid, f"{field_} set to {value}")]
    raise RulesError(f"unknown DM op {op!r}")


ITEM_MAX = 32  # characters of an item's name: it is read on a radio screen
MAX_ITEMS = 40
_COINS = encumbrance.COIN


def _give_item(t: Entity, text: str, count: int) -> list[Any]:
    """An item (count copies) or coins ("15 gp", added to the coins the character holds)."""
    item = " ".join(text.split()).lower()
    if t.kind != "pc":
        raise RulesError(f"{t.name} carries nothing")
    if not item or len(item) > ITEM_MAX:
        raise RulesError(f"name the item in 1 to {ITEM_MAX} characters")
    if has_bidi_controls(item):
        raise RulesError(f"items: {BIDI_REFUSAL}")
    coins = _COINS.match(item)
    count_word, _, rest = item.partition(" ")
    if not coins and count_word.isdigit() and rest:  # "2 torch": two of them
        item, count = rest, count * int(count_word)
    if item in ("xp", "exp", "experience"):
        raise RulesError("XP is not an item: give it as XP")
    if coins:
        amount, unit = int(coins.group(1)) * count, coins.group(2)
        held = next((x for x in t.inventory if (m := _COINS.match(x)) and m.group(2) == unit),
                    None)
        if held is not None:
            t.inventory.remove(held)
            amount += int(_COINS.match(held).group(1))  # type: ignore[union-attr]
        t.inventory.append(f"{amount} {unit}")
        return [ev.Info(t.eid, f"receives {coins.group(1)} {unit}; now holds {amount} {unit}")]
    if count > 10 or len(t.inventory) + count > MAX_ITEMS:
        raise RulesError(f"{t.name} cannot carry that many")
    t.inventory += [item] * count
    return [ev.Info(t.eid, f"receives {item}" + (f" x{count}" if count > 1 else ""))]


def _move_party(game: Game, i: it.Dm, rng: random.Random) -> list[Any]:
    """The DM moves the party through an exit (text) or to a room (value), past any lock,
    as if it had walked there: traps and encounters in the new room happen as usual."""
    if game.combat is not None:
        raise RulesError("end the fight before moving the party")
    if i.value:
        if i.value not in game.dungeon.rooms:
            raise RulesError(f"no room {i.value}; rooms are {min(game.dungeon.rooms)} to "
                             f"{max(game.dungeon.rooms)}")
        dest = i.value
    else:
        if not i.text.strip():
            raise RulesError("move the party which way?")
        dest = game.dungeon.find_exit(game.room, i.text.strip().lower()).to
    party = [e for e in game.party() if not e.dead and e.room == game.room]
    if not party:
        raise RulesError("no one in the party can move")
    if dest == game.room:
        raise RulesError("the party is already there")
    return arrive(game, party, dest, rng)


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
