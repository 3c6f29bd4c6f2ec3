"""Read-only descriptions of the game for renderers (the GameView protocol Game implements)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from rules import content, encumbrance, multiclass, proficiency
from rules.creature import ABILITIES
from rules.dm import NARRATE_MAX_B
from rules.dungeon import DIRECTIONS
from rules.errors import RulesError

if TYPE_CHECKING:
    from rules.creature import Entity
    from rules.game import Game


class GameView(Protocol):
    def name_of(self, eid: int) -> str: ...
    def describe_room(self, room: int, viewer: int) -> str: ...
    def describe(self, eid: int, what: str) -> str: ...
    def current_turn(self) -> int | None: ...
    def controller(self, eid: int) -> str: ...
    def party_eids(self) -> list[int]: ...
    def monster_eids(self) -> list[int]: ...
    def entity(self, eid: int) -> Entity: ...


HELP = ("look|go n/s/e/w/u/d|attack X [with W]|cast SPELL [at X] [lvl N]|use ITEM|dodge|dash|"
        "disengage|hide|help X|grapple X|shove X|approach X|end|roll SKILL|rest short/long|"
        "hp|sheet|inv|status")


def _hp(e: Entity) -> str:
    if e.dead:
        return "dead"
    if e.hp <= 0 and e.kind != "pc":
        return "down"  # a monster at 0 HP and not dead waits to rise (Regeneration)
    if e.hp <= 0:
        return "stable" if e.stable else f"dying {e.death_s}/{e.death_f}"
    return f"{e.hp}/{e.hp_cap()}" + (f"+{e.temp_hp}" if e.temp_hp else "")


def describe_room(game: Game, room: int, viewer: int) -> str:
    r = game.dungeon.room(room)
    me = game.entities.get(viewer)
    light = game.light_at(room)
    dark = light == "dark" and not (me and me.darkvision)
    exits = []
    for x in r.exits:
        key, rkey = f"{room}:{x.to}", f"{x.to}:{room}"
        opened = key in game.state["unlocked"] or rkey in game.state["unlocked"]
        state = "" if not x.locked or opened else "(locked)"
        if x.dm_only and key not in game.state["unsealed"] and rkey not in game.state["unsealed"]:
            state = "(sealed)"
        exits.append(f"{x.dir or x.name}{state}")
    head = f"{r.name} [{light}] exits {' '.join(exits) or 'none'}"
    if dark:
        return head + ". Too dark to see."
    who = [e for e in game.here(room) if e.eid != viewer and not e.dead]
    if not who:
        return head + ". " + r.text
    return head + ". Here: " + ", ".join(
        f"{e.name} {_hp(e) if e.side == 'party' else ''}".strip() for e in who) + "."


def describe(game: Game, eid: int, what: str) -> str:
    e = game.entity(eid)
    if what == "help":
        return HELP
    if what == "hp":
        return f"{e.name}: HP {_hp(e)}, AC {e.current_ac()}."
    if what == "inv":
        floor = f"; on the floor: {', '.join(game.loot)}" if game.loot else ""
        carry = f"; {encumbrance.sheet_note(game, e)}" if e.kind == "pc" else ""
        return f"{e.name} has " + (", ".join(e.inventory) or "nothing") + carry + floor + "."
    if what == "status":
        conds = sorted(e.conditions) + ([f"exhaustion {e.exhaustion}"] if e.exhaustion else [])
        fx = sorted({x.name for x in e.effects})
        # where they stand matters only in a fight
        band = "" if not game.combat else (
            ", engaged with " + ", ".join(game.name_of(o) for o in e.engaged) if e.engaged
            else f", at {e.band} range")
        turn = ""
        if game.combat and game.current_turn() == eid:
            t = e.turn
            turn = f"; this turn: action {t['action']}, bonus {t['bonus']}, move {t['move']}"
        slots = "; slots " + "/".join(str(n) for n in e.slots if n) if any(e.slots) else ""
        return (f"{e.name}: HP {_hp(e)}{band}" + ("; " + ", ".join(conds + fx) if conds
                                                     or fx else "") + slots + turn + ".")
    if what == "sheet":
        ab = " ".join(f"{k.upper()}{e.abilities[k]}" for k in ABILITIES if k in e.abilities)
        label = multiclass.label(e) if e.kind == "pc" else e.monster
        # "second wind 1", as a player types it to `use` (the key is "second_wind")
        res = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in e.res.items()
                        if k != "legendary")
        weapons = ",".join(w["name"] + ("" if proficiency.weapon_ok(e, w) else
                                        f" ({proficiency.NOT_PROFICIENT})")
                           for w in e.weapons) or ",".join(a["name"] for a in e.actions)
        unskilled = proficiency.hampering(e)
        worn = f" ({unskilled}: {proficiency.NOT_PROFICIENT})" if unskilled else ""
        # the list is `spells`' own answer: here only how many, so the sheet fits a packet
        spells = f"; {len(e.spells)} spells (send spells)" if e.spells else ""
        # the load last: a long sheet's tail is cut to one packet, and `inv` shows it too
        carry = f"; {encumbrance.sheet_note(game, e)}" if e.kind == "pc" else ""
        return (f"{e.name}, {label}: HP {_hp(e)}, AC {e.current_ac()}{worn}, {ab}, "
                f"prof +{e.prof}, "
                f"XP {e.xp}; {weapons}{spells}" + (f"; {res}" if res else "") + carry + ".")
    if what.split()[:1] == ["spells"]:
        return _spells(e, what)
    if what.split()[:1] == ["shop"]:
        from rules import shop

        return shop.listing(game, e.room, what)
    raise RulesError("ask for hp, sheet, inv, status, spells, shop or help")


def _spells(e: Entity, what: str) -> str:
    """"spells": the slots left and every spell known by level; "spells 2": one level's."""
    words = what.split()
    only = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
    by_level: dict[int, list[str]] = {}
    for index in e.spells:
        sp = content.spells().get(index)
        if sp is not None:
            by_level.setdefault(int(sp["level"]), []).append(str(sp["name"]))
    if not by_level:
        return f"{e.name} knows no spells."
    slots = " ".join(f"L{k + 1} {left}/{top}" for k, (left, top) in
                     enumerate(zip(e.slots, e.max_slots, strict=False)) if top)
    levels = [only] if only is not None else sorted(by_level)
    body = "; ".join(f"L{lv} " + (", ".join(by_level.get(lv, ())) or "none") for lv in levels)
    line = f"{e.name}: slots {slots or 'none'}. {body}."
    if only is None and len(line.encode()) > NARRATE_MAX_B:
        # more than a packet holds: how many of each level, and how to ask for one level
        counts = ", ".join(f"L{lv} {len(by_level[lv])}" for lv in sorted(by_level))
        line = f"{e.name}: slots {slots or 'none'}. Spells {counts}; send spells 1 (a level) " \
            "for their names."
    return line


__all__ = ["GameView", "describe", "describe_room", "DIRECTIONS"]
